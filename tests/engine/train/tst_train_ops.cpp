// The training engine's reference ops (engine/train/ops.h). Every backward is held against
// central finite differences of its own forward, in double, on random inputs of odd shapes
// (T = 5, headDim = 6, nHead = 4 over nHeadKv = 2, ...): the loss is sum(out * R) for a random
// R, so dout = R exercises every output. Every forward that inference also has is held against
// engine/runtime's scalar reference op (ref::rmsNorm, ref::rope, ref::swiglu, ref::attendOne),
// written independently for inference, so the two engines agree on what the ops mean.
#include "runtime/cpu_ops.h"
#include "train/ops.h"
#include "grad_check.h"

#include <QtTest>

using namespace tenfold;
using namespace tenfold::train;
using tenfold::test::dot;
using tenfold::test::gradError;
using tenfold::test::Rng;

namespace {
constexpr double kTol = 1e-6;
}

class TestTrainOps : public QObject {
    Q_OBJECT

private slots:
    void embedding()
    {
        const int T = 5, C = 7, V = 11;
        Rng rng(1);
        auto wte = rng.vec(size_t(V) * C);
        const std::vector<int32_t> tok = {3, 0, 3, 10, 7}; // 3 twice: its row sums both
        auto R = rng.vec(size_t(T) * C);
        std::vector<double> out(R.size()), dwte(wte.size(), 0.0);
        auto loss = [&] {
            embeddingForward(out.data(), tok.data(), wte.data(), T, C);
            return dot(out, R);
        };
        embeddingBackward(dwte.data(), R.data(), tok.data(), T, C);
        QVERIFY(gradError("embedding dwte", wte, dwte, loss) < kTol);
    }

    void rmsNorm()
    {
        const int T = 5, C = 7;
        Rng rng(2);
        auto x = rng.vec(size_t(T) * C, -2, 2), w = rng.vec(C, 0.5, 1.5);
        auto R = rng.vec(x.size());
        std::vector<double> out(x.size()), rstd(T);
        auto loss = [&] {
            rmsNormForward(out.data(), rstd.data(), x.data(), w.data(), T, C, 1e-5);
            return dot(out, R);
        };
        loss();
        std::vector<double> dx(x.size(), 0.0), dw(C, 0.0);
        rmsNormBackward(dx.data(), dw.data(), R.data(), x.data(), w.data(), rstd.data(), T, C);
        QVERIFY(gradError("rmsnorm dx", x, dx, loss) < kTol);
        QVERIFY(gradError("rmsnorm dw", w, dw, loss) < kTol);
    }

    void rope_data()
    {
        QTest::addColumn<bool>("neox");
        QTest::addColumn<int>("ropeDim");
        QTest::newRow("normal full") << false << 6;
        QTest::newRow("neox full") << true << 6;
        QTest::newRow("normal partial") << false << 4; // dims 4, 5 pass through
        QTest::newRow("neox partial") << true << 4;
    }
    void rope()
    {
        QFETCH(bool, neox);
        QFETCH(int, ropeDim);
        const int T = 5, nH = 3, hd = 6;
        Rng rng(3);
        const std::vector<int32_t> pos = {2, 3, 4, 5, 6};
        std::vector<double> cosT(size_t(T) * ropeDim / 2), sinT(cosT.size());
        ropeTable(pos.data(), T, ropeDim, 10000.0, 1.0, cosT.data(), sinT.data());
        auto x = rng.vec(size_t(T) * nH * hd);
        auto R = rng.vec(x.size());
        std::vector<double> out(x.size());
        auto loss = [&] {
            ropeForward(out.data(), x.data(), T, nH, hd, ropeDim, cosT.data(), sinT.data(), neox);
            return dot(out, R);
        };
        std::vector<double> dx(x.size(), 0.0);
        ropeBackward(dx.data(), R.data(), T, nH, hd, ropeDim, cosT.data(), sinT.data(), neox);
        QVERIFY(gradError("rope dx", x, dx, loss) < kTol);
    }

    void attention_data()
    {
        QTest::addColumn<int>("nHeadKv");
        QTest::newRow("gqa 4/2") << 2;
        QTest::newRow("mqa 4/1") << 1;
        QTest::newRow("mha 4/4") << 4;
    }
    void attention()
    {
        QFETCH(int, nHeadKv);
        const int T = 5, nH = 4, hd = 6;
        Rng rng(4 + nHeadKv);
        auto q = rng.vec(size_t(T) * nH * hd, -1.5, 1.5);
        auto k = rng.vec(size_t(T) * nHeadKv * hd, -1.5, 1.5);
        auto v = rng.vec(k.size());
        auto R = rng.vec(q.size());
        std::vector<double> out(q.size()), att(size_t(nH) * T * T);
        auto loss = [&] {
            attentionForward(out.data(), att.data(), q.data(), k.data(), v.data(), T, nH, nHeadKv,
                             hd);
            return dot(out, R);
        };
        loss();
        std::vector<double> dq(q.size(), 0.0), dk(k.size(), 0.0), dv(v.size(), 0.0);
        attentionBackward(dq.data(), dk.data(), dv.data(), R.data(), att.data(), q.data(),
                          k.data(), v.data(), T, nH, nHeadKv, hd);
        QVERIFY(gradError("attention dq", q, dq, loss) < kTol);
        QVERIFY(gradError("attention dk", k, dk, loss) < kTol);
        QVERIFY(gradError("attention dv", v, dv, loss) < kTol);
    }

    void swiglu()
    {
        const size_t N = 5 * 9;
        Rng rng(5);
        auto g = rng.vec(N, -4, 4), u = rng.vec(N, -2, 2), R = rng.vec(N);
        std::vector<double> h(N);
        auto loss = [&] {
            swigluForward(h.data(), g.data(), u.data(), N);
            return dot(h, R);
        };
        std::vector<double> dg(N, 0.0), du(N, 0.0);
        swigluBackward(dg.data(), du.data(), R.data(), g.data(), u.data(), N);
        QVERIFY(gradError("swiglu dg", g, dg, loss) < kTol);
        QVERIFY(gradError("swiglu du", u, du, loss) < kTol);
    }

    void linear()
    {
        const int T = 5, I = 7, O = 3;
        Rng rng(6);
        auto x = rng.vec(size_t(T) * I), W = rng.vec(size_t(O) * I), R = rng.vec(size_t(T) * O);
        std::vector<double> y(R.size());
        auto loss = [&] {
            linearForward(y.data(), x.data(), W.data(), T, I, O);
            return dot(y, R);
        };
        std::vector<double> dx(x.size(), 0.0), dW(W.size(), 0.0);
        linearBackward(dx.data(), dW.data(), R.data(), x.data(), W.data(), T, I, O);
        QVERIFY(gradError("linear dx", x, dx, loss) < kTol);
        QVERIFY(gradError("linear dW", W, dW, loss) < kTol);
        // y = x W^T with W [out, in]: y[t][o] = sum_i x[t][i] W[o][i]
        linearForward(y.data(), x.data(), W.data(), T, I, O);
        double direct = 0;
        for (int i = 0; i < I; ++i)
            direct += x[size_t(4) * I + i] * W[size_t(2) * I + i];
        QCOMPARE_LE(std::abs(y[size_t(4) * O + 2] - direct), 1e-14);
    }

    void crossEntropy()
    {
        const int T = 5, V = 11;
        Rng rng(7);
        auto logits = rng.vec(size_t(T) * V, -3, 3);
        const std::vector<int32_t> tgt = {1, 10, 0, 1, 6};
        std::vector<double> probs(logits.size());
        auto loss = [&] { return crossEntropyForward(probs.data(), logits.data(), tgt.data(), T, V); };
        const double l0 = loss();
        // the value from its definition: mean of -log softmax at the target
        double expect = 0;
        for (int t = 0; t < T; ++t) {
            double z = 0;
            for (int i = 0; i < V; ++i)
                z += std::exp(logits[size_t(t) * V + i]);
            expect -= std::log(std::exp(logits[size_t(t) * V + tgt[t]]) / z) / T;
        }
        QCOMPARE_LE(std::abs(l0 - expect), 1e-12);
        std::vector<double> d(logits.size(), 0.0);
        crossEntropyBackward(d.data(), probs.data(), tgt.data(), T, V);
        QVERIFY(gradError("cross-entropy dlogits", logits, d, loss) < kTol);
    }

    void klDistill_data()
    {
        QTest::addColumn<double>("tau");
        QTest::newRow("tau 1") << 1.0;
        QTest::newRow("tau 2.5") << 2.5;
    }
    void klDistill()
    {
        QFETCH(double, tau);
        const int T = 5, V = 11;
        Rng rng(8);
        auto teacher = rng.vec(size_t(T) * V, -3, 3), student = rng.vec(size_t(T) * V, -3, 3);
        std::vector<double> pT(teacher.size()), pS(teacher.size());
        auto loss = [&] {
            return klDistillForward(pT.data(), pS.data(), teacher.data(), student.data(), T, V,
                                    tau);
        };
        const double l0 = loss();
        QVERIFY(l0 > 0);
        std::vector<double> d(student.size(), 0.0);
        klDistillBackward(d.data(), pT.data(), pS.data(), T, V, tau);
        QVERIFY(gradError("kl dstudent", student, d, loss) < kTol);
        // the value from its definition: tau^2 * mean_t sum_i p_i log(p_i / q_i)
        double expect = 0;
        for (int t = 0; t < T; ++t) {
            double zt = 0, zs = 0;
            for (int i = 0; i < V; ++i) {
                zt += std::exp(teacher[size_t(t) * V + i] / tau);
                zs += std::exp(student[size_t(t) * V + i] / tau);
            }
            for (int i = 0; i < V; ++i) {
                const double p = std::exp(teacher[size_t(t) * V + i] / tau) / zt;
                const double q = std::exp(student[size_t(t) * V + i] / tau) / zs;
                expect += tau * tau * p * std::log(p / q) / T;
            }
        }
        QVERIFY(std::abs(l0 - expect) < 1e-12);
        // in float, a student probability that underflows to 0 leaves the loss finite
        std::vector<float> tf(teacher.begin(), teacher.end()), sf(student.begin(), student.end());
        sf[3] = -1000.0f;
        std::vector<float> pTf(tf.size()), pSf(tf.size());
        const float lf = klDistillForward(pTf.data(), pSf.data(), tf.data(), sf.data(), T, V,
                                          float(tau));
        QVERIFY2(std::isfinite(lf) && lf > 1.0f, qPrintable(QString::number(lf)));
        // KL(p || p) = 0, and the gradient vanishes there
        QCOMPARE_LE(std::abs(klDistillForward(pT.data(), pS.data(), teacher.data(), teacher.data(),
                                              T, V, tau)),
                    1e-12);
    }

    // The forwards mean what inference's ops mean (engine/runtime/cpu_ops.h, F32 scalar refs).
    void forwardsMatchInference()
    {
        const int T = 5, nH = 4, nKv = 2, hd = 6, C = 7;
        Rng rng(9);
        auto toF = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
        // RMSNorm
        auto x = rng.vec(size_t(T) * C), w = rng.vec(C, 0.5, 1.5);
        std::vector<double> y(x.size()), rstd(T);
        rmsNormForward(y.data(), rstd.data(), x.data(), w.data(), T, C, 1e-5);
        auto xf = toF(x), wf = toF(w);
        std::vector<float> yf(C);
        for (int t = 0; t < T; ++t) {
            ref::rmsNorm(xf.data() + size_t(t) * C, wf.data(), yf.data(), C, 1e-5f);
            for (int c = 0; c < C; ++c)
                QVERIFY(std::abs(yf[c] - y[size_t(t) * C + c]) < 1e-5);
        }
        // RoPE, both modes, against ropeTable + ref::rope of inference
        for (bool neox : {false, true}) {
            const std::vector<int32_t> pos = {0, 1, 2, 3, 4};
            std::vector<double> c(size_t(T) * hd / 2), s(c.size());
            ropeTable(pos.data(), T, hd, 10000.0, 1.0, c.data(), s.data());
            std::vector<float> cf(c.size()), sf(c.size());
            tenfold::ropeTable(pos.data(), T, hd, 10000.0f, 1.0f, cf.data(), sf.data());
            auto q = rng.vec(size_t(T) * nH * hd);
            std::vector<double> qo(q.size());
            ropeForward(qo.data(), q.data(), T, nH, hd, hd, c.data(), s.data(), neox);
            auto qf = toF(q);
            for (int t = 0; t < T; ++t)
                ref::rope(qf.data() + size_t(t) * nH * hd, nH, hd, hd, cf.data() + size_t(t) * hd / 2,
                          sf.data() + size_t(t) * hd / 2, neox);
            for (size_t i = 0; i < q.size(); ++i)
                QVERIFY(std::abs(qf[i] - qo[i]) < 1e-5);
        }
        // SwiGLU
        auto g = rng.vec(40, -4, 4), u = rng.vec(40);
        std::vector<double> h(40);
        swigluForward(h.data(), g.data(), u.data(), 40);
        auto gf = toF(g), uf = toF(u);
        std::vector<float> hf(40);
        ref::swiglu(gf.data(), uf.data(), hf.data(), 40);
        for (int i = 0; i < 40; ++i)
            QVERIFY(std::abs(hf[i] - h[i]) < 1e-5);
        // causal GQA attention: position t's query over keys 0..t with ref::attendOne
        auto q = rng.vec(size_t(T) * nH * hd), k = rng.vec(size_t(T) * nKv * hd),
             v = rng.vec(size_t(T) * nKv * hd);
        std::vector<double> out(q.size()), att(size_t(nH) * T * T);
        attentionForward(out.data(), att.data(), q.data(), k.data(), v.data(), T, nH, nKv, hd);
        auto qf = toF(q), kf = toF(k), vf = toF(v);
        std::vector<float> scores(T), of(hd);
        for (int t = 0; t < T; ++t)
            for (int hh = 0; hh < nH; ++hh) {
                const int kvh = hh / (nH / nKv);
                ref::attendOne(qf.data() + (size_t(t) * nH + hh) * hd, kf.data() + size_t(kvh) * hd,
                               vf.data() + size_t(kvh) * hd, GGMLType::F32, int64_t(nKv) * hd,
                               t + 1, hd, 1.0f / std::sqrt(float(hd)), scores.data(), of.data());
                for (int d = 0; d < hd; ++d)
                    QVERIFY(std::abs(of[d] - out[(size_t(t) * nH + hh) * hd + d]) < 1e-5);
            }
    }
};

QTEST_GUILESS_MAIN(TestTrainOps)
#include "tst_train_ops.moc"
