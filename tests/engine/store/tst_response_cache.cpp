// The response cache (store/response_cache.h): exact hits only for the same model, parameters and
// prompt; expiry, the size limit (least recently hit first) and stale-model invalidation; a row
// damaged on disk is dropped, never served; the SIMD similarity search against the scalar
// reference; and semantic lookups by threshold.
#include "store/response_cache.h"
#include "store/sqlite_db.h"

#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <cmath>
#include <random>

using namespace tenfold;

namespace {

std::vector<float> unit(std::mt19937& rng, int dim)
{
    std::normal_distribution<float> n(0.f, 1.f);
    std::vector<float> v(static_cast<size_t>(dim));
    double s = 0;
    for (auto& x : v) {
        x = n(rng);
        s += double(x) * x;
    }
    for (auto& x : v)
        x = float(x / std::sqrt(s));
    return v;
}

void execSql(const std::filesystem::path& file, const std::string& sql)
{
    sqlite::Database db(file);
    db.exec(sql, "test edit");
}

} // namespace

class TestResponseCache : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::filesystem::path file(const char* name) { return std::filesystem::path(dir_.path().toStdString()) / name; }

private slots:
    void exactHitsOnlyForTheSameKey()
    {
        ResponseCache cache(file("exact.db"));
        QVERIFY(ResponseCache::cacheable(0.0f, false));
        QVERIFY(ResponseCache::cacheable(0.8f, true));
        QVERIFY(!ResponseCache::cacheable(0.8f, false));
        cache.store("modelA", "/m/a.gguf", "t=0", "Hello", R"({"text":"Hi there"})", 3, 4, 12.5);
        auto hit = cache.findExact("modelA", "t=0", "Hello");
        QVERIFY(hit.has_value());
        QCOMPARE(QString::fromStdString(hit->response), QString(R"({"text":"Hi there"})"));
        QCOMPARE(hit->completionTokens, 4);
        QCOMPARE(hit->kind, std::string("exact"));
        QVERIFY(!cache.findExact("modelB", "t=0", "Hello"));
        QVERIFY(!cache.findExact("modelA", "t=0.5 seed=1", "Hello"));
        QVERIFY(!cache.findExact("modelA", "t=0", "Hello "));
        const auto st = cache.stats();
        QCOMPARE(st.exact.hits, int64_t(1));
        QCOMPARE(st.exact.misses, int64_t(3));
        QCOMPARE(st.exact.tokensSaved, int64_t(7));
        QCOMPARE(st.exact.msSaved, 12.5);
        QCOMPARE(st.entries, int64_t(1));
        // A second instance (another process: the desktop's Cache view) sees the same rows.
        ResponseCache other(file("exact.db"));
        QVERIFY(other.findExact("modelA", "t=0", "Hello").has_value());
    }

    void expiryLimitAndStaleModels()
    {
        ResponseCacheOptions o;
        o.ttlSeconds = 3600;
        o.maxBytes = 100;
        ResponseCache cache(file("limits.db"), o);
        const std::string body(30, 'x');
        cache.store("m", "/m.gguf", "p", "one", body, 1, 1, 1);
        cache.store("m", "/m.gguf", "p", "two", body, 1, 1, 1);
        QVERIFY(cache.findExact("m", "p", "one")); // one is now the most recently hit
        cache.store("m", "/m.gguf", "p", "three", body, 1, 1, 1); // 3 x 33 bytes > 100: "two" goes
        QVERIFY(cache.findExact("m", "p", "one"));
        QVERIFY(!cache.findExact("m", "p", "two"));
        QVERIFY(cache.findExact("m", "p", "three"));
        // An entry not hit for longer than the TTL expires.
        execSql(file("limits.db"), "UPDATE response_cache SET last_hit_at = last_hit_at - 7200000 WHERE prompt = 'one'");
        QVERIFY(!cache.findExact("m", "p", "one"));
        QVERIFY(cache.findExact("m", "p", "three"));
        // The model file changed (new fingerprint): its old answers go (the expired one too, which
        // stays on disk, never served, until the next purge: store() or a minute later).
        QCOMPARE(cache.invalidateStale("/m.gguf", "m2"), 2);
        QVERIFY(!cache.findExact("m", "p", "three"));
    }

    void damagedRowsAreNeverServed()
    {
        ResponseCache cache(file("damaged.db"));
        cache.store("m", "", "p", "question", "the right answer", 1, 2, 3);
        execSql(file("damaged.db"), "UPDATE response_cache SET response = 'a wrong answer'");
        QVERIFY(!cache.findExact("m", "p", "question"));
        QCOMPARE(cache.stats().damagedRows, int64_t(1));
        QCOMPARE(cache.stats().entries, int64_t(0)); // dropped, to be recomputed
        cache.store("m", "", "p", "question", "the right answer", 1, 2, 3);
        QVERIFY(cache.findExact("m", "p", "question"));
    }

    void simdSimilarityMatchesReference()
    {
        std::mt19937 rng(3);
        for (int dim : {1, 7, 8, 64, 384, 385})
            for (int rows : {0, 1, 3, 4, 13}) {
                const auto q = unit(rng, dim);
                std::vector<float> data;
                for (int r = 0; r < rows; ++r) {
                    const auto v = unit(rng, dim);
                    data.insert(data.end(), v.begin(), v.end());
                }
                std::vector<float> want(size_t(rows) + 1), got(size_t(rows) + 1);
                similaritiesReference(q.data(), data.data(), rows, dim, want.data());
                similarities(q.data(), data.data(), rows, dim, got.data());
                for (int r = 0; r < rows; ++r)
                    QVERIFY2(std::fabs(want[size_t(r)] - got[size_t(r)]) < 1e-5f,
                             qPrintable(QString("dim %1 row %2").arg(dim).arg(r)));
            }
    }

    void semanticLookupByThreshold()
    {
        ResponseCache cache(file("semantic.db"));
        std::mt19937 rng(5);
        const int dim = 64;
        std::vector<std::vector<float>> keys;
        for (int i = 0; i < 20; ++i) {
            keys.push_back(unit(rng, dim));
            cache.store("m", "", "p", "prompt " + std::to_string(i), "answer " + std::to_string(i), 1, 1, 1, keys.back());
        }
        cache.store("m", "", "p", "no vector", "exact only", 1, 1, 1);
        // A slightly perturbed copy of key 7 is found; a random vector is not.
        std::vector<float> near = keys[7];
        const auto noise = unit(rng, dim);
        double s = 0;
        for (int d = 0; d < dim; ++d) {
            near[size_t(d)] += 0.05f * noise[size_t(d)];
            s += double(near[size_t(d)]) * near[size_t(d)];
        }
        for (auto& x : near)
            x = float(x / std::sqrt(s));
        auto hit = cache.findSimilar("m", "p", near, 0.95f);
        QVERIFY(hit.has_value());
        QCOMPARE(QString::fromStdString(hit->response), QString("answer 7"));
        QVERIFY(hit->similarity > 0.95f && hit->similarity <= 1.0001f);
        QCOMPARE(cache.lastSemanticCandidates(), int64_t(20));
        QVERIFY(!cache.findSimilar("m", "p", unit(rng, dim), 0.95f));
        QVERIFY(!cache.findSimilar("m", "other params", near, 0.5f));
        QVERIFY(!cache.findSimilar("m", "p", unit(rng, dim + 1), 0.0f)); // another embedder's size
        QCOMPARE(cache.stats().semantic.hits, int64_t(1));
        QCOMPARE(cache.stats().semantic.misses, int64_t(3));
        // Stored after the index was loaded: found (the index grew in place), with the new answer.
        const auto late = unit(rng, dim);
        cache.store("m", "", "p", "late prompt", "late answer", 1, 1, 1, late);
        auto lateHit = cache.findSimilar("m", "p", late, 0.99f);
        QVERIFY(lateHit.has_value());
        QCOMPARE(QString::fromStdString(lateHit->response), QString("late answer"));
        QCOMPARE(cache.lastSemanticCandidates(), int64_t(21));
        // Replacing an entry (same prompt) keeps exactly one vector for it.
        cache.store("m", "", "p", "late prompt", "replaced answer", 1, 1, 1, late);
        lateHit = cache.findSimilar("m", "p", late, 0.99f);
        QVERIFY(lateHit.has_value());
        QCOMPARE(QString::fromStdString(lateHit->response), QString("replaced answer"));
        QCOMPARE(cache.lastSemanticCandidates(), int64_t(21));
        cache.clear();
        QCOMPARE(cache.stats().entries, int64_t(0));
        QVERIFY(!cache.findSimilar("m", "p", near, 0.5f));
    }

    // Not a pass/fail timing: prints how long a brute-force search over 100k entries takes.
    void bruteForceScale()
    {
        std::mt19937 rng(9);
        const int dim = 384, rows = 100000;
        std::vector<float> data(size_t(rows) * dim);
        std::normal_distribution<float> n(0.f, 1.f);
        for (auto& x : data)
            x = n(rng);
        const auto q = unit(rng, dim);
        std::vector<float> out(static_cast<size_t>(rows));
        const auto t0 = std::chrono::steady_clock::now();
        similarities(q.data(), data.data(), rows, dim, out.data());
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        qInfo("brute-force similarity over %d x %d floats: %.2f ms", rows, dim, ms);
        std::vector<float> ref(static_cast<size_t>(rows));
        similaritiesReference(q.data(), data.data(), rows, dim, ref.data());
        for (size_t r = 0; r < out.size(); r += 997)
            QVERIFY(std::fabs(out[r] - ref[r]) < 1e-3f);
    }
};

QTEST_GUILESS_MAIN(TestResponseCache)
#include "tst_response_cache.moc"
