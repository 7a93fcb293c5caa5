// ConversationCache (runtime/conversation_cache.h): replies computed on a reused or restored
// conversation cache must be exactly the replies a fresh context computes from the whole prompt
// (greedy), while only the new tokens are evaluated; two conversations used in turn each get
// their own cache back.
#include "common/shared_data.h"
#include "model/model.h"
#include "runtime/conversation_cache.h"
#include "runtime/cpu_backend.h"
#include "runtime/generator.h"
#include "tokenizer/tokenizer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

using namespace tenfold;
using tenfold::test::sharedFile;

namespace {

struct Reply {
    std::vector<int32_t> tokens;
    std::string text;
    int evaluated = 0;
};

Reply run(InferenceContext& ctx, const Model& m, std::span<const int32_t> prompt)
{
    GenerateOptions o;
    o.maxTokens = 12;
    o.sampling.temperature = 0;
    Reply r;
    const auto stats = generate(ctx, m, prompt, o, [&](int32_t id, std::string_view piece) {
        if (id >= 0)
            r.tokens.push_back(id);
        r.text += piece;
        return true;
    });
    r.evaluated = stats.promptTokens;
    return r;
}

} // namespace

class TestConversationCache : public QObject {
    Q_OBJECT
    std::unique_ptr<Backend> cpu_ = createCpuBackend(2);
    std::shared_ptr<Model> model_;

    std::vector<int32_t> encode(const std::string& text) { return model_->tokenizer().encode(text, true); }

private slots:
    void initTestCase()
    {
        const auto m = sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(m);
        model_ = Model::loadGGUF(m);
    }

    void turnsReuseAndConversationsComeBack()
    {
        auto ctx = cpu_->createContext(model_, {});
        ConversationCache cache(2);
        std::string a = "The mill stood by the river.", b = "Scientists have found a new star.";
        int turn = 0;
        // Alternate: A, B, A, B, A: each reply continues its own conversation's text.
        for (int i = 0; i < 5; ++i) {
            std::string& conv = i % 2 == 0 ? a : b;
            conv += i < 2 ? "" : " And then";
            const auto prompt = encode(conv);
            const int reused = cache.prepare(*ctx, *model_, GGMLType::F16, prompt);
            QCOMPARE(ctx->position(), reused);
            std::vector<int32_t> fed = prompt;
            const Reply r = run(*ctx, *model_, std::span<const int32_t>(prompt).subspan(size_t(reused)));
            fed.insert(fed.end(), r.tokens.begin(), r.tokens.end());
            fed.resize(size_t(ctx->position()));
            cache.update(fed);
            // The oracle: a fresh context, the whole prompt.
            auto fresh = cpu_->createContext(model_, {});
            const Reply want = run(*fresh, *model_, prompt);
            QCOMPARE(QString::fromStdString(r.text), QString::fromStdString(want.text));
            QCOMPARE(r.evaluated, int(prompt.size()) - reused);
            if (i >= 2) {
                // The conversation's earlier prompt and reply came back from the saved states:
                // everything but what changed since (the re-tokenized end of the reply and the
                // new text).
                QVERIFY2(reused >= int(prompt.size()) - 12,
                         qPrintable(QString("turn %1 reused %2 of %3").arg(i).arg(reused).arg(prompt.size())));
            }
            conv += want.text;
            ++turn;
        }
        QVERIFY(cache.savedCount() >= 1);
    }

    // Across a restart: the conversations persisted by one cache come back in a new cache and a
    // new context (as after restarting the app), the next turn computes only what is new, and its
    // reply is the fresh context's. Another model's cache skips them; a corrupted file is skipped
    // with a warning.
    void conversationsSurviveARestart()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::filesystem::path states = dir.filePath("kv").toStdString();
        std::string a = "The mill stood by the river.", b = "Scientists have found a new star.";
        {
            auto ctx = cpu_->createContext(model_, {});
            ConversationCache cache(4);
            for (std::string* conv : {&a, &b}) {
                const auto prompt = encode(*conv);
                const int reused = cache.prepare(*ctx, *model_, GGMLType::F16, prompt);
                std::vector<int32_t> fed = prompt;
                const Reply r = run(*ctx, *model_, std::span<const int32_t>(prompt).subspan(size_t(reused)));
                fed.insert(fed.end(), r.tokens.begin(), r.tokens.end());
                fed.resize(size_t(ctx->position()));
                cache.update(fed);
                *conv += r.text;
            }
            const auto warnings = cache.persist(*ctx, *model_, GGMLType::F16, states, uint64_t(1) << 30);
            QVERIFY2(warnings.empty(), warnings.empty() ? "" : warnings.front().c_str());
        }
        int files = 0;
        for (const auto& e : std::filesystem::directory_iterator(states))
            files += isPromptStateFile(e.path(), "conversation", model_.get());
        QCOMPARE(files, 2); // b live, a saved
        for (std::string* conv : {&a, &b}) {
            auto ctx = cpu_->createContext(model_, {});
            ConversationCache cache(4);
            const auto warnings = cache.restore(*model_, GGMLType::F16, states);
            QVERIFY2(warnings.empty(), warnings.empty() ? "" : warnings.front().c_str());
            QCOMPARE(cache.savedCount(), size_t(2));
            const auto prompt = encode(*conv + " And then");
            const int reused = cache.prepare(*ctx, *model_, GGMLType::F16, prompt);
            QVERIFY2(reused >= int(prompt.size()) - 12,
                     qPrintable(QString("reused %1 of %2 after a restart").arg(reused).arg(prompt.size())));
            const Reply r = run(*ctx, *model_, std::span<const int32_t>(prompt).subspan(size_t(reused)));
            auto fresh = cpu_->createContext(model_, {});
            QCOMPARE(QString::fromStdString(r.text), QString::fromStdString(run(*fresh, *model_, prompt).text));
        }
        // Another model's cache finds none of these files.
        {
            const auto other = Model::loadGGUF(sharedFile("models/stories260K.gguf"));
            ConversationCache cache(4);
            QVERIFY(cache.restore(*other, GGMLType::F16, states).empty());
            QCOMPARE(cache.savedCount(), size_t(0));
        }
        // A corrupted file is skipped with a warning; the other one still comes back.
        const auto first = *std::filesystem::directory_iterator(states);
        {
            std::fstream f(first.path(), std::ios::in | std::ios::out | std::ios::binary);
            QVERIFY(f.is_open());
            f.seekg(-50, std::ios::end);
            const char c = char(f.get() ^ 0x21);
            f.seekp(-50, std::ios::end);
            f.put(c);
        }
        ConversationCache cache(4);
        QCOMPARE(int(cache.restore(*model_, GGMLType::F16, states).size()), 1);
        QCOMPARE(cache.savedCount(), size_t(1));
    }
};

QTEST_GUILESS_MAIN(TestConversationCache)
#include "tst_conversation_cache.moc"
