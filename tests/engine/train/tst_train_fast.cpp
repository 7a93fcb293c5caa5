// The training engine's fast paths (engine/train/fast_ops.h) against its reference ops
// (engine/train/ops.h), on random inputs of odd shapes: the linear layer's forward and both
// backward products (accumulating onto non-zero gradients), causal GQA attention forward and
// backward, and a whole TinyLlama forward + backward with the fast paths on against the same
// model on the reference loops. Every fast result must also be bit-identical for 1 and 3
// threads (training is deterministic given the seed, whatever the thread count).
#include "runtime/thread_pool.h"
#include "train/fast_ops.h"
#include "train/model.h"
#include "train/ops.h"
#include "grad_check.h"

#include <QtTest>

#include <cstring>

using namespace tenfold;
using namespace tenfold::train;
using tenfold::test::Rng;

namespace {

std::vector<float> randomF(Rng& rng, size_t n, double lo = -1, double hi = 1)
{
    std::vector<float> v(n);
    for (auto& x : v)
        x = float(rng.uniform(lo, hi));
    return v;
}

// max |a - b| / (scale), scale = max(1, max |b|)
double relErr(const std::vector<float>& a, const std::vector<float>& b)
{
    double m = 0, s = 1;
    for (size_t i = 0; i < a.size(); ++i) {
        m = std::max(m, double(std::fabs(a[i] - b[i])));
        s = std::max(s, double(std::fabs(b[i])));
    }
    return m / s;
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Shape {
    int T, I, O;
};
const Shape kShapes[] = {{1, 1, 1}, {7, 13, 19}, {5, 33, 17}, {13, 64, 40}, {6, 5, 97}, {31, 47, 3}};

} // namespace

class TestTrainFast : public QObject {
    Q_OBJECT
private slots:
    void linearForward_matchesReference()
    {
        Rng rng(1);
        ThreadPool pool3(3);
        for (const Shape& s : kShapes) {
            const auto x = randomF(rng, size_t(s.T) * s.I), W = randomF(rng, size_t(s.O) * s.I);
            std::vector<float> ref(size_t(s.T) * s.O), f1(ref.size()), f3(ref.size(), 7.0f);
            linearForward(ref.data(), x.data(), W.data(), s.T, s.I, s.O);
            linearForwardFast(f1.data(), x.data(), W.data(), s.T, s.I, s.O, nullptr);
            linearForwardFast(f3.data(), x.data(), W.data(), s.T, s.I, s.O, &pool3);
            const double e = relErr(f1, ref);
            QVERIFY2(e < 1e-5, qPrintable(QString("T=%1 I=%2 O=%3 err %4").arg(s.T).arg(s.I).arg(s.O).arg(e)));
            QVERIFY(sameBits(f1, f3));
        }
    }

    void linearBackward_matchesReference()
    {
        Rng rng(2);
        ThreadPool pool3(3);
        for (const Shape& s : kShapes) {
            const auto x = randomF(rng, size_t(s.T) * s.I), W = randomF(rng, size_t(s.O) * s.I);
            const auto dy = randomF(rng, size_t(s.T) * s.O);
            // start from non-zero gradients: the backward must add, not overwrite
            const auto dx0 = randomF(rng, x.size()), dW0 = randomF(rng, W.size());
            auto dxRef = dx0, dWRef = dW0, dx1 = dx0, dW1 = dW0, dx3 = dx0, dW3 = dW0;
            linearBackward(dxRef.data(), dWRef.data(), dy.data(), x.data(), W.data(), s.T, s.I, s.O);
            linearBackwardFast(dx1.data(), dW1.data(), dy.data(), x.data(), W.data(), s.T, s.I, s.O, nullptr);
            linearBackwardFast(dx3.data(), dW3.data(), dy.data(), x.data(), W.data(), s.T, s.I, s.O, &pool3);
            QVERIFY2(relErr(dx1, dxRef) < 1e-5, qPrintable(QString("dx T=%1 I=%2 O=%3").arg(s.T).arg(s.I).arg(s.O)));
            QVERIFY2(relErr(dW1, dWRef) < 1e-5, qPrintable(QString("dW T=%1 I=%2 O=%3").arg(s.T).arg(s.I).arg(s.O)));
            QVERIFY(sameBits(dx1, dx3));
            QVERIFY(sameBits(dW1, dW3));
            // either output may be skipped
            auto dxOnly = dx0;
            linearBackwardFast(dxOnly.data(), nullptr, dy.data(), x.data(), W.data(), s.T, s.I, s.O, &pool3);
            QVERIFY(sameBits(dxOnly, dx3));
        }
    }

    void attention_matchesReference()
    {
        Rng rng(3);
        ThreadPool pool3(3);
        struct A {
            int T, nH, nKv, hd;
        };
        // T above 64 spans several of the fast path's row blocks, the last one partial. The fast path
        // sums in another order (matrix products), hence 1e-5 (1.3e-6 seen at T = 150).
        for (const A& s : {A{1, 2, 1, 4}, A{9, 4, 2, 6}, A{17, 6, 2, 10}, A{5, 3, 3, 2}, A{150, 4, 2, 12}, A{70, 2, 1, 33}}) {
            const size_t qn = size_t(s.T) * s.nH * s.hd, kn = size_t(s.T) * s.nKv * s.hd;
            const auto q = randomF(rng, qn), k = randomF(rng, kn), v = randomF(rng, kn);
            std::vector<float> outR(qn), attR(size_t(s.nH) * s.T * s.T), out1(qn), att1(attR.size()),
                out3(qn), att3(attR.size());
            attentionForward(outR.data(), attR.data(), q.data(), k.data(), v.data(), s.T, s.nH, s.nKv, s.hd);
            attentionForwardFast(out1.data(), att1.data(), q.data(), k.data(), v.data(), s.T, s.nH, s.nKv, s.hd, nullptr);
            attentionForwardFast(out3.data(), att3.data(), q.data(), k.data(), v.data(), s.T, s.nH, s.nKv, s.hd, &pool3);
            const QString at = QString("T=%1 heads %2/%3 hd %4").arg(s.T).arg(s.nH).arg(s.nKv).arg(s.hd);
            QVERIFY2(relErr(out1, outR) < 1e-5, qPrintable(at + QString(" out %1").arg(relErr(out1, outR))));
            QVERIFY2(relErr(att1, attR) < 1e-5, qPrintable(at + QString(" att %1").arg(relErr(att1, attR))));
            QVERIFY(sameBits(out1, out3) && sameBits(att1, att3));

            const auto dout = randomF(rng, qn);
            const auto dq0 = randomF(rng, qn), dk0 = randomF(rng, kn), dv0 = randomF(rng, kn);
            auto dqR = dq0, dkR = dk0, dvR = dv0, dq1 = dq0, dk1 = dk0, dv1 = dv0, dq3 = dq0, dk3 = dk0, dv3 = dv0;
            attentionBackward(dqR.data(), dkR.data(), dvR.data(), dout.data(), attR.data(), q.data(), k.data(),
                              v.data(), s.T, s.nH, s.nKv, s.hd);
            attentionBackwardFast(dq1.data(), dk1.data(), dv1.data(), dout.data(), attR.data(), q.data(),
                                  k.data(), v.data(), s.T, s.nH, s.nKv, s.hd, nullptr);
            attentionBackwardFast(dq3.data(), dk3.data(), dv3.data(), dout.data(), attR.data(), q.data(),
                                  k.data(), v.data(), s.T, s.nH, s.nKv, s.hd, &pool3);
            QVERIFY2(relErr(dq1, dqR) < 1e-5 && relErr(dk1, dkR) < 1e-5 && relErr(dv1, dvR) < 1e-5,
                     qPrintable(at + QString(" dq %1 dk %2 dv %3").arg(relErr(dq1, dqR)).arg(relErr(dk1, dkR)).arg(relErr(dv1, dvR))));
            QVERIFY(sameBits(dq1, dq3) && sameBits(dk1, dk3) && sameBits(dv1, dv3));
        }
    }

    void wholeModel_fastMatchesReference()
    {
        TrainConfig c;
        c.vocab = 37;
        c.dim = 20;
        c.nLayers = 2;
        c.nHead = 4;
        c.nHeadKv = 2;
        c.headDim = 6;
        c.ffnDim = 33;
        c.ropeDim = 4;
        const ParamLayout layout(c);
        std::vector<float> P(layout.count());
        initParams(layout, P.data(), 7, 0.3);
        Rng rng(4);
        const int T = 11;
        std::vector<int32_t> tokens(T + 1);
        for (auto& t : tokens)
            t = rng.below(c.vocab);
        ThreadPool pool3(3);
        TinyLlama<float> ref(c), fast(c);
        fast.useFastPaths(true, &pool3);
        std::vector<float> gRef(P.size(), 0.0f), gFast(P.size(), 0.0f);
        const float* lr = ref.forward(P.data(), tokens.data(), T);
        std::vector<float> logitsRef(lr, lr + size_t(T) * c.vocab);
        const float* lf = fast.forward(P.data(), tokens.data(), T);
        std::vector<float> logitsFast(lf, lf + size_t(T) * c.vocab);
        QVERIFY(relErr(logitsFast, logitsRef) < 1e-5);
        ref.crossEntropy(tokens.data() + 1);
        fast.crossEntropy(tokens.data() + 1);
        ref.backward(P.data(), gRef.data());
        fast.backward(P.data(), gFast.data());
        for (const ParamView& v : layout.views()) {
            std::vector<float> a(gFast.begin() + v.offset, gFast.begin() + v.offset + v.size());
            std::vector<float> b(gRef.begin() + v.offset, gRef.begin() + v.offset + v.size());
            double maxG = 1e-3;
            for (float x : b)
                maxG = std::max(maxG, double(std::fabs(x)));
            double maxE = 0;
            for (size_t i = 0; i < a.size(); ++i)
                maxE = std::max(maxE, double(std::fabs(a[i] - b[i])));
            QVERIFY2(maxE / maxG < 1e-4, qPrintable(QString::fromStdString(v.name) + QString(" err %1").arg(maxE / maxG)));
        }
    }
};

QTEST_GUILESS_MAIN(TestTrainFast)
#include "tst_train_fast.moc"
