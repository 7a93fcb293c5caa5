// The trainable tiny Llama (engine/train/model.h) and its optimiser (engine/train/optim.h).
// - the whole model's gradient, every parameter of every tensor, against central finite
//   differences in double (untied/tied head, normal/NeoX RoPE, partial RoPE, GQA), for
//   cross-entropy and for a distillation mix of cross-entropy and KL through backwardFromLogits;
// - the float model against the double one (the float instantiation is the one that trains);
// - AdamW against the published update rule worked out by hand for two steps;
// - clipping and the warm-up + cosine schedule at known points;
// - a few hundred AdamW steps on a repeating token pattern must cut the loss below 10% of its
//   start, and a second run from the same seed must end bit-for-bit identical.
#include "core/error.h"
#include "train/model.h"
#include "train/ops.h"
#include "train/optim.h"
#include "grad_check.h"

#include <QtTest>

#include <cstring>

using namespace tenfold;
using namespace tenfold::train;
using tenfold::test::gradError;
using tenfold::test::Rng;

namespace {

TrainConfig tinyConfig(bool tied, bool neox, int ropeDim)
{
    TrainConfig c;
    c.vocab = 11;
    c.dim = 8;
    c.nLayers = 2;
    c.nHead = 4;
    c.nHeadKv = 2;
    c.headDim = 6; // independent of dim / nHead: odd shapes everywhere
    c.ffnDim = 12;
    c.ropeDim = ropeDim;
    c.ropeNeox = neox;
    c.tiedEmbeddings = tied;
    return c;
}

// A period-7 pattern in which token 1 is followed by 4 once and by 5 once: predicting it needs
// the token before, i.e. attention, not only a bigram table.
const std::vector<int32_t> kPattern = {3, 1, 4, 1, 5, 9, 2};

std::vector<int32_t> window(int offset, int len)
{
    std::vector<int32_t> w(len);
    for (int i = 0; i < len; ++i)
        w[i] = kPattern[(offset + i) % kPattern.size()];
    return w;
}

struct TrainResult {
    double startLoss = 0, endLoss = 0;
    std::vector<float> params;
};

// Mean loss over the 7 windows (one per phase of the pattern).
double evalLoss(TinyLlama<float>& m, const std::vector<float>& p, int T)
{
    double sum = 0;
    for (int off = 0; off < int(kPattern.size()); ++off) {
        auto w = window(off, T + 1);
        m.forward(p.data(), w.data(), T);
        sum += m.crossEntropy(w.data() + 1);
    }
    return sum / double(kPattern.size());
}

TrainResult trainPattern(int steps, uint64_t seed)
{
    TrainConfig c = tinyConfig(false, false, 0);
    c.dim = 16;
    c.headDim = 4;
    c.ffnDim = 32;
    TinyLlama<float> m(c);
    const size_t n = m.layout().count();
    TrainResult r;
    r.params.resize(n);
    initParams(m.layout(), r.params.data(), seed, 0.1);
    const int T = 16;
    r.startLoss = evalLoss(m, r.params, T);
    AdamW opt(n, {0.9, 0.99, 1e-8, 0.01});
    const auto mask = m.layout().decayMask();
    std::vector<float> g(n);
    Rng rng(seed);
    for (int s = 0; s < steps; ++s) {
        std::fill(g.begin(), g.end(), 0.0f);
        for (int b = 0; b < 2; ++b) { // a batch of two windows at random phases
            auto w = window(rng.below(int(kPattern.size())), T + 1);
            m.forward(r.params.data(), w.data(), T);
            m.crossEntropy(w.data() + 1);
            m.backward(r.params.data(), g.data());
        }
        for (auto& x : g)
            x *= 0.5f;
        clipGradNorm(g.data(), n, 1.0);
        opt.step(r.params.data(), g.data(), cosineLr(s, 20, steps, 1e-2, 1e-3), mask.data());
    }
    r.endLoss = evalLoss(m, r.params, T);
    return r;
}

} // namespace

class TestTrainModel : public QObject {
    Q_OBJECT

private slots:
    void layout()
    {
        for (bool tied : {false, true}) {
            const TrainConfig c = tinyConfig(tied, false, 0);
            ParamLayout L(c);
            const size_t perLayer = 2 * 8 + 24 * 8 + 2 * 12 * 8 + 8 * 24 + 3 * 12 * 8;
            QCOMPARE(L.count(), 11 * 8 + 2 * perLayer + 8 + (tied ? 0 : 11 * 8));
            QCOMPARE(L.find("blk.1.attn_k.weight").rows, 12);
            QCOMPARE(L.find("blk.1.attn_k.weight").cols, 8);
            QCOMPARE(L.find("blk.0.attn_output.weight").cols, 24);
            QVERIFY(!L.find("output_norm.weight").decay);
            QCOMPARE(tied, L.output == L.tokenEmbd);
            // views tile the buffer without gaps or overlaps
            size_t next = 0;
            for (const auto& v : L.views()) {
                QCOMPARE(v.offset, next);
                next += v.size();
            }
            QCOMPARE(next, L.count());
        }
        TrainConfig bad = tinyConfig(false, false, 0);
        bad.nHeadKv = 3; // does not divide nHead
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, ParamLayout{bad});
    }

    void modelGradient_data()
    {
        QTest::addColumn<bool>("tied");
        QTest::addColumn<bool>("neox");
        QTest::addColumn<int>("ropeDim");
        QTest::addColumn<bool>("distill");
        QTest::newRow("untied normal ce") << false << false << 0 << false;
        QTest::newRow("tied neox ce") << true << true << 0 << false;
        QTest::newRow("untied neox partial-rope distill") << false << true << 4 << true;
        QTest::newRow("tied normal distill") << true << false << 0 << true;
    }
    void modelGradient()
    {
        QFETCH(bool, tied);
        QFETCH(bool, neox);
        QFETCH(int, ropeDim);
        QFETCH(bool, distill);
        const TrainConfig c = tinyConfig(tied, neox, ropeDim);
        TinyLlama<double> m(c);
        const int T = 7;
        std::vector<double> p(m.layout().count());
        initParams(m.layout(), p.data(), 42, 0.4); // large: activations far from linear
        Rng rng(7);
        std::vector<int32_t> tok(T), tgt(T);
        for (int t = 0; t < T; ++t) {
            tok[t] = rng.below(c.vocab);
            tgt[t] = rng.below(c.vocab);
        }
        tok[5] = tok[1]; // a repeated token: its embedding row sums two gradients
        const auto teacher = rng.vec(size_t(T) * c.vocab, -2, 2);
        const double alpha = 0.6, tau = 2.0;
        std::vector<double> pT(teacher.size()), pS(teacher.size());
        auto loss = [&] {
            const double* logits = m.forward(p.data(), tok.data(), T);
            const double ce = m.crossEntropy(tgt.data());
            if (!distill)
                return ce;
            const double kl = klDistillForward(pT.data(), pS.data(), teacher.data(), logits, T,
                                               c.vocab, tau);
            return alpha * kl + (1 - alpha) * ce;
        };
        loss();
        std::vector<double> g(p.size(), 0.0);
        if (!distill) {
            m.backward(p.data(), g.data());
        } else {
            // the same CE probabilities as crossEntropy's: softmax of the logits
            std::vector<double> probs(pS.size()), dl(pS.size(), 0.0);
            softmaxRows(probs.data(), m.logits(), T, c.vocab);
            crossEntropyBackward(dl.data(), probs.data(), tgt.data(), T, c.vocab, 1 - alpha);
            klDistillBackward(dl.data(), pT.data(), pS.data(), T, c.vocab, tau, alpha);
            m.backwardFromLogits(p.data(), dl.data(), g.data());
        }
        // tensor by tensor, so a failure names the tensor
        for (const auto& v : m.layout().views()) {
            std::vector<double> x(p.begin() + v.offset, p.begin() + v.offset + v.size());
            std::vector<double> a(g.begin() + v.offset, g.begin() + v.offset + v.size());
            auto viewLoss = [&] {
                std::copy(x.begin(), x.end(), p.begin() + v.offset);
                return loss();
            };
            const double err = gradError(v.name.c_str(), x, a, viewLoss);
            std::copy(x.begin(), x.end(), p.begin() + v.offset);
            QVERIFY2(err < 1e-6, v.name.c_str());
        }
    }

    // The float model (the one that trains) computes the double model's loss and gradient to
    // float precision.
    void floatMatchesDouble()
    {
        const TrainConfig c = tinyConfig(false, true, 0);
        TinyLlama<double> md(c);
        TinyLlama<float> mf(c);
        std::vector<double> pd(md.layout().count());
        initParams(md.layout(), pd.data(), 3, 0.3);
        std::vector<float> pf(pd.begin(), pd.end());
        const std::vector<int32_t> tok = {1, 2, 3, 4, 5, 6}, tgt = {2, 3, 4, 5, 6, 7};
        md.forward(pd.data(), tok.data(), 6);
        mf.forward(pf.data(), tok.data(), 6);
        const double ld = md.crossEntropy(tgt.data()), lf = mf.crossEntropy(tgt.data());
        QVERIFY(std::abs(ld - lf) < 1e-5 * std::abs(ld));
        std::vector<double> gd(pd.size(), 0.0);
        std::vector<float> gf(pd.size(), 0.0f);
        md.backward(pd.data(), gd.data());
        mf.backward(pf.data(), gf.data());
        double maxErr = 0, maxG = 0;
        for (size_t i = 0; i < gd.size(); ++i) {
            maxErr = std::max(maxErr, std::abs(gd[i] - gf[i]));
            maxG = std::max(maxG, std::abs(gd[i]));
        }
        QVERIFY2(maxErr < 1e-5 * maxG, qPrintable(QString::number(maxErr / maxG)));
    }

    // Two steps of the published rule (Loshchilov & Hutter; PyTorch's AdamW), worked by hand:
    // lr 0.1, b1 0.9, b2 0.999, eps 1e-8, wd 0.01; p = (1, -2), the second without decay.
    //  step 1, g = (0.5, -1):  p0 <- 1 - 0.1*0.01*1 = 0.999; m = (0.05, -0.1), v = (0.00025, 0.001)
    //    m^ = m/0.1 = (0.5, -1), v^ = v/0.001 = (0.25, 1): update lr*m^/sqrt(v^) = (0.1, -0.1)
    //    p = (0.899, -1.9)
    //  step 2, g = (-0.25, 2): p0 <- 0.899 * (1 - 0.001) = 0.898101
    //    m = 0.9 m + 0.1 g = (0.02, 0.11);  v = 0.999 v + 0.001 g^2 = (0.00031225, 0.004999)
    //    m^ = m / 0.19 = (0.1052632, 0.5789474);  v^ = v / 0.001999 = (0.1562031, 2.5007504)
    //    update = 0.1 m^ / sqrt(v^) = (0.0266337, 0.0366104)
    //    p = (0.8714673, -1.9366104)
    void adamwTwoSteps()
    {
        std::vector<float> p = {1.0f, -2.0f};
        const uint8_t mask[2] = {1, 0};
        AdamW opt(2, {0.9, 0.999, 1e-8, 0.01});
        const float g1[2] = {0.5f, -1.0f}, g2[2] = {-0.25f, 2.0f};
        opt.step(p.data(), g1, 0.1, mask);
        QVERIFY(std::abs(p[0] - 0.899) < 1e-6);
        QVERIFY(std::abs(p[1] - -1.9) < 1e-6);
        opt.step(p.data(), g2, 0.1, mask);
        QVERIFY2(std::abs(p[0] - 0.8714673) < 1e-6, qPrintable(QString::number(p[0], 'g', 9)));
        QVERIFY2(std::abs(p[1] - -1.9366104) < 1e-6, qPrintable(QString::number(p[1], 'g', 9)));
        QCOMPARE(opt.steps(), 2);
        QVERIFY(std::abs(opt.m()[1] - 0.11f) < 1e-7);
        QVERIFY(std::abs(opt.v()[0] - 0.00031225f) < 1e-9);
    }

    void clipAndSchedule()
    {
        float g[2] = {3.0f, 4.0f};
        QCOMPARE(clipGradNorm(g, 2, 10.0), 5.0); // under the limit: unchanged
        QCOMPARE(g[0], 3.0f);
        QCOMPARE(clipGradNorm(g, 2, 1.0), 5.0);
        QVERIFY(std::abs(g[0] - 0.6f) < 1e-7 && std::abs(g[1] - 0.8f) < 1e-7);
        // warm-up 10 steps to 1.0, cosine to 0.1 at step 110
        QVERIFY(std::abs(cosineLr(0, 10, 110, 1.0, 0.1) - 0.1) < 1e-12);
        QVERIFY(std::abs(cosineLr(9, 10, 110, 1.0, 0.1) - 1.0) < 1e-12);
        QVERIFY(std::abs(cosineLr(10, 10, 110, 1.0, 0.1) - 1.0) < 1e-12);
        QVERIFY(std::abs(cosineLr(60, 10, 110, 1.0, 0.1) - 0.55) < 1e-12); // half way: mean
        QVERIFY(std::abs(cosineLr(110, 10, 110, 1.0, 0.1) - 0.1) < 1e-12);
        QVERIFY(std::abs(cosineLr(500, 10, 110, 1.0, 0.1) - 0.1) < 1e-12);
        for (int s = 10; s < 110; ++s)
            QVERIFY(cosineLr(s + 1, 10, 110, 1.0, 0.1) <= cosineLr(s, 10, 110, 1.0, 0.1));
    }

    void trainingLowersLoss()
    {
        const TrainResult a = trainPattern(300, 1234);
        std::printf("  loss %.4f -> %.4f after 300 steps\n", a.startLoss, a.endLoss);
        QVERIFY(a.startLoss > 2.0); // about ln 11 = 2.40 at the start
        QVERIFY2(a.endLoss < 0.1 * a.startLoss,
                 qPrintable(QString("%1 -> %2").arg(a.startLoss).arg(a.endLoss)));
        // deterministic: the same seed ends in the same bits
        const TrainResult b = trainPattern(300, 1234);
        QCOMPARE(b.endLoss, a.endLoss);
        QVERIFY(std::memcmp(a.params.data(), b.params.data(), a.params.size() * sizeof(float)) == 0);
    }
};

QTEST_GUILESS_MAIN(TestTrainModel)
#include "tst_train_model.moc"
