// kernels() (SIMD where the CPU has it) against referenceKernels() (scalar), and the scalar dots
// against dequantize-then-multiply in double: every type, rows of 1, 3, 7 and many blocks.
// Quantizers and dequantizers must agree bit for bit; dots within a relative tolerance of the sum
// of |w_i * a_i| (float summation order differs; a layout or scale mistake is off by far more).
#include "core/error.h"
#include "tensor/convert.h"
#include "tensor/cpu_features.h"
#include "tensor/half.h"
#include "tensor/kernels.h"
#include "tensor/repack_q4_0.h"
#include "tensor/repack_q8_0.h"
#include "test_random.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

using namespace tenfold;
using tenfold::test::gaussian;

namespace {

const GGMLType kWeightTypes[] = {GGMLType::F32,  GGMLType::F16,  GGMLType::BF16, GGMLType::Q4_0, GGMLType::Q4_1,
                                 GGMLType::Q5_0, GGMLType::Q5_1, GGMLType::Q8_0, GGMLType::Q2_K, GGMLType::Q3_K,
                                 GGMLType::Q4_K, GGMLType::Q5_K, GGMLType::Q6_K, GGMLType::Q8_K, GGMLType::Q8_1,
                                 GGMLType::IQ4_NL, GGMLType::IQ4_XS};

std::vector<int64_t> lengthsFor(GGMLType t)
{
    const int64_t bs = typeTraits(t).blockSize;
    if (bs == 1)
        return {1, 3, 7, 8, 31, 33, 4099, 11008};
    return {bs, 3 * bs, 7 * bs, bs * (bs == 32 ? 137 : 43)};
}

std::vector<uint8_t> quantized(GGMLType t, const std::vector<float>& x)
{
    std::vector<uint8_t> q(rowBytes(t, int64_t(x.size())));
    referenceKernels(t).quantizeRow(x.data(), q.data(), int64_t(x.size()));
    return q;
}

std::vector<float> dequantized(GGMLType t, const std::vector<uint8_t>& q, int64_t n)
{
    std::vector<float> x(static_cast<size_t>(n));
    referenceKernels(t).dequantizeRow(q.data(), x.data(), n);
    return x;
}

// Data with a little structure: Gaussian plus per-row offsets and a few outliers, like weights.
std::vector<float> testRow(int64_t n, uint32_t seed)
{
    auto x = gaussian(size_t(n), seed);
    for (size_t i = 0; i < x.size(); ++i) {
        x[i] += 0.2f * float(seed % 5) - 0.4f;
        if ((i * 2654435761u + seed) % 97 == 0)
            x[i] *= 6.f;
    }
    return x;
}

struct Pair {
    std::vector<uint8_t> w, a;
    double exact = 0, magnitude = 0; // sum w*a and sum |w*a| over the dequantized values
};

Pair makePair(GGMLType t, int64_t n, uint32_t seed)
{
    const GGMLType at = referenceKernels(t).vecDotType;
    Pair p;
    p.w = quantized(t, testRow(n, seed));
    p.a = quantized(at, testRow(n, seed + 1000));
    const auto wf = dequantized(t, p.w, n), af = dequantized(at, p.a, n);
    for (int64_t i = 0; i < n; ++i) {
        p.exact += double(wf[size_t(i)]) * af[size_t(i)];
        p.magnitude += std::fabs(double(wf[size_t(i)]) * af[size_t(i)]);
    }
    return p;
}

// Error allowed in a dot, as a fraction of sum |w_i * a_i|. The float types accumulate every
// product in f32 (error grows with the row: 11008 elements here); the quants sum each block
// exactly in integers and round only per block, so they get a tighter bound. Both sit well above
// the worst seen (printed by vecDotMatchesReferenceAndExact: at most 5e-8 for the float types,
// 1.3e-7 for Q5_1, below 1e-7 for the rest) and far below what one misplaced
// element or scale produces.
double dotTolerance(GGMLType t)
{
    switch (t) {
    case GGMLType::F32:
    case GGMLType::F16:
    case GGMLType::BF16: return 2e-6;
    default: return 1e-6;
    }
}

// Every kernel level this CPU has, scalar first: each is tested, not only the one in use.
std::vector<CpuLevel> levelsHere()
{
    std::vector<CpuLevel> out;
    for (int l = 0; l <= int(cpuLevelDetected()); ++l)
        out.push_back(CpuLevel(l));
    return out;
}

} // namespace

class KernelsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { qInfo("CPU kernel level: %s", cpuKernelLevel()); }

    void tablesAreComplete()
    {
        for (GGMLType t : kWeightTypes) {
            for (const TypeKernels* k : {&kernels(t), &referenceKernels(t)}) {
                QVERIFY2(k->dequantizeRow && k->quantizeRow && k->vecDot, typeName(t));
            }
            QVERIFY(referenceKernels(t).vecDotTile != nullptr);
            QCOMPARE(kernels(t).vecDotType, referenceKernels(t).vecDotType);
        }
        QCOMPARE(referenceKernels(GGMLType::F16).vecDotType, GGMLType::F16);
        QCOMPARE(referenceKernels(GGMLType::Q4_0).vecDotType, GGMLType::Q8_0);
        QCOMPARE(referenceKernels(GGMLType::Q6_K).vecDotType, GGMLType::Q8_K);
        QVERIFY_THROWS_EXCEPTION(UnsupportedError, referenceKernels(GGMLType(4)));
        QVERIFY_THROWS_EXCEPTION(UnsupportedError, kernels(GGMLType(99)));
        const QByteArray level = cpuKernelLevel();
        QVERIFY(level == "scalar" || level == "AVX2+FMA+F16C" || level == "AVX-512+VNNI");
        if (level != "scalar") // the hot types must really be accelerated
            for (GGMLType t : {GGMLType::F16, GGMLType::Q8_0, GGMLType::Q4_0, GGMLType::Q4_K, GGMLType::Q6_K}) {
                QVERIFY(kernels(t).vecDot != referenceKernels(t).vecDot);
                QVERIFY(kernels(t).vecDotTile != nullptr);
            }
        if (level != "scalar") // and the non-linear 4-bit types' dots and dequantizers
            for (GGMLType t : {GGMLType::IQ4_NL, GGMLType::IQ4_XS}) {
                QVERIFY2(kernels(t).vecDot != referenceKernels(t).vecDot, typeName(t));
                QVERIFY2(kernels(t).dequantizeRow != referenceKernels(t).dequantizeRow, typeName(t));
            }
        QCOMPARE(referenceKernels(GGMLType::IQ4_NL).vecDotType, GGMLType::Q8_0);
        QCOMPARE(referenceKernels(GGMLType::IQ4_XS).vecDotType, GGMLType::Q8_K);
    }

    // A level the CPU lacks is never handed out; without TENFOLD_CPU_KERNELS the best one is used.
    void dispatchNeverExceedsTheCpu()
    {
        qInfo("detected %s, in use %s", cpuLevelName(cpuLevelDetected()), cpuKernelLevel());
        QVERIFY(cpuKernelLevelInUse() <= cpuLevelDetected());
        if (qEnvironmentVariableIsEmpty("TENFOLD_CPU_KERNELS"))
            QCOMPARE(int(cpuKernelLevelInUse()), int(cpuLevelDetected()));
        for (int l = int(cpuLevelDetected()) + 1; l < kCpuLevels; ++l)
            QVERIFY_THROWS_EXCEPTION(UnsupportedError, kernelsAt(CpuLevel(l), GGMLType::Q4_0));
        QCOMPARE(cpuLevelDetected() >= CpuLevel::Avx2, cpuHasAvx2FmaF16c());
    }

    void quantizeAndDequantizeMatchReferenceBitForBit()
    {
        for (CpuLevel level : levelsHere())
        for (GGMLType t : kWeightTypes)
            for (int64_t n : lengthsFor(t)) {
                const TypeKernels& fast = kernelsAt(level, t);
                const auto x = testRow(n, uint32_t(n) + uint32_t(t));
                std::vector<uint8_t> qr(rowBytes(t, n)), qf(rowBytes(t, n));
                referenceKernels(t).quantizeRow(x.data(), qr.data(), n);
                fast.quantizeRow(x.data(), qf.data(), n);
                QVERIFY2(qr == qf, qPrintable(QStringLiteral("%1 %2 quantize n=%3").arg(cpuLevelName(level), typeName(t)).arg(n)));
                std::vector<float> dr(static_cast<size_t>(n)), df(static_cast<size_t>(n));
                referenceKernels(t).dequantizeRow(qr.data(), dr.data(), n);
                fast.dequantizeRow(qr.data(), df.data(), n);
                QVERIFY2(std::memcmp(dr.data(), df.data(), size_t(n) * 4) == 0,
                         qPrintable(QStringLiteral("%1 %2 dequantize n=%3").arg(cpuLevelName(level), typeName(t)).arg(n)));
            }
    }

    // Activation quantizers on the hot path also see rows with ties and exact zeros.
    void activationQuantizersHandleTiesAndZeros()
    {
        for (GGMLType t : {GGMLType::Q8_0, GGMLType::Q8_K, GGMLType::F16}) {
            const int64_t n = 1024;
            std::vector<float> x(static_cast<size_t>(n));
            for (int64_t i = 0; i < n; ++i) // multiples of 0.5 against max 127 give exact .5 ties
                x[size_t(i)] = (i % 256 < 8) ? 0.f : float((i * 37) % 255 - 127) * 0.5f;
            for (int64_t i = 512; i < 768; ++i)
                x[size_t(i)] = 0.f; // a whole zero block
            std::vector<uint8_t> qr(rowBytes(t, n)), qf(rowBytes(t, n));
            referenceKernels(t).quantizeRow(x.data(), qr.data(), n);
            kernels(t).quantizeRow(x.data(), qf.data(), n);
            QVERIFY2(qr == qf, typeName(t));
        }
    }

    void vecDotMatchesReferenceAndExact()
    {
        for (CpuLevel level : levelsHere())
        for (GGMLType t : kWeightTypes) {
            double worst = 0;
            for (int64_t n : lengthsFor(t)) {
                const Pair p = makePair(t, n, uint32_t(7 * n) + uint32_t(t));
                const double ref = referenceKernels(t).vecDot(n, p.w.data(), p.a.data());
                const double fast = kernelsAt(level, t).vecDot(n, p.w.data(), p.a.data());
                const double tol = dotTolerance(t) * p.magnitude + 1e-30;
                worst = std::max({worst, std::fabs(ref - p.exact) / p.magnitude, std::fabs(fast - p.exact) / p.magnitude});
                const QString what = QStringLiteral("%1 %6 n=%2 ref=%3 fast=%4 exact=%5")
                                         .arg(typeName(t)).arg(n).arg(ref, 0, 'g', 9).arg(fast, 0, 'g', 9).arg(p.exact, 0, 'g', 9)
                                         .arg(cpuLevelName(level));
                QVERIFY2(std::fabs(ref - p.exact) <= tol, qPrintable("reference vs exact: " + what));
                QVERIFY2(std::fabs(fast - p.exact) <= tol, qPrintable("fast vs exact: " + what));
            }
            qInfo("%s %s: worst dot error %.2e of sum |w*a| (allowed %.0e)", cpuLevelName(level), typeName(t),
                  worst, dotTolerance(t));
        }
    }

    // The decode rows kernel against one reference dot per row: odd row counts, odd lengths,
    // rows with padding between them, and nothing written past nRows.
    void vecDotRowsMatchesDots()
    {
        int tested = 0;
        for (CpuLevel level : levelsHere())
            for (GGMLType t : kWeightTypes) {
                const TypeKernels& k = kernelsAt(level, t);
                if (!k.vecDotRows)
                    continue;
                ++tested;
                const GGMLType at = k.vecDotType;
                for (int64_t n : lengthsFor(t)) {
                    const size_t wStride = rowBytes(t, n) + 34;
                    const int maxRows = 19;
                    std::vector<uint8_t> w(size_t(maxRows) * wStride);
                    for (int r = 0; r < maxRows; ++r) {
                        const auto q = quantized(t, testRow(n, 300 + uint32_t(r)));
                        std::memcpy(w.data() + size_t(r) * wStride, q.data(), q.size());
                    }
                    const auto a = quantized(at, testRow(n, 77));
                    for (int rows : {1, 2, 3, 4, 5, 16, 19}) {
                        std::vector<float> out(size_t(rows) + 1, -12345.f);
                        k.vecDotRows(n, w.data(), wStride, rows, a.data(), out.data());
                        QCOMPARE(out[size_t(rows)], -12345.f);
                        for (int r = 0; r < rows; ++r) {
                            const uint8_t* wr = w.data() + size_t(r) * wStride;
                            const double expect = referenceKernels(t).vecDot(n, wr, a.data());
                            double mag = 0;
                            const auto wf = dequantized(t, std::vector<uint8_t>(wr, wr + rowBytes(t, n)), n);
                            const auto af = dequantized(at, a, n);
                            for (int64_t i = 0; i < n; ++i)
                                mag += std::fabs(double(wf[size_t(i)]) * af[size_t(i)]);
                            QVERIFY2(std::fabs(out[size_t(r)] - expect) <= dotTolerance(t) * mag,
                                     qPrintable(QStringLiteral("%1 %2 n=%3 rows=%4 row %5: %6 vs %7")
                                                    .arg(cpuLevelName(level), typeName(t)).arg(n).arg(rows).arg(r)
                                                    .arg(out[size_t(r)]).arg(expect)));
                        }
                    }
                }
            }
        QVERIFY(tested >= int(std::size(kWeightTypes))); // at least the reference table's loops
        if (cpuLevelDetected() >= CpuLevel::Avx2)
            QVERIFY(kernelsAt(CpuLevel::Avx2, GGMLType::Q4_0).vecDotRows != nullptr);
        if (cpuLevelDetected() >= CpuLevel::Avx512Vnni)
            for (GGMLType t : {GGMLType::Q4_0, GGMLType::IQ4_NL})
                QVERIFY2(kernelsAt(CpuLevel::Avx512Vnni, t).vecDotRows != referenceKernels(t).vecDotRows, typeName(t));
    }

    // The 8-row interleaved Q4_0 and Q8_0 layouts: repacking round-trips every row byte for byte,
    // and the repacked mat-vec of every level gives each row the reference dot of the plain row
    // (an oracle that never reads the interleaved layout). Odd block counts, 1 to 3 groups, and
    // extreme weights (Q4_0 nibbles 0 and 15, Q8_0 bytes -128 and 127) against saturated
    // activations (Q4_0: -128 and 127, the int16 limits of the AVX2 kernel's vpmaddubsw sums;
    // Q8_0: -127 and 127, the range Tenfold's own activation quantization gives).
    void repackedRowsMatchDots_data()
    {
        QTest::addColumn<int>("type");
        QTest::newRow("Q4_0") << int(GGMLType::Q4_0);
        QTest::newRow("Q8_0") << int(GGMLType::Q8_0);
    }

    void repackedRowsMatchDots()
    {
        QFETCH(int, type);
        const GGMLType t = GGMLType(type);
        const bool q8 = t == GGMLType::Q8_0;
        const size_t blockBytes = q8 ? 34 : 18;
        auto groupBytes = [q8](int64_t n) { return q8 ? q8_0x8GroupBytes(n) : q4_0x8GroupBytes(n); };
        int tested = 0;
        for (CpuLevel level : levelsHere()) {
            const TypeKernels& k = kernelsAt(level, t);
            QVERIFY2(k.vecDotRows8, cpuLevelName(level));
            ++tested;
            for (int64_t n : {int64_t(32), int64_t(96), int64_t(32 * 137), int64_t(2048)})
                for (int groups : {1, 3}) {
                    const int rows = 8 * groups;
                    const size_t stride = rowBytes(t, n) + blockBytes; // padded, as rows in a file are not
                    std::vector<uint8_t> w(size_t(rows) * stride, 0xAB);
                    for (int r = 0; r < rows; ++r) {
                        auto q = quantized(t, testRow(n, 500 + uint32_t(r)));
                        if (r == 2) // extreme weights only: the largest products
                            for (size_t b = 0; b < q.size(); b += blockBytes) {
                                const bool odd = (b / blockBytes) % 2;
                                std::memset(q.data() + b + 2, q8 ? (odd ? 0x80 : 0x7F) : (odd ? 0xFF : 0x0F), blockBytes - 2);
                            }
                        if (r == 5 && q8) // alternating -128 and 127 inside each block
                            for (size_t b = 0; b < q.size(); b += blockBytes)
                                for (size_t j = 0; j < 32; ++j)
                                    q[b + 2 + j] = j % 2 ? 0x80 : 0x7F;
                        std::memcpy(w.data() + size_t(r) * stride, q.data(), q.size());
                    }
                    auto a = quantized(GGMLType::Q8_0, testRow(n, 91));
                    for (size_t b = 0; b < a.size(); b += 34) // saturated activations in every block
                        for (int j = 0; j < 32; j += 3)
                            a[b + 2 + size_t(j)] = uint8_t(j % 2 ? 0x7F : (q8 ? 0x81 : 0x80));
                    std::vector<uint8_t> packed(size_t(groups) * groupBytes(n));
                    (q8 ? repackQ8_0x8 : repackQ4_0x8)(w.data(), stride, rows, n, packed.data());
                    QVERIFY(k.repackRows8 == referenceKernels(t).repackRows8);
                    for (int r = 0; r < rows; ++r) {
                        std::vector<uint8_t> back(rowBytes(t, n));
                        (q8 ? unpackQ8_0x8Row : unpackQ4_0x8Row)(packed.data() + size_t(r / 8) * groupBytes(n), n, r % 8,
                                                                back.data());
                        QVERIFY(std::memcmp(back.data(), w.data() + size_t(r) * stride, back.size()) == 0);
                    }
                    // 1 to 11 activation rows, padded apart: whole and partial tiles of 4.
                    for (int cols : {1, 4, 7, 11}) {
                        const size_t aStride = a.size() + 6;
                        std::vector<uint8_t> acts(aStride * size_t(cols));
                        for (int c = 0; c < cols; ++c) {
                            const auto ac = c == 0 ? a : quantized(GGMLType::Q8_0, testRow(n, 91 + uint32_t(c)));
                            std::memcpy(acts.data() + size_t(c) * aStride, ac.data(), ac.size());
                        }
                        const size_t outStride = size_t(rows) + 3;
                        std::vector<float> out(outStride * size_t(cols), -12345.f);
                        k.vecDotRows8(n, packed.data(), groups, acts.data(), aStride, cols, out.data(), outStride);
                        for (int c = 0; c < cols; ++c) {
                            QCOMPARE(out[size_t(c) * outStride + size_t(rows)], -12345.f);
                            const std::vector<uint8_t> ac(acts.begin() + ptrdiff_t(size_t(c) * aStride),
                                                          acts.begin() + ptrdiff_t(size_t(c) * aStride + a.size()));
                            const auto af = dequantized(GGMLType::Q8_0, ac, n);
                            for (int r = 0; r < rows; ++r) {
                                const std::vector<uint8_t> wr(w.begin() + ptrdiff_t(size_t(r) * stride),
                                                              w.begin() + ptrdiff_t(size_t(r) * stride + rowBytes(t, n)));
                                const double expect = referenceKernels(t).vecDot(n, wr.data(), ac.data());
                                const auto wf = dequantized(t, wr, n);
                                double mag = 0;
                                for (int64_t i = 0; i < n; ++i)
                                    mag += std::fabs(double(wf[size_t(i)]) * af[size_t(i)]);
                                const float got = out[size_t(c) * outStride + size_t(r)];
                                QVERIFY2(std::fabs(got - expect) <= dotTolerance(t) * mag,
                                         qPrintable(QStringLiteral("%1 n=%2 cols=%3 col %4 row %5: %6 vs %7")
                                                        .arg(cpuLevelName(level)).arg(n).arg(cols).arg(c).arg(r).arg(got).arg(expect)));
                            }
                        }
                    }
                }
        }
        QCOMPARE(tested, int(levelsHere().size()));
    }

    void vecDotTileMatchesPairwiseDots()
    {
        for (GGMLType t : kWeightTypes) {
            for (CpuLevel level : levelsHere()) {
                const TypeKernels& k = kernelsAt(level, t);
                if (!k.vecDotTile)
                    continue;
                const GGMLType at = k.vecDotType;
                for (int64_t n : lengthsFor(t)) {
                    if (n > 20000)
                        continue;
                    // 4 weight rows and 4 activation rows with padding between rows
                    const size_t wStride = rowBytes(t, n) + 64, aStride = rowBytes(at, n) + 32;
                    std::vector<uint8_t> w(4 * wStride), a(4 * aStride);
                    for (int r = 0; r < 4; ++r) {
                        const auto q = quantized(t, testRow(n, 50 + uint32_t(r)));
                        std::memcpy(w.data() + r * wStride, q.data(), q.size());
                        const auto qa = quantized(at, testRow(n, 90 + uint32_t(r)));
                        std::memcpy(a.data() + r * aStride, qa.data(), qa.size());
                    }
                    for (int rows = 1; rows <= 4; ++rows)
                        for (int cols = 1; cols <= 4; ++cols) {
                            const size_t outStride = 5;
                            std::vector<float> out(4 * outStride, -12345.f);
                            k.vecDotTile(n, w.data(), wStride, rows, a.data(), aStride, cols, out.data(), outStride);
                            for (int c = 0; c < 4; ++c)
                                for (int r = 0; r < int(outStride); ++r) {
                                    const float got = out[size_t(c) * outStride + size_t(r)];
                                    if (c >= cols || r >= rows) {
                                        QVERIFY2(got == -12345.f, "tile wrote outside its shape");
                                        continue;
                                    }
                                    const double expect = referenceKernels(t).vecDot(n, w.data() + r * wStride,
                                                                                      a.data() + c * aStride);
                                    double mag = 0;
                                    {
                                        const auto wf = dequantized(t, std::vector<uint8_t>(w.begin() + r * wStride, w.begin() + r * wStride + rowBytes(t, n)), n);
                                        const auto af = dequantized(at, std::vector<uint8_t>(a.begin() + c * aStride, a.begin() + c * aStride + rowBytes(at, n)), n);
                                        for (int64_t i = 0; i < n; ++i)
                                            mag += std::fabs(double(wf[size_t(i)]) * af[size_t(i)]);
                                    }
                                    QVERIFY2(std::fabs(got - expect) <= dotTolerance(t) * mag,
                                             qPrintable(QStringLiteral("%1 n=%2 tile %3x%4 at (%5,%6): %7 vs %8 (%9)")
                                                            .arg(typeName(t)).arg(n).arg(rows).arg(cols).arg(r).arg(c)
                                                            .arg(got).arg(expect).arg(cpuLevelName(level))));
                                }
                        }
                }
            }
        }
    }

    // The F16 tile on activations the matmul widened to F32 (each value an F16 one) against the
    // scalar reference's F16 x F16 dot of the same rows: every level that has it, odd lengths
    // (8-wide and scalar tails), every shape up to 4 x kF32ActTileCols, padded strides.
    void vecDotTileF32ActMatchesReference()
    {
        int levelsWithTile = 0;
        for (CpuLevel level : levelsHere()) {
            const TypeKernels& k = kernelsAt(level, GGMLType::F16);
            if (!k.vecDotTileF32Act)
                continue;
            ++levelsWithTile;
            for (int64_t n : lengthsFor(GGMLType::F16)) {
                const size_t wStride = rowBytes(GGMLType::F16, n) + 64, aStride = size_t(n) * 4 + 32;
                std::vector<uint8_t> w(4 * wStride), a16(kF32ActTileCols * wStride);
                std::vector<uint8_t> a(kF32ActTileCols * aStride); // bytes, so the padded stride need not be whole floats
                for (int r = 0; r < 4; ++r) {
                    const auto q = quantized(GGMLType::F16, testRow(n, 150 + uint32_t(r)));
                    std::memcpy(w.data() + r * wStride, q.data(), q.size());
                }
                for (int r = 0; r < kF32ActTileCols; ++r) {
                    const auto qa = quantized(GGMLType::F16, testRow(n, 190 + uint32_t(r)));
                    std::memcpy(a16.data() + r * wStride, qa.data(), qa.size());
                    const auto wide = dequantized(GGMLType::F16, qa, n);
                    std::memcpy(a.data() + r * aStride, wide.data(), wide.size() * 4);
                }
                for (int rows = 1; rows <= 4; ++rows)
                    for (int cols = 1; cols <= kF32ActTileCols; ++cols) {
                        const size_t outStride = 5;
                        std::vector<float> out(kF32ActTileCols * outStride, -12345.f);
                        k.vecDotTileF32Act(n, w.data(), wStride, rows, reinterpret_cast<const float*>(a.data()), aStride,
                                           cols, out.data(), outStride);
                        for (int c = 0; c < kF32ActTileCols; ++c)
                            for (int r = 0; r < int(outStride); ++r) {
                                const float got = out[size_t(c) * outStride + size_t(r)];
                                if (c >= cols || r >= rows) {
                                    QVERIFY2(got == -12345.f, "tile wrote outside its shape");
                                    continue;
                                }
                                const uint8_t* wr = w.data() + r * wStride;
                                const uint8_t* ar = a16.data() + c * wStride;
                                const double expect = referenceKernels(GGMLType::F16).vecDot(n, wr, ar);
                                double mag = 0;
                                for (int64_t i = 0; i < n; ++i)
                                    mag += std::fabs(double(fp16ToFp32(reinterpret_cast<const uint16_t*>(wr)[i])) *
                                                     fp16ToFp32(reinterpret_cast<const uint16_t*>(ar)[i]));
                                QVERIFY2(std::fabs(got - expect) <= dotTolerance(GGMLType::F16) * mag,
                                         qPrintable(QStringLiteral("%1 n=%2 tile %3x%4 at (%5,%6): %7 vs %8")
                                                        .arg(cpuLevelName(level)).arg(n).arg(rows).arg(cols).arg(r)
                                                        .arg(c).arg(got).arg(expect)));
                                // The tile sums in the decode dot's order: the same bits, so a
                                // batch agrees with token-by-token decoding.
                                {
                                    const float dot = k.vecDot(n, wr, ar);
                                    uint32_t gotBits, dotBits; // QCOMPARE on floats is fuzzy
                                    std::memcpy(&gotBits, &got, 4);
                                    std::memcpy(&dotBits, &dot, 4);
                                    QVERIFY2(gotBits == dotBits, qPrintable(QStringLiteral("%6 n=%1 tile %2x%3: %4 vs decode %5")
                                                                               .arg(n).arg(rows).arg(cols)
                                                                               .arg(double(got), 0, 'g', 9)
                                                                               .arg(double(dot), 0, 'g', 9)
                                                                               .arg(cpuLevelName(level))));
                                }
                            }
                    }
            }
        }
        // Every SIMD level has it; the scalar table does not (the matmul then loops vecDotTile,
        // whose reference form is the scalar dot itself).
        QCOMPARE(levelsWithTile, int(levelsHere().size()) - 1);
        QVERIFY(referenceKernels(GGMLType::F16).vecDotTileF32Act == nullptr);
    }

    // The small-batch tiles on blocks of random bytes rather than quantizer output: every level,
    // every 6-bit Q4_K scale and min, Q8_0 weights of -128 and Q8_K activations of -128 (the
    // extremes the VNNI tiles' int16 packing and +128 offset must survive), with only the float scales
    // fixed to finite values and Q8_K's bsums made consistent. Odd block counts, all 16 shapes.
    void vecDotTileMatchesReferenceOnRawBlocks()
    {
        for (GGMLType t : {GGMLType::Q4_0, GGMLType::Q8_0, GGMLType::Q4_K, GGMLType::Q6_K})
            for (CpuLevel level : levelsHere()) {
                const TypeKernels& k = kernelsAt(level, t);
                const GGMLType at = k.vecDotType;
                const int64_t bs = typeTraits(t).blockSize;
                for (int64_t n : {bs, 3 * bs, 9 * bs}) {
                    const size_t wRow = rowBytes(t, n), aRow = rowBytes(at, n);
                    std::vector<uint8_t> w(4 * wRow), a(4 * aRow);
                    uint32_t state = uint32_t(n) * 2654435761u + uint32_t(t);
                    const auto next = [&] { state = state * 1664525u + 1013904223u; return uint8_t(state >> 24); };
                    for (auto& b : w)
                        b = next();
                    for (auto& b : a)
                        b = next();
                    const auto scale = [&](float lo) { return fp32ToFp16(lo * (1.f + float(next()) / 256.f)); };
                    const size_t wBlock = wRow / size_t(n / bs), aBlock = aRow / size_t(n / typeTraits(at).blockSize);
                    for (size_t off = 0; off < w.size(); off += wBlock) {
                        uint16_t d = scale(0.01f), dmin = scale(0.002f);
                        if (t == GGMLType::Q4_K) { // d, dmin lead the block
                            std::memcpy(&w[off], &d, 2);
                            std::memcpy(&w[off + 2], &dmin, 2);
                        } else if (t == GGMLType::Q6_K) { // d trails it
                            std::memcpy(&w[off + wBlock - 2], &d, 2);
                        } else {
                            std::memcpy(&w[off], &d, 2);
                        }
                    }
                    for (size_t off = 0; off < a.size(); off += aBlock) {
                        if (at == GGMLType::Q8_K) { // f32 d, 256 int8, 16 int16 group sums
                            const float d = 0.03f;
                            std::memcpy(&a[off], &d, 4);
                            for (int g = 0; g < 16; ++g) {
                                int16_t sum = 0;
                                for (int i = 0; i < 16; ++i)
                                    sum = int16_t(sum + int8_t(a[off + 4 + size_t(16 * g + i)]));
                                std::memcpy(&a[off + 4 + 256 + size_t(2 * g)], &sum, 2);
                            }
                        } else { // Q8_0's quantizer never stores -128 (the AVX2 sign trick relies on it)
                            const uint16_t d = scale(0.03f);
                            std::memcpy(&a[off], &d, 2);
                            for (size_t i = off + 2; i < off + aBlock; ++i)
                                a[i] = a[i] == 0x80 ? 0x81 : a[i];
                        }
                    }
                    for (int rows = 1; rows <= 4; ++rows)
                        for (int cols = 1; cols <= 4; ++cols) {
                            std::vector<float> out(16, -12345.f);
                            k.vecDotTile(n, w.data(), wRow, rows, a.data(), aRow, cols, out.data(), 4);
                            for (int c = 0; c < cols; ++c)
                                for (int r = 0; r < rows; ++r) {
                                    const uint8_t* wr = w.data() + size_t(r) * wRow;
                                    const uint8_t* ar = a.data() + size_t(c) * aRow;
                                    const double expect = referenceKernels(t).vecDot(n, wr, ar);
                                    const auto wf = dequantized(t, std::vector<uint8_t>(wr, wr + wRow), n);
                                    const auto af = dequantized(at, std::vector<uint8_t>(ar, ar + aRow), n);
                                    double mag = 0;
                                    for (int64_t i = 0; i < n; ++i)
                                        mag += std::fabs(double(wf[size_t(i)]) * af[size_t(i)]);
                                    const float got = out[size_t(c) * 4 + size_t(r)];
                                    QVERIFY2(std::fabs(got - expect) <= dotTolerance(t) * mag,
                                             qPrintable(QStringLiteral("%1 %2 n=%3 tile %4x%5 at (%6,%7): %8 vs %9")
                                                            .arg(cpuLevelName(level), typeName(t)).arg(n).arg(rows).arg(cols)
                                                            .arg(r).arg(c).arg(got).arg(expect)));
                                }
                        }
                }
            }
        // The VNNI level brings its own tiles for these types (not the AVX2 ones it copied).
        if (cpuLevelDetected() >= CpuLevel::Avx512Vnni)
            for (GGMLType t : {GGMLType::Q4_0, GGMLType::Q8_0, GGMLType::Q4_K, GGMLType::Q6_K})
                QVERIFY2(kernelsAt(CpuLevel::Avx512Vnni, t).vecDotTile != kernelsAt(CpuLevel::Avx2, t).vecDotTile, typeName(t));
    }

    // IQ4_NL / IQ4_XS on random bytes rather than quantizer output: every index, every 6-bit
    // sub-scale (0 and 63 included), activations from -127 to 127, odd block counts. Each level's
    // dequantizer must equal the scalar one bit for bit and its dot the exact sum within tolerance.
    void iq4KernelsMatchReferenceOnRawBlocks()
    {
        for (GGMLType t : {GGMLType::IQ4_NL, GGMLType::IQ4_XS})
            for (CpuLevel level : levelsHere()) {
                const TypeKernels& k = kernelsAt(level, t);
                const GGMLType at = k.vecDotType;
                const int64_t bs = typeTraits(t).blockSize;
                for (int64_t n : {bs, 3 * bs, 9 * bs, 33 * bs}) {
                    const size_t wRow = rowBytes(t, n), aRow = rowBytes(at, n);
                    std::vector<uint8_t> w(wRow), a(aRow);
                    uint32_t state = uint32_t(n) * 2654435761u + uint32_t(t) + uint32_t(level);
                    const auto next = [&] { state = state * 1664525u + 1013904223u; return uint8_t(state >> 24); };
                    for (auto& b : w)
                        b = next();
                    for (auto& b : a)
                        b = next();
                    const size_t wBlock = typeTraits(t).blockBytes, aBlock = typeTraits(at).blockBytes;
                    for (size_t off = 0; off < w.size(); off += wBlock) { // d leads both blocks
                        const uint16_t d = fp32ToFp16((next() & 1 ? -0.01f : 0.01f) * (1.f + float(next()) / 256.f));
                        std::memcpy(&w[off], &d, 2);
                    }
                    for (size_t off = 0; off < a.size(); off += aBlock) {
                        // activation quantizers never store -128 (the AVX2 sign trick relies on it)
                        const size_t first = at == GGMLType::Q8_K ? 4 : 2, end = at == GGMLType::Q8_K ? 260 : aBlock;
                        for (size_t i = off + first; i < off + end; ++i)
                            a[i] = a[i] == 0x80 ? 0x81 : a[i];
                        if (at == GGMLType::Q8_K) { // f32 d, 256 int8, 16 consistent group sums
                            const float d = 0.03f;
                            std::memcpy(&a[off], &d, 4);
                            for (int g = 0; g < 16; ++g) {
                                int16_t sum = 0;
                                for (int i = 0; i < 16; ++i)
                                    sum = int16_t(sum + int8_t(a[off + 4 + size_t(16 * g + i)]));
                                std::memcpy(&a[off + 4 + 256 + size_t(2 * g)], &sum, 2);
                            }
                        } else {
                            const uint16_t d = fp32ToFp16(0.02f);
                            std::memcpy(&a[off], &d, 2);
                        }
                    }
                    if (t == GGMLType::IQ4_XS && n >= 3 * bs) { // the extreme sub-scales 0 and 63
                        w[2] = 0x00; w[3] = 0x00; w[4] = 0x00; // block 0, sub-blocks 0-1: ls 0
                        w[wBlock + 2] = 0xFF; w[wBlock + 3] = 0xFF; w[wBlock + 4] = 0xFF; // block 1: ls 63
                    }
                    const auto wf = dequantized(t, w, n), af = dequantized(at, a, n);
                    std::vector<float> fast(static_cast<size_t>(n));
                    k.dequantizeRow(w.data(), fast.data(), n);
                    QVERIFY2(std::memcmp(fast.data(), wf.data(), size_t(n) * 4) == 0,
                             qPrintable(QStringLiteral("%1 %2 dequantize n=%3")
                                            .arg(cpuLevelName(level), typeName(t)).arg(n)));
                    double exact = 0, mag = 0;
                    for (int64_t i = 0; i < n; ++i) {
                        exact += double(wf[size_t(i)]) * af[size_t(i)];
                        mag += std::fabs(double(wf[size_t(i)]) * af[size_t(i)]);
                    }
                    const double ref = referenceKernels(t).vecDot(n, w.data(), a.data());
                    const double got = k.vecDot(n, w.data(), a.data());
                    const QString what = QStringLiteral("%1 %2 n=%3: ref %4 fast %5 exact %6")
                                             .arg(cpuLevelName(level), typeName(t)).arg(n).arg(ref).arg(got).arg(exact);
                    QVERIFY2(std::fabs(ref - exact) <= dotTolerance(t) * mag, qPrintable(what));
                    QVERIFY2(std::fabs(got - exact) <= dotTolerance(t) * mag, qPrintable(what));
                    if (k.vecDotRows) {
                        float rows[2] = {0, -12345.f};
                        k.vecDotRows(n, w.data(), wRow, 1, a.data(), rows);
                        QVERIFY2(std::fabs(rows[0] - exact) <= dotTolerance(t) * mag && rows[1] == -12345.f,
                                 qPrintable(what));
                    }
                }
            }
    }

    void convertRowGoesThroughFloat()
    {
        const int64_t n = 768;
        const auto x = testRow(n, 3);
        // F32 -> Q4_K is the quantizer; Q4_K -> F32 the dequantizer
        std::vector<uint8_t> q(rowBytes(GGMLType::Q4_K, n));
        convertRow(GGMLType::F32, x.data(), GGMLType::Q4_K, q.data(), n);
        QVERIFY(q == quantized(GGMLType::Q4_K, x));
        std::vector<float> back(static_cast<size_t>(n));
        convertRow(GGMLType::Q4_K, q.data(), GGMLType::F32, back.data(), n);
        QVERIFY(back == dequantized(GGMLType::Q4_K, q, n));
        // Q4_K -> F16 equals dequantize then f16 rounding; same type is a copy
        std::vector<uint8_t> h(rowBytes(GGMLType::F16, n)), h2(h.size());
        convertRow(GGMLType::Q4_K, q.data(), GGMLType::F16, h.data(), n);
        referenceKernels(GGMLType::F16).quantizeRow(back.data(), h2.data(), n);
        QVERIFY(h == h2);
        std::vector<uint8_t> copy(q.size());
        convertRow(GGMLType::Q4_K, q.data(), GGMLType::Q4_K, copy.data(), n);
        QVERIFY(copy == q);
        // a length that is not whole blocks of both types is refused
        std::vector<uint8_t> big(rowBytes(GGMLType::F16, 4096));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, convertRow(GGMLType::F16, big.data(), GGMLType::Q4_K, q.data(), 320));
        // long rows cross the internal chunking
        const int64_t m = 4096 * 2 + 512;
        const auto y = testRow(m, 4);
        std::vector<uint8_t> f16(rowBytes(GGMLType::F16, m)), q8a(rowBytes(GGMLType::Q8_0, m)), q8b(q8a.size());
        referenceKernels(GGMLType::F16).quantizeRow(y.data(), f16.data(), m);
        convertRow(GGMLType::F16, f16.data(), GGMLType::Q8_0, q8a.data(), m);
        std::vector<float> yf(static_cast<size_t>(m));
        referenceKernels(GGMLType::F16).dequantizeRow(f16.data(), yf.data(), m);
        referenceKernels(GGMLType::Q8_0).quantizeRow(yf.data(), q8b.data(), m);
        QVERIFY(q8a == q8b);
    }
};

QTEST_APPLESS_MAIN(KernelsTest)
#include "test_kernels.moc"
