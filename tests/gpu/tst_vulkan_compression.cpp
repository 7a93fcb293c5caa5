// Low-rank factorised models on the Vulkan backend (two dispatches per factorised weight,
// gpu_ops.cpp) against the CPU runtime on the same file, whose own factorised product is held
// against the dense product of the factors in tst_compression. A long prompt takes the tiled
// mat-mul, a single token the mat-vec; palette weights are refused with a clear error.
#include "gguf/gguf_file.h"
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
using tenfold::test::nmse;

class TestVulkanCompression : public QObject {
    Q_OBJECT
    std::unique_ptr<Backend> gpu_, cpu_;
    QTemporaryDir dir_;

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
        std::shared_ptr<const Model> model = Model::loadGGUF(path);
        QVERIFY(model->layers()[0].ffnUp.factorised());
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

    void paletteIsRefused()
    {
        const auto base = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(base);
        const std::string path = (dir_.path() + "/pal.gguf").toStdString();
        paletteCompress(base, path, {});
        std::shared_ptr<const Model> model = Model::loadGGUF(path);
        QVERIFY_THROWS_EXCEPTION(UnsupportedError, gpu_->createContext(model, {}));
    }
};

QTEST_GUILESS_MAIN(TestVulkanCompression)
#include "tst_vulkan_compression.moc"
