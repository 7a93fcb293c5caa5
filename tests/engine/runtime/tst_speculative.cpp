// Speculative decoding with a draft model (runtime/generator.h): the output must be exactly what
// plain greedy decoding of the target produces (the oracle is the plain loop on a fresh context),
// with the same stop reason, and the target's cache must end as plain decoding leaves it.
#include "common/shared_data.h"
#include "core/error.h"
#include "model/model.h"
#include "runtime/cpu_backend.h"
#include "runtime/generator.h"
#include "tokenizer/tokenizer.h"

#include <QtTest>

#include <cmath>
#include <tuple>

using namespace tenfold;
using tenfold::test::sharedFile;

namespace {

struct Outcome {
    std::vector<int32_t> tokens;
    std::string text;
    GenerationStats stats;
    int cachePosition = 0;
    std::vector<float> nextLogits; // after decoding one more token (id 100) on that cache
};

Outcome run(Backend& backend, const std::shared_ptr<Model>& target, const std::shared_ptr<Model>& draft,
            const std::string& prompt, GenerateOptions o, int nCtx = 0, int maxDraft = 8)
{
    ContextParams cp;
    cp.nCtx = nCtx;
    auto ctx = backend.createContext(target, cp);
    std::unique_ptr<InferenceContext> dctx;
    if (draft) {
        ContextParams dp;
        dp.nCtx = ctx->contextSize();
        dctx = backend.createContext(draft, dp);
        o.draft.ctx = dctx.get();
        o.draft.maxDraft = maxDraft;
    }
    Outcome out;
    const auto ids = target->tokenizer().encode(prompt, true);
    out.stats = generate(*ctx, *target, ids, o, [&](int32_t id, std::string_view piece) {
        if (id >= 0)
            out.tokens.push_back(id);
        out.text += piece;
        return true;
    });
    out.cachePosition = ctx->position();
    if (ctx->position() < ctx->contextSize()) {
        const int32_t probe[1] = {100};
        ctx->decode(probe, false, out.nextLogits);
    }
    return out;
}

GenerateOptions greedy(int n)
{
    GenerateOptions o;
    o.maxTokens = n;
    o.sampling.temperature = 0;
    return o;
}

} // namespace

class TestSpeculative : public QObject {
    Q_OBJECT
    std::unique_ptr<Backend> backend_ = createCpuBackend(2);
    std::shared_ptr<Model> main_, draft_, stories_;

private slots:
    void initTestCase()
    {
        const auto m = sharedFile("models/tenfold-ref-main-f16.gguf");
        const auto d = sharedFile("models/tenfold-ref-draft-f16.gguf");
        const auto s = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(m);
        TENFOLD_REQUIRE_SHARED(d);
        TENFOLD_REQUIRE_SHARED(s);
        main_ = Model::loadGGUF(m);
        draft_ = Model::loadGGUF(d);
        stories_ = Model::loadGGUF(s);
    }

    void sameOutputAsPlainGreedy_data()
    {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<int>("maxDraft");
        for (const char* p : {"The jury said that", "In the morning, the", "Scientists have found"})
            for (int k : {1, 4, 8})
                QTest::newRow(qPrintable(QString("%1 k=%2").arg(p).arg(k))) << QString(p) << k;
    }
    void sameOutputAsPlainGreedy()
    {
        QFETCH(QString, prompt);
        QFETCH(int, maxDraft);
        const Outcome plain = run(*backend_, main_, nullptr, prompt.toStdString(), greedy(96));
        const Outcome spec = run(*backend_, main_, draft_, prompt.toStdString(), greedy(96), 0, maxDraft);
        QCOMPARE(spec.tokens, plain.tokens);
        QCOMPARE(QString::fromStdString(spec.text), QString::fromStdString(plain.text));
        QCOMPARE(int(spec.stats.stopReason), int(plain.stats.stopReason));
        QCOMPARE(spec.cachePosition, plain.cachePosition);
        QVERIFY(spec.stats.draftedTokens > 0);
        QVERIFY(spec.stats.acceptedDraftTokens <= spec.stats.draftedTokens);
        // Fewer target passes than tokens: that is the point (each pass keeps at least one token).
        QVERIFY2(spec.stats.targetPasses < spec.stats.generatedTokens || maxDraft == 1,
                 qPrintable(QString("%1 passes for %2 tokens").arg(spec.stats.targetPasses).arg(spec.stats.generatedTokens)));
        qInfo("k<=%d: %d proposed, %d accepted (%.0f%%), %d target passes for %d tokens", maxDraft,
              spec.stats.draftedTokens, spec.stats.acceptedDraftTokens, 100 * spec.stats.acceptanceRate(),
              spec.stats.targetPasses, spec.stats.generatedTokens);
        // The cache holds the same sequence: the next token's logits agree within the rounding of
        // the batched verification passes (the F16 activation rounding bound of tst_inference).
        QCOMPARE(spec.nextLogits.size(), plain.nextLogits.size());
        double worst = 0;
        for (size_t i = 0; i < plain.nextLogits.size(); ++i)
            worst = std::max(worst, double(std::fabs(spec.nextLogits[i] - plain.nextLogits[i])));
        QVERIFY2(worst < 2e-2, qPrintable(QString::number(worst)));
    }

    // The target as its own draft: every proposal is what the target chooses.
    void selfDraftAcceptsEverything()
    {
        const Outcome plain = run(*backend_, stories_, nullptr, "Once upon a time", greedy(80));
        const Outcome spec = run(*backend_, stories_, stories_, "Once upon a time", greedy(80));
        QCOMPARE(spec.tokens, plain.tokens);
        QVERIFY2(spec.stats.acceptanceRate() > 0.95, qPrintable(QString::number(spec.stats.acceptanceRate())));
        QVERIFY(spec.stats.targetPasses * 3 < spec.stats.generatedTokens);
    }

    // Stops that fall inside a round of accepted proposals: a stop string, the token limit, a
    // full context and end of generation end exactly where plain decoding ends.
    void stopsInsideARound()
    {
        GenerateOptions o = greedy(200);
        const Outcome reference = run(*backend_, stories_, nullptr, "Once upon a time", o);
        QVERIFY(reference.text.size() > 40);
        o.stopStrings = {reference.text.substr(30, 6)};
        for (int limit : {1, 2, 7, 33}) {
            GenerateOptions lim = greedy(limit);
            const Outcome a = run(*backend_, stories_, nullptr, "Once upon a time", lim);
            const Outcome b = run(*backend_, stories_, stories_, "Once upon a time", lim);
            QCOMPARE(b.tokens, a.tokens);
            QCOMPARE(b.cachePosition, a.cachePosition);
            QCOMPARE(int(b.stats.stopReason), int(StopReason::MaxTokens));
        }
        const Outcome a = run(*backend_, stories_, nullptr, "Once upon a time", o);
        const Outcome b = run(*backend_, stories_, stories_, "Once upon a time", o);
        QCOMPARE(QString::fromStdString(b.text), QString::fromStdString(a.text));
        QCOMPARE(int(b.stats.stopReason), int(StopReason::StopString));
        QCOMPARE(b.cachePosition, a.cachePosition);
        for (int nCtx : {8, 13, 40}) {
            const Outcome pa = run(*backend_, stories_, nullptr, "Once upon a time", greedy(200), nCtx);
            const Outcome pb = run(*backend_, stories_, stories_, "Once upon a time", greedy(200), nCtx);
            QCOMPARE(pb.tokens, pa.tokens);
            QCOMPARE(int(pb.stats.stopReason), int(pa.stats.stopReason));
            QCOMPARE(pb.cachePosition, pa.cachePosition);
        }
        // The caller stops it from its token callback, at a token inside a round.
        for (int at : {1, 5, 9}) {
            auto stopAt = [&](const std::shared_ptr<Model>& draft) {
                ContextParams cp;
                auto ctx = backend_->createContext(stories_, cp);
                std::unique_ptr<InferenceContext> dctx;
                GenerateOptions g = greedy(100);
                if (draft) {
                    dctx = backend_->createContext(draft, cp);
                    g.draft.ctx = dctx.get();
                }
                std::vector<int32_t> got;
                const auto ids = stories_->tokenizer().encode("Once upon a time", true);
                const GenerationStats st = generate(*ctx, *stories_, ids, g, [&](int32_t id, std::string_view) {
                    if (id >= 0)
                        got.push_back(id);
                    return int(got.size()) < at;
                });
                return std::make_tuple(got, int(st.stopReason), ctx->position());
            };
            const auto [pt, pr, pp] = stopAt(nullptr);
            const auto [st, sr, sp] = stopAt(stories_);
            QCOMPARE(st, pt);
            QCOMPARE(sr, int(StopReason::Callback));
            QCOMPARE(sr, pr);
            QCOMPARE(sp, pp);
        }
        // (End of generation is not covered here: no shared model ends a greedy continuation
        // with EOS within a few hundred tokens.)
    }

    void refusedWithAClearError()
    {
        GenerateOptions o = greedy(8);
        o.sampling.temperature = 0.7f;
        try {
            run(*backend_, main_, draft_, "The jury", o);
            QFAIL("sampling with a draft was accepted");
        } catch (const InvalidArgument& e) {
            QVERIFY2(QString(e.what()).contains("greedy"), e.what());
        }
        try {
            run(*backend_, main_, stories_, "The jury", greedy(8)); // 512-token vocabulary
            QFAIL("a draft with another vocabulary was accepted");
        } catch (const InvalidArgument& e) {
            QVERIFY2(QString(e.what()).contains("vocabulary"), e.what());
        }
        auto ctx = backend_->createContext(main_, {});
        ContextParams small;
        small.nCtx = 64;
        auto dctx = backend_->createContext(draft_, small);
        GenerateOptions g = greedy(4);
        g.draft.ctx = dctx.get();
        const auto ids = main_->tokenizer().encode("The jury", true);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, generate(*ctx, *main_, ids, g, {}));
    }

    void cancelStops()
    {
        std::atomic<bool> cancel{false};
        GenerateOptions o = greedy(500);
        o.cancel = &cancel;
        int seen = 0;
        auto ctx = backend_->createContext(main_, {});
        auto dctx = backend_->createContext(draft_, {});
        o.draft.ctx = dctx.get();
        const auto ids = main_->tokenizer().encode("The jury said that", true);
        const GenerationStats s = generate(*ctx, *main_, ids, o, [&](int32_t, std::string_view) {
            if (++seen == 10)
                cancel = true;
            return true;
        });
        QCOMPARE(int(s.stopReason), int(StopReason::Cancelled));
        QVERIFY(s.generatedTokens < 30);
    }
};

QTEST_APPLESS_MAIN(TestSpeculative)
#include "tst_speculative.moc"
