// Sampling on hand-made logits: each option's effect, and reproducibility under a seed.
#include "runtime/sampling.h"

#include "core/error.h"

#include <QtTest>

#include <cmath>
#include <limits>
#include <map>

using namespace tenfold;

namespace {

SamplingParams plain(float temperature)
{
    SamplingParams p;
    p.temperature = temperature;
    p.topK = 0;
    p.topP = 1.0f;
    p.minP = 0.0f;
    p.repeatPenalty = 1.0f;
    return p;
}

std::map<int32_t, int> histogram(SamplingParams p, const std::vector<float>& logits, int draws,
                                 const std::vector<int32_t>& history = {})
{
    Sampler s(p);
    std::map<int32_t, int> h;
    for (int i = 0; i < draws; ++i)
        ++h[s.sample(logits, history)];
    return h;
}

} // namespace

class TestSampling : public QObject {
    Q_OBJECT
private slots:
    void argmaxPicksFirstMaximum()
    {
        const std::vector<float> l = {0.5f, 3.0f, -1.0f, 3.0f};
        QCOMPARE(argmax(l), 1);
    }

    void zeroTemperatureIsGreedy()
    {
        const std::vector<float> l = {1.0f, 2.0f, 5.0f, 4.9f};
        const auto h = histogram(plain(0.0f), l, 50);
        QCOMPARE(h.size(), size_t(1));
        QCOMPARE(h.begin()->first, 2);
    }

    void sameSeedSameTokens()
    {
        std::vector<float> l(100);
        for (int i = 0; i < 100; ++i)
            l[size_t(i)] = float(std::sin(i * 0.7) * 3);
        SamplingParams p; // defaults: temp 0.8, top-k 40, top-p 0.95, min-p 0.05
        p.seed = 1234;
        Sampler a(p), b(p);
        std::vector<int32_t> ta, tb;
        for (int i = 0; i < 200; ++i) {
            ta.push_back(a.sample(l, ta));
            tb.push_back(b.sample(l, tb));
        }
        QCOMPARE(ta, tb);
        p.seed = 99;
        Sampler c(p);
        std::vector<int32_t> tc;
        for (int i = 0; i < 200; ++i)
            tc.push_back(c.sample(l, tc));
        QVERIFY(tc != ta);
    }

    void temperatureFollowsSoftmax()
    {
        // logits log(1), log(3): probabilities 1/4, 3/4 at temperature 1
        const std::vector<float> l = {0.0f, float(std::log(3.0))};
        auto p = plain(1.0f);
        p.seed = 7;
        const auto h = histogram(p, l, 20000);
        const double frac = h.count(1) ? h.at(1) / 20000.0 : 0.0;
        QVERIFY2(std::fabs(frac - 0.75) < 0.015, qPrintable(QString::number(frac)));
        // Temperature 0.5 squares the odds: 9:1
        p.temperature = 0.5f;
        const auto h2 = histogram(p, l, 20000);
        const double frac2 = h2.at(1) / 20000.0;
        QVERIFY2(std::fabs(frac2 - 0.9) < 0.012, qPrintable(QString::number(frac2)));
    }

    void topKKeepsOnlyTheBest()
    {
        const std::vector<float> l = {1.0f, 1.1f, 0.9f, 1.05f, 0.0f};
        auto p = plain(5.0f); // nearly uniform without the filter
        p.topK = 2;
        const auto h = histogram(p, l, 2000);
        QCOMPARE(h.size(), size_t(2));
        QVERIFY(h.count(1) && h.count(3));
    }

    void topPCutsTheTail()
    {
        // probabilities 0.5, 0.3, 0.15, 0.05
        const std::vector<float> l = {float(std::log(0.5)), float(std::log(0.3)), float(std::log(0.15)),
                                      float(std::log(0.05))};
        auto p = plain(1.0f);
        p.topP = 0.75f; // 0.5 + 0.3 reaches it: two tokens
        auto h = histogram(p, l, 3000);
        QCOMPARE(h.size(), size_t(2));
        p.topP = 0.85f; // needs the third
        h = histogram(p, l, 3000);
        QCOMPARE(h.size(), size_t(3));
    }

    void minPDropsUnlikelyTokens()
    {
        const std::vector<float> l = {float(std::log(0.5)), float(std::log(0.3)), float(std::log(0.15)),
                                      float(std::log(0.05))};
        auto p = plain(1.0f);
        p.minP = 0.2f; // keep p >= 0.1: three tokens
        auto h = histogram(p, l, 3000);
        QCOMPARE(h.size(), size_t(3));
        QVERIFY(!h.count(3));
        p.minP = 0.7f; // keep p >= 0.35: one token
        h = histogram(p, l, 300);
        QCOMPARE(h.size(), size_t(1));
        QVERIFY(h.count(0));
    }

    void repetitionPenaltyDemotesRecentTokens()
    {
        const std::vector<float> l = {2.0f, 1.9f, -1.0f, -1.2f};
        auto p = plain(0.0f);
        p.repeatPenalty = 1.1f; // 2.0 / 1.1 = 1.82 < 1.9
        p.repeatLastN = 4;
        Sampler s(p);
        QCOMPARE(s.sample(l, std::vector<int32_t>{0}), 1);
        QCOMPARE(s.sample(l, std::vector<int32_t>{}), 0);
        // Negative logits grow more negative: -1.0 * 1.5 = -1.5 < -1.2
        const std::vector<float> neg = {-1.0f, -1.2f};
        p.repeatPenalty = 1.5f;
        Sampler s2(p);
        QCOMPARE(s2.sample(neg, std::vector<int32_t>{0}), 1);
        // Outside the window: no penalty
        p.repeatPenalty = 1.1f;
        p.repeatLastN = 1;
        Sampler s3(p);
        QCOMPARE(s3.sample(l, std::vector<int32_t>{0, 2}), 0);
    }

    void nanLogitsAreNeverSampled()
    {
        // Many NaNs interleaved with finite values: sorting them used to be undefined behaviour.
        const float nan = std::numeric_limits<float>::quiet_NaN();
        std::vector<float> l(200, nan);
        l[7] = 1.0f;
        l[150] = 1.2f;
        for (float temp : {0.0f, 1.0f}) {
            auto p = plain(temp);
            const auto h = histogram(p, l, 200);
            for (const auto& [id, count] : h)
                QVERIFY2(id == 7 || id == 150, qPrintable(QString::number(id)));
        }
        SamplingParams defaults; // top-k / top-p / min-p path
        for (const auto& [id, count] : histogram(defaults, l, 100))
            QVERIFY2(id == 7 || id == 150, qPrintable(QString::number(id)));
    }

    void allNonFiniteLogitsThrowTypedError()
    {
        const float inf = std::numeric_limits<float>::infinity();
        const std::vector<float> l = {std::numeric_limits<float>::quiet_NaN(), -inf, inf * 0.0f};
        Sampler s(SamplingParams{});
        try {
            s.sample(l, std::vector<int32_t>{});
            QFAIL("no exception");
        } catch (const InvalidArgument& e) {
            QVERIFY2(QString(e.what()).contains("non-finite logits"), e.what());
        }
    }
};

QTEST_APPLESS_MAIN(TestSampling)
#include "tst_sampling.moc"
