#pragma once
// The OpenAI wire format: parsing and validating request bodies (every refusal an ApiError
// naming the field), and building response bodies and stream chunks. No HTTP and no engine
// calls here, so the format lives in one place.
#include "api_error.h"
#include "chat/chat_template.h"
#include "serve/scheduler.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tenfold {
class Tokenizer;
}

namespace tenfold::server {

using Json = nlohmann::json;

enum class Endpoint { Chat, Completion, Embedding };
const char* endpointName(Endpoint e); // "chat", "completion", "embedding"

// A chat or text completion request, validated.
struct GenerationRequest {
    Endpoint endpoint = Endpoint::Completion;
    std::string model;                   // as the client named it ("" when absent)
    std::vector<ChatMessage> messages;   // chat
    std::string prompt;                  // completion given as text
    std::vector<int32_t> promptTokens;   // completion given as token ids
    bool promptIsTokens = false;
    double temperature = 1.0;            // OpenAI's defaults
    double topP = 1.0;
    std::optional<uint64_t> seed;
    std::optional<int> maxTokens;
    std::vector<std::string> stop;
    int n = 1;
    int topLogprobs = -1;                // -1: none
    bool stream = false;
    bool includeUsage = false;           // stream_options.include_usage
    bool ignoreEos = false;              // llama-server's extension: generate past end-of-text
    // Tenfold's extension: the response cache for this request: "" (the server's default),
    // "off", "exact" or "semantic"; and the similarity a semantic hit needs (0: the default).
    std::string cache;
    double cacheThreshold = 0;
};

struct EmbeddingRequest {
    std::string model;
    std::vector<std::string> inputs;
    bool base64 = false;                 // encoding_format "base64": little-endian float32
};

// The body as JSON. Throws ApiError 400 for invalid UTF-8 (naming the byte offset), malformed
// JSON, and a body that is not an object.
Json parseBody(const std::string& body);
// Throw ApiError 400 naming the field for wrong types, values out of range and missing fields.
GenerationRequest parseChatRequest(const Json& body);
GenerationRequest parseCompletionRequest(const Json& body);
EmbeddingRequest parseEmbeddingRequest(const Json& body);

// The first invalid byte's offset, or -1 when `text` is valid UTF-8 (no overlongs, no
// surrogates, nothing past U+10FFFF).
long long firstInvalidUtf8(const std::string& text);

Json errorBody(const ApiError& e);
std::string dumpJson(const Json& j); // invalid UTF-8 in strings becomes U+FFFD, never a throw

// What one choice produced, gathered from Text and ChoiceDone events.
struct ChoiceResult {
    std::string text;
    std::vector<int32_t> tokens;
    std::vector<float> logprobs;
    std::vector<std::vector<TokenLogprob>> topLogprobs;
    std::string finishReason;
};

// Response identity shared by a request's body or chunks.
struct ResponseMeta {
    std::string id;       // "chatcmpl-…" / "cmpl-…"
    std::string model;    // the served model id
    int64_t created = 0;  // Unix seconds
};

// Log probabilities for tokens of one event or choice, in each endpoint's format; null when the
// request did not ask for them.
Json chatLogprobs(const Tokenizer& tok, const std::vector<int32_t>& tokens,
                  const std::vector<float>& logprobs,
                  const std::vector<std::vector<TokenLogprob>>& top);
Json completionLogprobs(const Tokenizer& tok, const std::vector<int32_t>& tokens,
                        const std::vector<float>& logprobs,
                        const std::vector<std::vector<TokenLogprob>>& top, size_t textOffset);

Json usageJson(int promptTokens, int completionTokens);

// Non-streaming bodies.
Json chatCompletionBody(const ResponseMeta& meta, const Tokenizer& tok,
                        const std::vector<ChoiceResult>& choices, bool withLogprobs,
                        int promptTokens, int completionTokens);
Json textCompletionBody(const ResponseMeta& meta, const Tokenizer& tok,
                        const std::vector<ChoiceResult>& choices, bool withLogprobs,
                        int promptTokens, int completionTokens);

// One stream chunk ("chat.completion.chunk" / "text_completion") for one choice. `delta` is the
// chat delta object; for completions `text` is used. finishReason "" = null.
Json chatChunk(const ResponseMeta& meta, int choice, const Json& delta, const Json& logprobs,
               const std::string& finishReason);
Json textChunk(const ResponseMeta& meta, int choice, const std::string& text, const Json& logprobs,
               const std::string& finishReason);
// The final usage chunk of stream_options.include_usage: no choices.
Json usageChunk(const ResponseMeta& meta, Endpoint endpoint, int promptTokens,
                int completionTokens);

Json embeddingBody(const std::string& model, const std::vector<std::vector<float>>& embeddings,
                   bool base64, int promptTokens);
std::string base64Floats(const std::vector<float>& values);

Json modelsBody(const std::string& modelId, int64_t created);

} // namespace tenfold::server
