#pragma once
// The response cache in the server (store/response_cache.h): which requests may be answered from
// it, looking them up (exact, or semantic with the prompt's embedding from the served model),
// replaying a stored answer in the same format a computed one has (SSE chunks or one body), and
// storing computed answers. A deterministic request only (temperature 0, or a fixed seed) without
// logprobs; per request "cache": "off" | "exact" | "semantic" overrides the server's default.
#include "openai_json.h"
#include "server_context.h"

#include <httplib.h>

#include <optional>
#include <string>
#include <vector>

namespace tenfold::server {

struct CachePlan {
    std::string mode;              // "" (not cached), "exact" or "semantic"
    std::string params;            // the sampling parameters as one key
    std::string promptKey;         // the prompt's token ids, as the cache's key
    std::vector<int32_t> prompt;   // semantic: what the embedding is computed from
    int choices = 1;               // the request's n: a stored answer has as many
    float threshold = 0;           // semantic
    std::vector<float> embedding;  // semantic: filled by lookupAnswer
};

struct CachedAnswer {
    std::string kind;              // "exact" or "semantic"
    std::vector<ChoiceResult> choices;
    int promptTokens = 0;
    int completionTokens = 0;
};

CachePlan planCache(const ServerContext& ctx, const GenerationRequest& r, const std::vector<int32_t>& prompt);
// nullopt on a miss (or when the plan is not cached). A stored answer that does not parse is a
// miss too (and never served).
std::optional<CachedAnswer> lookupAnswer(ServerContext& ctx, CachePlan& plan);
// After a computed answer finished normally.
void storeAnswer(ServerContext& ctx, const CachePlan& plan, const std::vector<ChoiceResult>& choices,
                 int promptTokens, int completionTokens, double computeMs);
// Writes the cached answer as the response and records it (ledger: cache hit, no compute).
void replayAnswer(ServerContext& ctx, const GenerationRequest& r, const CachedAnswer& a, httplib::Response& res,
                  const std::string& client, double lookupMs);

} // namespace tenfold::server
