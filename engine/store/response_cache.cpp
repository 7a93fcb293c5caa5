#include "store/response_cache.h"

#include "core/error.h"
#include "core/fnv.h"
#include "store/schema.h"
#include "store/sqlite_db.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

namespace tenfold {
namespace {

// Milliseconds: hits within one second must still order for the least-recently-hit eviction.
int64_t nowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The hash of one string, or of two with a separator (so the pair cannot collide by moving
// bytes across the boundary), as the database stores it.
std::string fnvHex(std::string_view a, std::string_view b = {})
{
    Fnv1a f;
    f.text(a);
    f.text(std::string_view("\x1f", 1));
    f.text(b);
    return hex64(f.h);
}

} // namespace

void similaritiesReference(const float* q, const float* rows, int64_t nRows, int dim, float* out)
{
    for (int64_t r = 0; r < nRows; ++r) {
        float s = 0;
        for (int d = 0; d < dim; ++d)
            s += q[d] * rows[r * dim + d];
        out[r] = s;
    }
}

#if defined(__x86_64__)
void similaritiesAvx2(const float* q, const float* rows, int64_t nRows, int dim, float* out);
#endif

void similarities(const float* q, const float* rows, int64_t nRows, int dim, float* out)
{
#if defined(__x86_64__)
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2) {
        similaritiesAvx2(q, rows, nRows, dim, out);
        return;
    }
#endif
    similaritiesReference(q, rows, nRows, dim, out);
}

ResponseCache::ResponseCache(const std::filesystem::path& databaseFile, ResponseCacheOptions options)
    : options_(options)
{
    if (!databaseFile.parent_path().empty()) {
        std::error_code ec;
        std::filesystem::create_directories(databaseFile.parent_path(), ec);
    }
    db_ = std::make_unique<sqlite::Database>(databaseFile);
    db_->exec("PRAGMA busy_timeout = 5000", "setting the busy timeout");
    {
        sqlite::Statement wal(*db_, "PRAGMA journal_mode = WAL");
        wal.step();
    }
    // As the app's Store: with WAL, NORMAL syncs at checkpoints, not on every hit's counter update.
    db_->exec("PRAGMA synchronous = NORMAL", "setting synchronous mode");
    store_schema::migrate(*db_);
    std::lock_guard lock(mutex_);
    expireAndTrimLocked(true);
}

ResponseCache::~ResponseCache() = default;

void ResponseCache::bumpLocked(const char* kind, bool hit, int tokens, double ms)
{
    sqlite::Statement s(*db_,
                        "INSERT INTO response_cache_stats(kind, hits, misses, tokens_saved, ms_saved) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(kind) DO UPDATE SET hits = hits + excluded.hits, "
                        "misses = misses + excluded.misses, tokens_saved = tokens_saved + excluded.tokens_saved, "
                        "ms_saved = ms_saved + excluded.ms_saved");
    s.bind(1, kind).bind(2, hit ? 1 : 0).bind(3, hit ? 0 : 1).bind(4, int64_t(tokens)).bind(5, ms).run();
}

void ResponseCache::recordMiss(const std::string& kind)
{
    std::lock_guard lock(mutex_);
    bumpLocked(kind == "semantic" ? "semantic" : "exact", false, 0, 0);
}

void ResponseCache::expireAndTrimLocked(bool force)
{
    // Lookups expire at most once a minute; store() always trims.
    const int64_t now = nowMs();
    if (!force && now - lastExpiry_ < 60000)
        return;
    lastExpiry_ = now;
    bool changed = false;
    if (options_.ttlSeconds > 0) {
        sqlite::Statement s(*db_, "DELETE FROM response_cache WHERE last_hit_at < ?");
        s.bind(1, now - options_.ttlSeconds * 1000).run();
        changed = db_->changes() > 0;
    }
    sqlite::Statement total(*db_, "SELECT coalesce(sum(bytes), 0) FROM response_cache");
    total.step();
    int64_t bytes = total.columnInt(0);
    if (bytes > options_.maxBytes) {
        // Least recently hit first, until under the limit.
        sqlite::Statement oldest(*db_, "SELECT id, bytes FROM response_cache ORDER BY last_hit_at, hits, id");
        std::vector<int64_t> drop;
        while (bytes > options_.maxBytes && oldest.step()) {
            drop.push_back(oldest.columnInt(0));
            bytes -= oldest.columnInt(1);
        }
        oldest.reset();
        sqlite::Statement del(*db_, "DELETE FROM response_cache WHERE id = ?");
        for (int64_t id : drop) {
            del.bind(1, id).run();
            del.reset();
        }
        changed = changed || !drop.empty();
    }
    if (changed)
        vectors_.clear(); // reloaded on the next semantic lookup
}

std::optional<CachedResponse> ResponseCache::readRowLocked(int64_t id, const char* kind, float similarity)
{
    sqlite::Statement s(*db_,
                        "SELECT prompt, response, checksum, prompt_tokens, completion_tokens, compute_ms, last_hit_at "
                        "FROM response_cache WHERE id = ?");
    s.bind(1, id);
    if (!s.step())
        return std::nullopt;
    // Expired rows never answer, even between the periodic deletes.
    if (options_.ttlSeconds > 0 && s.columnInt(6) < nowMs() - options_.ttlSeconds * 1000)
        return std::nullopt;
    CachedResponse r;
    r.id = id;
    r.kind = kind;
    r.prompt = s.columnText(0);
    r.response = s.columnText(1);
    const std::string checksum = s.columnText(2);
    r.promptTokens = int(s.columnInt(3));
    r.completionTokens = int(s.columnInt(4));
    r.computeMs = s.columnDouble(5);
    r.similarity = similarity;
    s.reset();
    if (checksum != fnvHex(r.prompt, r.response)) {
        // Damaged on disk (or edited by hand): never an answer.
        sqlite::Statement del(*db_, "DELETE FROM response_cache WHERE id = ?");
        del.bind(1, id).run();
        ++damaged_;
        vectors_.clear();
        return std::nullopt;
    }
    sqlite::Statement hit(*db_, "UPDATE response_cache SET hits = hits + 1, last_hit_at = ? WHERE id = ?");
    hit.bind(1, nowMs()).bind(2, id).run();
    bumpLocked(kind, true, r.promptTokens + r.completionTokens, r.computeMs);
    return r;
}

std::optional<CachedResponse> ResponseCache::findExact(const std::string& model, const std::string& params,
                                                       const std::string& prompt)
{
    std::lock_guard lock(mutex_);
    expireAndTrimLocked();
    sqlite::Statement s(*db_, "SELECT id, prompt FROM response_cache WHERE model = ? AND params = ? AND prompt_hash = ?");
    s.bind(1, model).bind(2, params).bind(3, fnvHex(prompt));
    std::optional<CachedResponse> found;
    if (s.step() && s.columnText(1) == prompt) {
        const int64_t id = s.columnInt(0);
        s.reset();
        found = readRowLocked(id, "exact", 1.0f);
    }
    if (!found)
        bumpLocked("exact", false, 0, 0);
    return found;
}

void ResponseCache::loadVectorsLocked(const std::string& model, const std::string& params)
{
    const std::string key = model + '\x1f' + params;
    if (vectors_.count(key))
        return;
    Vectors v;
    sqlite::Statement s(*db_, "SELECT id, embedding FROM response_cache WHERE model = ? AND params = ? AND "
                              "embedding IS NOT NULL ORDER BY id");
    s.bind(1, model).bind(2, params);
    while (s.step()) {
        const std::string blob = s.columnBlob(1);
        const int dim = int(blob.size() / sizeof(float));
        if (dim == 0 || blob.size() % sizeof(float) != 0 || (v.dim != 0 && dim != v.dim))
            continue; // another embedding size (another embedder): not comparable
        v.dim = dim;
        v.ids.push_back(s.columnInt(0));
        const size_t at = v.data.size();
        v.data.resize(at + size_t(dim));
        std::memcpy(v.data.data() + at, blob.data(), blob.size());
    }
    vectors_[key] = std::move(v);
}

std::optional<CachedResponse> ResponseCache::findSimilar(const std::string& model, const std::string& params,
                                                         std::span<const float> embedding, float threshold)
{
    std::lock_guard lock(mutex_);
    expireAndTrimLocked();
    loadVectorsLocked(model, params);
    const Vectors& v = vectors_[model + '\x1f' + params];
    lastCandidates_ = int64_t(v.ids.size());
    std::optional<CachedResponse> found;
    if (!v.ids.empty() && int(embedding.size()) == v.dim) {
        const int64_t n = int64_t(v.ids.size());
        if (n >= options_.indexThreshold) {
            Vectors& w = vectors_[model + '\x1f' + params];
            // (Re)build when first needed and when a fifth of the vectors arrived since.
            if (!w.index.built() || w.index.size() != n || w.index.pending() * 5 > n)
                w.index.build(w.data, n, w.dim);
            const NearestVector best = w.index.nearest(embedding.data(), options_.indexProbes);
            lastCandidates_ = best.compared;
            if (best.row >= 0 && best.similarity >= threshold)
                found = readRowLocked(v.ids[size_t(best.row)], "semantic", best.similarity);
        } else {
            std::vector<float> sims(v.ids.size());
            similarities(embedding.data(), v.data.data(), n, v.dim, sims.data());
            const size_t best = size_t(std::max_element(sims.begin(), sims.end()) - sims.begin());
            if (sims[best] >= threshold)
                found = readRowLocked(v.ids[best], "semantic", sims[best]);
        }
    }
    if (!found)
        bumpLocked("semantic", false, 0, 0);
    return found;
}

void ResponseCache::store(const std::string& model, const std::string& modelPath, const std::string& params,
                          const std::string& prompt, const std::string& response, int promptTokens,
                          int completionTokens, double computeMs, std::span<const float> embedding)
{
    std::lock_guard lock(mutex_);
    const int64_t now = nowMs();
    const int64_t bytes = int64_t(prompt.size() + response.size() + embedding.size() * sizeof(float));
    bool replaces = false;
    {
        sqlite::Statement q(*db_, "SELECT id FROM response_cache WHERE model = ? AND params = ? AND prompt_hash = ?");
        q.bind(1, model).bind(2, params).bind(3, fnvHex(prompt));
        replaces = q.step();
    }
    sqlite::Transaction tx(*db_);
    sqlite::Statement s(*db_,
                        "INSERT OR REPLACE INTO response_cache(model, model_path, params, prompt_hash, prompt, "
                        "response, checksum, prompt_tokens, completion_tokens, compute_ms, embedding, created_at, "
                        "last_hit_at, hits, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)");
    s.bind(1, model).bind(2, modelPath).bind(3, params).bind(4, fnvHex(prompt)).bind(5, prompt).bind(6, response);
    s.bind(7, fnvHex(prompt, response)).bind(8, promptTokens).bind(9, completionTokens).bind(10, computeMs);
    if (embedding.empty())
        s.bindNull(11);
    else
        s.bindBlob(11, embedding.data(), embedding.size() * sizeof(float));
    s.bind(12, now).bind(13, now).bind(14, bytes).run();
    const int64_t id = db_->lastInsertId();
    tx.commit();
    // A loaded semantic index grows in place (reloading every row per store would make storing
    // O(entries)); a replaced row (new id) sends it back to the database on the next lookup.
    const auto it = vectors_.find(model + '\x1f' + params);
    if (it != vectors_.end()) {
        Vectors& v = it->second;
        if (replaces) {
            vectors_.erase(it);
        } else if (!embedding.empty() && (v.dim == 0 || v.dim == int(embedding.size()))) {
            v.dim = int(embedding.size());
            v.ids.push_back(id);
            v.data.insert(v.data.end(), embedding.begin(), embedding.end());
            if (v.index.built())
                v.index.add(embedding.data(), int64_t(v.ids.size()) - 1);
        }
    }
    expireAndTrimLocked(true);
}

int ResponseCache::invalidateStale(const std::string& modelPath, const std::string& model)
{
    std::lock_guard lock(mutex_);
    sqlite::Statement s(*db_, "DELETE FROM response_cache WHERE model_path = ? AND model != ?");
    s.bind(1, modelPath).bind(2, model).run();
    const int n = db_->changes();
    if (n > 0)
        vectors_.clear();
    return n;
}

void ResponseCache::clear()
{
    std::lock_guard lock(mutex_);
    db_->exec("DELETE FROM response_cache; DELETE FROM response_cache_stats;", "clearing the response cache");
    vectors_.clear();
}

ResponseCacheStats ResponseCache::stats() const
{
    std::lock_guard lock(mutex_);
    ResponseCacheStats out;
    sqlite::Statement s(*db_, "SELECT kind, hits, misses, tokens_saved, ms_saved FROM response_cache_stats");
    while (s.step()) {
        ResponseCacheKindStats& k = s.columnText(0) == "semantic" ? out.semantic : out.exact;
        k.hits = s.columnInt(1);
        k.misses = s.columnInt(2);
        k.tokensSaved = s.columnInt(3);
        k.msSaved = s.columnDouble(4);
    }
    sqlite::Statement t(*db_, "SELECT count(*), coalesce(sum(bytes), 0) FROM response_cache");
    t.step();
    out.entries = t.columnInt(0);
    out.bytes = t.columnInt(1);
    out.damagedRows = damaged_;
    return out;
}

} // namespace tenfold
