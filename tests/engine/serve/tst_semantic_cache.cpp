// Semantic response caching with the model's own embeddings (the scheduler's mean-pooled, normed
// final hidden states) at the default threshold: prints, for paraphrase and non-paraphrase pairs,
// the similarity and whether the second prompt would be answered from the first's entry, i.e.
// the hits and the false hits. Asserts the mechanism (an identical prompt always hits, a stored
// answer comes back intact), not the embedder's quality, which the table documents.
#include "common/shared_data.h"
#include "model/model.h"
#include "runtime/cpu_backend.h"
#include "serve/scheduler.h"
#include "store/response_cache.h"
#include "tokenizer/tokenizer.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace tenfold;
using tenfold::test::sharedFile;

class TestSemanticCache : public QObject {
    Q_OBJECT
    std::unique_ptr<Backend> cpu_ = createCpuBackend(2);
    std::shared_ptr<Model> model_;
    std::unique_ptr<Scheduler> sched_;

    std::vector<float> embed(const char* text)
    {
        ServeRequestParams p;
        p.prompt = model_->tokenizer().encode(text, true);
        p.embedding = true;
        auto h = sched_->submit(p);
        ServeEvent e;
        while (h->next(e, std::chrono::seconds(60)))
            if (e.kind == ServeEvent::Kind::Done)
                return e.embedding;
        return {};
    }

private slots:
    void initTestCase()
    {
        const auto m = sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(m);
        model_ = Model::loadGGUF(m);
        sched_ = std::make_unique<Scheduler>(cpu_->createBatchedContext(model_, {}), model_, SchedulerConfig{});
    }

    void paraphrasesAtTheDefaultThreshold()
    {
        struct Pair {
            const char* stored;
            const char* asked;
            bool paraphrase;
        };
        const Pair pairs[] = {
            {"What is the capital of France?", "What's the capital city of France?", true},
            {"How do I boil an egg?", "How should I boil eggs?", true},
            {"Tell me a story about a dragon.", "Tell me a story about a dragon, please.", true},
            {"What is the weather like today?", "How is the weather today?", true},
            {"Explain how a steam engine works.", "How does a steam engine work?", true},
            {"What is the capital of France?", "What is the capital of Germany?", false},
            {"How do I boil an egg?", "How do I fry an egg?", false},
            {"Tell me a story about a dragon.", "Write a poem about the sea.", false},
            {"What is the weather like today?", "What time is it now?", false},
            {"Explain how a steam engine works.", "Explain how a bicycle works.", false},
        };
        QTemporaryDir dir;
        int hits = 0, falseHits = 0, paraphrases = 0, others = 0;
        for (const Pair& p : pairs) {
            // A fresh cache per pair: only the pair's stored prompt can answer.
            ResponseCache cache(std::filesystem::path(dir.path().toStdString()) /
                                ("pair" + std::to_string(paraphrases + others) + ".db"));
            const auto stored = embed(p.stored);
            cache.store("ref-main", "", "t=0", p.stored, std::string("answer to: ") + p.stored, 1, 1, 1, stored);
            const auto asked = embed(p.asked);
            const auto hit = cache.findSimilar("ref-main", "t=0", asked, kDefaultSimilarityThreshold);
            double sim = 0;
            for (size_t i = 0; i < stored.size(); ++i)
                sim += double(stored[i]) * asked[i];
            qInfo("%.4f %-10s %-4s  %s | %s", sim, p.paraphrase ? "paraphrase" : "different", hit ? "HIT" : "miss",
                  p.stored, p.asked);
            (p.paraphrase ? paraphrases : others) += 1;
            if (hit && p.paraphrase)
                ++hits;
            if (hit && !p.paraphrase)
                ++falseHits;
            // The identical prompt is always a hit, with the stored answer intact.
            const auto same = cache.findSimilar("ref-main", "t=0", stored, kDefaultSimilarityThreshold);
            QVERIFY(same.has_value());
            QCOMPARE(QString::fromStdString(same->response), QString("answer to: ") + p.stored);
        }
        qInfo("threshold %.2f: %d of %d paraphrases hit, %d of %d different prompts hit falsely",
              double(kDefaultSimilarityThreshold), hits, paraphrases, falseHits, others);
    }
};

QTEST_GUILESS_MAIN(TestSemanticCache)
#include "tst_semantic_cache.moc"
