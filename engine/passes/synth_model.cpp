#include "passes/synth_model.h"

#include "core/error.h"
#include "gguf/gguf_value.h"
#include "passes/gguf_stream_writer.h"
#include "passes/parallel_rows.h"
#include "passes/quantize_model.h"
#include "passes/row_convert.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <numbers>

namespace tenfold {

uint64_t SynthShape::parameterCount() const
{
    const uint64_t headDim = uint64_t(nEmbd / nHead);
    const uint64_t kv = headDim * uint64_t(nHeadKv);
    const uint64_t perLayer = 2ull * nEmbd                       // two norms
                              + 2ull * nEmbd * nEmbd             // q, o
                              + 2ull * nEmbd * kv                // k, v
                              + 3ull * uint64_t(nEmbd) * nFF;    // gate, up, down
    const uint64_t embd = uint64_t(nEmbd) * nVocab;
    return embd + uint64_t(nLayer) * perLayer + nEmbd + (tiedOutput ? 0 : embd);
}

const std::vector<SynthShape>& knownSynthShapes()
{
    // name, dim, layers, heads, kv heads, ffn, vocab, ctx, rope base, rms eps, tied
    static const std::vector<SynthShape> shapes = {
        {"tinyllama-1.1b", 2048, 22, 32, 4, 5632, 32000, 2048, 10000.0f, 1e-5f, false},
        {"llama-3.2-1b", 2048, 16, 32, 8, 8192, 128256, 131072, 500000.0f, 1e-5f, true},
        {"llama-2-7b", 4096, 32, 32, 32, 11008, 32000, 4096, 10000.0f, 1e-5f, false},
        {"tenfold-ref-main", 384, 8, 6, 2, 1024, 8192, 512, 10000.0f, 1e-5f, true},
        {"tenfold-ref-draft", 192, 4, 4, 2, 512, 8192, 512, 10000.0f, 1e-5f, true},
        {"stories260k", 64, 5, 8, 4, 172, 512, 512, 10000.0f, 1e-5f, true},
    };
    return shapes;
}

std::optional<SynthShape> findSynthShape(std::string_view name)
{
    for (const SynthShape& s : knownSynthShapes()) {
        if (s.name.size() != name.size())
            continue;
        bool same = true;
        for (size_t i = 0; i < name.size() && same; ++i)
            same = std::tolower(static_cast<unsigned char>(name[i])) == s.name[i];
        if (same)
            return s;
    }
    return std::nullopt;
}

namespace {

uint64_t splitmix64(uint64_t& state)
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Fills one row with N(0, stddev) from a stream keyed by (seed, tensor, row), so the values do
// not depend on how rows are split between threads.
void fillNormalRow(float* row, int64_t n, float stddev, uint64_t seed, uint64_t tensor, uint64_t r)
{
    uint64_t state = seed ^ (tensor * 0xD1B54A32D192ED03ull) ^ (r * 0x8CB92BA72F3D8DD7ull);
    splitmix64(state);
    for (int64_t i = 0; i < n; i += 2) {
        // Box-Muller: two uniforms in (0, 1] -> two independent normals.
        const double u1 = (double(splitmix64(state) >> 11) + 1.0) * 0x1.0p-53;
        const double u2 = double(splitmix64(state) >> 11) * 0x1.0p-53;
        const double radius = std::sqrt(-2.0 * std::log(u1)) * stddev;
        const double angle = 2.0 * std::numbers::pi * u2;
        row[i] = float(radius * std::cos(angle));
        if (i + 1 < n)
            row[i + 1] = float(radius * std::sin(angle));
    }
}

// Filler pieces: every string over a small alphabet (with the SentencePiece space mark), shortest
// first, so every multi-character piece can be reached by merging shorter ones.
std::vector<std::string> fillerPieces(size_t count)
{
    std::vector<std::string> alphabet = {"\xE2\x96\x81"}; // U+2581, SentencePiece's space
    for (char c = 'a'; c <= 'z'; ++c)
        alphabet.emplace_back(1, c);
    for (char c = 'A'; c <= 'Z'; ++c)
        alphabet.emplace_back(1, c);
    for (char c = '0'; c <= '9'; ++c)
        alphabet.emplace_back(1, c);
    for (const char* p : {".", ",", "'", "!", "?", "-"})
        alphabet.emplace_back(p);
    std::vector<std::string> out;
    out.reserve(count);
    const size_t k = alphabet.size();
    for (size_t length = 1; out.size() < count; ++length) {
        std::vector<size_t> digits(length, 0);
        while (out.size() < count) {
            std::string s;
            for (size_t d : digits)
                s += alphabet[d];
            out.push_back(std::move(s));
            size_t pos = length;
            while (pos > 0 && ++digits[pos - 1] == k)
                digits[--pos] = 0;
            if (pos == 0)
                break; // all strings of this length done
        }
    }
    return out;
}

std::vector<std::pair<std::string, GGUFValue>> synthMetadata(const SynthShape& s, GGMLType type,
                                                             uint64_t seed)
{
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    std::vector<int32_t> types = {2, 3, 3};
    std::vector<float> scores = {0.0f, 0.0f, 0.0f};
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        tokens.emplace_back(buf);
        types.push_back(6);
        scores.push_back(0.0f);
    }
    if (s.nVocab < int(tokens.size()) + 1)
        throw InvalidArgument("shape " + s.name + ": a vocabulary of " + std::to_string(s.nVocab) +
                              " cannot hold the 259 special and byte tokens");
    const std::vector<std::string> fillers = fillerPieces(size_t(s.nVocab) - tokens.size());
    for (size_t i = 0; i < fillers.size(); ++i) {
        tokens.push_back(fillers[i]);
        types.push_back(1);
        scores.push_back(-float(i));
    }
    const int headDim = s.nEmbd / s.nHead;
    return {
        {"general.architecture", GGUFValue::string("llama")},
        {"general.name", GGUFValue::string("synthetic " + s.name)},
        {"general.description",
         GGUFValue::string("random weights (seed " + std::to_string(seed) + ") in the shape of " +
                           s.name + "; for speed and memory measurements only")},
        {"general.file_type", GGUFValue::u32(fileTypeFor(type))},
        {"general.alignment", GGUFValue::u32(32)},
        {"llama.context_length", GGUFValue::u32(uint32_t(s.nCtx))},
        {"llama.embedding_length", GGUFValue::u32(uint32_t(s.nEmbd))},
        {"llama.block_count", GGUFValue::u32(uint32_t(s.nLayer))},
        {"llama.feed_forward_length", GGUFValue::u32(uint32_t(s.nFF))},
        {"llama.attention.head_count", GGUFValue::u32(uint32_t(s.nHead))},
        {"llama.attention.head_count_kv", GGUFValue::u32(uint32_t(s.nHeadKv))},
        {"llama.rope.dimension_count", GGUFValue::u32(uint32_t(headDim))},
        {"llama.rope.freq_base", GGUFValue::f32(s.ropeFreqBase)},
        {"llama.attention.layer_norm_rms_epsilon", GGUFValue::f32(s.rmsEps)},
        {"llama.vocab_size", GGUFValue::u32(uint32_t(s.nVocab))},
        {"tokenizer.ggml.model", GGUFValue::string("llama")},
        {"tokenizer.ggml.bos_token_id", GGUFValue::u32(1)},
        {"tokenizer.ggml.eos_token_id", GGUFValue::u32(2)},
        {"tokenizer.ggml.unknown_token_id", GGUFValue::u32(0)},
        {"tokenizer.ggml.add_bos_token", GGUFValue::boolean(true)},
        {"tokenizer.ggml.add_eos_token", GGUFValue::boolean(false)},
        {"tokenizer.ggml.tokens", GGUFValue::stringArray(tokens)},
        {"tokenizer.ggml.scores", GGUFValue::f32Array(scores)},
        {"tokenizer.ggml.token_type", GGUFValue::i32Array(types)},
    };
}

struct SynthTensor {
    StreamTensorSpec spec;
    float stddev = 0.0f; // 0: a norm, all ones
};

std::vector<SynthTensor> synthTensors(const SynthShape& s, const SynthOptions& o)
{
    const int64_t d = s.nEmbd, kv = int64_t(s.nEmbd / s.nHead) * s.nHeadKv;
    const float residual = o.stddev / std::sqrt(2.0f * float(s.nLayer));
    std::vector<SynthTensor> t;
    auto add = [&](std::string name, std::vector<int64_t> ne, float stddev) {
        const GGMLType type = chooseTensorType(ne, o.type);
        t.push_back({{std::move(name), type, std::move(ne)}, stddev});
    };
    add("token_embd.weight", {d, s.nVocab}, o.stddev);
    for (int l = 0; l < s.nLayer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        add(p + "attn_norm.weight", {d}, 0.0f);
        add(p + "attn_q.weight", {d, d}, o.stddev);
        add(p + "attn_k.weight", {d, kv}, o.stddev);
        add(p + "attn_v.weight", {d, kv}, o.stddev);
        add(p + "attn_output.weight", {d, d}, residual);
        add(p + "ffn_norm.weight", {d}, 0.0f);
        add(p + "ffn_gate.weight", {d, s.nFF}, o.stddev);
        add(p + "ffn_up.weight", {d, s.nFF}, o.stddev);
        add(p + "ffn_down.weight", {s.nFF, d}, residual);
    }
    add("output_norm.weight", {d}, 0.0f);
    if (!s.tiedOutput)
        add("output.weight", {d, s.nVocab}, o.stddev);
    return t;
}

void checkShape(const SynthShape& s)
{
    if (s.nEmbd <= 0 || s.nLayer <= 0 || s.nHead <= 0 || s.nHeadKv <= 0 || s.nFF <= 0 ||
        s.nVocab <= 0 || s.nCtx <= 0)
        throw InvalidArgument("shape " + s.name + ": every dimension must be positive");
    if (s.nEmbd % s.nHead != 0 || s.nHead % s.nHeadKv != 0)
        throw InvalidArgument("shape " + s.name + ": heads must divide the width and KV heads " +
                              "must divide the heads");
    if ((s.nEmbd / s.nHead) % 2 != 0)
        throw InvalidArgument("shape " + s.name + ": RoPE needs an even head dimension");
}

} // namespace

SynthReport synthesizeModel(const SynthShape& shape, const std::filesystem::path& out,
                            const SynthOptions& options)
{
    checkShape(shape);
    if (!typeTraits(options.type).weightType)
        throw UnsupportedError(std::string(typeName(options.type)) + " cannot hold weights");
    const int nThreads = resolveThreadCount(options.nThreads);
    const std::vector<SynthTensor> tensors = synthTensors(shape, options);
    std::vector<StreamTensorSpec> specs;
    for (const SynthTensor& t : tensors)
        specs.push_back(t.spec);
    GGUFStreamWriter writer(out, synthMetadata(shape, options.type, options.seed), specs);

    std::vector<uint8_t> chunk;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const SynthTensor& t = tensors[i];
        if (options.onTensor)
            options.onTensor(i, tensors.size(), t.spec.name);
        const int64_t rowLength = t.spec.ne[0];
        const int64_t rows = t.spec.ne.size() > 1 ? t.spec.ne[1] : 1;
        const size_t outRow = rowBytes(t.spec.type, rowLength);
        const int64_t perChunk = rowsPerChunk(outRow);
        for (int64_t r0 = 0; r0 < rows; r0 += perChunk) {
            const int64_t n = std::min(perChunk, rows - r0);
            chunk.resize(size_t(n) * outRow);
            parallelRanges(n, nThreads, [&](int64_t begin, int64_t end) {
                std::vector<float> row(static_cast<size_t>(rowLength));
                for (int64_t r = begin; r < end; ++r) {
                    if (t.stddev > 0.0f)
                        fillNormalRow(row.data(), rowLength, t.stddev, options.seed, i, r0 + r);
                    else
                        std::fill(row.begin(), row.end(), 1.0f);
                    rowFromFloat(t.spec.type, row.data(), chunk.data() + size_t(r) * outRow,
                                 rowLength);
                }
            });
            writer.append(chunk.data(), chunk.size());
        }
    }
    writer.finish();
    return {writer.bytesWritten(), shape.parameterCount()};
}

} // namespace tenfold
