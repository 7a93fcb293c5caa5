// The inverted-file index of the semantic response cache (store/vector_index.h) against the
// brute-force scan (similaritiesReference, the scalar oracle): on clustered vectors, a query that
// is a near-duplicate of a stored vector (what the cache's strict threshold serves) must find the
// same nearest vector as the full scan, while reading a small share of the vectors; vectors added
// after the build are found; and the response cache switches to the index past its threshold and
// still answers a near-duplicate with the right entry.
#include "store/response_cache.h"
#include "store/vector_index.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <random>

using namespace tenfold;

namespace {

void normalise(float* v, int dim)
{
    double s = 0;
    for (int d = 0; d < dim; ++d)
        s += double(v[d]) * v[d];
    for (int d = 0; d < dim; ++d)
        v[d] = float(v[d] / std::sqrt(s));
}

// n vectors around `clusters` random centres (spread `spread`), normalised: sentence embeddings
// are clustered by topic, not uniform on the sphere.
std::vector<float> clustered(std::mt19937& rng, int64_t n, int dim, int clusters, float spread)
{
    std::normal_distribution<float> g(0.f, 1.f);
    std::vector<float> centres(size_t(clusters) * size_t(dim));
    for (auto& x : centres)
        x = g(rng);
    std::vector<float> out(size_t(n) * size_t(dim));
    for (int64_t i = 0; i < n; ++i) {
        const float* c = centres.data() + size_t(rng() % uint32_t(clusters)) * size_t(dim);
        float* v = out.data() + i * dim;
        for (int d = 0; d < dim; ++d)
            v[d] = c[d] + spread * g(rng);
        normalise(v, dim);
    }
    return out;
}

// A copy of v moved slightly (cosine similarity about 0.99 to v).
std::vector<float> nearDuplicate(std::mt19937& rng, const float* v, int dim, float noise)
{
    std::normal_distribution<float> g(0.f, 1.f);
    std::vector<float> q(v, v + dim);
    for (auto& x : q)
        x += noise * g(rng);
    normalise(q.data(), dim);
    return q;
}

int64_t bruteForceNearest(const float* q, const std::vector<float>& data, int64_t n, int dim, float* sim)
{
    std::vector<float> s(static_cast<size_t>(n));
    similaritiesReference(q, data.data(), n, dim, s.data());
    const int64_t best = int64_t(std::max_element(s.begin(), s.end()) - s.begin());
    *sim = s[size_t(best)];
    return best;
}

} // namespace

class TestVectorIndex : public QObject {
    Q_OBJECT

private slots:
    void nearDuplicatesFoundAsByTheFullScan()
    {
        std::mt19937 rng(17);
        const int64_t n = 20000;
        const int dim = 48;
        std::vector<float> data = clustered(rng, n, dim, 300, 0.35f);
        IvfIndex index;
        index.build(data, n, dim);
        QVERIFY(index.built());
        QCOMPARE(index.size(), n);
        int same = 0, queries = 500;
        int64_t compared = 0;
        for (int i = 0; i < queries; ++i) {
            const int64_t target = int64_t(rng() % uint32_t(n));
            const auto q = nearDuplicate(rng, data.data() + target * dim, dim, 0.015f);
            float want = 0;
            const int64_t truth = bruteForceNearest(q.data(), data, n, dim, &want);
            const NearestVector got = index.nearest(q.data(), 16);
            compared += got.compared;
            if (got.row == truth) {
                ++same;
                QVERIFY(std::fabs(got.similarity - want) < 1e-5f);
            }
        }
        const double share = double(compared) / double(queries) / double(n);
        qInfo("near-duplicates: %d of %d found as by the full scan, reading %.1f%% of the vectors per lookup "
              "(%d lists, 16 probed)", same, queries, 100.0 * share, index.lists());
        QVERIFY2(same >= queries * 99 / 100, qPrintable(QString("%1 of %2").arg(same).arg(queries)));
        QVERIFY2(share < 0.15, qPrintable(QString::number(share)));
    }

    void addedVectorsAreFound()
    {
        std::mt19937 rng(3);
        const int dim = 32;
        std::vector<float> data = clustered(rng, 3000, dim, 40, 0.3f);
        IvfIndex index;
        index.build(data, 2000, dim); // the last 1000 arrive later
        for (int64_t i = 2000; i < 3000; ++i)
            index.add(data.data() + i * dim, i);
        QCOMPARE(index.pending(), int64_t(1000));
        for (int64_t i : {2000, 2500, 2999}) {
            const NearestVector got = index.nearest(data.data() + i * dim, 4);
            QCOMPARE(got.row, i);
            QVERIFY(got.similarity > 0.9999f);
        }
        IvfIndex empty;
        QCOMPARE(empty.nearest(data.data(), 4).row, int64_t(-1));
    }

    void responseCacheUsesTheIndexPastItsThreshold()
    {
        QTemporaryDir dir;
        ResponseCacheOptions o;
        o.indexThreshold = 600;
        o.indexProbes = 8;
        ResponseCache cache(std::filesystem::path(dir.path().toStdString()) / "cache.db", o);
        std::mt19937 rng(9);
        const int dim = 32;
        const int64_t n = 900;
        const std::vector<float> data = clustered(rng, n, dim, 30, 0.3f);
        for (int64_t i = 0; i < n; ++i)
            cache.store("m", "/m.gguf", "t=0", "prompt " + std::to_string(i), "answer " + std::to_string(i), 3, 3, 1.0,
                        std::span<const float>(data.data() + i * dim, size_t(dim)));
        for (int64_t target : {5, 450, 899}) {
            const auto q = nearDuplicate(rng, data.data() + target * dim, dim, 0.01f);
            const auto hit = cache.findSimilar("m", "t=0", q, 0.97f);
            QVERIFY(hit.has_value());
            QCOMPARE(QString::fromStdString(hit->response), QString("answer %1").arg(target));
            QVERIFY2(cache.lastSemanticCandidates() < n / 2,
                     qPrintable(QString::number(cache.lastSemanticCandidates())));
        }
        // A vector stored after the index was built is found through its pending tail.
        std::vector<float> extra = clustered(rng, 1, dim, 1, 0.3f);
        cache.store("m", "/m.gguf", "t=0", "late", "late answer", 3, 3, 1.0, extra);
        const auto late = cache.findSimilar("m", "t=0", extra, 0.999f);
        QVERIFY(late.has_value());
        QCOMPARE(QString::fromStdString(late->response), QString("late answer"));
    }
};

QTEST_GUILESS_MAIN(TestVectorIndex)
#include "tst_vector_index.moc"
