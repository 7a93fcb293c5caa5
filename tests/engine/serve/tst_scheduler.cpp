// The continuous-batching scheduler (serve/scheduler.h). The oracle is the single-sequence
// generator (runtime/generator.h) on its own context: whatever the scheduler does with a request
// (chunked prefill next to other streams, sharing a batch, forking n choices, being preempted and
// recomputed), its greedy text must be what generate() produces for that prompt alone, and its
// stop-string and length handling must match generate()'s.
#include "common/chi_square.h"
#include "common/second_token.h"
#include "common/shared_data.h"
#include "core/error.h"
#include "model/model.h"
#include "passes/synth_model.h"
#include "runtime/cpu_backend.h"
#include "runtime/generator.h"
#include "serve/prefix_cache.h"
#include "serve/scheduler.h"
#include "tensor/kernels.h"
#include "tokenizer/tokenizer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

using namespace tenfold;
using tenfold::test::sharedFile;

namespace {

struct Result {
    std::map<int, std::string> text;
    std::map<int, std::vector<int32_t>> tokens;
    std::map<int, std::string> finish;
    std::map<int, std::vector<float>> logprobs;
    ServeEvent done;
    std::string error;
};

Result collect(ServeRequest& r, int timeoutMs = 120000)
{
    Result out;
    ServeEvent e;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (std::chrono::steady_clock::now() < deadline) {
        if (!r.next(e, std::chrono::milliseconds(100)))
            continue;
        switch (e.kind) {
        case ServeEvent::Kind::Text:
            out.text[e.choice] += e.text;
            out.tokens[e.choice].insert(out.tokens[e.choice].end(), e.tokens.begin(), e.tokens.end());
            out.logprobs[e.choice].insert(out.logprobs[e.choice].end(), e.logprobs.begin(), e.logprobs.end());
            break;
        case ServeEvent::Kind::ChoiceDone:
            out.finish[e.choice] = e.finishReason;
            break;
        case ServeEvent::Kind::Done:
            out.done = e;
            return out;
        case ServeEvent::Kind::Error:
            out.error = e.error;
            return out;
        }
    }
    out.error = "timed out";
    return out;
}

// Greedy texts from the batched and the single-sequence paths may part where the model's top two
// logits are closer than the paths' rounding (different batch shapes round differently; the
// logits themselves are checked to 2e-2 in tst_batched). Equal tokens pass; otherwise the first
// differing token must be such a near-tie on the single-sequence path.
bool sameOrNearTie(Backend& backend, const std::shared_ptr<Model>& model, const std::vector<int32_t>& prompt,
                   const std::vector<int32_t>& got, const std::vector<int32_t>& want, QString* why)
{
    size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i])
        ++i;
    if (i == got.size() && i == want.size())
        return true;
    if (i == got.size() || i == want.size()) {
        *why = QStringLiteral("one output is a prefix of the other (%1 vs %2 tokens)").arg(got.size()).arg(want.size());
        return false;
    }
    ContextParams cp;
    auto ctx = backend.createContext(model, cp);
    std::vector<int32_t> upTo = prompt;
    upTo.insert(upTo.end(), want.begin(), want.begin() + std::ptrdiff_t(i));
    std::vector<float> logits;
    ctx->decode(upTo, false, logits);
    const double gap = std::fabs(double(logits[size_t(want[i])]) - double(logits[size_t(got[i])]));
    *why = QStringLiteral("token %1: %2 vs %3, logit gap %4").arg(i).arg(got[i]).arg(want[i]).arg(gap);
    qInfo("outputs part at a near-tie: %s", qPrintable(*why));
    return gap < 0.05;
}

SamplingParams greedy()
{
    SamplingParams sp;
    sp.temperature = 0;
    return sp;
}

struct Plain {
    std::string text;
    std::vector<int32_t> tokens;
    StopReason why;
};

// The oracle: the single-sequence generator on a fresh context.
Plain plainGenerate(Backend& backend, const std::shared_ptr<Model>& model,
                    const std::vector<int32_t>& prompt, int maxTokens,
                    std::vector<std::string> stops = {}, SamplingParams sp = greedy())
{
    ContextParams cp;
    auto ctx = backend.createContext(model, cp);
    GenerateOptions o;
    o.maxTokens = maxTokens;
    o.sampling = sp;
    o.stopStrings = std::move(stops);
    Plain p;
    const auto stats = generate(*ctx, *model, prompt, o, [&](int32_t id, std::string_view piece) {
        if (id >= 0)
            p.tokens.push_back(id);
        p.text += piece;
        return true;
    });
    p.why = stats.stopReason;
    return p;
}

ServeRequestParams request(std::vector<int32_t> prompt, int maxTokens, SamplingParams sp = greedy())
{
    ServeRequestParams p;
    p.prompt = std::move(prompt);
    p.maxTokens = maxTokens;
    p.sampling = sp;
    return p;
}

const char* kPrompts[] = {"Once upon a time", "The little dog", "Lily and Ben went to the park. They saw",
                          "One day, a big", "Tom had a red ball. He", "The sun was hot and the cat",
                          "Sue liked to paint", "There was a tall tree near the river, and every day the birds"};

} // namespace

class TestScheduler : public QObject {
    Q_OBJECT
    std::unique_ptr<Backend> backend_ = createCpuBackend(2);
    std::shared_ptr<Model> stories_, main_;

    std::unique_ptr<Scheduler> make(const std::shared_ptr<Model>& model, SchedulerConfig cfg,
                                    BatchedParams bp = {})
    {
        return std::make_unique<Scheduler>(backend_->createBatchedContext(model, bp), model, cfg);
    }
    std::vector<int32_t> encode(const std::shared_ptr<Model>& m, const char* text)
    {
        return m->tokenizer().encode(text, true);
    }

private slots:
    void initTestCase()
    {
        const auto s = sharedFile("models/stories260K.gguf");
        const auto m = sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(s);
        TENFOLD_REQUIRE_SHARED(m);
        stories_ = Model::loadGGUF(s);
        main_ = Model::loadGGUF(m);
    }

    // Eight concurrent greedy requests with small chunks and a small step budget, so prompts are
    // prefilled in pieces next to running streams: each equals its own plain generation.
    void concurrentGreedyEqualsPlain_data()
    {
        QTest::addColumn<bool>("stories");
        QTest::newRow("stories260K") << true;
        QTest::newRow("ref-main") << false;
    }
    void concurrentGreedyEqualsPlain()
    {
        QFETCH(bool, stories);
        const auto& model = stories ? stories_ : main_;
        SchedulerConfig cfg;
        cfg.maxRunning = 5; // fewer slots than requests: some wait in the queue
        cfg.prefillChunk = 5;
        cfg.stepTokenBudget = 12;
        auto sched = make(model, cfg);
        std::vector<std::shared_ptr<ServeRequest>> handles;
        std::vector<int> lengths;
        for (size_t i = 0; i < std::size(kPrompts); ++i) {
            lengths.push_back(20 + int(i) * 7);
            handles.push_back(sched->submit(request(encode(model, kPrompts[i]), lengths.back())));
        }
        for (size_t i = 0; i < handles.size(); ++i) {
            const Result r = collect(*handles[i]);
            QVERIFY2(r.error.empty(), r.error.c_str());
            const Plain want = plainGenerate(*backend_, model, encode(model, kPrompts[i]), lengths[i]);
            QCOMPARE(r.done.promptTokens, int(encode(model, kPrompts[i]).size()));
            QString why;
            if (r.tokens.at(0) != want.tokens) {
                QVERIFY2(sameOrNearTie(*backend_, model, encode(model, kPrompts[i]), r.tokens.at(0), want.tokens, &why),
                         qPrintable(why));
                continue;
            }
            QCOMPARE(QString::fromStdString(r.text.at(0)), QString::fromStdString(want.text));
            QCOMPARE(QString::fromStdString(r.finish.at(0)),
                     QString(want.why == StopReason::MaxTokens ? "length" : "stop"));
            QCOMPARE(r.done.completionTokens, int(want.tokens.size()));
            QVERIFY(r.done.timeToFirstTokenMs > 0 && r.done.timeToFirstTokenMs <= r.done.totalMs);
        }
        const SchedulerMetrics m = sched->metrics();
        QCOMPARE(m.requestsTotal, uint64_t(std::size(kPrompts)));
        QVERIFY2(m.steps > 0 && m.lastBatchRows >= 1, "no steps");
        QCOMPARE(m.running, 0);
        QCOMPARE(m.kvBlocksUsed, m.prefixBlocksHeld); // every block back in the pool or the prefix cache
    }

    // n choices share the prompt; greedy choices are all the plain text, sampled ones are each
    // the plain sampler's output with seed + choice index.
    void choicesForkThePrompt()
    {
        auto sched = make(stories_, {});
        const auto prompt = encode(stories_, kPrompts[2]);
        ServeRequestParams p = request(prompt, 40);
        p.n = 3;
        Result r = collect(*sched->submit(p));
        QVERIFY2(r.error.empty(), r.error.c_str());
        const Plain want = plainGenerate(*backend_, stories_, prompt, 40);
        for (int c = 0; c < 3; ++c)
            QCOMPARE(QString::fromStdString(r.text.at(c)), QString::fromStdString(want.text));
        QCOMPARE(r.done.completionTokens, 3 * int(want.tokens.size()));

        SamplingParams sp;
        sp.temperature = 0.9f;
        sp.seed = 1234;
        p = request(prompt, 30, sp);
        p.n = 3;
        r = collect(*sched->submit(p));
        QVERIFY2(r.error.empty(), r.error.c_str());
        std::set<std::string> distinct;
        for (int c = 0; c < 3; ++c) {
            SamplingParams s = sp;
            s.seed = sp.seed + uint64_t(c);
            const Plain w = plainGenerate(*backend_, stories_, prompt, 30, {}, s);
            QCOMPARE(r.tokens.at(c), w.tokens);
            distinct.insert(r.text.at(c));
        }
        QVERIFY(distinct.size() > 1);
    }

    // A KV pool far smaller than the load: requests are preempted and recomputed, and still give
    // exactly the plain output.
    void preemptionRecomputesExactly()
    {
        SchedulerConfig cfg;
        cfg.maxRunning = 6;
        BatchedParams bp;
        bp.blockSize = 8;
        const auto& hp = stories_->hparams();
        const uint64_t blockBytes = 8ull * uint64_t(hp.nHeadKv) * uint64_t(hp.headDim) * 2 * 2 * uint64_t(hp.nLayer);
        bp.kvBudgetBytes = 24 * blockBytes; // 192 positions for six requests of ~80 each
        auto sched = make(stories_, cfg, bp);
        std::vector<std::shared_ptr<ServeRequest>> handles;
        for (int i = 0; i < 6; ++i)
            handles.push_back(sched->submit(request(encode(stories_, kPrompts[i]), 70)));
        for (int i = 0; i < 6; ++i) {
            const Result r = collect(*handles[size_t(i)]);
            QVERIFY2(r.error.empty(), r.error.c_str());
            const Plain want = plainGenerate(*backend_, stories_, encode(stories_, kPrompts[i]), 70);
            QCOMPARE(QString::fromStdString(r.text.at(0)), QString::fromStdString(want.text));
        }
        const auto m = sched->metrics();
        qInfo("%llu preemptions in %llu steps", (unsigned long long)m.preemptions, (unsigned long long)m.steps);
        QVERIFY(m.preemptions > 0);
        QCOMPARE(m.kvBlocksUsed, m.prefixBlocksHeld);
    }

    // Stop strings end a choice before the string, as generate() does; max tokens gives
    // "length".
    void stopStringsAndLength()
    {
        auto sched = make(stories_, {});
        const auto prompt = encode(stories_, kPrompts[0]);
        const Plain full = plainGenerate(*backend_, stories_, prompt, 60);
        // A stop string from the middle of the plain text.
        const std::string stop = full.text.substr(full.text.size() / 2, 4);
        ServeRequestParams p = request(prompt, 60);
        p.stopStrings = {stop};
        const Result r = collect(*sched->submit(p));
        const Plain want = plainGenerate(*backend_, stories_, prompt, 60, {stop});
        QCOMPARE(QString::fromStdString(r.text.at(0)), QString::fromStdString(want.text));
        QCOMPARE(QString::fromStdString(r.finish.at(0)), QString("stop"));
        QVERIFY(r.text.at(0).find(stop) == std::string::npos);
        const Result shortOne = collect(*sched->submit(request(prompt, 3)));
        QCOMPARE(QString::fromStdString(shortOne.finish.at(0)), QString("length"));
        QCOMPARE(shortOne.done.completionTokens, 3);
    }

    // Log probabilities are the log-softmax of the logits the single-sequence context gives.
    void logprobsMatchSingleSequence()
    {
        auto sched = make(stories_, {});
        const auto prompt = encode(stories_, kPrompts[1]);
        ServeRequestParams p = request(prompt, 5);
        p.topLogprobs = 3;
        const Result r = collect(*sched->submit(p));
        QCOMPARE(int(r.logprobs.at(0).size()), 5);
        ContextParams cp;
        auto ctx = backend_->createContext(stories_, cp);
        std::vector<float> logits;
        ctx->decode(prompt, false, logits);
        for (int i = 0; i < 5; ++i) {
            const int32_t t = r.tokens.at(0)[size_t(i)];
            double mx = *std::max_element(logits.begin(), logits.end()), sum = 0;
            for (float v : logits)
                sum += std::exp(double(v) - mx);
            const double want = logits[size_t(t)] - mx - std::log(sum);
            QVERIFY2(std::fabs(want - r.logprobs.at(0)[size_t(i)]) < 1e-2,
                     qPrintable(QString("%1 vs %2").arg(want).arg(r.logprobs.at(0)[size_t(i)])));
            const int32_t one[1] = {t};
            ctx->decode(one, false, logits);
        }
    }

    // The embedding is the normalised mean of the final normed hidden states: the output head
    // applied to it points the same way as the mean of the single-sequence logits (the head is
    // linear).
    void embeddingIsMeanHiddenState()
    {
        auto sched = make(stories_, {});
        const auto prompt = encode(stories_, kPrompts[3]);
        ServeRequestParams p = request(prompt, 1);
        p.embedding = true;
        const Result r = collect(*sched->submit(p));
        QVERIFY2(r.error.empty(), r.error.c_str());
        const auto& e = r.done.embedding;
        QCOMPARE(int(e.size()), stories_->hparams().nEmbd);
        double norm = 0;
        for (float v : e)
            norm += double(v) * v;
        QVERIFY(std::fabs(norm - 1.0) < 1e-4);
        ContextParams cp;
        auto ctx = backend_->createContext(stories_, cp);
        std::vector<float> logits;
        ctx->decode(prompt, true, logits);
        const int V = stories_->hparams().nVocab, E = stories_->hparams().nEmbd;
        std::vector<double> meanLogits(size_t(V), 0.0);
        for (size_t t = 0; t < prompt.size(); ++t)
            for (int v = 0; v < V; ++v)
                meanLogits[size_t(v)] += logits[t * size_t(V) + size_t(v)] / double(prompt.size());
        const WeightTensor& out = stories_->output();
        std::vector<float> row(static_cast<size_t>(E));
        double dot = 0, na = 0, nb = 0;
        for (int v = 0; v < V; ++v) {
            kernels(out.type).dequantizeRow(out.row(v), row.data(), E);
            double y = 0;
            for (int d = 0; d < E; ++d)
                y += double(row[size_t(d)]) * e[size_t(d)];
            dot += y * meanLogits[size_t(v)];
            na += y * y;
            nb += meanLogits[size_t(v)] * meanLogits[size_t(v)];
        }
        const double cosine = dot / std::sqrt(na * nb);
        QVERIFY2(cosine > 0.9999, qPrintable(QString::number(cosine, 'g', 8)));
    }

    // Requests sharing a long leading prompt reuse its blocks, and their text is still exactly
    // the plain generation's (the reused keys and values are the ones a fresh pass computes).
    void prefixCacheReusesSharedPrompt()
    {
        SchedulerConfig cfg;
        auto sched = make(main_, cfg);
        std::vector<int32_t> system = encode(main_, "You are a careful assistant. The history of the town began with "
                                                    "a mill on the river, a church, a school and a market where "
                                                    "farmers sold grain, wool and cheese every week of the year.");
        while (system.size() < 100)
            system.insert(system.end(), system.begin() + 1, system.begin() + 11);
        const char* turns[] = {" The mill", " In the market", " The school"};
        for (int i = 0; i < 3; ++i) {
            std::vector<int32_t> prompt = system;
            const auto tail = main_->tokenizer().encode(turns[i], false);
            prompt.insert(prompt.end(), tail.begin(), tail.end());
            const Result r = collect(*sched->submit(request(prompt, 24)));
            QVERIFY2(r.error.empty(), r.error.c_str());
            const Plain want = plainGenerate(*backend_, main_, prompt, 24);
            QString why;
            QVERIFY2(sameOrNearTie(*backend_, main_, prompt, r.tokens.at(0), want.tokens, &why), qPrintable(why));
        }
        const auto m = sched->metrics();
        const int bs = 16;
        // The second and third requests reuse every whole block of the shared part.
        QVERIFY2(m.prefixTokensReused >= uint64_t(2 * (int(system.size()) / bs) * bs),
                 qPrintable(QString("%1 tokens reused").arg(m.prefixTokensReused)));
        QVERIFY(m.prefixHits >= 2);
        QVERIFY(m.prefixBlocksHeld > 0);
    }

    // The prefix cache survives a restart (serve/prefix_state.h): what a second scheduler
    // restores from disk answers a request exactly as the first scheduler's in-memory cache did
    // (the same tokens and bit-identical log probabilities: same blocks reused, same rest
    // computed). A corrupted file and a file of another model are ignored with a warning.
    void prefixStateSurvivesRestart()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        SchedulerConfig cfg;
        cfg.prefixStateDir = dir.filePath("prefixes").toStdString();
        std::vector<int32_t> prompt = encode(main_, "A long system prompt: the rules of the library are that books go "
                                                    "back on the shelf where they were found, that nobody eats "
                                                    "between the shelves, and that the reading room stays quiet.");
        while (prompt.size() < 90)
            prompt.insert(prompt.end(), prompt.begin() + 1, prompt.begin() + 9);
        ServeRequestParams p = request(prompt, 10);
        p.topLogprobs = 2;
        Result inMemory;
        uint64_t reusedInMemory = 0;
        {
            auto sched = make(main_, cfg);
            QCOMPARE(sched->restoredPrefixes().files, 0);
            const Result first = collect(*sched->submit(p));
            QVERIFY2(first.error.empty(), first.error.c_str());
            inMemory = collect(*sched->submit(p));
            QVERIFY2(inMemory.error.empty(), inMemory.error.c_str());
            reusedInMemory = sched->metrics().prefixTokensReused;
            QVERIFY(reusedInMemory >= uint64_t(prompt.size() / 16 * 16));
            const PrefixStateReport saved = sched->stop();
            QVERIFY2(saved.warnings.empty(), saved.warnings.empty() ? "" : saved.warnings.front().c_str());
            QVERIFY(saved.files >= 1);
            QVERIFY(saved.tokens >= int(prompt.size()));
        }
        std::vector<std::filesystem::path> files;
        for (const auto& e : std::filesystem::directory_iterator(cfg.prefixStateDir))
            files.push_back(e.path());
        QVERIFY(!files.empty());
        {
            auto sched = make(main_, cfg);
            const PrefixStateReport& restored = sched->restoredPrefixes();
            QVERIFY2(restored.warnings.empty(), restored.warnings.empty() ? "" : restored.warnings.front().c_str());
            QCOMPARE(restored.files, int(files.size()));
            const Result again = collect(*sched->submit(p));
            QVERIFY2(again.error.empty(), again.error.c_str());
            QCOMPARE(sched->metrics().prefixTokensReused, reusedInMemory); // as the in-memory hit
            QCOMPARE(again.tokens.at(0), inMemory.tokens.at(0));
            QCOMPARE(again.logprobs.at(0).size(), inMemory.logprobs.at(0).size());
            QVERIFY2(std::memcmp(again.logprobs.at(0).data(), inMemory.logprobs.at(0).data(),
                                 again.logprobs.at(0).size() * sizeof(float)) == 0,
                     "log probabilities after a restored prefix differ from the in-memory cache's");
        }
        // One byte flipped in the KV data: that file is refused, the rest still restore. (The
        // second scheduler saved again when it stopped: list the files anew.)
        files.clear();
        for (const auto& e : std::filesystem::directory_iterator(cfg.prefixStateDir))
            files.push_back(e.path());
        QVERIFY(!files.empty());
        {
            std::fstream f(files.front(), std::ios::in | std::ios::out | std::ios::binary);
            QVERIFY(f.is_open());
            f.seekg(-100, std::ios::end);
            char c = 0;
            f.read(&c, 1);
            f.seekp(-100, std::ios::end);
            c = char(c ^ 0x40);
            f.write(&c, 1);
        }
        {
            auto sched = make(main_, cfg);
            QCOMPARE(sched->restoredPrefixes().files, int(files.size()) - 1);
            QCOMPARE(int(sched->restoredPrefixes().warnings.size()), 1);
            QVERIFY(sched->restoredPrefixes().warnings.front().find(files.front().filename().string()) != std::string::npos);
            sched->stop(); // saves what it holds; the corrupted file, not restored, goes
        }
        auto countFiles = [&] {
            int n = 0;
            for (const auto& e : std::filesystem::directory_iterator(cfg.prefixStateDir))
                n += e.path().extension() == ".tfkv";
            return n;
        };
        const int remaining = countFiles();
        QCOMPARE(remaining, int(files.size()) - 1);
        // Another model's scheduler ignores every file, and leaves them in place when it saves.
        {
            auto sched = make(stories_, cfg);
            QCOMPARE(sched->restoredPrefixes().files, 0);
            QCOMPARE(int(sched->restoredPrefixes().warnings.size()), remaining);
        }
        QCOMPARE(countFiles(), remaining);
    }

    // The cache never takes a block a sequence still uses, keeps to its budget, gives blocks back
    // least recently used first, and reuses to the token (a full block's first positions, a
    // partly filled last block).
    void prefixCacheEviction()
    {
        BatchedParams bp;
        bp.blockSize = 4;
        bp.maxSequences = 2;
        bp.maxSequenceLength = 32;
        auto ctx = backend_->createBatchedContext(stories_, bp); // 16 blocks
        PrefixCache cache(*ctx, 6);
        std::vector<int32_t> a(13), b(9);
        for (size_t i = 0; i < a.size(); ++i)
            a[i] = int32_t(10 + i);
        for (size_t i = 0; i < b.size(); ++i)
            b[i] = int32_t(100 + i);
        auto fill = [&](const std::vector<int32_t>& t) {
            const SeqId s = ctx->openSequence();
            std::vector<BatchRow> rows;
            for (int32_t x : t)
                rows.push_back({x, s, false, false});
            std::vector<float> logits;
            ctx->decode(rows, logits);
            return s;
        };
        const SeqId sa = fill(a);
        cache.insert(a, sa); // 3 full blocks of 4, and the 13th token's block as a tail
        QCOMPARE(cache.stats().blocksHeld, 4);
        QCOMPARE(cache.lookup(a, 13).tokens, 13);
        QCOMPARE(int(cache.lookup(a, 13).blocks.size()), 4);
        QCOMPARE(cache.lookup(a, 11).tokens, 11); // 2 blocks, then 3 positions of the third
        std::vector<int32_t> other = a;
        other[5] = 999;
        QCOMPARE(cache.lookup(other, 13).tokens, 5); // block 1's first position still matches
        // Held by the sequence too: nothing can go.
        QCOMPARE(cache.evict(3), 0);
        const int freeBefore = ctx->freeBlocks();
        ctx->closeSequence(sa);
        QCOMPARE(ctx->freeBlocks(), freeBefore); // the cache holds all four
        const SeqId sb = fill(b);
        cache.insert(b, sb); // 7 > 6: one of a's blocks goes (b's are in use)
        QVERIFY(cache.stats().blocksHeld <= 6);
        QCOMPARE(cache.lookup(b, 9).tokens, 9);
        ctx->closeSequence(sb);
        QCOMPARE(cache.evict(2), 2);
        // b was used last: a lost its blocks from the end, b is intact.
        QVERIFY(cache.lookup(a, 13).tokens < 12);
        QCOMPARE(cache.lookup(b, 9).tokens, 9);
        cache.clear();
        QCOMPARE(cache.stats().blocksHeld, 0);
        QCOMPARE(ctx->freeBlocks(), ctx->totalBlocks());
    }

    // Speculative decoding in the batch (ref-draft for ref-main): greedy requests still give
    // exactly the plain greedy text; a sampled request next to them is speculated too.
    void speculativeServingEqualsPlain()
    {
        const auto d = sharedFile("models/tenfold-ref-draft-f16.gguf");
        TENFOLD_REQUIRE_SHARED(d);
        const auto draftModel = Model::loadGGUF(d);
        DraftModelConfig draft;
        BatchedParams dp;
        dp.maxSequenceLength = main_->hparams().nCtxTrain;
        draft.context = backend_->createBatchedContext(draftModel, dp);
        draft.maxDraft = 5;
        SchedulerConfig cfg;
        cfg.prefillChunk = 16;
        Scheduler sched(backend_->createBatchedContext(main_, {}), main_, cfg, std::move(draft));
        std::vector<std::shared_ptr<ServeRequest>> handles;
        for (int i = 0; i < 5; ++i)
            handles.push_back(sched.submit(request(encode(main_, kPrompts[i]), 48)));
        SamplingParams sp;
        sp.temperature = 0.8f;
        sp.seed = 77;
        handles.push_back(sched.submit(request(encode(main_, kPrompts[5]), 24, sp)));
        for (int i = 0; i < 6; ++i) {
            const Result r = collect(*handles[size_t(i)]);
            QVERIFY2(r.error.empty(), r.error.c_str());
            if (i == 5) {
                // Sampled: speculated too, with other draws than plain sampling (the distribution
                // is checked in speculativeSamplingKeepsTheDistribution).
                QVERIFY(!r.tokens.at(0).empty() && r.tokens.at(0).size() <= 24);
                continue;
            }
            const Plain want = plainGenerate(*backend_, main_, encode(main_, kPrompts[i]), 48);
            QString why;
            QVERIFY2(sameOrNearTie(*backend_, main_, encode(main_, kPrompts[i]), r.tokens.at(0), want.tokens, &why),
                     qPrintable(why));
        }
        const auto m = sched.metrics();
        qInfo("draft: %llu proposed, %llu accepted (%.0f%%) over %llu steps", (unsigned long long)m.draftProposed,
              (unsigned long long)m.draftAccepted, 100.0 * double(m.draftAccepted) / double(std::max<uint64_t>(1, m.draftProposed)),
              (unsigned long long)m.steps);
        QVERIFY(m.draftProposed > 0);
        QVERIFY(m.draftAccepted > 0);
        // Fewer steps than tokens: each step kept more than one token for some streams.
        QVERIFY(m.steps < 48 + 8);
    }

    // Sampled requests with a draft keep the target's distribution: the second token of 8,000
    // seeded requests (the first comes from the prompt's pass, the second is a verified proposal
    // or a residual draw) against the exact distribution P(x2) = sum p(x1) p(x2 | x1) computed from
    // single-sequence passes; a chi-square goodness-of-fit test at the 0.999 quantile, as
    // tst_speculative does for the CLI path. The draft has random weights, so it is often wrong.
    void speculativeSamplingKeepsTheDistribution()
    {
        QTemporaryDir dir;
        const std::filesystem::path draftPath = dir.filePath("random-draft.gguf").toStdString();
        SynthOptions so;
        so.type = GGMLType::F32;
        so.seed = 11;
        so.stddev = 0.1f;
        synthesizeModel(*findSynthShape("stories260k"), draftPath, so);
        auto randomDraft = Model::loadGGUF(draftPath);
        const auto ids = encode(stories_, "Once upon a time");
        SamplingParams sp;
        sp.temperature = 2.0f;
        sp.topK = 0;
        sp.topP = 1.0f;
        sp.minP = 0.0f;
        const int vocab = stories_->hparams().nVocab;
        std::vector<double> exact;
        {
            ContextParams cp;
            cp.nCtx = 64;
            auto ctx = backend_->createContext(stories_, cp);
            exact = test::exactSecondTokenDistribution(*ctx, vocab, ids, sp);
        }
        DraftModelConfig draft;
        BatchedParams dp;
        dp.maxSequenceLength = 64;
        draft.context = backend_->createBatchedContext(randomDraft, dp);
        draft.maxDraft = 1;
        SchedulerConfig cfg;
        cfg.maxQueued = 10000;
        BatchedParams bp;
        bp.maxSequenceLength = 64;
        Scheduler sched(backend_->createBatchedContext(stories_, bp), stories_, cfg, std::move(draft));
        const int runs = 8000;
        std::vector<std::shared_ptr<ServeRequest>> handles;
        for (int r = 0; r < runs; ++r) {
            ServeRequestParams p = request(ids, 2, sp);
            p.sampling.seed = uint64_t(1000 + r);
            p.stopAtEndOfGeneration = false;
            handles.push_back(sched.submit(p));
        }
        std::vector<int> seen(size_t(vocab), 0);
        for (auto& h : handles) {
            const Result res = collect(*h);
            QVERIFY2(res.error.empty(), res.error.c_str());
            QCOMPARE(int(res.tokens.at(0).size()), 2);
            ++seen[size_t(res.tokens.at(0)[1])];
        }
        const test::ChiSquare fit = test::chiSquareFit(seen, exact, runs);
        const double chi2 = fit.statistic, critical = fit.critical;
        const int bins = fit.bins, dof = bins - 1;
        const auto m = sched.metrics();
        qInfo("second token: %d bins, chi-square %.1f (0.999 critical %.1f); draft proposals accepted %llu of %llu",
              bins, chi2, critical, (unsigned long long)m.draftAccepted, (unsigned long long)m.draftProposed);
        QVERIFY(dof >= 20);
        QVERIFY(m.draftProposed > 1000);
        QVERIFY2(m.draftAccepted < m.draftProposed * 0.95, "the draft should be rejected at times");
        QVERIFY2(chi2 < critical, qPrintable(QString("chi-square %1 >= %2").arg(chi2).arg(critical)));
    }

    void cancelFreesBlocks()
    {
        auto sched = make(stories_, {});
        auto h = sched->submit(request(encode(stories_, kPrompts[0]), 400));
        ServeEvent e;
        QVERIFY(h->next(e, std::chrono::seconds(60)));
        h->cancel();
        const Result r = collect(*h);
        QVERIFY2(r.error.empty(), r.error.c_str());
        QVERIFY(r.done.completionTokens < 400);
        for (int i = 0; i < 50 && sched->metrics().kvBlocksUsed != sched->metrics().prefixBlocksHeld; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        QCOMPARE(sched->metrics().kvBlocksUsed, sched->metrics().prefixBlocksHeld);
        QCOMPARE(sched->metrics().requestsCancelled, uint64_t(1));
        // The scheduler goes on serving.
        const Result after = collect(*sched->submit(request(encode(stories_, kPrompts[1]), 10)));
        QVERIFY(after.error.empty());
        QCOMPARE(after.done.completionTokens, 10);
    }

    void badRequestsAreRefused()
    {
        SchedulerConfig cfg;
        cfg.maxQueued = 2;
        cfg.maxRunning = 1;
        auto sched = make(stories_, cfg);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, sched->submit(request({}, 10)));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, sched->submit(request({1, 2}, 0)));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, sched->submit(request({1, 100000}, 5)));
        std::vector<int32_t> huge(size_t(sched->maxSequenceLength()), 5);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, sched->submit(request(huge, 5)));
        ServeRequestParams p = request({1, 2}, 5);
        p.n = 2; // more choices than slots
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, sched->submit(p));
        p.n = 1;
        p.topLogprobs = 21;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, sched->submit(p));
        // One runs, two wait, the fourth is refused.
        std::vector<std::shared_ptr<ServeRequest>> held;
        bool refused = false;
        for (int i = 0; i < 6 && !refused; ++i) {
            try {
                held.push_back(sched->submit(request(encode(stories_, kPrompts[0]), 200)));
            } catch (const QueueFull&) {
                refused = true;
            }
        }
        QVERIFY(refused);
        QVERIFY(sched->metrics().requestsRejected >= 1);
        for (auto& h : held)
            h->cancel();
        for (auto& h : held)
            QVERIFY(collect(*h).error.empty());
    }
};

QTEST_GUILESS_MAIN(TestScheduler)
#include "tst_scheduler.moc"
