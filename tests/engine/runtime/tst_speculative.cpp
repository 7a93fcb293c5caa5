// Speculative decoding with a draft model (runtime/generator.h): greedy output must be exactly what
// plain greedy decoding of the target produces (the oracle is the plain loop on a fresh context),
// with the same stop reason, and the target's cache must end as plain decoding leaves it. With
// sampling, the tokens must be distributed as plain sampling's (a two-sample chi-square test on
// stories260K's 512-token vocabulary, against a random-weight draft that disagrees often).
#include "common/chi_square.h"
#include "common/second_token.h"
#include "common/shared_data.h"
#include "core/error.h"
#include "model/model.h"
#include "passes/synth_model.h"
#include "runtime/cpu_backend.h"
#include "runtime/generator.h"
#include "runtime/sampling.h"
#include "tokenizer/tokenizer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <map>
#include <algorithm>
#include <array>
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

    // Self-speculative: the model's own first layers draft, the whole model verifies.
    void selfSpeculativeSameAsPlain_data()
    {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<int>("exitLayer");
        for (const char* p : {"The jury said that", "Scientists have found"})
            for (int k : {1, 4, 7})
                QTest::newRow(qPrintable(QString("%1 exit %2").arg(p).arg(k))) << QString(p) << k;
    }
    void selfSpeculativeSameAsPlain()
    {
        QFETCH(QString, prompt);
        QFETCH(int, exitLayer);
        const Outcome plain = run(*backend_, main_, nullptr, prompt.toStdString(), greedy(80));
        GenerateOptions o = greedy(80);
        o.draft.selfExitLayer = exitLayer;
        const Outcome self = run(*backend_, main_, nullptr, prompt.toStdString(), o);
        QCOMPARE(self.tokens, plain.tokens);
        QCOMPARE(int(self.stats.stopReason), int(plain.stats.stopReason));
        QCOMPARE(self.cachePosition, plain.cachePosition);
        QVERIFY(self.stats.draftedTokens > 0);
        qInfo("exit after %d of 8 layers: %d proposed, %d kept (%.0f%%), %d full passes for %d tokens", exitLayer,
              self.stats.draftedTokens, self.stats.acceptedDraftTokens, 100 * self.stats.acceptanceRate(),
              self.stats.targetPasses, self.stats.generatedTokens);
        double worst = 0;
        for (size_t i = 0; i < plain.nextLogits.size(); ++i)
            worst = std::max(worst, double(std::fabs(self.nextLogits[i] - plain.nextLogits[i])));
        QVERIFY2(worst < 2e-2, qPrintable(QString::number(worst)));
    }

    // decodeExit through every layer is the full pass; it leaves position() alone and refuses
    // what it cannot do.
    void decodeExitThroughAllLayersIsTheFullPass()
    {
        const auto ids = main_->tokenizer().encode("In the morning, the", true);
        auto full = backend_->createContext(main_, {});
        std::vector<float> want, got;
        full->decode(ids, false, want);
        auto early = backend_->createContext(main_, {});
        early->decodeExit(ids, 0, main_->hparams().nLayer, got);
        QCOMPARE(early->position(), 0);
        QCOMPARE(got.size(), want.size());
        QVERIFY(std::equal(got.begin(), got.end(), want.begin()));
        // Fewer layers give other logits.
        early->decodeExit(ids, 0, 2, got);
        QVERIFY(!std::equal(got.begin(), got.end(), want.begin()));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, early->decodeExit(ids, 0, 0, got));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, early->decodeExit(ids, 0, main_->hparams().nLayer + 1, got));
        full->decode(ids, false, want); // position() is now 2 * ids.size()
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, full->decodeExit(ids, 1, 2, got));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, full->decodeExit(ids, full->contextSize() - 1, 2, got));
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

    // Sampling at temperature 2 over the whole vocabulary, against a draft whose weights are
    // random (so most proposals are rejected and the residual draw matters). Oracle: the exact
    // distribution of the second token, P(x2) = sum over x1 of p(x1) p(x2 | x1), from one target
    // pass per first token. 8,000 seeded speculative runs are held against it with a chi-square
    // goodness-of-fit test over bins expecting >= 10 (the rest pooled) at the 0.999 quantile; the
    // seeds are fixed, so the result is the same on every run. Drawing the correction from p
    // instead of the residual, or keeping proposals too often, fails it.
    void samplingKeepsTheTargetDistribution_data()
    {
        QTest::addColumn<int>("selfExitLayer"); // 0: the random-weight draft model
        QTest::newRow("random draft model") << 0;
        QTest::newRow("self draft, 2 of 5 layers") << 2;
    }
    void samplingKeepsTheTargetDistribution()
    {
        QFETCH(int, selfExitLayer);
        QTemporaryDir dir;
        const std::filesystem::path draftPath = dir.filePath("random-draft.gguf").toStdString();
        SynthOptions so;
        so.type = GGMLType::F32;
        so.seed = 11;
        so.stddev = 0.1f;
        synthesizeModel(*findSynthShape("stories260k"), draftPath, so);
        auto randomDraft = Model::loadGGUF(draftPath);
        const auto ids = stories_->tokenizer().encode("Once upon a time", true);
        SamplingParams sp;
        sp.temperature = 2.0f;
        sp.topK = 0;
        sp.topP = 1.0f;
        sp.minP = 0.0f;
        ContextParams cp;
        cp.nCtx = 64;
        auto ctx = backend_->createContext(stories_, cp);
        auto dctx = backend_->createContext(randomDraft, cp);

        // The exact distribution of the second token.
        const int vocab = stories_->hparams().nVocab;
        const std::vector<double> exact = test::exactSecondTokenDistribution(*ctx, vocab, ids, sp);

        const int runs = 8000;
        std::vector<int> seen(size_t(vocab), 0);
        GenerationStats total;
        for (int r = 0; r < runs; ++r) {
            GenerateOptions o;
            o.maxTokens = 2;
            o.sampling = sp;
            o.sampling.seed = uint64_t(1000 + r);
            o.stopAtEndOfGeneration = false;
            if (selfExitLayer > 0)
                o.draft.selfExitLayer = selfExitLayer;
            else
                o.draft.ctx = dctx.get();
            o.draft.maxDraft = 1;
            ctx->truncate(0);
            std::vector<int32_t> got;
            const GenerationStats st = generate(*ctx, *stories_, ids, o, [&](int32_t id, std::string_view) {
                if (id >= 0)
                    got.push_back(id);
                return true;
            });
            QCOMPARE(int(got.size()), 2);
            ++seen[size_t(got[1])];
            total.draftedTokens += st.draftedTokens;
            total.acceptedDraftTokens += st.acceptedDraftTokens;
        }
        const test::ChiSquare fit = test::chiSquareFit(seen, exact, runs);
        const double chi2 = fit.statistic, critical = fit.critical;
        const int bins = fit.bins, dof = bins - 1;
        qInfo("second token: %d bins, chi-square %.1f (0.999 critical %.1f); draft proposals accepted %d of %d",
              bins, chi2, critical, total.acceptedDraftTokens, total.draftedTokens);
        QVERIFY(dof >= 20);
        QVERIFY2(total.acceptedDraftTokens < total.draftedTokens * 0.95, "the draft should be rejected at times");
        QVERIFY2(chi2 < critical, qPrintable(QString("chi-square %1 >= %2").arg(chi2).arg(critical)));
    }

    void refusedWithAClearError()
    {
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
