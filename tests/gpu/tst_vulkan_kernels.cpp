// Every Vulkan kernel against a CPU reference on random data with odd shapes: weights through
// the scalar reference quantize/dequantize tables of engine/tensor (all GGUF weight types),
// norm/rope/attention/SwiGLU against plain loops below. Reductions run both with subgroup
// arithmetic and with the shared-memory fallback.
#include "gpu_ops.h"
#include "tensor/half.h"
#include "tensor/kernels.h"
#include "vk/memory.h"
#include "vk/pipeline_cache.h"
#include "vk/sequence.h"
#include "vk_test_util.h"

#include <QtTest>

#include <fstream>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <QTemporaryDir>

using namespace tenfold;
using tenfold::test::deviceBuffer;
using tenfold::test::nmse;
using tenfold::test::randomVector;
using tenfold::test::readFloats;

Q_DECLARE_METATYPE(tenfold::GGMLType)

namespace {

const GGMLType kWeightTypes[] = {GGMLType::F32,  GGMLType::F16,  GGMLType::BF16, GGMLType::Q8_0, GGMLType::Q4_0,
                                 GGMLType::Q4_1, GGMLType::Q5_0, GGMLType::Q5_1, GGMLType::Q2_K, GGMLType::Q3_K,
                                 GGMLType::Q4_K, GGMLType::Q5_K, GGMLType::Q6_K, GGMLType::IQ4_NL, GGMLType::IQ4_XS};

// A random weight matrix quantized with the reference kernels, and its dequantized floats: the
// shader must reproduce exactly the values the CPU would compute with.
struct QuantMatrix {
    std::vector<uint8_t> bytes;
    std::vector<float> dequant; // [rows][k]
    size_t rowBytes = 0;
};

QuantMatrix makeMatrix(GGMLType t, int64_t rows, int64_t k, std::mt19937& rng)
{
    const TypeKernels& ref = referenceKernels(t);
    QuantMatrix m;
    m.rowBytes = rowBytes(t, k);
    m.bytes.resize(m.rowBytes * size_t(rows));
    m.dequant.resize(size_t(rows * k));
    for (int64_t r = 0; r < rows; ++r) {
        auto src = randomVector(size_t(k), rng);
        ref.quantizeRow(src.data(), m.bytes.data() + size_t(r) * m.rowBytes, k);
        ref.dequantizeRow(m.bytes.data() + size_t(r) * m.rowBytes, m.dequant.data() + size_t(r * k), k);
    }
    return m;
}

vk::GpuWeight uploadMatrix(vk::Device& d, GGMLType t, const QuantMatrix& m, int64_t rows, int64_t k)
{
    vk::GpuWeight w;
    w.buffer = deviceBuffer(d, m.bytes);
    w.type = t;
    w.ne0 = uint32_t(k);
    w.ne1 = uint32_t(rows);
    w.rowBytes = uint32_t(m.rowBytes);
    return w;
}

float roundF16(float x) { return fp16ToFp32(fp32ToFp16(x)); }

} // namespace

class TestVulkanKernels : public QObject {
    Q_OBJECT

    std::shared_ptr<vk::Device> device_;
    std::unique_ptr<vk::GpuOps> opsSubgroup_, opsShared_;
    std::string skipReason_;
    QTemporaryDir cacheHome_;

    vk::GpuOps& ops(bool subgroups) { return subgroups ? *opsSubgroup_ : *opsShared_; }
    void addReductionColumns()
    {
        QTest::addColumn<bool>("subgroups");
        QTest::newRow("shared-memory") << false;
        if (device_ && device_->info().subgroupArithmetic)
            QTest::newRow("subgroup") << true;
    }

private slots:
    void initTestCase()
    {
        // Pipeline caches go to a scratch folder, not the user's ~/.cache.
        QVERIFY(cacheHome_.isValid());
        qputenv("XDG_CACHE_HOME", cacheHome_.path().toUtf8());
        device_ = test::openVulkanDevice(&skipReason_);
        if (!device_)
            QSKIP(skipReason_.c_str());
        qInfo("Vulkan device: %s (%s), subgroup size %u", device_->info().name.c_str(), device_->info().type.c_str(),
              device_->info().subgroupSize);
        qputenv("TENFOLD_VK_NO_SUBGROUPS", "1");
        opsShared_ = std::make_unique<vk::GpuOps>(*device_);
        qunsetenv("TENFOLD_VK_NO_SUBGROUPS");
        opsSubgroup_ = std::make_unique<vk::GpuOps>(*device_);
        QVERIFY(!opsShared_->usesSubgroups());
    }

    void matmul_data()
    {
        QTest::addColumn<GGMLType>("type");
        QTest::addColumn<int>("kind");
        QTest::addColumn<bool>("subgroups");
        for (GGMLType t : kWeightTypes) {
            QTest::newRow((std::string(typeName(t)) + " vec shared").c_str()) << t << int(vk::GpuOps::MatMulKind::Vec) << false;
            if (device_ && device_->info().subgroupArithmetic)
                QTest::newRow((std::string(typeName(t)) + " vec subgroup").c_str()) << t << int(vk::GpuOps::MatMulKind::Vec) << true;
            QTest::newRow((std::string(typeName(t)) + " tiled").c_str()) << t << int(vk::GpuOps::MatMulKind::Tiled) << true;
        }
    }

    // y[t][r] = W[r] . x[t] (+ bias) (+ y), W quantized by the CPU reference; shapes cross tile
    // and block boundaries (rows not a multiple of 64, tokens not a multiple of 32).
    void matmul()
    {
        QFETCH(GGMLType, type);
        QFETCH(int, kind);
        QFETCH(bool, subgroups);
        const int64_t bs = typeTraits(type).blockSize;
        // Float rows: 67 (odd, scalar path) without subgroups, 68 (four-wide path) otherwise.
        const int64_t k = bs == 1 ? (subgroups ? 68 : 67) : (bs == 32 ? 96 : 512);
        const int64_t rows = 77;
        const uint32_t nTok = kind == int(vk::GpuOps::MatMulKind::Vec) ? 3 : 41;
        std::mt19937 rng(uint32_t(type) * 31 + uint32_t(kind));
        QuantMatrix m = makeMatrix(type, rows, k, rng);
        auto x = randomVector(size_t(nTok * k), rng);
        auto bias = randomVector(size_t(rows), rng);
        auto y0 = randomVector(size_t(nTok * rows), rng);

        // reference: y = W x + bias + y0 (accumulate) in double
        std::vector<float> ref(y0.size());
        for (uint32_t t = 0; t < nTok; ++t)
            for (int64_t r = 0; r < rows; ++r) {
                double acc = 0;
                for (int64_t i = 0; i < k; ++i)
                    acc += double(m.dequant[size_t(r * k + i)]) * x[size_t(t * k + i)];
                ref[size_t(t * rows + r)] = float(acc + bias[size_t(r)] + y0[size_t(t * rows + r)]);
            }

        vk::GpuWeight w = uploadMatrix(*device_, type, m, rows, k);
        auto xb = deviceBuffer(*device_, x);
        auto bb = deviceBuffer(*device_, bias);
        auto yb = deviceBuffer(*device_, y0);
        vk::Sequence s(*device_, false);
        s.begin();
        ops(subgroups).matmul(s, 0, w, xb, 0, uint32_t(k), nTok, yb, 0, uint32_t(rows), true, &bb,
                              vk::GpuOps::MatMulKind(kind));
        s.end();
        s.submit();
        const double err = nmse(readFloats(yb, ref.size()), ref);
        QVERIFY2(err < 1e-9, qPrintable(QString("%1: nmse %2").arg(typeName(type)).arg(err)));
    }

    // Plain write (no bias, no accumulate) into an offset, strided output.
    void matmulOffsets()
    {
        std::mt19937 rng(7);
        const int64_t rows = 40, k = 64;
        QuantMatrix m = makeMatrix(GGMLType::Q8_0, rows, k, rng);
        vk::GpuWeight w = uploadMatrix(*device_, GGMLType::Q8_0, m, rows, k);
        const uint32_t nTok = 2, xOff = 5, yOff = 3, yStride = 50;
        auto x = randomVector(xOff + nTok * k, rng);
        std::vector<float> y(yOff + nTok * yStride, -7.0f);
        std::vector<float> ref = y;
        for (uint32_t t = 0; t < nTok; ++t)
            for (int64_t r = 0; r < rows; ++r) {
                double acc = 0;
                for (int64_t i = 0; i < k; ++i)
                    acc += double(m.dequant[size_t(r * k + i)]) * x[xOff + t * k + size_t(i)];
                ref[yOff + t * yStride + size_t(r)] = float(acc);
            }
        for (int kind : {int(vk::GpuOps::MatMulKind::Vec), int(vk::GpuOps::MatMulKind::Tiled)}) {
            auto xb = deviceBuffer(*device_, x);
            auto yb = deviceBuffer(*device_, y);
            vk::Sequence s(*device_, false);
            s.begin();
            ops(true).matmul(s, 0, w, xb, xOff, uint32_t(k), nTok, yb, yOff, yStride, false, nullptr,
                             vk::GpuOps::MatMulKind(kind));
            s.end();
            s.submit();
            auto got = readFloats(yb, y.size());
            QVERIFY2(nmse(got, ref) < 1e-10, qPrintable(QString("kind %1").arg(kind)));
            QCOMPARE(got[0], -7.0f);                  // untouched before the offset
            QCOMPARE(got[yOff + rows], -7.0f);        // untouched between strided rows
        }
    }

    void fusedInputs_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<bool>("norm"); // else SwiGLU
        QTest::addColumn<bool>("subgroups");
        QTest::newRow("rmsnorm vec shared") << int(vk::GpuOps::MatMulKind::Vec) << true << false;
        QTest::newRow("rmsnorm vec subgroup") << int(vk::GpuOps::MatMulKind::Vec) << true << true;
        QTest::newRow("swiglu vec") << int(vk::GpuOps::MatMulKind::Vec) << false << true;
        QTest::newRow("swiglu tiled") << int(vk::GpuOps::MatMulKind::Tiled) << false << true;
    }

    // y = W . rmsnorm(x) * nw  or  y = W . (silu(x) * up): the fused forms of the pass's
    // norm -> projection and SwiGLU -> down projection.
    void fusedInputs()
    {
        QFETCH(int, kind);
        QFETCH(bool, norm);
        QFETCH(bool, subgroups);
        if (subgroups && !device_->info().subgroupArithmetic)
            QSKIP("no subgroup arithmetic");
        std::mt19937 rng(17);
        const int64_t rows = 70, k = 256;
        const uint32_t nTok = kind == int(vk::GpuOps::MatMulKind::Vec) ? 3 : 35;
        QuantMatrix m = makeMatrix(GGMLType::Q4_K, rows, k, rng);
        vk::GpuWeight w = uploadMatrix(*device_, GGMLType::Q4_K, m, rows, k);
        auto x = randomVector(nTok * k, rng, 2.0f);
        auto aux = randomVector(norm ? k : nTok * k, rng);
        const float eps = 1e-5f;
        std::vector<float> in(x.size());
        for (uint32_t t = 0; t < nTok; ++t) {
            double ss = 0;
            for (int64_t i = 0; i < k; ++i)
                ss += double(x[t * k + i]) * x[t * k + i];
            const double scale = 1.0 / std::sqrt(ss / double(k) + eps);
            for (int64_t i = 0; i < k; ++i) {
                const double g = x[t * k + i];
                in[t * k + i] = norm ? float(g * scale * aux[size_t(i)]) : float(g / (1.0 + std::exp(-g)) * aux[t * k + i]);
            }
        }
        std::vector<float> ref(nTok * rows);
        for (uint32_t t = 0; t < nTok; ++t)
            for (int64_t r = 0; r < rows; ++r) {
                double acc = 0;
                for (int64_t i = 0; i < k; ++i)
                    acc += double(m.dequant[size_t(r * k + i)]) * in[t * k + i];
                ref[t * rows + r] = float(acc);
            }
        auto xb = deviceBuffer(*device_, x);
        auto ab = deviceBuffer(*device_, aux);
        vk::Buffer yb(*device_, ref.size() * 4, vk::Buffer::Kind::Device);
        vk::Sequence s(*device_, false);
        s.begin();
        ops(subgroups).matmul(s, 0, w, xb, 0, uint32_t(k), nTok, yb, 0, uint32_t(rows), false, nullptr,
                              vk::GpuOps::MatMulKind(kind),
                              norm ? vk::MatMulInput::rmsNorm(ab, eps) : vk::MatMulInput::swiglu(ab));
        s.end();
        s.submit();
        const double err = nmse(readFloats(yb, ref.size()), ref);
        QVERIFY2(err < 1e-9, qPrintable(QString::number(err)));
        if (norm) {
            vk::Sequence bad(*device_, false);
            bad.begin();
            QVERIFY_THROWS_EXCEPTION(InvalidArgument,
                                     ops(true).matmul(bad, 0, w, xb, 0, uint32_t(k), nTok, yb, 0, uint32_t(rows), false,
                                                      nullptr, vk::GpuOps::MatMulKind::Tiled,
                                                      vk::MatMulInput::rmsNorm(ab, eps)));
            bad.end();
        }
    }

    void kvAppendRotatesKeys_data() { rope_data(); }
    // Keys rotated on their way into the cache equal the CPU rotation rounded to F16; values are
    // stored unrotated.
    void kvAppendRotatesKeys()
    {
        QFETCH(bool, neox);
        std::mt19937 rng(23);
        const uint32_t nTok = 4, nHeadKv = 3, hd = 16, kvDim = nHeadKv * hd, pos0 = 57, nCtx = 64;
        const float base = 500000.0f, scale = 1.0f;
        auto k = randomVector(nTok * kvDim, rng), v = randomVector(nTok * kvDim, rng);
        std::vector<float> ref = k;
        for (uint32_t t = 0; t < nTok; ++t)
            for (uint32_t h = 0; h < nHeadKv; ++h)
                for (uint32_t i = 0; i < hd / 2; ++i) {
                    const double theta = double(pos0 + t) * scale * std::pow(double(base), -2.0 * i / hd);
                    const uint32_t a = t * kvDim + h * hd + (neox ? i : 2 * i), b = a + (neox ? hd / 2 : 1);
                    ref[a] = float(k[a] * std::cos(theta) - k[b] * std::sin(theta));
                    ref[b] = float(k[a] * std::sin(theta) + k[b] * std::cos(theta));
                }
        auto kb = deviceBuffer(*device_, k);
        auto vb = deviceBuffer(*device_, v);
        vk::Buffer kc(*device_, nCtx * kvDim * 2, vk::Buffer::Kind::Device);
        vk::Buffer vc(*device_, nCtx * kvDim * 2, vk::Buffer::Kind::Device);
        auto pb = deviceBuffer(*device_, std::vector<uint32_t>{pos0});
        vk::Sequence s(*device_, false);
        s.begin();
        ops(true).kvAppend(s, 0, kb, vb, kc, vc, pb, nTok, kvDim, 0, vk::KeyRope{true, hd, base, scale, neox});
        s.end();
        s.submit();
        std::vector<uint16_t> kh(nTok * kvDim), vh(nTok * kvDim);
        kc.download(kh.data(), kh.size() * 2, uint64_t(pos0) * kvDim * 2);
        vc.download(vh.data(), vh.size() * 2, uint64_t(pos0) * kvDim * 2);
        std::vector<float> gotK(kh.size()), gotV(vh.size()), refV(v.size());
        for (size_t i = 0; i < kh.size(); ++i) {
            gotK[i] = fp16ToFp32(kh[i]);
            gotV[i] = fp16ToFp32(vh[i]);
            refV[i] = roundF16(v[i]);
            ref[i] = roundF16(ref[i]);
        }
        QVERIFY2(nmse(gotK, ref) < 1e-6, qPrintable(QString::number(nmse(gotK, ref))));
        QVERIFY(nmse(gotV, refV) < 1e-7);
    }

    void embed_data()
    {
        QTest::addColumn<GGMLType>("type");
        for (GGMLType t : kWeightTypes)
            QTest::newRow(typeName(t)) << t;
    }

    // Rows of the table come out exactly as the CPU reference dequantizes them.
    void embed()
    {
        QFETCH(GGMLType, type);
        const int64_t bs = typeTraits(type).blockSize;
        const int64_t dim = bs == 256 ? 256 : 96, vocab = 19;
        std::mt19937 rng{uint32_t(type)};
        QuantMatrix m = makeMatrix(type, vocab, dim, rng);
        vk::GpuWeight w = uploadMatrix(*device_, type, m, vocab, dim);
        const std::vector<int32_t> ids = {18, 0, 7, 7, 3};
        auto tb = deviceBuffer(*device_, ids);
        vk::Buffer out(*device_, ids.size() * dim * 4, vk::Buffer::Kind::Device);
        vk::Sequence s(*device_, false);
        s.begin();
        ops(true).embed(s, w, tb, uint32_t(ids.size()), out);
        s.end();
        s.submit();
        auto got = readFloats(out, ids.size() * size_t(dim));
        std::vector<float> ref;
        for (int32_t id : ids)
            ref.insert(ref.end(), m.dequant.begin() + id * dim, m.dequant.begin() + (id + 1) * dim);
        QVERIFY2(nmse(got, ref) < 1e-12, qPrintable(QString::number(nmse(got, ref))));
    }

    void rmsNorm_data() { addReductionColumns(); }
    void rmsNorm()
    {
        QFETCH(bool, subgroups);
        std::mt19937 rng(3);
        const uint32_t n = 333, rows = 4, inOff = 2 * n; // skip two rows of the input
        auto x = randomVector(inOff + rows * n, rng, 3.0f);
        auto w = randomVector(n, rng);
        const float eps = 1e-5f;
        std::vector<float> ref(rows * n);
        for (uint32_t r = 0; r < rows; ++r) {
            double ss = 0;
            for (uint32_t i = 0; i < n; ++i)
                ss += double(x[inOff + r * n + i]) * x[inOff + r * n + i];
            const double scale = 1.0 / std::sqrt(ss / n + eps);
            for (uint32_t i = 0; i < n; ++i)
                ref[r * n + i] = float(x[inOff + r * n + i] * scale * w[i]);
        }
        auto xb = deviceBuffer(*device_, x);
        auto wb = deviceBuffer(*device_, w);
        vk::Buffer out(*device_, ref.size() * 4, vk::Buffer::Kind::Device);
        vk::Sequence s(*device_, false);
        s.begin();
        ops(subgroups).rmsNorm(s, 0, xb, inOff, rows, n, wb, out, 0, eps);
        s.end();
        s.submit();
        QVERIFY(nmse(readFloats(out, ref.size()), ref) < 1e-11);
    }

    void rope_data()
    {
        QTest::addColumn<bool>("neox");
        QTest::newRow("normal") << false;
        QTest::newRow("neox") << true;
    }
    void rope()
    {
        QFETCH(bool, neox);
        std::mt19937 rng(11);
        const uint32_t nTok = 3, nHeads = 5, hd = 24, stride = nHeads * hd + 8, pos0 = 301;
        const float base = 10000.0f, scale = 0.5f;
        auto x = randomVector(nTok * stride, rng);
        std::vector<float> ref = x;
        for (uint32_t t = 0; t < nTok; ++t)
            for (uint32_t h = 0; h < nHeads; ++h)
                for (uint32_t i = 0; i < hd / 2; ++i) {
                    const double theta = double(pos0 + t) * scale * std::pow(double(base), -2.0 * i / hd);
                    const uint32_t a = t * stride + h * hd + (neox ? i : 2 * i);
                    const uint32_t b = a + (neox ? hd / 2 : 1);
                    ref[a] = float(x[a] * std::cos(theta) - x[b] * std::sin(theta));
                    ref[b] = float(x[a] * std::sin(theta) + x[b] * std::cos(theta));
                }
        auto xb = deviceBuffer(*device_, x);
        auto pb = deviceBuffer(*device_, std::vector<uint32_t>{pos0});
        vk::Sequence s(*device_, false);
        s.begin();
        ops(true).rope(s, 0, xb, pb, nTok, nHeads, hd, stride, base, scale, neox);
        s.end();
        s.submit();
        const double err = nmse(readFloats(xb, x.size()), ref);
        QVERIFY2(err < 1e-9, qPrintable(QString::number(err)));
    }

    void attention_data() { addReductionColumns(); }
    // Cache filled by kvAppend in two steps (100 tokens, then 3 more at position 100); the three
    // queries see 101..103 keys, more than one 64-key chunk, so the online softmax is exercised.
    void attention()
    {
        QFETCH(bool, subgroups);
        std::mt19937 rng(5);
        const uint32_t nHead = 6, nHeadKv = 2, hd = 40, kvDim = nHeadKv * hd, qDim = nHead * hd;
        const uint32_t nCtx = 128, first = 100, nTok = 3, layerOff = nCtx * kvDim / 2; // use "layer 1"
        auto k = randomVector((first + nTok) * kvDim, rng);
        auto v = randomVector((first + nTok) * kvDim, rng);
        auto q = randomVector(nTok * qDim, rng);
        vk::Buffer kc(*device_, 2 * nCtx * kvDim * 2, vk::Buffer::Kind::Device);
        vk::Buffer vc(*device_, 2 * nCtx * kvDim * 2, vk::Buffer::Kind::Device);
        vk::Buffer params(*device_, 16, vk::Buffer::Kind::Host);
        auto kAll = deviceBuffer(*device_, k);
        auto vAll = deviceBuffer(*device_, v);
        std::vector<float> kTail(k.begin() + first * kvDim, k.end()), vTail(v.begin() + first * kvDim, v.end());
        auto kT = deviceBuffer(*device_, kTail);
        auto vT = deviceBuffer(*device_, vTail);
        auto qb = deviceBuffer(*device_, q);
        vk::Buffer out(*device_, nTok * qDim * 4, vk::Buffer::Kind::Device);

        uint32_t pos0 = 0;
        params.upload(&pos0, 4);
        vk::Sequence s1(*device_, false);
        s1.begin();
        ops(subgroups).kvAppend(s1, 1, kAll, vAll, kc, vc, params, first, kvDim, layerOff);
        s1.end();
        s1.submit();
        pos0 = first;
        params.upload(&pos0, 4);
        vk::Sequence s2(*device_, false);
        s2.begin();
        ops(subgroups).kvAppend(s2, 1, kT, vT, kc, vc, params, nTok, kvDim, layerOff);
        s2.barrier();
        ops(subgroups).attention(s2, 1, qb, kc, vc, out, params, nTok, nHead, nHeadKv, hd, layerOff);
        s2.end();
        s2.submit();

        // reference: causal softmax(q k^T / sqrt(hd)) v over F16-rounded keys and values
        std::vector<float> ref(nTok * qDim);
        for (uint32_t t = 0; t < nTok; ++t)
            for (uint32_t h = 0; h < nHead; ++h) {
                const uint32_t kvh = h / (nHead / nHeadKv), nKv = first + t + 1;
                std::vector<double> sc(nKv);
                double mx = -1e300;
                for (uint32_t p = 0; p < nKv; ++p) {
                    double dot = 0;
                    for (uint32_t d = 0; d < hd; ++d)
                        dot += double(q[t * qDim + h * hd + d]) * roundF16(k[p * kvDim + kvh * hd + d]);
                    sc[p] = dot / std::sqrt(double(hd));
                    mx = std::max(mx, sc[p]);
                }
                double sum = 0;
                for (double& x : sc)
                    sum += (x = std::exp(x - mx));
                for (uint32_t d = 0; d < hd; ++d) {
                    double acc = 0;
                    for (uint32_t p = 0; p < nKv; ++p)
                        acc += sc[p] * roundF16(v[p * kvDim + kvh * hd + d]);
                    ref[t * qDim + h * hd + d] = float(acc / sum);
                }
            }
        const double err = nmse(readFloats(out, ref.size()), ref);
        QVERIFY2(err < 1e-9, qPrintable(QString::number(err)));

        // the cache holds the F16-rounded keys at the right words of layer 1
        std::vector<uint16_t> cache(nCtx * kvDim);
        kc.download(cache.data(), cache.size() * 2, uint64_t(layerOff) * 4);
        QCOMPARE(fp16ToFp32(cache[7 * kvDim + 3]), roundF16(k[7 * kvDim + 3]));
        QCOMPARE(fp16ToFp32(cache[(first + 2) * kvDim + 41]), roundF16(k[(first + 2) * kvDim + 41]));
    }

    void swigluAndAdd()
    {
        std::mt19937 rng(9);
        const uint32_t n = 1000;
        auto g = randomVector(n, rng, 3.0f), u = randomVector(n, rng), y = randomVector(n, rng);
        std::vector<float> refG(n), refAdd(n);
        for (uint32_t i = 0; i < n; ++i) {
            refG[i] = float(g[i] / (1.0 + std::exp(-double(g[i]))) * u[i]);
            refAdd[i] = refG[i] + y[i];
        }
        auto gb = deviceBuffer(*device_, g);
        auto ub = deviceBuffer(*device_, u);
        auto yb = deviceBuffer(*device_, y);
        vk::Sequence s(*device_, false);
        s.begin();
        ops(true).swiglu(s, 0, gb, ub, n);
        s.end();
        s.submit();
        QVERIFY(nmse(readFloats(gb, n), refG) < 1e-12);
        s.begin();
        ops(true).add(s, 0, gb, yb, n);
        s.end();
        s.submit();
        QVERIFY(nmse(readFloats(gb, n), refAdd) < 1e-12);
    }

    void argmax()
    {
        std::mt19937 rng(13);
        auto v = randomVector(5003, rng);
        v[4100] = 9.0f;
        v[4999] = 9.0f; // a tie: the lower index wins, as in a host std::max_element
        auto lb = deviceBuffer(*device_, v);
        vk::Buffer res(*device_, 8, vk::Buffer::Kind::Host);
        vk::Sequence s(*device_, false);
        s.begin();
        ops(true).argmax(s, lb, 3, 5000, res); // over v[3..5003): index 4097
        s.end();
        s.submit();
        uint32_t idx = 0;
        res.download(&idx, 4);
        QCOMPARE(idx, 4097u);
    }

    // Timestamps land in OpTiming with op names and layers.
    void profiling()
    {
        if (!device_->info().timestamps)
            QSKIP("device has no compute timestamps");
        std::vector<float> g(4096, 1.0f);
        auto gb = deviceBuffer(*device_, g);
        vk::Sequence s(*device_, true);
        s.begin();
        ops(true).swiglu(s, 4, gb, gb, 4096);
        ops(true).add(s, 5, gb, gb, 4096);
        s.end();
        s.submit();
        auto t = s.timings();
        QCOMPARE(int(t.size()), 2);
        QCOMPARE(QString::fromStdString(t[0].op), QString("swiglu"));
        QCOMPARE(t[1].layer, 5);
        QVERIFY(t[0].microseconds >= 0.0);
    }

    void unknownShaderIsDeviceError()
    {
        QVERIFY_THROWS_EXCEPTION(DeviceError, device_->pipelines().get("no_such_shader", {64}));
    }

    // Small buffers share one VkDeviceMemory block; freed ranges are reused.
    void memorySubAllocation()
    {
        auto& alloc = device_->allocator();
        const uint64_t reservedBefore = alloc.bytesReserved(), usedBefore = alloc.bytesUsed();
        {
            std::vector<vk::Buffer> bufs;
            for (int i = 0; i < 20; ++i)
                bufs.emplace_back(*device_, 1000 + i, vk::Buffer::Kind::Device);
            QVERIFY(alloc.bytesUsed() >= usedBefore + 20 * 1000);
            QVERIFY(alloc.bytesReserved() <= reservedBefore + (256ull << 20)); // at most one new block
            std::vector<int> data(250, 7), back(250, 0);
            bufs[3].upload(data.data(), 1000);
            bufs[3].download(back.data(), 1000);
            QCOMPARE(back, data);
        }
        QCOMPARE(alloc.bytesUsed(), usedBefore);
        const uint64_t reservedAfter = alloc.bytesReserved();
        std::vector<vk::Buffer> again;
        for (int i = 0; i < 20; ++i)
            again.emplace_back(*device_, 1000, vk::Buffer::Kind::Device);
        QCOMPARE(alloc.bytesReserved(), reservedAfter); // reused, nothing new from the driver
    }

    // Asking for more than the heap holds is a DeviceError naming the sizes, not a driver crash.
    void outOfMemoryIsDeviceError()
    {
        const auto& mp = device_->memoryProperties();
        VkMemoryRequirements req{};
        req.size = mp.memoryHeaps[mp.memoryTypes[0].heapIndex].size * 2;
        req.alignment = 256;
        req.memoryTypeBits = 1u; // memory type 0
        try {
            device_->allocator().allocate(req, false);
            QFAIL("allocation larger than the heap succeeded");
        } catch (const DeviceError& e) {
            QVERIFY2(QString(e.what()).contains("out of device memory"), e.what());
        }
    }

    // The driver's pipeline cache is written to $XDG_CACHE_HOME/tenfold and read back: the file
    // starts with the Vulkan spec's cache header for this very device, a device opened later hands
    // the whole file to the driver, and a corrupt file is dropped (the device still opens). Some
    // drivers (lavapipe) keep only the header in the cache; real GPUs add the compiled pipelines.
    void pipelineCachePersists()
    {
        QTemporaryDir home;
        QVERIFY(home.isValid());
        const QByteArray previous = qgetenv("XDG_CACHE_HOME");
        qputenv("XDG_CACHE_HOME", home.path().toUtf8());
        const auto restore = qScopeGuard([&] { qputenv("XDG_CACHE_HOME", previous); });

        std::filesystem::path file;
        size_t emptySize = 0, savedSize = 0;
        VkPhysicalDeviceProperties props{};
        {
            vk::Device d(device_->info().index);
            props = d.properties();
            file = d.pipelines().cacheFile();
            QVERIFY(!std::filesystem::exists(file));
            QCOMPARE(d.pipelines().loadedBytes(), size_t(0));
            emptySize = d.pipelines().dataSize();
            d.pipelines().get("swiglu", {64});
            d.pipelines().get("add", {64});
            savedSize = d.pipelines().dataSize();
        }
        qInfo("pipeline cache: %zu bytes empty, %zu with two pipelines", emptySize, savedSize);
        QVERIFY(QString::fromStdString(file.string()).startsWith(home.path() + "/tenfold/"));
        QVERIFY(std::filesystem::exists(file));
        QCOMPARE(uint64_t(std::filesystem::file_size(file)), uint64_t(savedSize));
        {
            // VkPipelineCacheHeaderVersionOne: size, version, vendor, device, cache UUID.
            std::ifstream in(file, std::ios::binary);
            uint32_t head[4] = {};
            uint8_t uuid[VK_UUID_SIZE] = {};
            in.read(reinterpret_cast<char*>(head), sizeof head);
            in.read(reinterpret_cast<char*>(uuid), sizeof uuid);
            QVERIFY(in.good());
            QCOMPARE(head[1], uint32_t(VK_PIPELINE_CACHE_HEADER_VERSION_ONE));
            QCOMPARE(head[2], props.vendorID);
            QCOMPARE(head[3], props.deviceID);
            QVERIFY(std::memcmp(uuid, props.pipelineCacheUUID, VK_UUID_SIZE) == 0);
        }
        {
            vk::Device d2(device_->info().index); // loads the file
            QCOMPARE(d2.pipelines().loadedBytes(), savedSize);
            QCOMPARE(d2.pipelines().dataSize(), savedSize);
            QVERIFY(d2.pipelines().get("swiglu", {64}) != VK_NULL_HANDLE);
        }
        // A corrupt file: dropped, and the device still opens and builds pipelines.
        {
            std::ofstream corrupt(file, std::ios::binary | std::ios::trunc);
            corrupt << "not a pipeline cache, but long enough to hold a header's worth of bytes";
        }
        vk::Device d3(device_->info().index);
        QCOMPARE(d3.pipelines().loadedBytes(), size_t(0));
        QCOMPARE(d3.pipelines().dataSize(), emptySize);
        QVERIFY(d3.pipelines().get("swiglu", {64}) != VK_NULL_HANDLE);
    }

    void cleanupTestCase()
    {
        opsShared_.reset();
        opsSubgroup_.reset();
        device_.reset();
    }
};

QTEST_GUILESS_MAIN(TestVulkanKernels)
#include "tst_vulkan_kernels.moc"
