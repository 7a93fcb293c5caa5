// The Vulkan batched context (gpu/vulkan_batched_context.h) against single sequences: every
// logits row of a mixed batch (sequences of different lengths and positions, a fork that shares a
// prefix and then copies a block on write, a batch longer than one pass) must match the CPU
// backend's single-sequence logits for that sequence, and embeddings the CPU batched context's.
// Then the scheduler on the device must produce exactly the greedy text of the device's own
// single-sequence context.
#include "common/kv_round_trip.h"
#include "common/shared_data.h"
#include "core/error.h"
#include "model/model.h"
#include "runtime/cpu_backend.h"
#include "runtime/generator.h"
#include "runtime/prompt_state.h"
#include "serve/scheduler.h"
#include "tokenizer/tokenizer.h"
#include "vk_test_util.h"
#include "vulkan_backend.h"

#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <set>
#include <random>

using namespace tenfold;
using tenfold::test::nmse;

namespace {

std::vector<int32_t> randomTokens(std::mt19937& rng, int n, int vocab)
{
    std::uniform_int_distribution<int32_t> d(1, vocab - 1);
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& x : t)
        x = d(rng);
    return t;
}

std::vector<float> row(const std::vector<float>& all, size_t r, size_t width)
{
    return std::vector<float>(all.begin() + std::ptrdiff_t(r * width), all.begin() + std::ptrdiff_t((r + 1) * width));
}

} // namespace

class TestVulkanBatched : public QObject {
    Q_OBJECT
    QTemporaryDir cacheHome_;
    std::unique_ptr<Backend> gpu_, cpu_;
    std::shared_ptr<Model> main_, stories_;

    // CPU single-sequence logits of every position.
    std::vector<float> cpuSingle(const std::shared_ptr<Model>& m, const std::vector<int32_t>& tokens)
    {
        auto ctx = cpu_->createContext(m, {});
        std::vector<float> logits;
        ctx->decode(tokens, true, logits);
        return logits;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(cacheHome_.isValid());
        qputenv("XDG_CACHE_HOME", cacheHome_.path().toUtf8());
        const auto m = test::sharedFile("models/tenfold-ref-main-f16.gguf");
        const auto s = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(m);
        TENFOLD_REQUIRE_SHARED(s);
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
        main_ = Model::loadGGUF(m);
        stories_ = Model::loadGGUF(s);
    }

    void mixedBatchMatchesCpuSingleSequences_data()
    {
        QTest::addColumn<bool>("stories");
        QTest::newRow("ref-main") << false;
        QTest::newRow("stories260K") << true;
    }
    void mixedBatchMatchesCpuSingleSequences()
    {
        QFETCH(bool, stories);
        const auto& model = stories ? stories_ : main_;
        const int V = model->hparams().nVocab;
        std::mt19937 rng(5);
        const auto a = randomTokens(rng, 9, V), b = randomTokens(rng, 30, V), c = randomTokens(rng, 21, V);
        BatchedParams bp;
        bp.maxSequences = 4;
        auto ctx = gpu_->createBatchedContext(model, bp);
        const SeqId sa = ctx->openSequence(), sb = ctx->openSequence();
        std::vector<BatchRow> rows;
        std::vector<std::pair<SeqId, int>> asked;
        auto add = [&](SeqId s, const std::vector<int32_t>& t, int from, int to) {
            for (int i = from; i < to; ++i) {
                rows.push_back({t[size_t(i)], s, true, false});
                asked.emplace_back(s, i);
            }
        };
        std::map<SeqId, std::map<int, std::vector<float>>> got;
        std::vector<float> logits;
        auto run = [&] {
            ctx->decode(rows, logits);
            QCOMPARE(logits.size(), asked.size() * size_t(V));
            for (size_t r = 0; r < asked.size(); ++r)
                got[asked[r].first][asked[r].second] = row(logits, r, size_t(V));
            rows.clear();
            asked.clear();
        };
        for (int i = 0; i < 8; ++i) {
            add(sa, a, i, i + 1);
            add(sb, b, i, i + 1);
        }
        add(sb, b, 8, 12);
        run();
        const SeqId sc = ctx->openSequence();
        add(sc, c, 0, 21);
        add(sa, a, 8, 9);
        add(sb, b, 12, 30);
        run();
        const std::map<SeqId, const std::vector<int32_t>*> tokens = {{sa, &a}, {sb, &b}, {sc, &c}};
        double worst = 0;
        for (const auto& [seq, byPos] : got) {
            const auto want = cpuSingle(model, *tokens.at(seq));
            QCOMPARE(int(byPos.size()), int(tokens.at(seq)->size()));
            for (const auto& [pos, l] : byPos)
                worst = std::max(worst, nmse(l, row(want, size_t(pos), size_t(V))));
        }
        qInfo("worst nmse vs CPU single sequences: %.2e", worst);
        QVERIFY2(worst < 1e-4, qPrintable(QString::number(worst)));
    }

    // A fork shares the prefix; its first write copies the shared half-full block on the device.
    // A batch longer than one pass runs in chunks that see each other's keys.
    void forkAndLongBatch()
    {
        const int V = main_->hparams().nVocab;
        std::mt19937 rng(9);
        BatchedParams bp;
        bp.maxSequences = 3;
        auto ctx = gpu_->createBatchedContext(main_, bp);
        const auto prefix = randomTokens(rng, 21, V);
        const SeqId a = ctx->openSequence();
        std::vector<BatchRow> rows;
        for (int32_t t : prefix)
            rows.push_back({t, a, false, false});
        std::vector<float> logits;
        ctx->decode(rows, logits);
        QVERIFY(logits.empty());
        const SeqId b = ctx->forkSequence(a, -1);
        const auto tailA = randomTokens(rng, 2, V), tailB = randomTokens(rng, 3, V);
        rows.clear();
        for (int32_t t : tailA)
            rows.push_back({t, a, true, false});
        for (int32_t t : tailB)
            rows.push_back({t, b, true, false});
        ctx->decode(rows, logits);
        auto with = [&](const std::vector<int32_t>& tail) {
            auto all = prefix;
            all.insert(all.end(), tail.begin(), tail.end());
            return cpuSingle(main_, all);
        };
        const auto wantA = with(tailA), wantB = with(tailB);
        for (size_t i = 0; i < tailA.size(); ++i)
            QVERIFY(nmse(row(logits, i, size_t(V)), row(wantA, prefix.size() + i, size_t(V))) < 1e-4);
        for (size_t i = 0; i < tailB.size(); ++i)
            QVERIFY(nmse(row(logits, tailA.size() + i, size_t(V)), row(wantB, prefix.size() + i, size_t(V))) < 1e-4);

        // 300 rows in one call: more than one pass on any device (at most 256 rows per pass).
        const SeqId c = ctx->openSequence();
        const auto longPrompt = randomTokens(rng, 300, V);
        rows.clear();
        for (int32_t t : longPrompt)
            rows.push_back({t, c, false, false});
        rows[10].logits = rows[280].logits = rows[299].logits = true;
        ctx->decode(rows, logits);
        const auto want = cpuSingle(main_, longPrompt);
        int r = 0;
        for (int pos : {10, 280, 299})
            QVERIFY2(nmse(row(logits, size_t(r++), size_t(V)), row(want, size_t(pos), size_t(V))) < 1e-4,
                     qPrintable(QString("position %1").arg(pos)));
        QCOMPARE(ctx->sequenceLength(c), 300);
    }

    void embeddingsMatchCpu()
    {
        std::mt19937 rng(2);
        const auto t = randomTokens(rng, 12, stories_->hparams().nVocab);
        std::vector<float> gl, ge, cl, ce;
        for (Backend* be : {gpu_.get(), cpu_.get()}) {
            auto ctx = be->createBatchedContext(stories_, {});
            const SeqId s = ctx->openSequence();
            std::vector<BatchRow> rows;
            for (int32_t x : t)
                rows.push_back({x, s, false, true});
            rows[5].logits = true;
            ctx->decode(rows, be == gpu_.get() ? gl : cl, be == gpu_.get() ? &ge : &ce);
        }
        QCOMPARE(ge.size(), size_t(12 * stories_->hparams().nEmbd));
        QVERIFY2(nmse(ge, ce) < 1e-5, qPrintable(QString::number(nmse(ge, ce))));
        QVERIFY2(nmse(gl, cl) < 1e-5, qPrintable(QString::number(nmse(gl, cl))));
    }

    // With BatchedParams::profile the device's timestamps name every layer's ops (each layer of
    // stories260K appears) and the results are bit-identical to an unprofiled context's (the
    // oracle: the same dispatches without timestamp queries).
    void profiledBatchTimesLayersAndChangesNothing()
    {
        std::mt19937 rng(4);
        const auto t = randomTokens(rng, 7, stories_->hparams().nVocab);
        std::vector<float> logits[2];
        for (int profiled = 0; profiled < 2; ++profiled) {
            BatchedParams bp;
            bp.profile = profiled == 1;
            auto ctx = gpu_->createBatchedContext(stories_, bp);
            const SeqId s = ctx->openSequence();
            std::vector<BatchRow> rows;
            for (int32_t x : t)
                rows.push_back({x, s, true, false});
            ctx->decode(rows, logits[profiled]);
            const std::vector<OpTiming> timings = ctx->lastTimings();
            if (!profiled) {
                QVERIFY(timings.empty());
                continue;
            }
            if (timings.empty())
                QSKIP("device reports no timestamps");
            std::set<int> layers;
            double total = 0;
            for (const OpTiming& o : timings) {
                if (o.layer >= 0)
                    layers.insert(o.layer);
                total += o.microseconds;
            }
            QCOMPARE(int(layers.size()), stories_->hparams().nLayer);
            QVERIFY(total > 0);
        }
        QVERIFY(logits[0] == logits[1]);
    }

    // A prompt state saved from the device and restored into a fresh device context continues
    // with exactly the original's logits; restored into the CPU backend (same F16 row layout) it
    // continues like a CPU context that computed the prompt itself.
    // As tst_batched's: a restored sequence's logits are bit-identical to recomputing, on Vulkan.
    void exportImportSequenceMatchesRecomputing()
    {
        const QString why = test::checkSequenceRoundTrip(*gpu_, main_, main_->hparams().nVocab);
        QVERIFY2(why.isEmpty(), qPrintable(why));
    }

    void promptStateRoundTrip()
    {
        std::mt19937 rng(12);
        const int V = main_->hparams().nVocab;
        const auto prompt = randomTokens(rng, 40, V), more = randomTokens(rng, 3, V);
        auto original = gpu_->createContext(main_, {});
        std::vector<float> logits, a, b, c, d;
        original->decode(prompt, false, logits);
        const PromptState state = capturePromptState(*original, *main_, GGMLType::F16, prompt);
        std::vector<int32_t> longer = prompt;
        longer.insert(longer.end(), more.begin(), more.end());
        auto restored = gpu_->createContext(main_, {});
        QCOMPARE(restorePromptState(*restored, state, longer), 40);
        original->decode(more, true, a);
        restored->decode(more, true, b);
        QCOMPARE(a, b);
        auto onCpu = cpu_->createContext(main_, {});
        QCOMPARE(restorePromptState(*onCpu, state, longer), 40);
        onCpu->decode(more, true, c);
        d = cpuSingle(main_, longer);
        d.erase(d.begin(), d.begin() + std::ptrdiff_t(40 * size_t(V)));
        QVERIFY2(nmse(c, d) < 1e-4, qPrintable(QString::number(nmse(c, d))));
    }

    // Continuous batching on the device gives what the device's single-sequence context gives.
    void schedulerGreedyMatchesSingleContext()
    {
        SchedulerConfig cfg;
        cfg.prefillChunk = 6;
        cfg.stepTokenBudget = 16;
        Scheduler sched(gpu_->createBatchedContext(stories_, {}), stories_, cfg);
        const char* prompts[] = {"Once upon a time", "The little dog", "Lily and Ben went to the park"};
        std::vector<std::shared_ptr<ServeRequest>> handles;
        for (const char* p : prompts) {
            ServeRequestParams rp;
            rp.prompt = stories_->tokenizer().encode(p, true);
            rp.maxTokens = 40;
            rp.sampling.temperature = 0;
            handles.push_back(sched.submit(rp));
        }
        for (size_t i = 0; i < handles.size(); ++i) {
            std::string text;
            ServeEvent e;
            bool done = false;
            while (!done) {
                QVERIFY(handles[i]->next(e, std::chrono::seconds(120)));
                QVERIFY2(e.kind != ServeEvent::Kind::Error, e.error.c_str());
                if (e.kind == ServeEvent::Kind::Text)
                    text += e.text;
                done = e.kind == ServeEvent::Kind::Done;
            }
            auto single = gpu_->createContext(stories_, {});
            GenerateOptions o;
            o.maxTokens = 40;
            o.sampling.temperature = 0;
            std::string want;
            generate(*single, *stories_, stories_->tokenizer().encode(prompts[i], true), o,
                     [&](int32_t, std::string_view piece) {
                         want += piece;
                         return true;
                     });
            QCOMPARE(QString::fromStdString(text), QString::fromStdString(want));
        }
    }
};

QTEST_GUILESS_MAIN(TestVulkanBatched)
#include "tst_vulkan_batched.moc"
