// The CPU backend's own kernels against plain references: RMSNorm, RoPE (both pairings), softmax,
// attention over F16/F32 caches, the GEMM micro-kernel, both matmul paths on several weight types,
// and the thread pool.
#include "runtime/cpu_ops.h"
#include "runtime/gemm.h"
#include "runtime/matmul.h"
#include "runtime/thread_pool.h"
#include "tensor/half.h"
#include "tensor/cpu_features.h"
#include "tensor/kernels.h"
#include "tensor/repack_q4_0.h"

#include <QtTest>

#include <cmath>
#include <random>
#include <stdexcept>

using namespace tenfold;

namespace {

std::vector<float> randomVector(size_t n, uint32_t seed, float scale = 1.0f)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v)
        x = dist(rng);
    return v;
}

// Rewrites w's bytes (w.data, in `data`) with N x K random values (normal, scale 0.5, from seed)
// rounded to w's type by the reference quantizer.
void fillRandom(const WeightTensor& w, uint32_t seed, std::vector<uint8_t>& data)
{
    const int64_t K = w.ne0, N = w.ne1;
    const auto wf = randomVector(size_t(N * K), seed, 0.5f);
    for (int64_t r = 0; r < N; ++r)
        referenceKernels(w.type).quantizeRow(wf.data() + size_t(r * K), data.data() + size_t(r) * w.rowBytes, K);
}

// A weight of N rows of K elements of type t over `data` (which the caller keeps), filled by
// fillRandom.
WeightTensor randomWeight(GGMLType t, int K, int N, uint32_t seed, std::vector<uint8_t>& data)
{
    WeightTensor w;
    w.name = "w";
    w.type = t;
    w.ne0 = K;
    w.ne1 = N;
    w.rowBytes = rowBytes(t, K);
    data.resize(w.rowBytes * size_t(N));
    w.data = data.data();
    fillRandom(w, seed, data);
    return w;
}

double maxAbsDiff(const float* a, const float* b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; ++i)
        m = std::max(m, double(std::fabs(a[i] - b[i])));
    return m;
}

} // namespace

class TestCpuOps : public QObject {
    Q_OBJECT
private slots:
    void rmsNormMatchesDefinition()
    {
        for (int n : {1, 7, 8, 64, 383, 384}) {
            const auto x = randomVector(size_t(n), 1u + uint32_t(n));
            const auto w = randomVector(size_t(n), 2u + uint32_t(n));
            double ss = 0;
            for (float v : x)
                ss += double(v) * v;
            const double s = 1.0 / std::sqrt(ss / n + 1e-5);
            std::vector<float> yRef(static_cast<size_t>(n)), yFast(static_cast<size_t>(n));
            ref::rmsNorm(x.data(), w.data(), yRef.data(), n, 1e-5f);
            rmsNorm(x.data(), w.data(), yFast.data(), n, 1e-5f);
            for (int i = 0; i < n; ++i) {
                const double expect = x[size_t(i)] * s * w[size_t(i)];
                QVERIFY2(std::fabs(yRef[size_t(i)] - expect) < 1e-5 * (1 + std::fabs(expect)),
                         qPrintable(QString("n=%1 i=%2").arg(n).arg(i)));
                QVERIFY(std::fabs(yFast[size_t(i)] - expect) < 1e-5 * (1 + std::fabs(expect)));
            }
        }
    }

    void ropeNormalIsComplexRotation()
    {
        // Adjacent pairs (x0 + i x1) multiplied by e^{i theta_k}, theta_k = p * base^(-2k/d).
        const int heads = 3, D = 16, pos = 37;
        const float base = 10000.0f;
        auto x = randomVector(size_t(heads * D), 5);
        const auto orig = x;
        std::vector<float> c(D / 2), s(D / 2);
        const int32_t p = pos;
        ropeTable(&p, 1, D, base, 1.0f, c.data(), s.data());
        rope(x.data(), heads, D, D, c.data(), s.data(), false);
        for (int h = 0; h < heads; ++h)
            for (int k = 0; k < D / 2; ++k) {
                const double theta = pos * std::pow(double(base), -2.0 * k / D);
                const double re = orig[size_t(h * D + 2 * k)], im = orig[size_t(h * D + 2 * k + 1)];
                const double outRe = re * std::cos(theta) - im * std::sin(theta);
                const double outIm = re * std::sin(theta) + im * std::cos(theta);
                QVERIFY(std::fabs(x[size_t(h * D + 2 * k)] - outRe) < 1e-5);
                QVERIFY(std::fabs(x[size_t(h * D + 2 * k + 1)] - outIm) < 1e-5);
            }
    }

    void ropeNeoxEqualsNormalOnPermutedHeads()
    {
        // NeoX rotates (i, i + d/2); a head whose halves are interleaved into adjacent pairs and
        // rotated in normal mode must give the same values, permuted the same way.
        const int heads = 2, D = 8;
        const auto x = randomVector(size_t(heads * D), 9);
        std::vector<float> c(D / 2), s(D / 2);
        const int32_t p = 1234;
        ropeTable(&p, 1, D, 500000.0f, 0.25f, c.data(), s.data());
        auto neox = x;
        rope(neox.data(), heads, D, D, c.data(), s.data(), true);
        std::vector<float> inter(x.size());
        for (int h = 0; h < heads; ++h)
            for (int i = 0; i < D / 2; ++i) {
                inter[size_t(h * D + 2 * i)] = x[size_t(h * D + i)];
                inter[size_t(h * D + 2 * i + 1)] = x[size_t(h * D + i + D / 2)];
            }
        rope(inter.data(), heads, D, D, c.data(), s.data(), false);
        for (int h = 0; h < heads; ++h)
            for (int i = 0; i < D / 2; ++i) {
                QCOMPARE(neox[size_t(h * D + i)], inter[size_t(h * D + 2 * i)]);
                QCOMPARE(neox[size_t(h * D + i + D / 2)], inter[size_t(h * D + 2 * i + 1)]);
            }
    }

    void ropePartialLeavesTailAlone()
    {
        const int D = 16, rot = 8;
        auto x = randomVector(size_t(D), 11);
        const auto orig = x;
        std::vector<float> c(rot / 2), s(rot / 2);
        const int32_t p = 5;
        ropeTable(&p, 1, rot, 10000.0f, 1.0f, c.data(), s.data());
        rope(x.data(), 1, D, rot, c.data(), s.data(), false);
        for (int i = rot; i < D; ++i)
            QCOMPARE(x[size_t(i)], orig[size_t(i)]);
        QVERIFY(x[0] != orig[0] || x[1] != orig[1] || p == 0);
    }

    void ropeLinearScalingScalesPosition()
    {
        std::vector<float> c1(4), s1(4), c2(4), s2(4);
        const int32_t p1 = 10, p2 = 40;
        ropeTable(&p1, 1, 8, 10000.0f, 1.0f, c1.data(), s1.data());
        ropeTable(&p2, 1, 8, 10000.0f, 0.25f, c2.data(), s2.data());
        for (int i = 0; i < 4; ++i) {
            QVERIFY(std::fabs(c1[size_t(i)] - c2[size_t(i)]) < 1e-6);
            QVERIFY(std::fabs(s1[size_t(i)] - s2[size_t(i)]) < 1e-6);
        }
    }

    void softmaxMatchesDouble()
    {
        for (int n : {1, 5, 8, 33, 1000}) {
            auto x = randomVector(size_t(n), uint32_t(n), 10.0f);
            std::vector<double> e(static_cast<size_t>(n));
            double mx = -1e300, sum = 0;
            for (float v : x)
                mx = std::max(mx, double(v));
            for (int i = 0; i < n; ++i)
                sum += e[size_t(i)] = std::exp(double(x[size_t(i)]) - mx);
            ref::softmax(x.data(), n);
            for (int i = 0; i < n; ++i)
                QVERIFY(std::fabs(x[size_t(i)] - e[size_t(i)] / sum) < 1e-6);
        }
    }

    void swigluMatchesDefinition()
    {
        const int n = 45;
        const auto g = randomVector(size_t(n), 3, 4.0f), u = randomVector(size_t(n), 4);
        std::vector<float> h(static_cast<size_t>(n));
        swiglu(g.data(), u.data(), h.data(), n);
        for (int i = 0; i < n; ++i) {
            const double gi = g[size_t(i)];
            const double expect = gi / (1 + std::exp(-gi)) * u[size_t(i)];
            QVERIFY2(std::fabs(h[size_t(i)] - expect) < 1e-5 * (1 + std::fabs(expect)),
                     qPrintable(QString("i=%1 got %2 want %3").arg(i).arg(h[size_t(i)]).arg(expect)));
        }
    }

    void attentionMatchesDoubleReference_data()
    {
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("nKv");
        QTest::addColumn<bool>("f16");
        for (bool f16 : {true, false})
            for (int d : {8, 64, 40, 128})
                for (int n : {1, 3, 17, 100}) {
                    const QByteArray name = QByteArray("d") + QByteArray::number(d) + "_n" +
                                            QByteArray::number(n) + (f16 ? "_f16" : "_f32");
                    QTest::newRow(name.constData()) << d << n << f16;
                }
    }
    void attentionMatchesDoubleReference()
    {
        QFETCH(int, headDim);
        QFETCH(int, nKv);
        QFETCH(bool, f16);
        const int stride = headDim * 3; // one KV head of three, as in a GQA cache row
        const auto q = randomVector(size_t(headDim), 21);
        const auto kf = randomVector(size_t(nKv * stride), 22);
        const auto vf = randomVector(size_t(nKv * stride), 23);
        std::vector<uint16_t> kh(kf.size()), vh(vf.size());
        std::vector<float> kRounded(kf.size()), vRounded(vf.size());
        for (size_t i = 0; i < kf.size(); ++i) {
            kh[i] = fp32ToFp16(kf[i]);
            vh[i] = fp32ToFp16(vf[i]);
            kRounded[i] = f16 ? fp16ToFp32(kh[i]) : kf[i];
            vRounded[i] = f16 ? fp16ToFp32(vh[i]) : vf[i];
        }
        const int off = headDim; // the middle head
        const void* k = f16 ? static_cast<const void*>(kh.data() + off) : kf.data() + off;
        const void* v = f16 ? static_cast<const void*>(vh.data() + off) : vf.data() + off;
        const GGMLType type = f16 ? GGMLType::F16 : GGMLType::F32;
        const float scale = 1.0f / std::sqrt(float(headDim));

        std::vector<double> s(static_cast<size_t>(nKv));
        double mx = -1e300;
        for (int j = 0; j < nKv; ++j) {
            double acc = 0;
            for (int d = 0; d < headDim; ++d)
                acc += double(q[size_t(d)]) * kRounded[size_t(j * stride + off + d)];
            s[size_t(j)] = acc * scale;
            mx = std::max(mx, s[size_t(j)]);
        }
        double sum = 0;
        for (auto& x : s)
            sum += x = std::exp(x - mx);
        std::vector<double> expect(size_t(headDim), 0.0);
        for (int j = 0; j < nKv; ++j)
            for (int d = 0; d < headDim; ++d)
                expect[size_t(d)] += s[size_t(j)] / sum * vRounded[size_t(j * stride + off + d)];

        std::vector<float> scores(static_cast<size_t>(nKv)), outRef(static_cast<size_t>(headDim)), outFast(static_cast<size_t>(headDim));
        ref::attendOne(q.data(), k, v, type, stride, nKv, headDim, scale, scores.data(), outRef.data());
        attendOne(q.data(), k, v, type, stride, nKv, headDim, scale, scores.data(), outFast.data());
        for (int d = 0; d < headDim; ++d) {
            QVERIFY2(std::fabs(outRef[size_t(d)] - expect[size_t(d)]) < 1e-5,
                     qPrintable(QString("ref d=%1").arg(d)));
            QVERIFY2(std::fabs(outFast[size_t(d)] - expect[size_t(d)]) < 1e-5,
                     qPrintable(QString("fast d=%1: %2 vs %3").arg(d).arg(outFast[size_t(d)]).arg(expect[size_t(d)])));
        }
    }

    void gemmKernelMatchesNaive_data()
    {
        QTest::addColumn<int>("level");
        QTest::newRow("scalar") << int(CpuLevel::Scalar);
        if (cpuLevelDetected() >= CpuLevel::Avx2)
            QTest::newRow("AVX2") << int(CpuLevel::Avx2);
        if (cpuLevelDetected() >= CpuLevel::Avx512Vnni)
            QTest::newRow("AVX-512") << int(CpuLevel::Avx512Vnni);
    }
    // Every level's micro-kernel (bestKernel() picks one of them) against plain double loops.
    void gemmKernelMatchesNaive()
    {
        QFETCH(int, level);
        const gemm::Kernel kernel = CpuLevel(level) == CpuLevel::Scalar ? gemm::kScalarKernel
                                    : CpuLevel(level) == CpuLevel::Avx2 ? gemm::kAvx2Kernel
                                                                        : gemm::kAvx512Kernel;
        for (int K : {1, 7, 64, 385})
            for (int mr = 1; mr <= kernel.mr; ++mr)
                for (int nr : {1, 5, 16, 17, 31, 32}) {
                    if (nr > kernel.nr)
                        continue;
                    const auto x = randomVector(size_t(mr * (K + 3)), uint32_t(K + mr));
                    const auto w = randomVector(size_t(nr * K), uint32_t(K * 7 + nr));
                    std::vector<float> panel(size_t(K) * kernel.nr + 16);
                    float* aligned = reinterpret_cast<float*>(
                        (reinterpret_cast<uintptr_t>(panel.data()) + 31) & ~uintptr_t(31));
                    gemm::packPanel(w.data(), nr, K, K, aligned, kernel.nr);
                    std::vector<float> y(size_t(mr * 36), -7.0f);
                    // Once plain, then once more accumulating into the result: 2 x the sums.
                    for (int pass = 1; pass <= 2; ++pass) {
                        kernel.fn(x.data(), K + 3, mr, aligned, K, y.data(), 36, nr, pass == 2);
                        for (int r = 0; r < mr; ++r)
                            for (int c = 0; c < 36; ++c) {
                                if (c >= nr) {
                                    QCOMPARE(y[size_t(r * 36 + c)], -7.0f); // untouched
                                    continue;
                                }
                                double s = 0;
                                for (int k = 0; k < K; ++k)
                                    s += double(x[size_t(r * (K + 3) + k)]) * w[size_t(c * K + k)];
                                QVERIFY(std::fabs(y[size_t(r * 36 + c)] - pass * s) < 2e-4 * (1 + std::sqrt(double(K))));
                            }
                    }
                }
    }

    void matmulPathsMatchDequantizedReference_data()
    {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("K");
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("T");
        for (GGMLType t : {GGMLType::F32, GGMLType::F16, GGMLType::Q8_0, GGMLType::Q4_0,
                           GGMLType::Q4_K, GGMLType::Q6_K, GGMLType::IQ4_NL, GGMLType::IQ4_XS})
            // 300 rows span two of the GEMM path's 256-row activation blocks against one
            // packed weight panel.
            for (int T : {1, 3, 5, 13, 300}) {
                const int K = typeTraits(t).blockSize == 256 ? 512 : 96;
                const QByteArray name = QByteArray(typeName(t)) + "_T" + QByteArray::number(T);
                QTest::newRow(name.constData()) << int(t) << K << 37 << T;
                if (typeTraits(t).blockSize == 1) // row lengths that are no multiple of 8
                    QTest::newRow((name + "_K172").constData()) << int(t) << 172 << 19 << T;
            }
        // 600 rows: the GEMM path's units then hold several panels (up to 4), the last one partial.
        QTest::newRow("F16_T40_N600") << int(GGMLType::F16) << 96 << 600 << 40;
        QTest::newRow("F32_T300_N600_K172") << int(GGMLType::F32) << 172 << 600 << 300;
        // 40 and 24 rows: decode reads Q4_0 and Q8_0 repacked in 8-row groups (40 = 16 + 16 + 8 rows per
        // thread unit, so a unit of one group too).
        QTest::newRow("Q4_0_T1_N40_repacked") << int(GGMLType::Q4_0) << 2048 << 40 << 1;
        QTest::newRow("Q4_0_T1_N24_repacked") << int(GGMLType::Q4_0) << 96 << 24 << 1;
        QTest::newRow("Q4_0_T7_N40_repacked") << int(GGMLType::Q4_0) << 2048 << 40 << 7;
        QTest::newRow("Q4_0_T70_N24_repacked") << int(GGMLType::Q4_0) << 96 << 24 << 70;
        QTest::newRow("Q8_0_T1_N40_repacked") << int(GGMLType::Q8_0) << 2048 << 40 << 1;
        QTest::newRow("Q8_0_T7_N24_repacked") << int(GGMLType::Q8_0) << 96 << 24 << 7;
        QTest::newRow("Q8_0_T70_N40_repacked") << int(GGMLType::Q8_0) << 2048 << 40 << 70;
    }

    // The repacked copy is made once per matrix on the first decode call, only at a SIMD level
    // and for a whole number of 8-row groups, and TENFOLD_Q4_0_REPACK=0 (TENFOLD_Q8_0_REPACK=0
    // for Q8_0) turns it off; the results of both paths are the same dots (within float
    // summation order).
    void matmulRepacksOnceForDecode_data()
    {
        QTest::addColumn<int>("type");
        QTest::newRow("Q4_0") << int(GGMLType::Q4_0);
        QTest::newRow("Q8_0") << int(GGMLType::Q8_0);
    }

    void matmulRepacksOnceForDecode()
    {
        QFETCH(int, type);
        const GGMLType t = GGMLType(type);
        const int K = 256;
        const size_t groupBytes = 8 * rowBytes(t, K);
        std::vector<uint8_t> d32, d36;
        const WeightTensor w32 = randomWeight(t, K, 32, 51, d32), w36 = randomWeight(t, K, 36, 51, d36);
        const auto x = randomVector(size_t(K), 52);
        ThreadPool pool(2);
        const bool simd = cpuKernelLevelInUse() != CpuLevel::Scalar;
        std::vector<float> repackedY(32), plainY(32), y36(36);
        {
            Matmul mm(2);
            const MatmulJob jobs[2] = {{&w32, repackedY.data(), 32}, {&w36, y36.data(), 36}};
            mm.run(pool, jobs, x.data(), 1, K);
            QCOMPARE(mm.repackedBytes(), simd ? size_t(4) * groupBytes : size_t(0)); // w36: 36 % 8 != 0
            mm.run(pool, jobs, x.data(), 1, K);
            QCOMPARE(mm.repackedBytes(), simd ? size_t(4) * groupBytes : size_t(0)); // not again
            std::vector<float> y2(40 * 32);
            const MatmulJob prompt{&w32, y2.data(), 32};
            Matmul fresh(2);
            fresh.run(pool, {&prompt, 1}, randomVector(size_t(40 * K), 53).data(), 40, K); // above the GEMM threshold
            QCOMPARE(fresh.repackedBytes(), simd ? size_t(4) * groupBytes : size_t(0)); // prompts too
            Matmul gemm(2);
            gemm.forcePath(1);
            gemm.run(pool, {&prompt, 1}, randomVector(size_t(40 * K), 53).data(), 40, K);
            QCOMPARE(gemm.repackedBytes(), size_t(0)); // a forced GEMM reads the plain rows
        }
        // Two Matmuls given one cache (as two contexts on one model are) share one copy.
        {
            auto cache = std::make_shared<DerivedWeightCache>();
            Matmul a(2), b(2);
            a.shareRepacks(cache);
            b.shareRepacks(cache);
            std::vector<float> ya(32), yb(32);
            const MatmulJob ja{&w32, ya.data(), 32}, jb{&w32, yb.data(), 32};
            a.run(pool, {&ja, 1}, x.data(), 1, K);
            const size_t items = cache->size();
            b.run(pool, {&jb, 1}, x.data(), 1, K);
            QCOMPARE(cache->size(), items);
            QCOMPARE(items, simd ? size_t(2) : size_t(0)); // the arena and the one matrix
            QVERIFY(ya == yb);
            QVERIFY(ya == repackedY);
        }
        const char* offVariable = t == GGMLType::Q8_0 ? "TENFOLD_Q8_0_REPACK" : "TENFOLD_Q4_0_REPACK";
        qputenv(offVariable, "0");
        Matmul off(2);
        qunsetenv(offVariable);
        const MatmulJob job{&w32, plainY.data(), 32};
        off.run(pool, {&job, 1}, x.data(), 1, K);
        QCOMPARE(off.repackedBytes(), size_t(0));
        for (int r = 0; r < 32; ++r)
            QVERIFY2(std::fabs(repackedY[size_t(r)] - plainY[size_t(r)]) <= 1e-5f * (1 + std::fabs(plainY[size_t(r)])),
                     qPrintable(QString("row %1: %2 vs %3").arg(r).arg(repackedY[size_t(r)]).arg(plainY[size_t(r)])));
    }
    // Matrices that are not repacked (here F16 and Q4_K) are copied once into huge pages at a SIMD
    // level and read from the copy by decode and prompts alike; TENFOLD_WEIGHT_COPY=0 turns it off.
    // A matrix outside the bytes the cache may take (shareRepacks' predicate: Model's
    // holdsWeightBytes) is never cached, so new bytes at the same address are what the next
    // product reads (the budgeted quantization's probe swaps heap buffers into a model).
    void matmulCopiesOtherMatricesOnce_data()
    {
        QTest::addColumn<int>("type");
        QTest::newRow("F16") << int(GGMLType::F16);
        QTest::newRow("Q4_K") << int(GGMLType::Q4_K);
    }

    void matmulCopiesOtherMatricesOnce()
    {
        QFETCH(int, type);
        const GGMLType t = GGMLType(type);
        const int K = 512, N = 36, T = 40;
        std::vector<uint8_t> data;
        const WeightTensor w = randomWeight(t, K, N, 61, data);
        // The oracle: the dequantized weights against the activation rows rounded as the
        // kernels round them (to the weight type's vecDotType; the F32 GEMM does not), in double.
        auto expected = [&](const std::vector<float>& x, int rows) {
            const GGMLType at = referenceKernels(t).vecDotType;
            std::vector<float> deq(static_cast<size_t>(K)), xr(x);
            std::vector<uint8_t> q(rowBytes(at, K));
            for (int c = 0; c < rows && !Matmul::takesGemm(w, rows); ++c) {
                referenceKernels(at).quantizeRow(x.data() + size_t(c) * K, q.data(), K);
                referenceKernels(at).dequantizeRow(q.data(), xr.data() + size_t(c) * K, K);
            }
            std::vector<double> y(size_t(rows) * N);
            for (int r = 0; r < N; ++r) {
                referenceKernels(t).dequantizeRow(w.row(r), deq.data(), K);
                for (int c = 0; c < rows; ++c) {
                    double sum = 0;
                    for (int k = 0; k < K; ++k)
                        sum += double(deq[size_t(k)]) * xr[size_t(c) * K + size_t(k)];
                    y[size_t(c) * N + size_t(r)] = sum;
                }
            }
            return y;
        };
        auto check = [&](const std::vector<float>& got, const std::vector<double>& want, const char* what) {
            for (size_t i = 0; i < want.size(); ++i)
                QVERIFY2(std::fabs(got[i] - want[i]) <= 1e-4 * (1 + std::fabs(want[i])),
                         qPrintable(QString("%1, output %2: %3 vs %4").arg(what).arg(i).arg(got[i]).arg(want[i])));
        };
        const auto x1 = randomVector(size_t(K), 62), xT = randomVector(size_t(T * K), 63);
        ThreadPool pool(2);
        const bool simd = cpuKernelLevelInUse() != CpuLevel::Scalar;
        const size_t matrixBytes = w.rowBytes * size_t(N);
        std::vector<float> y(size_t(T) * N);
        {
            Matmul mm(2);
            const MatmulJob job{&w, y.data(), N};
            mm.run(pool, {&job, 1}, x1.data(), 1, K);
            QCOMPARE(mm.copiedBytes(), simd ? matrixBytes : size_t(0));
            QCOMPARE(mm.repackedBytes(), size_t(0));
            check(y, expected(x1, 1), "decode");
            mm.run(pool, {&job, 1}, xT.data(), T, K);
            QCOMPARE(mm.copiedBytes(), simd ? matrixBytes : size_t(0)); // not again, prompts too
            check(y, expected(xT, T), "prompt");
        }
        {
            qputenv("TENFOLD_WEIGHT_COPY", "0");
            Matmul off(2);
            qunsetenv("TENFOLD_WEIGHT_COPY");
            const MatmulJob job{&w, y.data(), N};
            off.run(pool, {&job, 1}, x1.data(), 1, K);
            QCOMPARE(off.copiedBytes(), size_t(0));
            check(y, expected(x1, 1), "without the copy");
        }
        {
            auto cache = std::make_shared<DerivedWeightCache>();
            Matmul mm(2);
            mm.shareRepacks(cache, [](const uint8_t*, size_t) { return false; });
            const MatmulJob job{&w, y.data(), N};
            mm.run(pool, {&job, 1}, x1.data(), 1, K);
            QCOMPARE(mm.copiedBytes(), size_t(0));
            fillRandom(w, 64, data); // other weights at the same address
            mm.run(pool, {&job, 1}, x1.data(), 1, K);
            check(y, expected(x1, 1), "new bytes at the same address");
            QCOMPARE(cache->size(), size_t(0));
        }
    }

    void matmulPathsMatchDequantizedReference()
    {
        QFETCH(int, type);
        QFETCH(int, K);
        QFETCH(int, N);
        QFETCH(int, T);
        const GGMLType t = GGMLType(type);
        std::vector<uint8_t> data;
        const WeightTensor w = randomWeight(t, K, N, 31, data);
        std::vector<float> deq(static_cast<size_t>(N * K));
        for (int r = 0; r < N; ++r)
            referenceKernels(t).dequantizeRow(w.row(r), deq.data() + size_t(r) * K, K);

        const auto x = randomVector(size_t(T * K), 32);
        std::vector<double> expect(static_cast<size_t>(T * N));
        double scaleRef = 0;
        for (int i = 0; i < T; ++i)
            for (int r = 0; r < N; ++r) {
                double s = 0;
                for (int k = 0; k < K; ++k)
                    s += double(x[size_t(i * K + k)]) * deq[size_t(r * K + k)];
                expect[size_t(i * N + r)] = s;
                scaleRef = std::max(scaleRef, std::fabs(s));
            }
        // The mat-vec path rounds activations to the weight's vecDotType (F16 or 8-bit), the
        // GEMM path keeps them in F32.
        const double tolVec = t == GGMLType::F32 ? 1e-4 : t == GGMLType::F16 ? 2e-2 : 0.15;
        for (int threads : {1, 2}) {
            ThreadPool pool(threads);
            Matmul mm(threads);
            for (int path : {0, 1}) {
                mm.forcePath(path);
                std::vector<float> y(size_t(T * N), 1e9f);
                const MatmulJob job{&w, y.data(), N};
                mm.run(pool, {&job, 1}, x.data(), T, K);
                const double tol = path == 1 ? 1e-3 * (1 + scaleRef / 10) : tolVec * (1 + scaleRef / 10);
                for (size_t i = 0; i < y.size(); ++i)
                    QVERIFY2(std::fabs(y[i] - expect[i]) < tol,
                             qPrintable(QString("path %1 threads %2 i=%3: %4 vs %5")
                                            .arg(path).arg(threads).arg(i).arg(y[i]).arg(expect[i])));
            }
        }
    }

    // The automatic choice splits one call's jobs by their type's GEMM threshold
    // (Matmul::gemmMinRows; on AVX-512 VNNI CPUs Q4_K keeps its tiles at every batch size while
    // F16 switches at 96, at 32 on AVX2): every job of a mixed call is computed, by whichever
    // path, at batch sizes on both sides of F16's threshold.
    void matmulAutomaticPathComputesMixedJobs()
    {
        const int K = 512, N = 40;
        struct Weight {
            WeightTensor w;
            std::vector<uint8_t> data;
            std::vector<float> deq;
        };
        std::vector<Weight> weights(2);
        const GGMLType types[2] = {GGMLType::Q4_K, GGMLType::F16};
        for (int j = 0; j < 2; ++j) {
            Weight& m = weights[size_t(j)];
            const auto wf = randomVector(size_t(N * K), 41 + uint32_t(j), 0.5f);
            m.w.name = "w";
            m.w.type = types[j];
            m.w.ne0 = K;
            m.w.ne1 = N;
            m.w.rowBytes = rowBytes(types[j], K);
            m.data.resize(m.w.rowBytes * size_t(N));
            m.deq.resize(size_t(N * K));
            for (int r = 0; r < N; ++r) {
                referenceKernels(types[j]).quantizeRow(wf.data() + size_t(r) * K, m.data.data() + size_t(r) * m.w.rowBytes, K);
                referenceKernels(types[j]).dequantizeRow(m.data.data() + size_t(r) * m.w.rowBytes, m.deq.data() + size_t(r) * K, K);
            }
            m.w.data = m.data.data();
        }
        const int f16Switch = Matmul::gemmMinRows(GGMLType::F16);
        QVERIFY(f16Switch == Matmul::kGemmMinRows || f16Switch == 96);
        for (int T : {5, 40, f16Switch + 1}) {
            const auto x = randomVector(size_t(T * K), 43 + uint32_t(T));
            ThreadPool pool(2);
            Matmul mm(2);
            std::vector<std::vector<float>> y(2, std::vector<float>(size_t(T * N), 1e9f));
            const MatmulJob jobs[2] = {{&weights[0].w, y[0].data(), N}, {&weights[1].w, y[1].data(), N}};
            mm.run(pool, jobs, x.data(), T, K);
            for (int j = 0; j < 2; ++j)
                for (int i = 0; i < T; ++i)
                    for (int r = 0; r < N; ++r) {
                        double s = 0, mag = 0;
                        for (int k = 0; k < K; ++k) {
                            s += double(x[size_t(i * K + k)]) * weights[size_t(j)].deq[size_t(r * K + k)];
                            mag += std::fabs(double(x[size_t(i * K + k)]) * weights[size_t(j)].deq[size_t(r * K + k)]);
                        }
                        const float got = y[size_t(j)][size_t(i * N + r)];
                        // 8-bit activations on the tile path: a few per cent of sum |x*w| at most
                        QVERIFY2(std::fabs(got - s) < 0.02 * mag + 1e-3,
                                 qPrintable(QString("job %1 T=%2 (%3,%4): %5 vs %6").arg(j).arg(T).arg(i).arg(r).arg(got).arg(s)));
                    }
        }
    }

    void threadPoolRunsEveryIndexOnce()
    {
        for (int threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            std::vector<std::atomic<int>> hits(1000);
            for (int rep = 0; rep < 200; ++rep)
                pool.parallelFor(1000, 7, [&](int64_t b, int64_t e, int) {
                    for (int64_t i = b; i < e; ++i)
                        hits[size_t(i)].fetch_add(1);
                });
            for (auto& h : hits)
                QCOMPARE(h.load(), 200);
        }
    }

    void threadPoolPropagatesExceptionsAndStaysUsable()
    {
        for (int threads : {1, 2, 4}) {
            ThreadPool pool(threads);
            for (int rep = 0; rep < 100; ++rep) {
                // The chunk holding index 500 always throws, whichever thread claims it.
                bool caught = false;
                try {
                    pool.parallelFor(1000, 3, [&](int64_t b, int64_t e, int) {
                        if (b <= 500 && 500 < e)
                            throw std::runtime_error("chunk 500 failed");
                    });
                } catch (const std::runtime_error& e) {
                    caught = QString(e.what()) == "chunk 500 failed";
                }
                QVERIFY2(caught, qPrintable(QString("threads %1 rep %2").arg(threads).arg(rep)));

                // Throwing only on a worker slot (or only on the caller's): never terminates, and
                // if it is thrown it reaches the caller.
                for (int throwingSlot : {0, 1}) {
                    try {
                        pool.parallelFor(1000, 3, [&](int64_t, int64_t, int slot) {
                            if (slot == throwingSlot)
                                throw std::runtime_error("slot failed");
                        });
                    } catch (const std::runtime_error& e) {
                        QCOMPARE(QString(e.what()), QString("slot failed"));
                    }
                }

                // The pool still runs every index exactly once afterwards.
                std::vector<std::atomic<int>> hits(257);
                pool.parallelFor(257, 2, [&](int64_t b, int64_t e, int) {
                    for (int64_t i = b; i < e; ++i)
                        hits[size_t(i)].fetch_add(1);
                });
                for (auto& h : hits)
                    QCOMPARE(h.load(), 1);
            }
        }
    }
};

QTEST_APPLESS_MAIN(TestCpuOps)
#include "tst_cpu_ops.moc"
