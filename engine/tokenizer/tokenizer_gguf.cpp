#include "tokenizer/tokenizer_gguf.h"

#include "core/error.h"
#include "gguf/gguf_file.h"

namespace tenfold {

namespace {

const GGUFValue* findArray(const GGUFFile& file, const char* key, GGUFValueType elementType,
                           bool required)
{
    const GGUFValue* v = file.find(key);
    if (!v) {
        if (required)
            throw FormatError(file.label(), 0, std::string("missing ") + key);
        return nullptr;
    }
    const bool numeric = elementType != GGUFValueType::String;
    if (!v->isArray() ||
        (numeric ? (v->arrayType() == GGUFValueType::String || v->arrayType() == GGUFValueType::Array)
                 : v->arrayType() != GGUFValueType::String))
        throw FormatError(file.label(), file.metadataOffset(key),
                          std::string(key) + " is not an array of " +
                              ggufValueTypeName(elementType) + " (found " +
                              ggufValueTypeName(v->type()) + ")");
    return v;
}

// A token id key: absent or "none" (UINT32_MAX, negative) gives `fallback`.
int32_t readId(const GGUFFile& file, const char* key, int32_t fallback)
{
    const GGUFValue* v = file.find(key);
    if (!v)
        return fallback;
    if (!v->isInteger())
        throw FormatError(file.label(), file.metadataOffset(key),
                          std::string(key) + " is not an integer");
    const int64_t id = v->toInt();
    if (id < 0 || id == int64_t(UINT32_MAX))
        return -1;
    if (id > INT32_MAX)
        throw FormatError(file.label(), file.metadataOffset(key),
                          std::string(key) + " = " + std::to_string(id) +
                                               " is not a valid token id");
    return int32_t(id);
}

bool readBool(const GGUFFile& file, const char* key, bool fallback)
{
    const GGUFValue* v = file.find(key);
    if (!v)
        return fallback;
    if (!v->isBool() && !v->isInteger())
        throw FormatError(file.label(), file.metadataOffset(key),
                          std::string(key) + " is not a bool");
    return v->isBool() ? v->toBool() : v->toInt() != 0;
}

} // namespace

TokenizerVocab readTokenizerVocab(const GGUFFile& file)
{
    TokenizerVocab v;
    const GGUFValue* model = file.find("tokenizer.ggml.model");
    if (!model)
        throw FormatError(file.label(), 0, "missing tokenizer.ggml.model (the file has no vocab)");
    if (!model->isString())
        throw FormatError(file.label(), file.metadataOffset("tokenizer.ggml.model"),
                          "tokenizer.ggml.model is not a string");
    v.model = model->toString();
    if (const GGUFValue* pre = file.find("tokenizer.ggml.pre")) {
        if (!pre->isString())
            throw FormatError(file.label(), file.metadataOffset("tokenizer.ggml.pre"),
                              "tokenizer.ggml.pre is not a string");
        v.pre = pre->toString();
    }
    if (v.pre.empty())
        v.pre = "default";

    const GGUFValue* tokens =
        findArray(file, "tokenizer.ggml.tokens", GGUFValueType::String, true);
    v.pieces.reserve(tokens->items().size());
    for (const GGUFValue& t : tokens->items())
        v.pieces.push_back(t.toString());
    if (const GGUFValue* scores =
            findArray(file, "tokenizer.ggml.scores", GGUFValueType::Float32, false)) {
        v.scores.reserve(scores->items().size());
        for (const GGUFValue& s : scores->items())
            v.scores.push_back(float(s.toDouble()));
    }
    if (const GGUFValue* types =
            findArray(file, "tokenizer.ggml.token_type", GGUFValueType::Int32, false)) {
        v.types.reserve(types->items().size());
        for (size_t i = 0; i < types->items().size(); ++i) {
            const int64_t t = types->items()[i].toInt();
            if (t < 0 || t > int64_t(TokenType::Byte))
                throw FormatError(file.label(), file.metadataOffset("tokenizer.ggml.token_type"),
                                  "tokenizer.ggml.token_type[" + std::to_string(i) + "] = " +
                                      std::to_string(t) + " is not a known token type");
            v.types.push_back(TokenType(t));
        }
    }
    if (const GGUFValue* merges =
            findArray(file, "tokenizer.ggml.merges", GGUFValueType::String, false)) {
        v.merges.reserve(merges->items().size());
        for (const GGUFValue& m : merges->items())
            v.merges.push_back(m.toString());
    }

    // SentencePiece vocabs follow Llama's conventions when a key is absent, as llama.cpp does.
    const bool spm = v.model == "llama";
    const int32_t n = int32_t(v.pieces.size());
    const auto spmDefault = [&](int32_t id) { return spm && id < n ? id : -1; };
    v.bos = readId(file, "tokenizer.ggml.bos_token_id", spmDefault(1));
    v.eos = readId(file, "tokenizer.ggml.eos_token_id", spmDefault(2));
    v.unk = readId(file, "tokenizer.ggml.unknown_token_id", spmDefault(0));
    v.eot = readId(file, "tokenizer.ggml.eot_token_id", -1);
    v.pad = readId(file, "tokenizer.ggml.padding_token_id", -1);
    v.addBos = readBool(file, "tokenizer.ggml.add_bos_token", spm && v.bos >= 0);
    v.addEos = readBool(file, "tokenizer.ggml.add_eos_token", false);
    v.addSpacePrefix = readBool(file, "tokenizer.ggml.add_space_prefix", spm);
    return v;
}

std::unique_ptr<Tokenizer> Tokenizer::fromGGUF(const GGUFFile& file)
{
    return fromVocab(readTokenizerVocab(file), file.label());
}

void writeTokenizerMetadata(GGUFWriter& writer, const Tokenizer& tokenizer)
{
    const TokenizerVocab& v = tokenizer.vocab();
    writer.set("tokenizer.ggml.model", GGUFValue::string(v.model));
    writer.set("tokenizer.ggml.pre", GGUFValue::string(v.pre));
    writer.set("tokenizer.ggml.tokens", GGUFValue::stringArray(v.pieces));
    writer.set("tokenizer.ggml.scores", GGUFValue::f32Array(v.scores));
    std::vector<int32_t> types(v.types.size());
    for (size_t i = 0; i < types.size(); ++i)
        types[i] = int32_t(v.types[i]);
    writer.set("tokenizer.ggml.token_type", GGUFValue::i32Array(types));
    if (!v.merges.empty())
        writer.set("tokenizer.ggml.merges", GGUFValue::stringArray(v.merges));
    else
        writer.remove("tokenizer.ggml.merges");
    const auto setId = [&](const char* key, int32_t id) {
        if (id >= 0)
            writer.set(key, GGUFValue::u32(uint32_t(id)));
        else
            writer.remove(key);
    };
    setId("tokenizer.ggml.bos_token_id", v.bos);
    setId("tokenizer.ggml.eos_token_id", v.eos);
    setId("tokenizer.ggml.eot_token_id", v.eot);
    setId("tokenizer.ggml.unknown_token_id", v.unk);
    setId("tokenizer.ggml.padding_token_id", v.pad);
    writer.set("tokenizer.ggml.add_bos_token", GGUFValue::boolean(v.addBos));
    writer.set("tokenizer.ggml.add_eos_token", GGUFValue::boolean(v.addEos));
    if (v.model == "llama")
        writer.set("tokenizer.ggml.add_space_prefix", GGUFValue::boolean(v.addSpacePrefix));
}

} // namespace tenfold
