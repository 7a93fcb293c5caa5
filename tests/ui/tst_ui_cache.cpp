// The chat's response cache and the Cache page: a real EngineSession on stories260K over a real
// tenfold.db. Oracles: the first, computed reply, and the engine's own generate() on a fresh
// context (a cached answer must be exactly what the model says).
#include "gui_test_support.h"

#include "cache/cache_page.h"
#include "chat/chat_page.h"
#include "chat/composer.h"
#include "chat/conversation_settings_panel.h"
#include "core/main_window.h"
#include "chat/chat_template.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "runtime/backend.h"
#include "runtime/generator.h"
#include "session/backend_factory.h"
#include "session/engine_session.h"
#include "session/model_host.h"
#include "session/prompt_builder.h"
#include "store/response_cache.h"
#include "store/store.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QtTest>

#include <sqlite3.h>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

namespace {

std::filesystem::path databaseIn(const QTemporaryDir& dir)
{
    return std::filesystem::path(dir.path().toStdString()) / Store::kFileName;
}

ChatRequest storyRequest(quint64 id, const QString& text, double temperature, qint64 seed)
{
    ChatRequest r;
    r.id = id;
    r.turns.push_back({QStringLiteral("user"), text});
    r.sampling.temperature = temperature;
    r.sampling.seed = seed;
    r.sampling.maxTokens = 48;
    return r;
}

// One EngineSession driven on the test thread (its slots run synchronously when called
// directly), with every reply's streamed text collected.
struct Session {
    std::shared_ptr<std::atomic<bool>> loadCancel = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<std::atomic<bool>> generateCancel = std::make_shared<std::atomic<bool>>(false);
    EngineSession engine{loadCancel, generateCancel};
    QMap<quint64, QString> streamed;
    QList<GenerationResult> finished;

    bool open(const QTemporaryDir& dir)
    {
        Store store(dir.path().toStdString()); // creates and migrates tenfold.db (schema v5)
        engine.setResponseCacheFile(QString::fromStdString(databaseIn(dir).string()));
        QObject::connect(&engine, &EngineSession::textStreamed, [this](quint64 id, const QString& c) { streamed[id] += c; });
        QObject::connect(&engine, &EngineSession::generationFinished,
                         [this](const GenerationResult& r) { finished.push_back(r); });
        QSignalSpy loaded(&engine, &EngineSession::loaded);
        LoadRequest load;
        load.path = stories260K();
        load.backend = ComputeBackend::Cpu;
        load.loadId = 1;
        engine.load(load);
        return loaded.count() == 1;
    }
    GenerationResult run(const ChatRequest& request)
    {
        const qsizetype before = finished.size();
        engine.generate(request);
        return finished.size() == before + 1 ? finished.back() : GenerationResult();
    }
};

// The engine's own greedy/seeded reply to `request`, on a fresh model and context.
QString engineReply(const ChatRequest& request)
{
    auto model = Model::loadGGUF(stories260K().toStdString());
    ChatModelInfo info;
    info.name = model->displayName();
    info.architecture = model->hparams().architecture;
    if (const GGUFFile* file = model->gguf())
        info.chatTemplate = file->getString("tokenizer.chat_template");
    const ChatTemplate chatTemplate = selectChatTemplate(info);
    BackendSelection cpu = createBackend(nullptr, ComputeBackend::Cpu, 0);
    auto ctx = cpu.backend->createContext(model, ContextParams());
    const BuiltPrompt prompt = buildPrompt(model->tokenizer(), chatTemplate, request, ctx->contextSize());
    GenerateOptions options;
    options.maxTokens = request.sampling.maxTokens;
    options.sampling.temperature = float(request.sampling.temperature);
    options.sampling.topK = request.sampling.topK;
    options.sampling.topP = float(request.sampling.topP);
    options.sampling.minP = float(request.sampling.minP);
    options.sampling.repeatPenalty = float(request.sampling.repeatPenalty);
    options.sampling.seed = uint64_t(std::max<qint64>(request.sampling.seed, 0));
    options.stopStrings = chatTemplate.stopStrings();
    std::string text;
    tenfold::generate(*ctx, *model, prompt.tokens, options, [&](int32_t, std::string_view piece) {
        text += piece;
        return true;
    });
    return QString::fromStdString(text);
}

CachePage* cachePage(Application& app)
{
    return qobject_cast<CachePage*>(app.window().page(QStringLiteral("cache")));
}

} // namespace

class TestUiCache : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf")); }

    void greedyRepeatComesFromCacheUnchanged()
    {
        QTemporaryDir dir;
        Session s;
        QVERIFY(s.open(dir));
        const ChatRequest first = storyRequest(1, QStringLiteral("Once upon a time"), 0.0, -1);
        const GenerationResult computed = s.run(first);
        QVERIFY(computed.cacheHit.isEmpty());
        QVERIFY(computed.generatedTokens > 0);
        QVERIFY(!computed.text.isEmpty());
        QCOMPARE(computed.text, engineReply(first));

        ChatRequest again = first;
        again.id = 2;
        again.sampling.seed = 12345; // a greedy reply ignores the seed: still the same answer
        QSignalSpy started(&s.engine, &EngineSession::generationStarted);
        const GenerationResult cached = s.run(again);
        QCOMPARE(cached.cacheHit, QStringLiteral("exact"));
        QCOMPARE(cached.text, computed.text);
        QCOMPARE(s.streamed.value(2), computed.text); // streamed through the same signals
        QCOMPARE(started.count(), 1);
        QCOMPARE(cached.generatedTokens, 0);      // nothing was generated
        QCOMPARE(cached.promptTokens, 0);
        QCOMPARE(cached.cachedCompletionTokens, computed.generatedTokens);
        QVERIFY(!cached.cancelled);

        ResponseCache cache(databaseIn(dir));
        const ResponseCacheStats stats = cache.stats();
        QCOMPARE(stats.exact.hits, qint64(1));
        QCOMPARE(stats.exact.misses, qint64(1));
        QCOMPARE(stats.entries, qint64(1));
        QCOMPARE(stats.exact.tokensSaved, qint64(computed.generatedTokens + computed.promptTokens));

        // A different question is computed, not answered from the cache.
        const GenerationResult other = s.run(storyRequest(3, QStringLiteral("The little dog"), 0.0, -1));
        QVERIFY(other.cacheHit.isEmpty());
        QVERIFY(other.generatedTokens > 0);
    }

    // A stored row damaged on disk never answers: the reply is computed again, unchanged.
    // A cancelled reply is never stored.
    void damagedRowOrCancelNeverAltersAReply()
    {
        QTemporaryDir dir;
        Session s;
        QVERIFY(s.open(dir));
        const ChatRequest request = storyRequest(1, QStringLiteral("Once upon a time"), 0.0, -1);
        s.generateCancel->store(true);
        const GenerationResult cancelled = s.run(request);
        QVERIFY(cancelled.cancelled);
        QCOMPARE(ResponseCache(databaseIn(dir)).stats().entries, qint64(0));
        s.generateCancel->store(false);

        ChatRequest again = request;
        again.id = 2;
        const GenerationResult computed = s.run(again);
        QVERIFY(computed.cacheHit.isEmpty());
        QVERIFY(computed.generatedTokens > 0);
        {
            sqlite3* db = nullptr;
            QCOMPARE(sqlite3_open(databaseIn(dir).c_str(), &db), SQLITE_OK);
            QCOMPARE(sqlite3_exec(db, "UPDATE response_cache SET response = 'tampered'", nullptr, nullptr, nullptr), SQLITE_OK);
            QCOMPARE(sqlite3_changes(db), 1);
            sqlite3_close(db);
        }
        again.id = 3;
        const GenerationResult afterDamage = s.run(again);
        QVERIFY(afterDamage.cacheHit.isEmpty());
        QCOMPARE(afterDamage.text, computed.text);
        again.id = 4; // stored again by the computed reply
        const GenerationResult cached = s.run(again);
        QCOMPARE(cached.cacheHit, QStringLiteral("exact"));
        QCOMPARE(cached.text, computed.text);
    }

    void sampledWithoutSeedIsNeverCached()
    {
        QTemporaryDir dir;
        Session s;
        QVERIFY(s.open(dir));
        for (quint64 id : {1, 2}) {
            const GenerationResult r = s.run(storyRequest(id, QStringLiteral("Once upon a time"), 0.8, -1));
            QVERIFY(r.cacheHit.isEmpty());
            QVERIFY(r.generatedTokens > 0);
        }
        ResponseCache cache(databaseIn(dir));
        QCOMPARE(cache.stats().entries, qint64(0));
        QCOMPARE(cache.stats().exact.misses, qint64(0)); // not even looked up

        // With a fixed seed the sampled reply is deterministic, and the repeat is a hit.
        const ChatRequest seeded = storyRequest(3, QStringLiteral("Once upon a time"), 0.8, 7);
        const GenerationResult computed = s.run(seeded);
        QVERIFY(computed.cacheHit.isEmpty());
        QCOMPARE(computed.text, engineReply(seeded));
        ChatRequest again = seeded;
        again.id = 4;
        const GenerationResult cached = s.run(again);
        QCOMPARE(cached.cacheHit, QStringLiteral("exact"));
        QCOMPARE(cached.text, computed.text);
        again.id = 5;
        again.sampling.seed = 8; // another seed is another answer
        QVERIFY(s.run(again).cacheHit.isEmpty());
    }

    void semanticOptInAnswersSimilarQuestion()
    {
        QTemporaryDir dir;
        Session s;
        QVERIFY(s.open(dir));
        ChatRequest first = storyRequest(1, QStringLiteral("Once upon a time there was a dog"), 0.0, -1);
        first.sampling.semanticCache = true;
        first.sampling.similarityThreshold = 0.5; // stories260K's embeddings are weak; any story matches
        const GenerationResult computed = s.run(first);
        QVERIFY(computed.cacheHit.isEmpty());
        ChatRequest similar = first;
        similar.id = 2;
        similar.turns[0].content = QStringLiteral("Once upon a time there was a cat");
        const GenerationResult cached = s.run(similar);
        QCOMPARE(cached.cacheHit, QStringLiteral("semantic"));
        QCOMPARE(cached.text, computed.text);
        QVERIFY(cached.cacheSimilarity >= 0.5 && cached.cacheSimilarity < 1.0);
        // Without the opt-in the same question is computed.
        ChatRequest plain = similar;
        plain.id = 3;
        plain.sampling.semanticCache = false;
        QVERIFY(s.run(plain).cacheHit.isEmpty());
    }

    void cachePageShowsHitsAndClearEmptiesIt()
    {
        QTemporaryDir dir;
        auto app = launch(dir.path(), stories260K());
        app->window().show();
        ModelHost& host = app->context().host();
        QVERIFY(waitUntil([&] { return host.isLoaded(); }, 60000));
        CachePage* page = cachePage(*app);
        QVERIFY(page);
        app->window().showPage(QStringLiteral("cache"));

        QSignalSpy finished(&host, &ModelHost::generationFinished);
        QSignalSpy shown(page, &CachePage::statsShown);
        for (int i = 0; i < 2; ++i) {
            const int before = int(finished.count());
            QVERIFY(host.generate(storyRequest(0, QStringLiteral("Once upon a time"), 0.0, -1)) != 0);
            QVERIFY(waitUntil([&] { return finished.count() > before; }, 60000));
        }
        QCOMPARE(finished.at(1).at(0).value<GenerationResult>().cacheHit, QStringLiteral("exact"));
        // The page refreshed itself after each reply.
        QVERIFY(waitUntil([&] { return page->shownStats().exact.hits == 1; }, 10000));
        QCOMPARE(page->shownStats().exact.misses, qint64(1));
        QCOMPARE(page->shownStats().entries, qint64(1));
        QVERIFY(page->exactLabel()->text().contains(QStringLiteral("50.0%")));
        QVERIFY(page->reuseLabel()->text().contains(QStringLiteral("Replies answered from the response cache: 1.")));
        QCOMPARE(host.replyTotals().exactHits, qint64(1));

        // Refresh by keyboard: the button takes focus and Space presses it.
        shown.clear();
        page->refreshButton()->setFocus();
        QTest::keyClick(page->refreshButton(), Qt::Key_Space);
        QVERIFY(shown.count() > 0 || shown.wait(10000));

        // Clear asks first; Cancel keeps everything.
        page->clearButton()->setFocus();
        QTest::keyClick(page->clearButton(), Qt::Key_Space);
        QVERIFY(page->confirmation());
        page->confirmation()->button(QMessageBox::Cancel)->click();
        QVERIFY(waitUntil([&] { return !page->confirmation(); }, 5000));
        page->refresh();
        QVERIFY(shown.wait(10000));
        QCOMPARE(page->shownStats().entries, qint64(1));

        QSignalSpy cleared(page, &CachePage::cacheCleared);
        page->askToClear();
        QVERIFY(page->confirmation());
        QPushButton* clear = nullptr;
        for (QAbstractButton* b : page->confirmation()->buttons())
            if (page->confirmation()->buttonRole(b) == QMessageBox::DestructiveRole)
                clear = qobject_cast<QPushButton*>(b);
        QVERIFY(clear);
        clear->click();
        QVERIFY(cleared.count() > 0 || cleared.wait(10000));
        QVERIFY(waitUntil([&] { return page->shownStats().entries == 0; }, 10000));
        QCOMPARE(page->shownStats().exact.hits, qint64(0));
        QVERIFY(page->exactLabel()->text().contains(QStringLiteral("no lookups yet")));
        // Every read and the clear ran on the store thread.
        app->context().storeWorker().drain();

        // After the clear, the same question is computed again.
        const int before = int(finished.count());
        QVERIFY(host.generate(storyRequest(0, QStringLiteral("Once upon a time"), 0.0, -1)) != 0);
        QVERIFY(waitUntil([&] { return finished.count() > before; }, 60000));
        QVERIFY(finished.back().at(0).value<GenerationResult>().cacheHit.isEmpty());
    }

    // The same greedy question in a new conversation is answered from the cache; the usage
    // ledger marks that reply as a cache hit and the transcript holds the same text.
    void chatLedgerRecordsTheCacheHit()
    {
        QTemporaryDir dir;
        auto app = launch(dir.path(), stories260K());
        app->window().show();
        QVERIFY(waitUntil([&] { return app->context().host().isLoaded(); }, 60000));
        auto* chat = qobject_cast<ChatPage*>(app->window().page(QStringLiteral("chat")));
        QVERIFY(chat);
        QVERIFY(waitUntil([&] { return chat->settingsPanel()->modelPath() == stories260K(); }, 10000));
        QStringList replies;
        for (int i = 0; i < 2; ++i) {
            if (i == 1)
                chat->newChat(stories260K());
            chat->settingsPanel()->temperatureBox()->setValue(0);
            chat->settingsPanel()->maxTokensBox()->setValue(40);
            QSignalSpy replied(chat, &ChatPage::replyFinished);
            chat->composer()->setPlainText(QStringLiteral("Once upon a time"));
            QTest::keyClick(chat->composer(), Qt::Key_Return);
            QVERIFY(replied.count() > 0 || replied.wait(60000));
            const auto messages = storeAfterPendingWrites(*app).messages(chat->currentConversationId());
            QCOMPARE(int(messages.size()), 2);
            replies << QString::fromStdString(messages[1].content);
        }
        QVERIFY(!replies[0].isEmpty());
        QCOMPARE(replies[1], replies[0]);
        const auto usage = storeAfterPendingWrites(*app).usage();
        QCOMPARE(int(usage.size()), 2);
        QCOMPARE(usage[0].cacheHit, std::string());
        QVERIFY(usage[0].tokensOut > 0);
        QCOMPARE(usage[1].cacheHit, std::string("exact"));
        // The ledger row says what the answer had (as the server's rows do) and that nothing was
        // computed for it.
        QCOMPARE(usage[1].tokensOut, usage[0].tokensOut);
        QCOMPARE(usage[1].decodeTokens, 0);
        QCOMPARE(usage[1].prefillTokens, 0);
        QVERIFY(usage[0].decodeTokens > 0);
    }

    void semanticToggleRoundTripsThroughStore()
    {
        SamplingSettings s;
        QCOMPARE(SamplingSettings::fromJson(s.toJson()), s);
        QVERIFY(!s.semanticCache);
        QCOMPARE(s.similarityThreshold, double(kDefaultSimilarityThreshold));
        s.semanticCache = true;
        s.similarityThreshold = 0.95;
        QCOMPARE(SamplingSettings::fromJson(s.toJson()), s);

        // Through the chat's settings panel and the store.
        QTemporaryDir dir;
        auto app = launch(dir.path(), stories260K());
        app->window().show();
        QVERIFY(waitUntil([&] { return app->context().host().isLoaded(); }, 60000));
        auto* chat = qobject_cast<ChatPage*>(app->window().page(QStringLiteral("chat")));
        QVERIFY(chat);
        QSignalSpy replied(chat, &ChatPage::replyFinished);
        chat->composer()->setPlainText(QStringLiteral("Once upon a time"));
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QVERIFY(replied.count() > 0 || replied.wait(60000));
        const qint64 id = chat->currentConversationId();
        QVERIFY(id != 0);
        ConversationSettingsPanel* panel = chat->settingsPanel();
        QVERIFY(!panel->semanticCacheBox()->isChecked());
        QVERIFY(!panel->similarityThresholdBox()->isEnabled());
        panel->semanticCacheBox()->setChecked(true);
        QVERIFY(panel->similarityThresholdBox()->isEnabled());
        panel->similarityThresholdBox()->setValue(0.9);
        const auto stored = storeAfterPendingWrites(*app).conversation(id);
        QVERIFY(stored);
        const SamplingSettings read = SamplingSettings::fromJson(QString::fromStdString(stored->settingsJson));
        QVERIFY(read.semanticCache);
        QCOMPARE(read.similarityThreshold, 0.9);
        // Reopened, the panel shows it again.
        panel->semanticCacheBox()->setChecked(false);
        panel->setValues(panel->modelPath(), QString(), read);
        QVERIFY(panel->semanticCacheBox()->isChecked());
        QCOMPARE(panel->similarityThresholdBox()->value(), 0.9);
    }
};

QTEST_MAIN(TestUiCache)
#include "tst_ui_cache.moc"
