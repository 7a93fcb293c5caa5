#pragma once
// The chat's use of the response cache (engine/store/response_cache.h), on the engine thread:
// builds the cache key of a reply (model fingerprint, sampling settings as one canonical string,
// the rendered prompt's token ids), looks it up and stores computed replies. The cache only ever
// saves work: a database that fails, a damaged row or an embedding that cannot be computed is a
// miss, never a failed or altered reply.
#include "session/engine_types.h"
#include "store/response_cache.h"

#include <QString>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tenfold::ui {

class ReplyCache {
public:
    struct Key {
        std::string model;  // fingerprint, 16 hex digits (as tenfold-server writes it)
        std::string params;
        std::string prompt;
        bool semantic = false;
        float threshold = kDefaultSimilarityThreshold;
        std::vector<float> embedding; // filled by lookup() when semantic and computable
    };

    // Opens the app's database file (already migrated by Store). Throws IoError.
    explicit ReplyCache(const std::filesystem::path& databaseFile);

    // Null when the reply is not deterministic (sampled without a fixed seed): never cached.
    static std::optional<Key> keyFor(uint64_t modelFingerprint, const SamplingSettings& sampling,
                                     std::span<const int32_t> promptTokens);
    // The canonical sampling string: only what can change a deterministic reply's text (a greedy
    // reply ignores seed, top-k/p and min-p; "desktop-chat" keeps these keys apart from the
    // server's, whose stored responses are JSON).
    static std::string canonicalParams(const SamplingSettings& sampling);

    // Exact first; then, when the key is semantic, the nearest earlier prompt by `embed()`'s
    // vector. `embed` may throw Cancelled (passed on: the user stopped the reply); any other
    // failure only skips the semantic lookup.
    std::optional<CachedResponse> lookup(Key& key, const std::function<std::vector<float>()>& embed);
    // Stores a reply that finished normally. Failures are swallowed (see above).
    void store(const Key& key, const std::string& modelPath, const QString& text, int promptTokens,
               int completionTokens, double computeMs);
    // Drops entries computed by an earlier version of the file at modelPath.
    void invalidateStale(const std::string& modelPath, uint64_t modelFingerprint);

private:
    std::unique_ptr<ResponseCache> cache_;
};

} // namespace tenfold::ui
