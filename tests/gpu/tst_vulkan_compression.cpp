// Compressed weights on the Vulkan backend. Low-rank factorised models (two dispatches per
// factorised weight, gpu_ops.cpp) and palette models (TYPE_PAL2/4 in shaders/dequant.glsl) against
// the CPU runtime on the same file, whose own products are held against dense references in
// tst_compression; a long prompt takes the tiled mat-mul, a single token the mat-vec. The palette
// shaders themselves against a dense matrix built straight from unpacked indices (independent of
// the packing and of the upload), on odd shapes: rows at odd bytes, lengths not a multiple of 4.
#include "gguf/gguf_file.h"
#include "gpu_model.h"
#include "gpu_ops.h"
#include "vk/sequence.h"
#include "model/model.h"
#include "passes/low_rank.h"
#include "passes/palette.h"
#include "runtime/cpu_backend.h"
#include "tokenizer/tokenizer.h"
#include "vk_test_util.h"
#include "vulkan_backend.h"

#include "common/shared_data.h"
#include "core/error.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace tenfold;
using tenfold::test::deviceBuffer;
using tenfold::test::nmse;
using tenfold::test::randomVector;
using tenfold::test::readFloats;

namespace {

// A palette matrix from random indices and tables, with the dense values it stands for.
struct PaletteMatrix {
    std::vector<int> idx;          // [rows][k], unpacked
    std::vector<uint8_t> packed;
    std::vector<float> table, scales;
    std::shared_ptr<PaletteWeight> p;
    WeightTensor w;
    std::vector<double> dense;     // [rows][k] = table[group][idx] * scale[row]
};

PaletteMatrix makePalette(int bits, int64_t k, int64_t rows, int64_t groupRows, bool rowScale, std::mt19937& rng)
{
    PaletteMatrix m;
    const int e = 1 << bits;
    const int64_t groups = rows / groupRows;
    m.table = randomVector(size_t(groups * e), rng);
    m.scales = randomVector(size_t(rows), rng);
    std::uniform_int_distribution<int> pick(0, e - 1);
    m.idx.resize(size_t(rows * k));
    for (int& i : m.idx)
        i = pick(rng);
    const int64_t rowBytes = k * bits / 8;
    m.packed.assign(size_t(rows * rowBytes), 0);
    for (int64_t r = 0; r < rows; ++r)
        packIndices(m.idx.data() + r * k, k, bits, m.packed.data() + r * rowBytes);
    m.p = std::make_shared<PaletteWeight>();
    m.p->bits = bits;
    m.p->groupRows = groupRows;
    m.p->groups = groups;
    m.p->indices = m.packed.data();
    m.p->indexRowBytes = size_t(rowBytes);
    m.p->table = m.table.data();
    m.p->rowScale = rowScale ? m.scales.data() : nullptr;
    m.w.name = "pal";
    m.w.ne0 = k;
    m.w.ne1 = rows;
    m.w.palette = m.p;
    m.dense.resize(size_t(rows * k));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < k; ++j)
            m.dense[size_t(r * k + j)] = double(m.table[size_t((r / groupRows) * e + m.idx[size_t(r * k + j)])]) *
                                         (rowScale ? double(m.scales[size_t(r)]) : 1.0);
    return m;
}

} // namespace

class TestVulkanCompression : public QObject {
    Q_OBJECT
    std::unique_ptr<Backend> gpu_, cpu_;
    std::shared_ptr<vk::Device> device_;
    std::unique_ptr<vk::GpuOps> opsSubgroup_, opsShared_;
    QTemporaryDir dir_;

    // One compressed file on the GPU and the CPU: every prompt position (tiled) and one decode
    // step (mat-vec) agree.
    void compareWithCpu(const std::string& path)
    {
        std::shared_ptr<const Model> model = Model::loadGGUF(path);
        const size_t V = size_t(model->hparams().nVocab);
        ContextParams cp;
        cp.nCtx = 256;
        auto gctx = gpu_->createContext(model, cp);
        auto cctx = cpu_->createContext(model, cp);
        std::vector<int32_t> tokens = model->tokenizer().encode(
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her "
            "friends and her dog. One day, she saw a big red ball under a tree and she wanted to play with it.", true);
        QVERIFY(tokens.size() >= 40); // the tiled path
        std::vector<float> gl, cl;
        gctx->decode(tokens, true, gl, nullptr);
        cctx->decode(tokens, true, cl, nullptr);
        QCOMPARE(gl.size(), cl.size());
        for (size_t t = 0; t < tokens.size(); ++t) {
            std::vector<float> g(gl.begin() + t * V, gl.begin() + (t + 1) * V), c(cl.begin() + t * V, cl.begin() + (t + 1) * V);
            QVERIFY2(nmse(g, c) < 1e-4, qPrintable(QString("prompt position %1: nmse %2").arg(t).arg(nmse(g, c))));
        }
        const int32_t next = 13; // one more token: the mat-vec path
        gctx->decode({&next, 1}, false, gl, nullptr);
        cctx->decode({&next, 1}, false, cl, nullptr);
        QVERIFY2(nmse(gl, cl) < 1e-4, qPrintable(QString("decode: nmse %1").arg(nmse(gl, cl))));
    }

private slots:
    void initTestCase()
    {
        if (listVulkanDevices().empty())
            QSKIP("no Vulkan device available (no loader, driver or device); install Mesa's lavapipe "
                  "(mesa-vulkan-drivers) to run these tests on a CPU");
        try {
            gpu_ = createVulkanBackend();
        } catch (const DeviceError& e) {
            QSKIP(qPrintable(QString("no usable Vulkan device: ") + e.what()));
        }
        cpu_ = createCpuBackend(2);
        std::string why;
        device_ = test::openVulkanDevice(&why);
        QVERIFY2(device_, why.c_str());
        qputenv("TENFOLD_VK_NO_SUBGROUPS", "1");
        opsShared_ = std::make_unique<vk::GpuOps>(*device_);
        qunsetenv("TENFOLD_VK_NO_SUBGROUPS");
        opsSubgroup_ = std::make_unique<vk::GpuOps>(*device_);
    }

    void lowRankMatchesCpu()
    {
        const auto base = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(base);
        LowRankOptions o;
        o.factorType = GGMLType::F16;
        const std::shared_ptr<GGUFFile> src = GGUFFile::open(base); // alive for the loop
        for (const GGUFTensorInfo& t : src->tensors())
            if (t.ne.size() == 2 && t.name.rfind("blk.", 0) == 0)
                o.ranks[t.name] = 32;
        const std::string path = (dir_.path() + "/lr.gguf").toStdString();
        lowRankCompress(base, path, o);
        QVERIFY(Model::loadGGUF(path)->layers()[0].ffnUp.factorised());
        compareWithCpu(path);
    }

    void paletteKernels_data()
    {
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("k");
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("groupRows");
        QTest::addColumn<bool>("rowScale");
        QTest::addColumn<int>("kind");
        QTest::addColumn<bool>("subgroups");
        struct Shape { const char* name; int bits, k, rows, groupRows; bool scale; };
        // 4-bit k=70: 35 index bytes, so odd rows start at odd bytes, and k % 4 != 0 (scalar loop);
        // 2-bit k=68: 17 bytes per row through the four-wide path; 4-bit k=96 with 7-row groups.
        const Shape shapes[] = {{"4-bit k70 scaled", 4, 70, 77, 11, true}, {"2-bit k68", 2, 68, 66, 6, false},
                                {"4-bit k96 groups7", 4, 96, 70, 7, false}, {"2-bit k132 scaled", 2, 132, 65, 13, true},
                                // 3-bit k72: 27 bytes per row (odd rows at odd bytes), indices straddling bytes
                                {"3-bit k72 scaled", 3, 72, 67, 67, true}, {"3-bit k200 groups5", 3, 200, 65, 5, false}};
        for (const Shape& sh : shapes) {
            const auto row = [&](const char* how) { return (std::string(sh.name) + " " + how); };
            QTest::newRow(row("vec shared").c_str()) << sh.bits << sh.k << sh.rows << sh.groupRows << sh.scale
                                                     << int(vk::GpuOps::MatMulKind::Vec) << false;
            if (device_ && device_->info().subgroupArithmetic)
                QTest::newRow(row("vec subgroup").c_str()) << sh.bits << sh.k << sh.rows << sh.groupRows << sh.scale
                                                           << int(vk::GpuOps::MatMulKind::Vec) << true;
            QTest::newRow(row("tiled").c_str()) << sh.bits << sh.k << sh.rows << sh.groupRows << sh.scale
                                                << int(vk::GpuOps::MatMulKind::Tiled) << true;
        }
    }

    // y[t][r] = sum_j W(r, j) x[t][j] + bias[r] + y0[t][r], W decoded from its palette in-shader.
    void paletteKernels()
    {
        QFETCH(int, bits);
        QFETCH(int, k);
        QFETCH(int, rows);
        QFETCH(int, groupRows);
        QFETCH(bool, rowScale);
        QFETCH(int, kind);
        QFETCH(bool, subgroups);
        std::mt19937 rng(uint32_t(bits * 1000 + k + kind));
        PaletteMatrix m = makePalette(bits, k, rows, groupRows, rowScale, rng);
        const uint32_t nTok = kind == int(vk::GpuOps::MatMulKind::Vec) ? 3 : 41;
        auto x = randomVector(size_t(nTok) * size_t(k), rng);
        auto bias = randomVector(size_t(rows), rng);
        auto y0 = randomVector(size_t(nTok) * size_t(rows), rng);
        std::vector<float> ref(y0.size());
        for (uint32_t t = 0; t < nTok; ++t)
            for (int r = 0; r < rows; ++r) {
                double acc = 0;
                for (int j = 0; j < k; ++j)
                    acc += m.dense[size_t(r * k + j)] * x[size_t(t) * k + j];
                ref[size_t(t) * rows + r] = float(acc + bias[size_t(r)] + y0[size_t(t) * rows + r]);
            }
        std::shared_ptr<vk::GpuWeight> w = vk::uploadWeight(*device_, m.w);
        QCOMPARE(w->paletteBits, bits);
        auto xb = deviceBuffer(*device_, x);
        auto bb = deviceBuffer(*device_, bias);
        auto yb = deviceBuffer(*device_, y0);
        vk::Sequence s(*device_, false);
        s.begin();
        (subgroups ? *opsSubgroup_ : *opsShared_)
            .matmul(s, 0, *w, xb, 0, uint32_t(k), nTok, yb, 0, uint32_t(rows), true, &bb, vk::GpuOps::MatMulKind(kind));
        s.end();
        s.submit();
        const double err = nmse(readFloats(yb, ref.size()), ref);
        QVERIFY2(err < 1e-10, qPrintable(QString("nmse %1").arg(err)));
    }

    // A palette whose tables do not cover its rows, or whose index bytes do not match the row
    // length, is refused by name before anything reaches the device.
    void paletteWithBadLayoutIsRefused()
    {
        std::mt19937 rng{5};
        PaletteMatrix m = makePalette(4, 64, 12, 4, false, rng);
        m.p->groups = 2; // 2 x 4 rows for a 12-row matrix
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, vk::uploadWeight(*device_, m.w));
        m.p->groups = 3;
        m.p->indexRowBytes = 31; // 64 4-bit indices take 32 bytes
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, vk::uploadWeight(*device_, m.w));
    }

    // Embedding rows looked up from a palette table: every value exactly the table entry times
    // the row scale (float products, as the CPU's paletteDecodeRow computes them).
    void paletteEmbedding()
    {
        for (int bits : {2, 3, 4}) {
            std::mt19937 rng{uint32_t(bits)};
            const int k = bits == 2 ? 52 : bits == 3 ? 40 : 38, rows = 30; // 3-bit: 15 bytes a row
            PaletteMatrix m = makePalette(bits, k, rows, 5, true, rng);
            std::shared_ptr<vk::GpuWeight> w = vk::uploadWeight(*device_, m.w);
            const std::vector<int32_t> ids = {29, 0, 7, 7, 13};
            auto tb = deviceBuffer(*device_, ids);
            vk::Buffer out(*device_, ids.size() * size_t(k) * 4, vk::Buffer::Kind::Device);
            vk::Sequence s(*device_, false);
            s.begin();
            opsSubgroup_->embed(s, *w, tb, uint32_t(ids.size()), out);
            s.end();
            s.submit();
            const std::vector<float> got = readFloats(out, ids.size() * size_t(k));
            for (size_t t = 0; t < ids.size(); ++t)
                for (int j = 0; j < k; ++j) {
                    const int r = ids[t];
                    const float want = m.scales[size_t(r)] * m.table[size_t((r / 5) * (1 << bits) + m.idx[size_t(r * k + j)])];
                    QVERIFY2(got[t * size_t(k) + size_t(j)] == want,
                             qPrintable(QString("%1-bit token %2 column %3").arg(bits).arg(r).arg(j)));
                }
        }
    }

    // Whole palette models: 4- and 3-bit everywhere including the embedding (3-bit leaves the
    // 172-wide FFN-down rows dense: 64.5 index bytes), and a mix of 4- and 2-bit tensors
    // (stories260K's FFN rows are 172 wide: 43 index bytes at 2 bits).
    void paletteMatchesCpu_data()
    {
        QTest::addColumn<bool>("mixed");
        QTest::addColumn<int>("bits");
        QTest::newRow("4-bit, embedding too") << false << 4;
        QTest::newRow("3-bit, embedding too") << false << 3;
        QTest::newRow("4-bit with 2-bit ffn_down and attn_k") << true << 4;
    }

    void paletteMatchesCpu()
    {
        QFETCH(bool, mixed);
        QFETCH(int, bits);
        const auto base = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(base);
        const std::string path =
            (dir_.path() + (mixed ? "/pal-mixed.gguf" : QStringLiteral("/pal%1.gguf").arg(bits))).toStdString();
        PaletteOptions o;
        o.bits = bits;
        o.embedding = !mixed;
        if (mixed)
            o.bitsFor = {{"ffn_down", 2}, {"attn_k", 2}};
        paletteCompress(base, path, o);
        std::shared_ptr<const Model> model = Model::loadGGUF(path);
        QVERIFY(model->layers()[0].ffnUp.palette);
        QCOMPARE(model->layers()[0].ffnUp.palette->bits, bits);
        if (mixed)
            QCOMPARE(model->layers()[0].ffnDown.palette->bits, 2);
        else
            QVERIFY(model->tokenEmbedding().palette);
        compareWithCpu(path);
    }
};

QTEST_GUILESS_MAIN(TestVulkanCompression)
#include "tst_vulkan_compression.moc"
