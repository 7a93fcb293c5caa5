#pragma once
// The response cache: answers a request the model already answered without computing anything.
//
// Exact: the key is the model (Model::fingerprint()), the sampling parameters and the rendered
// prompt; only deterministic requests (temperature 0, or a fixed seed) are cached, so a hit is
// exactly what the model would say again. Semantic (opt-in): an embedding of the prompt and a
// similarity threshold; the nearest stored prompt for the same model and parameters answers when
// its cosine similarity reaches the threshold. Entries expire after a TTL, the cache keeps to a
// size limit (least recently hit first), and a row whose checksum does not match is deleted and
// treated as a miss: a damaged row never answers.
//
// Rows live in the app's SQLite database (schema v5: response_cache, response_cache_stats), so
// the desktop's Cache view and the server share them. Thread-safe (one connection, one mutex).
#include <cstdint>
#include "store/vector_index.h"

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tenfold {

namespace sqlite {
class Database;
}

// The similarity a semantic hit needs by default. Mean-pooled hidden states of a small language
// model are weak sentence embeddings (on ref-main "the capital of France" and "... of Germany"
// score 0.997, true paraphrases 0.80-0.98: tests/engine/serve/tst_semantic_cache.cpp prints the
// table), so the default is strict and semantic caching stays opt-in.
constexpr float kDefaultSimilarityThreshold = 0.98f;

struct ResponseCacheOptions {
    int64_t ttlSeconds = 7 * 24 * 3600; // 0: never expire
    int64_t maxBytes = 256ll << 20;     // prompt + response + embedding bytes
    // Semantic lookups scan every stored vector of the model and parameters up to this many; beyond
    // it they go through an inverted-file index (store/vector_index.h) probing indexProbes lists.
    int64_t indexThreshold = 100000;
    int indexProbes = 16;
};

struct CachedResponse {
    int64_t id = 0;
    std::string kind;       // "exact" or "semantic"
    std::string prompt;     // the stored prompt (for a semantic hit, the neighbour's)
    std::string response;   // as stored by the caller (the server keeps JSON)
    int promptTokens = 0;
    int completionTokens = 0;
    double computeMs = 0;   // what computing it took
    float similarity = 1.0f;
};

struct ResponseCacheKindStats {
    int64_t hits = 0;
    int64_t misses = 0;
    int64_t tokensSaved = 0;
    double msSaved = 0;
};

struct ResponseCacheStats {
    ResponseCacheKindStats exact, semantic;
    int64_t entries = 0;
    int64_t bytes = 0;
    int64_t damagedRows = 0; // rows dropped because their checksum failed (this process)
};

// Cosine similarities of one normalised query against rows of normalised vectors:
// out[r] = sum_d q[d] * rows[r * dim + d]. Scalar reference and the dispatched SIMD version.
void similaritiesReference(const float* q, const float* rows, int64_t nRows, int dim, float* out);
void similarities(const float* q, const float* rows, int64_t nRows, int dim, float* out);

class ResponseCache {
public:
    // Opens <databaseFile> (the app's tenfold.db, migrated to schema v5 by Store). Throws IoError.
    explicit ResponseCache(const std::filesystem::path& databaseFile, ResponseCacheOptions options = {});
    ~ResponseCache();

    // Deterministic requests only: greedy, or sampled with a fixed seed.
    static bool cacheable(float temperature, bool fixedSeed) { return temperature <= 0.0f || fixedSeed; }

    std::optional<CachedResponse> findExact(const std::string& model, const std::string& params,
                                            const std::string& prompt);
    // embedding: L2-normalised. threshold in (0, 1].
    std::optional<CachedResponse> findSimilar(const std::string& model, const std::string& params,
                                              std::span<const float> embedding, float threshold);
    // Stores (or replaces) an answer; embedding may be empty (exact lookups only).
    void store(const std::string& model, const std::string& modelPath, const std::string& params,
               const std::string& prompt, const std::string& response, int promptTokens,
               int completionTokens, double computeMs, std::span<const float> embedding = {});
    // A lookup that found nothing (for the hit rates).
    void recordMiss(const std::string& kind);
    // Drops entries for modelPath whose model fingerprint is not `model` (the file changed).
    int invalidateStale(const std::string& modelPath, const std::string& model);
    void clear();
    ResponseCacheStats stats() const;
    // Test support: the number of candidate rows a semantic lookup compared (last call).
    int64_t lastSemanticCandidates() const { return lastCandidates_; }

private:
    void expireAndTrimLocked(bool force = false);
    void bumpLocked(const char* kind, bool hit, int tokens, double ms);
    std::optional<CachedResponse> readRowLocked(int64_t id, const char* kind, float similarity);
    void loadVectorsLocked(const std::string& model, const std::string& params);

    std::unique_ptr<sqlite::Database> db_;
    ResponseCacheOptions options_;
    mutable std::mutex mutex_;
    // Semantic index per (model, params): row ids and their vectors, loaded on first use and
    // kept in step with store()/deletes.
    struct Vectors {
        int dim = 0;
        std::vector<int64_t> ids;
        std::vector<float> data;
        IvfIndex index; // built once ids reach options_.indexThreshold
    };
    std::map<std::string, Vectors> vectors_;
    int64_t damaged_ = 0;
    int64_t lastExpiry_ = 0;
    int64_t lastCandidates_ = 0;
};

} // namespace tenfold
