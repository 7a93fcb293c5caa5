#include "openai_json.h"

#include "tokenizer/tokenizer.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace tenfold::server {

namespace {

std::string typeName(const Json& v)
{
    switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    case Json::value_t::number_float: return "a number";
    default: return "an integer";
    }
}

[[noreturn]] void wrongType(const std::string& field, const std::string& expected, const Json& v)
{
    throw ApiError(400, "'" + field + "' must be " + expected + ", not " + typeName(v), field);
}

// A field that is absent or null gives nullopt: OpenAI clients send null for "not set".
const Json* field(const Json& body, const char* name)
{
    const auto it = body.find(name);
    if (it == body.end() || it->is_null())
        return nullptr;
    return &*it;
}

double numberField(const Json& body, const char* name, double fallback, double min, double max)
{
    const Json* v = field(body, name);
    if (!v)
        return fallback;
    if (!v->is_number())
        wrongType(name, "a number", *v);
    const double d = v->get<double>();
    if (!(d >= min && d <= max))
        throw ApiError(400, std::string("'") + name + "' must be between " + std::to_string(min) +
                                " and " + std::to_string(max) + ", not " + v->dump(),
                       name);
    return d;
}

// Integers arrive as JSON integers, or as floats with no fraction from some clients.
std::optional<long long> intField(const Json& body, const char* name)
{
    const Json* v = field(body, name);
    if (!v)
        return std::nullopt;
    if (v->is_number_integer()) {
        if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(std::numeric_limits<long long>::max()))
            throw ApiError(400, std::string("'") + name + "' is too large", name);
        return v->get<long long>();
    }
    if (v->is_number_float()) {
        const double d = v->get<double>();
        if (std::floor(d) == d && std::fabs(d) < 9e15)
            return (long long)d;
    }
    wrongType(name, "an integer", *v);
}

long long intInRange(const Json& body, const char* name, long long fallback, long long min, long long max)
{
    const auto v = intField(body, name);
    if (!v)
        return fallback;
    if (*v < min || *v > max)
        throw ApiError(400, std::string("'") + name + "' must be between " + std::to_string(min) +
                                " and " + std::to_string(max) + ", not " + std::to_string(*v),
                       name);
    return *v;
}

bool boolField(const Json& body, const char* name, bool fallback)
{
    const Json* v = field(body, name);
    if (!v)
        return fallback;
    if (!v->is_boolean())
        wrongType(name, "a boolean", *v);
    return v->get<bool>();
}

std::string stringField(const Json& body, const char* name)
{
    const Json* v = field(body, name);
    if (!v)
        return {};
    if (!v->is_string())
        wrongType(name, "a string", *v);
    return v->get<std::string>();
}

std::vector<std::string> stopField(const Json& body)
{
    const Json* v = field(body, "stop");
    if (!v)
        return {};
    std::vector<std::string> stops;
    if (v->is_string()) {
        stops.push_back(v->get<std::string>());
    } else if (v->is_array()) {
        if (v->size() > 16)
            throw ApiError(400, "'stop' holds " + std::to_string(v->size()) +
                                    " strings; at most 16 are allowed", "stop");
        for (size_t i = 0; i < v->size(); ++i) {
            if (!(*v)[i].is_string())
                wrongType("stop[" + std::to_string(i) + "]", "a string", (*v)[i]);
            stops.push_back((*v)[i].get<std::string>());
        }
    } else {
        wrongType("stop", "a string or an array of strings", *v);
    }
    for (const std::string& s : stops)
        if (s.empty())
            throw ApiError(400, "'stop' must not contain an empty string", "stop");
    return stops;
}

// Options this server cannot honour are refused rather than ignored, so a client never gets
// output that silently disregards what it asked for. Their neutral values (0, {}, [], "text")
// are accepted: many clients send them explicitly.
void rejectUnsupported(const Json& body)
{
    for (const char* name : {"presence_penalty", "frequency_penalty"})
        if (const Json* v = field(body, name); v && !(v->is_number() && v->get<double>() == 0.0))
            throw ApiError(400, std::string("'") + name + "' is not supported by this server (only 0)", name);
    for (const char* name : {"logit_bias", "tools", "functions"})
        if (const Json* v = field(body, name); v && !((v->is_object() || v->is_array()) && v->empty()))
            throw ApiError(400, std::string("'") + name + "' is not supported by this server", name);
    if (const Json* v = field(body, "response_format")) {
        const bool text = v->is_object() && v->contains("type") && (*v)["type"] == "text";
        if (!text)
            throw ApiError(400, "'response_format' other than {\"type\": \"text\"} is not supported by this server",
                           "response_format");
    }
    if (const auto best = intField(body, "best_of"); best && *best != 1)
        throw ApiError(400, "'best_of' is not supported by this server (only 1)", "best_of");
}

void parseCommon(const Json& body, GenerationRequest& r)
{
    rejectUnsupported(body);
    r.model = stringField(body, "model");
    r.temperature = numberField(body, "temperature", 1.0, 0.0, 2.0);
    r.topP = numberField(body, "top_p", 1.0, 0.0, 1.0);
    if (const auto seed = intField(body, "seed"))
        r.seed = uint64_t(*seed);
    // max_completion_tokens is the newer name of the same limit; it wins when both are given.
    std::optional<long long> maxTokens = intField(body, "max_tokens");
    const char* maxName = "max_tokens";
    if (const auto newer = intField(body, "max_completion_tokens")) {
        maxTokens = newer;
        maxName = "max_completion_tokens";
    }
    if (maxTokens) {
        if (*maxTokens <= 0)
            throw ApiError(400, std::string("'") + maxName + "' must be at least 1, not " +
                                    std::to_string(*maxTokens), maxName);
        if (*maxTokens > (1 << 24))
            throw ApiError(400, std::string("'") + maxName + "' is too large: " + std::to_string(*maxTokens), maxName);
        r.maxTokens = int(*maxTokens);
    }
    r.stop = stopField(body);
    r.n = int(intInRange(body, "n", 1, 1, 16));
    r.stream = boolField(body, "stream", false);
    // Not OpenAI's: llama-server's, kept so benchmarks ask both servers for fixed lengths.
    r.ignoreEos = boolField(body, "ignore_eos", false);
    // Not OpenAI's: Tenfold's response cache, per request (docs in README's server section).
    r.cache = stringField(body, "cache");
    if (!r.cache.empty() && r.cache != "off" && r.cache != "exact" && r.cache != "semantic")
        throw ApiError(400, "'cache' must be \"off\", \"exact\" or \"semantic\", not \"" + r.cache + "\"", "cache");
    r.cacheThreshold = numberField(body, "cache_threshold", 0.0, 0.0, 1.0);
    if (const Json* so = field(body, "stream_options")) {
        if (!so->is_object())
            wrongType("stream_options", "an object", *so);
        if (const Json* iu = field(*so, "include_usage")) {
            if (!iu->is_boolean())
                wrongType("stream_options.include_usage", "a boolean", *iu);
            r.includeUsage = iu->get<bool>();
        }
    }
}

std::string contentText(const Json& content, const std::string& name)
{
    if (content.is_null())
        return {};
    if (content.is_string())
        return content.get<std::string>();
    // Content parts: only text parts can be served by a text model.
    if (content.is_array()) {
        std::string text;
        for (size_t i = 0; i < content.size(); ++i) {
            const Json& part = content[i];
            const std::string partName = name + "[" + std::to_string(i) + "]";
            if (!part.is_object())
                wrongType(partName, "an object", part);
            const std::string type = stringField(part, "type");
            if (type != "text")
                throw ApiError(400, "'" + partName + ".type' is '" + type +
                                        "'; this model accepts only text parts", partName + ".type");
            const Json* t = field(part, "text");
            if (!t || !t->is_string())
                wrongType(partName + ".text", "a string", t ? *t : Json());
            text += t->get<std::string>();
        }
        return text;
    }
    wrongType(name, "a string or an array of content parts", content);
}

} // namespace

const char* endpointName(Endpoint e)
{
    switch (e) {
    case Endpoint::Chat: return "chat";
    case Endpoint::Completion: return "completion";
    case Endpoint::Embedding: return "embedding";
    }
    return "?";
}

long long firstInvalidUtf8(const std::string& s)
{
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        const unsigned c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return (long long)i;
        if (i + len > n)
            return (long long)i;
        for (size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80)
                return (long long)i;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return (long long)i;
        i += len;
    }
    return -1;
}

Json parseBody(const std::string& body)
{
    if (const long long bad = firstInvalidUtf8(body); bad >= 0)
        throw ApiError(400, "the request body is not valid UTF-8 (byte " + std::to_string(bad) + ")");
    Json j = Json::parse(body, nullptr, false);
    if (j.is_discarded()) {
        // Parse again with exceptions for the position and reason.
        try {
            const Json again = Json::parse(body);
        } catch (const Json::parse_error& e) {
            throw ApiError(400, std::string("the request body is not valid JSON: ") + e.what());
        }
        throw ApiError(400, "the request body is not valid JSON");
    }
    if (!j.is_object())
        throw ApiError(400, "the request body must be a JSON object, not " + typeName(j));
    return j;
}

GenerationRequest parseChatRequest(const Json& body)
{
    GenerationRequest r;
    r.endpoint = Endpoint::Chat;
    parseCommon(body, r);
    const Json* messages = field(body, "messages");
    if (!messages)
        throw ApiError(400, "'messages' is required", "messages");
    if (!messages->is_array())
        wrongType("messages", "an array", *messages);
    if (messages->empty())
        throw ApiError(400, "'messages' must hold at least one message", "messages");
    for (size_t i = 0; i < messages->size(); ++i) {
        const Json& m = (*messages)[i];
        const std::string name = "messages[" + std::to_string(i) + "]";
        if (!m.is_object())
            wrongType(name, "an object", m);
        const Json* role = field(m, "role");
        if (!role)
            throw ApiError(400, "'" + name + ".role' is required", name + ".role");
        if (!role->is_string())
            wrongType(name + ".role", "a string", *role);
        const auto it = m.find("content");
        const std::string content = it == m.end() ? std::string() : contentText(*it, name + ".content");
        r.messages.push_back({role->get<std::string>(), content});
    }
    if (boolField(body, "logprobs", false))
        r.topLogprobs = int(intInRange(body, "top_logprobs", 0, 0, 20));
    else if (field(body, "top_logprobs"))
        throw ApiError(400, "'top_logprobs' needs 'logprobs': true", "top_logprobs");
    return r;
}

GenerationRequest parseCompletionRequest(const Json& body)
{
    GenerationRequest r;
    r.endpoint = Endpoint::Completion;
    parseCommon(body, r);
    const Json* prompt = field(body, "prompt");
    if (!prompt)
        throw ApiError(400, "'prompt' is required", "prompt");
    if (prompt->is_string()) {
        r.prompt = prompt->get<std::string>();
    } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
        r.prompt = (*prompt)[0].get<std::string>();
    } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number_integer()) {
        r.promptIsTokens = true;
        for (size_t i = 0; i < prompt->size(); ++i) {
            const Json& t = (*prompt)[i];
            if (!t.is_number_integer() || t.get<long long>() < 0 || t.get<long long>() > INT32_MAX)
                throw ApiError(400, "'prompt[" + std::to_string(i) + "]' must be a token id",
                               "prompt");
            r.promptTokens.push_back(int32_t(t.get<long long>()));
        }
    } else if (prompt->is_array() && prompt->size() > 1 && (*prompt)[0].is_string()) {
        throw ApiError(400, "'prompt' holds " + std::to_string(prompt->size()) +
                                " prompts; send one prompt per request", "prompt");
    } else {
        wrongType("prompt", "a string or an array of token ids", *prompt);
    }
    if (!r.promptIsTokens && r.prompt.empty())
        throw ApiError(400, "'prompt' must not be empty", "prompt");
    r.topLogprobs = int(intInRange(body, "logprobs", -1, 0, 20));
    if (field(body, "echo") && boolField(body, "echo", false))
        throw ApiError(400, "'echo' is not supported", "echo");
    return r;
}

EmbeddingRequest parseEmbeddingRequest(const Json& body)
{
    EmbeddingRequest r;
    r.model = stringField(body, "model");
    const Json* input = field(body, "input");
    if (!input)
        throw ApiError(400, "'input' is required", "input");
    if (input->is_string()) {
        r.inputs.push_back(input->get<std::string>());
    } else if (input->is_array()) {
        if (input->empty())
            throw ApiError(400, "'input' must hold at least one string", "input");
        if (input->size() > 256)
            throw ApiError(400, "'input' holds " + std::to_string(input->size()) +
                                    " strings; at most 256 are allowed", "input");
        for (size_t i = 0; i < input->size(); ++i) {
            if (!(*input)[i].is_string())
                wrongType("input[" + std::to_string(i) + "]", "a string", (*input)[i]);
            r.inputs.push_back((*input)[i].get<std::string>());
        }
    } else {
        wrongType("input", "a string or an array of strings", *input);
    }
    for (size_t i = 0; i < r.inputs.size(); ++i)
        if (r.inputs[i].empty())
            throw ApiError(400, "'input' must not contain an empty string", "input");
    const std::string format = stringField(body, "encoding_format");
    if (!format.empty() && format != "float" && format != "base64")
        throw ApiError(400, "'encoding_format' must be 'float' or 'base64', not '" + format + "'",
                       "encoding_format");
    r.base64 = format == "base64";
    return r;
}

Json errorBody(const ApiError& e)
{
    Json err = {{"message", e.what()}, {"type", e.type()}};
    err["param"] = e.param().empty() ? Json() : Json(e.param());
    err["code"] = e.code().empty() ? Json() : Json(e.code());
    return Json{{"error", err}};
}

std::string dumpJson(const Json& j)
{
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

namespace {

Json byteList(const std::string& s)
{
    Json bytes = Json::array();
    for (unsigned char c : s)
        bytes.push_back(int(c));
    return bytes;
}

} // namespace

Json chatLogprobs(const Tokenizer& tok, const std::vector<int32_t>& tokens,
                  const std::vector<float>& logprobs,
                  const std::vector<std::vector<TokenLogprob>>& top)
{
    Json content = Json::array();
    for (size_t i = 0; i < tokens.size(); ++i) {
        const std::string text = tok.tokenBytes(tokens[i]);
        Json entry = {{"token", text},
                      {"logprob", i < logprobs.size() ? logprobs[i] : 0.0f},
                      {"bytes", byteList(text)}};
        Json alternatives = Json::array();
        if (i < top.size())
            for (const TokenLogprob& t : top[i]) {
                const std::string alt = tok.tokenBytes(t.token);
                alternatives.push_back({{"token", alt}, {"logprob", t.logprob}, {"bytes", byteList(alt)}});
            }
        entry["top_logprobs"] = alternatives;
        content.push_back(entry);
    }
    return Json{{"content", content}, {"refusal", nullptr}};
}

Json completionLogprobs(const Tokenizer& tok, const std::vector<int32_t>& tokens,
                        const std::vector<float>& logprobs,
                        const std::vector<std::vector<TokenLogprob>>& top, size_t textOffset)
{
    Json texts = Json::array(), lps = Json::array(), tops = Json::array(), offsets = Json::array();
    for (size_t i = 0; i < tokens.size(); ++i) {
        const std::string text = tok.tokenBytes(tokens[i]);
        texts.push_back(text);
        lps.push_back(i < logprobs.size() ? logprobs[i] : 0.0f);
        Json alternatives = Json::object();
        if (i < top.size())
            for (const TokenLogprob& t : top[i])
                alternatives[tok.tokenBytes(t.token)] = t.logprob;
        tops.push_back(alternatives);
        offsets.push_back(textOffset);
        textOffset += text.size();
    }
    return Json{{"tokens", texts}, {"token_logprobs", lps}, {"top_logprobs", tops},
                {"text_offset", offsets}};
}

Json usageJson(int promptTokens, int completionTokens)
{
    return Json{{"prompt_tokens", promptTokens},
                {"completion_tokens", completionTokens},
                {"total_tokens", promptTokens + completionTokens}};
}

static Json finishJson(const std::string& reason)
{
    return reason.empty() ? Json() : Json(reason);
}

Json chatCompletionBody(const ResponseMeta& meta, const Tokenizer& tok,
                        const std::vector<ChoiceResult>& choices, bool withLogprobs,
                        int promptTokens, int completionTokens)
{
    Json list = Json::array();
    for (size_t i = 0; i < choices.size(); ++i) {
        const ChoiceResult& c = choices[i];
        list.push_back({{"index", i},
                        {"message", {{"role", "assistant"}, {"content", c.text}, {"refusal", nullptr}}},
                        {"logprobs", withLogprobs ? chatLogprobs(tok, c.tokens, c.logprobs, c.topLogprobs) : Json()},
                        {"finish_reason", finishJson(c.finishReason)}});
    }
    return Json{{"id", meta.id},
                {"object", "chat.completion"},
                {"created", meta.created},
                {"model", meta.model},
                {"choices", list},
                {"usage", usageJson(promptTokens, completionTokens)},
                {"system_fingerprint", nullptr}};
}

Json textCompletionBody(const ResponseMeta& meta, const Tokenizer& tok,
                        const std::vector<ChoiceResult>& choices, bool withLogprobs,
                        int promptTokens, int completionTokens)
{
    Json list = Json::array();
    for (size_t i = 0; i < choices.size(); ++i) {
        const ChoiceResult& c = choices[i];
        list.push_back({{"index", i},
                        {"text", c.text},
                        {"logprobs", withLogprobs ? completionLogprobs(tok, c.tokens, c.logprobs, c.topLogprobs, 0) : Json()},
                        {"finish_reason", finishJson(c.finishReason)}});
    }
    return Json{{"id", meta.id},
                {"object", "text_completion"},
                {"created", meta.created},
                {"model", meta.model},
                {"choices", list},
                {"usage", usageJson(promptTokens, completionTokens)},
                {"system_fingerprint", nullptr}};
}

Json chatChunk(const ResponseMeta& meta, int choice, const Json& delta, const Json& logprobs,
               const std::string& finishReason)
{
    Json c = {{"index", choice}, {"delta", delta}, {"logprobs", logprobs},
              {"finish_reason", finishJson(finishReason)}};
    return Json{{"id", meta.id},       {"object", "chat.completion.chunk"},
                {"created", meta.created}, {"model", meta.model},
                {"system_fingerprint", nullptr}, {"choices", Json::array({c})}};
}

Json textChunk(const ResponseMeta& meta, int choice, const std::string& text, const Json& logprobs,
               const std::string& finishReason)
{
    Json c = {{"index", choice}, {"text", text}, {"logprobs", logprobs},
              {"finish_reason", finishJson(finishReason)}};
    return Json{{"id", meta.id},       {"object", "text_completion"},
                {"created", meta.created}, {"model", meta.model},
                {"system_fingerprint", nullptr}, {"choices", Json::array({c})}};
}

Json usageChunk(const ResponseMeta& meta, Endpoint endpoint, int promptTokens, int completionTokens)
{
    return Json{{"id", meta.id},
                {"object", endpoint == Endpoint::Chat ? "chat.completion.chunk" : "text_completion"},
                {"created", meta.created},
                {"model", meta.model},
                {"system_fingerprint", nullptr},
                {"choices", Json::array()},
                {"usage", usageJson(promptTokens, completionTokens)}};
}

std::string base64Floats(const std::vector<float>& values)
{
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes(values.size() * 4, '\0');
    // x86-64 is little-endian, which is what the format asks for.
    static_assert(sizeof(float) == 4);
    if (!values.empty())
        std::memcpy(bytes.data(), values.data(), bytes.size());
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (size_t i = 0; i < bytes.size(); i += 3) {
        const uint32_t b0 = uint8_t(bytes[i]);
        const uint32_t b1 = i + 1 < bytes.size() ? uint8_t(bytes[i + 1]) : 0;
        const uint32_t b2 = i + 2 < bytes.size() ? uint8_t(bytes[i + 2]) : 0;
        const uint32_t v = (b0 << 16) | (b1 << 8) | b2;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += i + 1 < bytes.size() ? alphabet[(v >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? alphabet[v & 63] : '=';
    }
    return out;
}

Json embeddingBody(const std::string& model, const std::vector<std::vector<float>>& embeddings,
                   bool base64, int promptTokens)
{
    Json data = Json::array();
    for (size_t i = 0; i < embeddings.size(); ++i)
        data.push_back({{"object", "embedding"},
                        {"index", i},
                        {"embedding", base64 ? Json(base64Floats(embeddings[i])) : Json(embeddings[i])}});
    return Json{{"object", "list"},
                {"data", data},
                {"model", model},
                {"usage", {{"prompt_tokens", promptTokens}, {"total_tokens", promptTokens}}}};
}

Json modelsBody(const std::string& modelId, int64_t created)
{
    return Json{{"object", "list"},
                {"data", Json::array({{{"id", modelId},
                                       {"object", "model"},
                                       {"created", created},
                                       {"owned_by", "tenfold"}}})}};
}

} // namespace tenfold::server
