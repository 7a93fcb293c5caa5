// The Vulkan backend end to end against the CPU backend on the shared models: prompt logits at
// every position, the same greedy continuation (and the reference engine's text for it),
// multi-chunk prompts, truncate/re-decode, profiling, argmax on the device, and error paths.
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "runtime/cpu_backend.h"
#include "tokenizer/tokenizer.h"
#include "vulkan_backend.h"
#include "vulkan_context.h"
#include "vk_test_util.h"

#include "common/shared_data.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include "runtime/generator.h"
#include "tokenizer/tokenizer.h"

#include <QtTest>

#include <algorithm>
#include <fstream>
#include <set>

using namespace tenfold;
using tenfold::test::nmse;

namespace {

int32_t hostArgmax(const float* v, size_t n) { return int32_t(std::max_element(v, v + n) - v); }

// The reference engine's greedy continuation for (model file, prompt), from reference/greedy.json.
QString referenceContinuation(const QString& modelFile, const QString& prompt)
{
    QFile f(QString::fromStdString(test::sharedFile("reference/greedy.json").string()));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    for (const auto& v : QJsonDocument::fromJson(f.readAll()).array()) {
        QJsonObject o = v.toObject();
        if (o["model"].toString() == modelFile && o["prompt"].toString() == prompt)
            return o["continuation"].toString();
    }
    return {};
}

} // namespace

class TestVulkanBackend : public QObject {
    Q_OBJECT

    std::unique_ptr<Backend> gpu_, cpu_;
    QTemporaryDir cacheHome_;

    std::shared_ptr<const Model> loadShared(const char* file)
    {
        return Model::loadGGUF(test::sharedFile((std::string("models/") + file).c_str()));
    }

private slots:
    void initTestCase()
    {
        QVERIFY(cacheHome_.isValid());
        qputenv("XDG_CACHE_HOME", cacheHome_.path().toUtf8());
        if (listVulkanDevices().empty())
            QSKIP("no Vulkan device available (no loader, driver or device); install Mesa's lavapipe "
                  "(mesa-vulkan-drivers) to run these tests on a CPU");
        try {
            gpu_ = createVulkanBackend();
        } catch (const DeviceError& e) {
            QSKIP(qPrintable(QString("no usable Vulkan device: ") + e.what()));
        }
        qInfo("%s", gpu_->name().c_str());
        cpu_ = createCpuBackend(2);
    }

    void listsDevices()
    {
        auto devices = listVulkanDevices();
        QVERIFY(!devices.empty());
        bool anyUsable = false;
        for (const auto& d : devices) {
            QVERIFY(!d.name.empty());
            QVERIFY(!d.heaps.empty());
            QVERIFY(d.heaps[0].bytes > 0);
            anyUsable |= d.usable;
            if (d.usable)
                QVERIFY(d.subgroupSize > 0);
        }
        QVERIFY(anyUsable);
        QVERIFY(QString::fromStdString(gpu_->name()).startsWith("Vulkan: "));
    }

    void badDeviceIndexIsDeviceError()
    {
        QVERIFY_THROWS_EXCEPTION(DeviceError, createVulkanBackend(1000));
    }

    void greedyMatchesCpu_data()
    {
        QTest::addColumn<QString>("modelFile");
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<double>("tolerance");
        QTest::newRow("stories260K") << "stories260K.gguf" << "Once upon a time" << 1e-5;
        QTest::newRow("ref-main") << "tenfold-ref-main-f16.gguf" << "The jury said that" << 1e-4;
    }

    // Prompt logits at every position within tolerance of the CPU; then 32 greedy tokens that
    // match the CPU's token for token, with the device argmax equal to the host argmax.
    void greedyMatchesCpu()
    {
        QFETCH(QString, modelFile);
        QFETCH(QString, prompt);
        QFETCH(double, tolerance);
        const auto path = test::sharedFile(("models/" + modelFile.toStdString()).c_str());
        TENFOLD_REQUIRE_SHARED(path);
        std::shared_ptr<const Model> model = Model::loadGGUF(path);
        const size_t V = size_t(model->hparams().nVocab);
        ContextParams cp;
        cp.nCtx = 256;
        auto gctx = gpu_->createContext(model, cp);
        auto cctx = cpu_->createContext(model, cp);
        auto tokens = model->tokenizer().encode(prompt.toStdString(), true);
        QVERIFY(tokens.size() >= 3);

        std::vector<float> gl, cl;
        gctx->decode(tokens, true, gl, nullptr);
        cctx->decode(tokens, true, cl, nullptr);
        QCOMPARE(gl.size(), tokens.size() * V);
        for (size_t t = 0; t < tokens.size(); ++t) {
            std::vector<float> g(gl.begin() + t * V, gl.begin() + (t + 1) * V), c(cl.begin() + t * V, cl.begin() + (t + 1) * V);
            const double err = nmse(g, c);
            QVERIFY2(err < tolerance, qPrintable(QString("prompt position %1: nmse %2").arg(t).arg(err)));
        }

        const int nGen = 32;
        std::vector<int32_t> gpuTokens, cpuTokens;
        int32_t gNext = hostArgmax(gl.data() + (tokens.size() - 1) * V, V);
        int32_t cNext = hostArgmax(cl.data() + (tokens.size() - 1) * V, V);
        double worst = 0;
        for (int i = 0; i < nGen; ++i) {
            gpuTokens.push_back(gNext);
            cpuTokens.push_back(cNext);
            if (gNext != cNext)
                break;
            const int32_t tok = gNext;
            gctx->decode({&tok, 1}, false, gl, nullptr);
            cctx->decode({&tok, 1}, false, cl, nullptr);
            worst = std::max(worst, nmse(gl, cl));
            gNext = hostArgmax(gl.data(), V);
            cNext = hostArgmax(cl.data(), V);
            auto* vctx = dynamic_cast<VulkanInferenceContext*>(gctx.get());
            QVERIFY(vctx);
            QCOMPARE(vctx->lastArgmax(), gNext);
        }
        qInfo("worst per-token logits nmse over %d steps: %g", nGen, worst);
        QCOMPARE(gpuTokens, cpuTokens);
        QVERIFY2(worst < tolerance, qPrintable(QString::number(worst)));
        QCOMPARE(gctx->position(), int(tokens.size()) + nGen);

        // One recorded pass for the prompt's shape, one for single tokens: nothing re-recorded.
        QCOMPARE(dynamic_cast<VulkanInferenceContext*>(gctx.get())->recordedPasses(), 2);

        const QString expected = referenceContinuation(modelFile, prompt);
        if (!expected.isEmpty()) {
            // Decode prompt + continuation and cut the prompt's text off, so the continuation keeps
            // the leading space a lone decode would drop.
            std::vector<int32_t> all = tokens;
            all.insert(all.end(), gpuTokens.begin(), gpuTokens.end());
            const QString full = QString::fromStdString(model->tokenizer().decode(all));
            const QString promptText = QString::fromStdString(model->tokenizer().decode(tokens));
            QVERIFY(full.startsWith(promptText));
            const QString got = full.mid(promptText.size());
            QCOMPARE(got, expected.left(got.size()));
        }
    }

    // A prompt longer than the batch capacity runs in several submissions; the final logits
    // still match the CPU, and truncate + re-decode reproduces a step exactly.
    // Speculative decoding on the GPU: the verification passes (several tokens, all logits) and
    // the cache rollbacks give the same greedy text as plain decoding on the same device.
    void speculativeGreedyMatchesPlain()
    {
        const auto target = loadShared("tenfold-ref-main-f16.gguf");
        const auto draftModel = loadShared("tenfold-ref-draft-f16.gguf");
        const auto ids = target->tokenizer().encode("Scientists have found", true);
        auto generateOn = [&](bool withDraft) {
            auto ctx = gpu_->createContext(target, {});
            std::unique_ptr<InferenceContext> dctx;
            GenerateOptions o;
            o.maxTokens = 48;
            o.sampling.temperature = 0;
            if (withDraft) {
                dctx = gpu_->createContext(draftModel, {});
                o.draft.ctx = dctx.get();
                o.draft.maxDraft = 6;
            }
            std::vector<int32_t> out;
            const GenerationStats st = generate(*ctx, *target, ids, o, [&](int32_t id, std::string_view) {
                if (id >= 0)
                    out.push_back(id);
                return true;
            });
            return std::make_pair(out, st);
        };
        const auto [plain, plainStats] = generateOn(false);
        const auto [spec, specStats] = generateOn(true);
        QCOMPARE(spec, plain);
        QVERIFY(specStats.draftedTokens > 0);
        QVERIFY(specStats.targetPasses < specStats.generatedTokens);
        qInfo("Vulkan speculative: %d proposed, %d accepted, %d target passes for %d tokens",
              specStats.draftedTokens, specStats.acceptedDraftTokens, specStats.targetPasses,
              specStats.generatedTokens);
    }

    void longPromptAndTruncate()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto model = loadShared("stories260K.gguf");
        const size_t V = size_t(model->hparams().nVocab);
        ContextParams cp;
        cp.nCtx = 512;
        auto gctx = gpu_->createContext(model, cp);
        auto cctx = cpu_->createContext(model, cp);
        const int batch = dynamic_cast<VulkanInferenceContext*>(gctx.get())->batchCapacity();
        std::vector<int32_t> tokens{1};
        for (int i = 0; tokens.size() < size_t(batch + 37); ++i)
            tokens.push_back(int32_t((i * 37 + 11) % (int(V) - 3) + 3));
        std::vector<float> gl, cl;
        gctx->decode(tokens, false, gl, nullptr);
        cctx->decode(tokens, false, cl, nullptr);
        QCOMPARE(gctx->position(), int(tokens.size()));
        QVERIFY2(nmse(gl, cl) < 1e-6, qPrintable(QString::number(nmse(gl, cl))));

        // All logits of a 20-token batch (tiled mat-muls, separate norms) match the CPU's.
        {
            auto g2 = gpu_->createContext(model, cp);
            auto c2 = cpu_->createContext(model, cp);
            std::vector<int32_t> twenty(tokens.begin(), tokens.begin() + 20);
            g2->decode(twenty, true, gl, nullptr);
            c2->decode(twenty, true, cl, nullptr);
            QCOMPARE(gl.size(), 20 * V);
            QVERIFY2(nmse(gl, cl) < 1e-6, qPrintable(QString::number(nmse(gl, cl))));
        }

        const int32_t a = 42, b = 99;
        std::vector<float> first, again;
        gctx->decode({&a, 1}, false, first, nullptr);
        gctx->decode({&b, 1}, false, again, nullptr);
        gctx->truncate(int(tokens.size()));
        QCOMPARE(gctx->position(), int(tokens.size()));
        gctx->decode({&a, 1}, false, again, nullptr);
        QCOMPARE(again, first); // same pass, same inputs: bit-identical
    }

    void profileTimings()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto model = loadShared("stories260K.gguf");
        ContextParams cp;
        cp.nCtx = 64;
        cp.profile = true;
        auto ctx = gpu_->createContext(model, cp);
        std::vector<float> logits;
        const int32_t tok = 1;
        ctx->decode({&tok, 1}, false, logits, nullptr);
        auto t = ctx->lastTimings();
        if (t.empty())
            QSKIP("device reports no timestamps");
        std::set<std::string> ops;
        int maxLayer = -1;
        for (const auto& o : t) {
            ops.insert(o.op);
            maxLayer = std::max(maxLayer, o.layer);
            QVERIFY(o.microseconds >= 0);
        }
        QVERIFY(ops.count("attention"));
        QVERIFY(ops.count("kv_append"));
        QVERIFY(ops.count("rope"));
        QVERIFY(ops.count("matvec_f32"));
        QCOMPARE(maxLayer, model->hparams().nLayer - 1);
    }

    // The Profiler's device heaps: making a context uploads the weights, and the heaps' use grows
    // by at least the tensor bytes the GGUF file declares (read here from the file's own tensor
    // table), on a backend of its own so no other test's weights are counted.
    void memoryHeapsCountTheWeights()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto backend = createVulkanBackend();
        auto sum = [](const std::vector<DeviceHeapUse>& heaps) {
            uint64_t used = 0;
            for (const DeviceHeapUse& h : heaps) {
                used += h.usedBytes;
                if (h.sizeBytes == 0 || h.budgetBytes == 0)
                    return uint64_t(0);
            }
            return used;
        };
        const std::vector<DeviceHeapUse> before = backend->memoryHeaps();
        QVERIFY(!before.empty());
        QVERIFY(std::any_of(before.begin(), before.end(), [](const DeviceHeapUse& h) { return h.deviceLocal; }));
        uint64_t tensorBytes = 0;
        for (const auto& t : GGUFFile::open(path)->tensors())
            tensorBytes += t.nbytes;
        auto model = loadShared("stories260K.gguf");
        ContextParams cp;
        cp.nCtx = 64;
        auto ctx = backend->createContext(model, cp);
        const uint64_t grew = sum(backend->memoryHeaps()) - sum(before);
        QVERIFY2(grew >= tensorBytes, qPrintable(QStringLiteral("%1 < %2").arg(grew).arg(tensorBytes)));
        QVERIFY(cpu_->memoryHeaps().empty());
    }

    void errorsLeaveStateUnchanged()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto model = loadShared("stories260K.gguf");
        ContextParams cp;
        cp.nCtx = 8;
        auto ctx = gpu_->createContext(model, cp);
        QVERIFY(gpu_->memoryInUse() >= model->weightBytes());
        std::vector<float> logits;
        std::vector<int32_t> five{1, 2, 3, 4, 5};
        ctx->decode(five, false, logits, nullptr);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, ctx->decode(five, false, logits, nullptr)); // 10 > 8
        std::vector<int32_t> bad{1, model->hparams().nVocab};
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, ctx->decode(bad, false, logits, nullptr));
        std::atomic<bool> cancel{true};
        QVERIFY_THROWS_EXCEPTION(Cancelled, ctx->decode({five.data(), 1}, false, logits, &cancel));
        QCOMPARE(ctx->position(), 5);
        ContextParams q8 = cp;
        q8.kvType = GGMLType::Q8_0;
        QVERIFY_THROWS_EXCEPTION(UnsupportedError, gpu_->createContext(model, q8));
    }
};

QTEST_GUILESS_MAIN(TestVulkanBackend)
#include "tst_vulkan_backend.moc"
