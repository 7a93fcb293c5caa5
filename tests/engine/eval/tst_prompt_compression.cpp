// Prompt compression (eval/prompt_compression.h) against independent oracles: every token's
// surprisal against the F64 scalar forward pass (runtime/reference_forward.h); the kept words
// against the definition (within the token budget, and no dropped word more surprising than a
// kept one unless it did not fit); sentences found by hand; the continuation KL divergence against
// one computed here from the reference forward pass in double.
#include "common/shared_data.h"

#include "core/error.h"
#include "eval/prompt_compression.h"
#include "model/model.h"
#include "runtime/cpu_backend.h"
#include "runtime/reference_forward.h"
#include "tokenizer/tokenizer.h"

#include <QtTest>

#include <cmath>

using namespace tenfold;

namespace {

const char* kPassage =
    "The old lighthouse stood on the rocky point for more than a hundred years. Every night the keeper "
    "climbed the narrow stairs, lit the great lamp and watched the ships pass safely into the harbour. "
    "One stormy winter the lamp went dark, and the village waited in fear until morning.\n"
    "Question: why did the village wait in fear?";

std::shared_ptr<Model> draftModel()
{
    return Model::loadGGUF(test::sharedFile("models/tenfold-ref-draft-f16.gguf"));
}

double logSumExp(const double* row, int n)
{
    double mx = row[0];
    for (int i = 1; i < n; ++i)
        mx = std::max(mx, row[i]);
    double s = 0;
    for (int i = 0; i < n; ++i)
        s += std::exp(row[i] - mx);
    return mx + std::log(s);
}

} // namespace

class TstPromptCompression : public QObject {
    Q_OBJECT

private slots:
    void findsQuestionsAndInstructions()
    {
        // Hand-marked: the question, the imperative and the labelled task; not the statements.
        const std::string text = "The sky is blue. Summarize the text below.\nIt rained all day! Why was the "
                                 "sky grey? 1. List three colours.\nTask: answer briefly";
        std::vector<std::string> found;
        for (const auto& [b, e] : instructionSpans(text))
            found.push_back(text.substr(b, e - b));
        const std::vector<std::string> want = {"Summarize the text below.", "Why was the sky grey?",
                                               "1. List three colours.", "Task: answer briefly"};
        QCOMPARE(found.size(), want.size());
        for (size_t i = 0; i < want.size(); ++i)
            QCOMPARE(QString::fromStdString(found[i]), QString::fromStdString(want[i]));
        // CJK sentence ends.
        const std::string zh = "天空是蓝色的。为什么天空是蓝色的？";
        const auto spans = instructionSpans(zh);
        QCOMPARE(spans.size(), size_t(1));
        QCOMPARE(QString::fromStdString(zh.substr(spans[0].first, spans[0].second - spans[0].first)),
                 QStringLiteral("为什么天空是蓝色的？"));
    }

    void surprisalMatchesTheReferenceForwardPass()
    {
        TENFOLD_REQUIRE_SHARED(test::sharedFile("models/tenfold-ref-draft-f16.gguf"));
        const auto model = draftModel();
        const Tokenizer& tok = model->tokenizer();
        auto backend = createCpuBackend(2);
        ContextParams cp;
        cp.nCtx = 512;
        auto ctx = backend->createContext(model, cp);
        CompressionOptions options;
        options.keepRatio = 0.5;
        const CompressionResult r = compressPrompt(*ctx, tok, kPassage, options);

        std::vector<int32_t> input{tok.bos()};
        const std::vector<int32_t> ids = tok.encode(kPassage, false);
        input.insert(input.end(), ids.begin(), ids.end());
        QCOMPARE(r.originalTokens, int(ids.size()));
        ReferenceForward ref(model);
        const std::vector<double> logits = ref.decode(input);
        const int vocab = ref.vocabSize();
        double worst = 0;
        for (size_t t = 0; t < ids.size(); ++t) {
            const double* row = logits.data() + t * size_t(vocab);
            const double want = logSumExp(row, vocab) - row[ids[t]];
            QCOMPARE(r.tokens[t].id, ids[t]);
            worst = std::max(worst, std::abs(double(r.tokens[t].surprisal) - want));
        }
        // The CPU runtime's F16 KV cache and float sums: logits agree with F64 to ~1e-2 on ref models.
        QVERIFY2(worst < 0.05, qPrintable(QString("max surprisal error %1 nats").arg(worst)));
    }

    void keepsTheMostSurprisingWordsWithinBudget()
    {
        TENFOLD_REQUIRE_SHARED(test::sharedFile("models/tenfold-ref-draft-f16.gguf"));
        const auto model = draftModel();
        const Tokenizer& tok = model->tokenizer();
        auto backend = createCpuBackend(2);
        ContextParams cp;
        cp.nCtx = 512;
        auto ctx = backend->createContext(model, cp);
        CompressionOptions options;
        options.keepRatio = 0.5;
        const CompressionResult r = compressPrompt(*ctx, tok, kPassage, options);
        const int n = r.originalTokens;
        QCOMPARE(r.tokenBudget, int(std::floor(0.5 * n)));

        // The question survives verbatim; the result reads in order.
        QVERIFY2(r.text.find("Question: why did the village wait in fear?") != std::string::npos, r.text.c_str());
        int kept = 0, protectedCount = 0;
        for (const ScoredToken& t : r.tokens) {
            kept += t.kept;
            protectedCount += t.protectedSpan;
            if (t.protectedSpan)
                QVERIFY(t.kept);
        }
        QVERIFY(protectedCount > 0 && protectedCount < n / 2);
        QVERIFY2(kept <= r.tokenBudget, qPrintable(QString("kept %1 > budget %2").arg(kept).arg(r.tokenBudget)));
        // Re-tokenizing may merge or split at the joins, a little.
        QVERIFY(std::abs(r.compressedTokens - kept) <= kept / 10 + 2);
        QVERIFY(r.compressedTokens < n * 0.6);

        // Words as the definition has them: a token that begins with a space or punctuation, or
        // follows a newline, starts one; its score is the mean surprisal of its tokens. Protected
        // words are kept; then, most surprising first, each word is kept if it still fits the
        // budget. Replayed here on the surprisals (checked against F64 above).
        struct W { double score; int size; bool kept; bool prot; };
        std::vector<W> words;
        std::string prev;
        for (size_t i = 0; i < r.tokens.size(); ++i) {
            const std::string b = tok.tokenBytes(r.tokens[i].id);
            const bool starts = i == 0 || b.empty() || std::isspace((unsigned char)b[0]) ||
                                std::ispunct((unsigned char)b[0]) || (!prev.empty() && prev.back() == '\n');
            if (starts)
                words.push_back({0, 0, r.tokens[i].kept, false});
            W& w = words.back();
            w.score += r.tokens[i].surprisal;
            w.size += 1;
            w.prot = w.prot || r.tokens[i].protectedSpan;
            QCOMPARE(r.tokens[i].kept, w.kept); // whole words only
            prev = b;
        }
        int used = 0;
        std::vector<size_t> order;
        for (size_t k = 0; k < words.size(); ++k) {
            if (words[k].prot)
                used += words[k].size;
            else
                order.push_back(k);
        }
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return words[a].score / words[a].size > words[b].score / words[b].size;
        });
        int wrong = 0;
        for (size_t k : order) {
            const bool fits = used + words[k].size <= r.tokenBudget;
            if (fits)
                used += words[k].size;
            wrong += fits != words[k].kept;
        }
        QCOMPARE(wrong, 0);

        // Keeping everything gives the text back; the random baseline keeps the same budget.
        options.keepRatio = 1.0;
        QCOMPARE(QString::fromStdString(compressPrompt(*ctx, tok, kPassage, options).text), QString(kPassage));
        options.keepRatio = 0.5;
        options.randomBaselineSeed = 7;
        const CompressionResult random = compressPrompt(*ctx, tok, kPassage, options);
        QVERIFY(random.text != r.text);
        QVERIFY(random.text.find("Question: why did the village wait in fear?") != std::string::npos);
    }

    void continuationKldMatchesReference()
    {
        TENFOLD_REQUIRE_SHARED(test::sharedFile("models/tenfold-ref-draft-f16.gguf"));
        const auto model = draftModel();
        const Tokenizer& tok = model->tokenizer();
        auto backend = createCpuBackend(2);
        ContextParams cp;
        cp.nCtx = 512;
        auto ctx = backend->createContext(model, cp);
        const std::string original = "Once upon a time there was a little girl who loved the sea.";
        const std::string compressed = "Tax law: the senate voted 52 to 48.";
        const int n = 6;

        const ContinuationComparison same = compareContinuations(*ctx, tok, original, original, n);
        QCOMPARE(same.positions, n);
        QVERIFY(same.meanKld < 1e-9);
        QCOMPARE(same.sameTopToken, 1.0);
        QCOMPARE(QString::fromStdString(same.compressedContinuation), QString::fromStdString(same.originalContinuation));

        const ContinuationComparison c = compareContinuations(*ctx, tok, original, compressed, n);
        // Oracle: the F64 forward pass, greedy after the original, teacher-forced after the compressed.
        ReferenceForward ref(model);
        const int vocab = ref.vocabSize();
        auto encode = [&](const std::string& s) {
            std::vector<int32_t> v{tok.bos()};
            const auto ids = tok.encode(s, false);
            v.insert(v.end(), ids.begin(), ids.end());
            return v;
        };
        std::vector<std::vector<double>> p;
        std::vector<int32_t> cont;
        std::vector<double> row = ref.decode(encode(original));
        row.erase(row.begin(), row.end() - vocab);
        for (int k = 0; k < n; ++k) {
            p.push_back(row);
            const int32_t next = int32_t(std::max_element(row.begin(), row.end()) - row.begin());
            cont.push_back(next);
            const int32_t one[1] = {next};
            row = ref.decode(one);
        }
        ref.truncate(0);
        row = ref.decode(encode(compressed));
        row.erase(row.begin(), row.end() - vocab);
        double sum = 0;
        for (int k = 0; k < n; ++k) {
            const double lp = logSumExp(p[k].data(), vocab), lq = logSumExp(row.data(), vocab);
            double kl = 0;
            for (int v = 0; v < vocab; ++v)
                kl += std::exp(p[k][v] - lp) * ((p[k][v] - lp) - (row[v] - lq));
            sum += kl;
            const int32_t one[1] = {cont[k]};
            row = ref.decode(one);
        }
        const double want = sum / n;
        QCOMPARE(c.positions, n);
        QVERIFY2(want > 0.01, "the compressed prompt should change the answer measurably");
        QVERIFY2(std::abs(c.meanKld - want) < 0.005 * want + 1e-4,
                 qPrintable(QString("mean KLD %1, reference %2").arg(c.meanKld).arg(want)));
    }

    void refusesBadInput()
    {
        TENFOLD_REQUIRE_SHARED(test::sharedFile("models/tenfold-ref-draft-f16.gguf"));
        const auto model = draftModel();
        auto backend = createCpuBackend(2);
        ContextParams cp;
        cp.nCtx = 16;
        auto ctx = backend->createContext(model, cp);
        CompressionOptions options;
        options.keepRatio = 0;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, compressPrompt(*ctx, model->tokenizer(), "some text", options));
        options.keepRatio = 0.5;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, compressPrompt(*ctx, model->tokenizer(), "", options));
        // Longer than the 16-position context: an error naming the sizes, not a crash.
        try {
            compressPrompt(*ctx, model->tokenizer(), kPassage, options);
            QFAIL("no error for a prompt longer than the context");
        } catch (const InvalidArgument& e) {
            QVERIFY2(std::string(e.what()).find("context (16)") != std::string::npos, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, compareContinuations(*ctx, model->tokenizer(), "a b", "a", 20));
    }
};

QTEST_GUILESS_MAIN(TstPromptCompression)
#include "tst_prompt_compression.moc"
