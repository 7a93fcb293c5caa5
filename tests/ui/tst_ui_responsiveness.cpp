// A desktop that never stutters: no SQLite statement on the GUI thread, a 2,000-message
// conversation that opens with a few dozen cards and grows one card at a time, and the GUI event
// loop's p99 latency under 50 ms while a long reply streams into that conversation and a
// model-folder scan walks tens of thousands of files.
#include "gui_test_support.h"
#include "long_conversation.h"

#include "chat/chat_page.h"
#include "chat/composer.h"
#include "chat/conversation_list_model.h"
#include "chat/conversation_settings_panel.h"
#include "chat/message_bubble.h"
#include "chat/transcript_view.h"
#include "core/main_window.h"
#include "models/models_page.h"
#include "session/model_host.h"

#include <QDir>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QMutex>
#include <QPushButton>
#include <QThread>
#include <QTimer>
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <vector>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

namespace {

ChatPage* chatPage(Application& app) { return qobject_cast<ChatPage*>(app.window().page(QStringLiteral("chat"))); }
ModelsPage* modelsPage(Application& app) { return qobject_cast<ModelsPage*>(app.window().page(QStringLiteral("models"))); }

std::unique_ptr<Application> launchLoaded(const QString& dir, const QString& model)
{
    auto app = launch(dir, model);
    app->window().show();
    const bool ok = waitUntil([&] {
        return app->context().host().isLoaded() && chatPage(*app)->settingsPanel()->modelPath() == model;
    }, 60000);
    return ok ? std::move(app) : nullptr;
}

bool openAndWait(ChatPage* chat, qint64 id)
{
    chat->openConversation(id);
    return waitUntil([&] { return chat->currentConversationId() == id; }, 30000);
}

// A folder tree with `files` plain files (no models): what a scan of a big download folder walks.
void makeTree(const QString& root, int folders, int filesPerFolder)
{
    for (int d = 0; d < folders; ++d) {
        const QString folder = QStringLiteral("%1/d%2").arg(root).arg(d);
        QDir().mkpath(folder);
        for (int f = 0; f < filesPerFolder; ++f) {
            QFile file(QStringLiteral("%1/f%2.txt").arg(folder).arg(f));
            file.open(QIODevice::WriteOnly);
        }
    }
}

// Time-weighted p-quantile of event-loop latency from the times a fast timer fired: an event
// posted at a moment inside a gap of g ms waits up to g ms, so a gap contributes g ms of samples
// spread over 0..g. Returns the latency L such that the loop was busy for longer than L during
// only (1 - q) of the time. (A plain per-tick percentile would count a 500 ms freeze as a single
// late tick and hide it.)
double latencyQuantile(const std::vector<qint64>& ticks, double q)
{
    std::vector<double> gaps;
    double total = 0;
    for (size_t i = 1; i < ticks.size(); ++i) {
        gaps.push_back(double(ticks[i] - ticks[i - 1]));
        total += gaps.back();
    }
    double lo = 0, hi = total;
    for (int it = 0; it < 60; ++it) {
        const double mid = (lo + hi) / 2;
        double above = 0;
        for (double g : gaps)
            above += std::max(0.0, g - mid);
        (above > (1 - q) * total ? lo : hi) = mid;
    }
    return hi;
}

} // namespace

class TestUiResponsiveness : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        TENFOLD_REQUIRE_SHARED(sharedFile("models/tenfold-ref-main-f16.gguf"));
    }

    void noStoreStatementRunsOnTheGuiThread()
    {
        QTemporaryDir dir;
        QTemporaryDir models;
        makeTree(models.path(), 3, 5);
        auto app = launchLoaded(dir.path(), stories260K());
        QVERIFY(app);
        ChatPage* chat = chatPage(*app);
        chat->settingsPanel()->maxTokensBox()->setValue(24);

        // Every statement SQLite starts from now on, and the thread it ran on.
        QThread* gui = QThread::currentThread();
        std::atomic<int> onGui{0}, elsewhere{0};
        QMutex mutex;
        QString firstOnGui;
        Store& store = storeAfterPendingWrites(*app);
        store.setStatementObserver([&](std::string_view sql) {
            if (QThread::currentThread() == gui) {
                if (onGui++ == 0) {
                    QMutexLocker lock(&mutex);
                    firstOnGui = QString::fromUtf8(sql.data(), qsizetype(sql.size()));
                }
            } else {
                ++elsewhere;
            }
        });

        // Send and stream a reply, in a new conversation and again in the same one.
        QSignalSpy finished(chat, &ChatPage::replyFinished);
        chat->composer()->setPlainText(QStringLiteral("Once upon a time"));
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QVERIFY(finished.wait(60000));
        chat->composer()->setPlainText(QStringLiteral("The dog ran"));
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QVERIFY(finished.wait(60000));
        const qint64 first = chat->currentConversationId();
        // Search, rename, new chat, reopen, regenerate, delete and undo.
        QTest::keyClicks(chat->searchField(), QStringLiteral("dog"));
        QVERIFY(waitUntil([&] { return chat->conversationModel()->rowCount() == 1; }, 5000));
        chat->searchField()->clear();
        QVERIFY(chat->conversationModel()->setData(chat->conversationModel()->index(0), QStringLiteral("Renamed"),
                                                   Qt::EditRole));
        chat->newChat();
        QVERIFY(openAndWait(chat, first));
        chat->regenerate();
        QVERIFY(finished.wait(60000));
        chat->deleteCurrentConversation();
        QVERIFY(waitUntil([&] { return chat->undoBar()->isVisible(); }, 5000));
        chat->undoDelete();
        QVERIFY(waitUntil([&] { return chat->currentConversationId() == first; }, 5000));
        // The model library: a folder scan, adding a file, the settings page.
        ModelsPage* page = modelsPage(*app);
        QSignalSpy scanned(page, &ModelsPage::folderScanned);
        page->scanFolder(models.path());
        QVERIFY(scanned.wait(10000));
        QSignalSpy updated(page, &ModelsPage::libraryUpdated);
        page->addFiles({refMain()});
        QVERIFY(updated.wait(30000));
        app->window().showPage(QStringLiteral("settings"));
        app->window().showPage(QStringLiteral("chat"));

        app->context().storeWorker().drain();
        QTest::qWait(50); // results delivered to the GUI thread may queue follow-up jobs
        app->context().storeWorker().drain();
        store.setStatementObserver({});
        QVERIFY2(onGui.load() == 0, qPrintable(QStringLiteral("%1 statement(s) on the GUI thread, the first: %2")
                                                    .arg(onGui.load()).arg(firstOnGui)));
        QVERIFY2(elsewhere.load() > 20, qPrintable(QString::number(elsewhere.load())));
    }

    void longConversationOpensWithFewCardsAndGrowsOneAtATime()
    {
        QTemporaryDir dir;
        const qint64 id = writeLongConversation(dir.path(), 2000);
        auto app = launch(dir.path());
        app->window().show();
        ChatPage* chat = chatPage(*app);
        QVERIFY(openAndWait(chat, id));
        TranscriptView* transcript = chat->transcript();
        QCOMPARE(transcript->bubbles().size(), ChatPage::kMessagesPerPage);
        QCOMPARE(transcript->hiddenEarlierCount(), 2000 - ChatPage::kMessagesPerPage);
        QCOMPARE(transcript->lastBubble()->text(), QString::fromStdString(longConversationText(1999, false)));
        // Every card rendered its Markdown once.
        for (MessageBubble* b : transcript->bubbles())
            QCOMPARE(b->renderCount(), 1);

        // Showing earlier messages builds the next page above, touching no card already shown.
        QVERIFY(transcript->showEarlierButton()->isVisible());
        QTest::mouseClick(transcript->showEarlierButton(), Qt::LeftButton);
        QCOMPARE(transcript->bubbles().size(), 2 * ChatPage::kMessagesPerPage);
        QCOMPARE(transcript->bubbles().front()->text(),
                 QString::fromStdString(longConversationText(2000 - 2 * ChatPage::kMessagesPerPage, true)));
        for (MessageBubble* b : transcript->bubbles())
            QCOMPARE(b->renderCount(), 1);

        // Streaming into the last card re-renders that card only.
        MessageBubble* last = transcript->lastBubble();
        last->setState(MessageState::Streaming);
        for (int i = 0; i < 50; ++i)
            last->appendText(QStringLiteral(" more"));
        QVERIFY(waitUntil([&] { return last->contentLabel()->text().contains(QStringLiteral("more")); }, 2000));
        for (MessageBubble* b : transcript->bubbles())
            if (b != last)
                QCOMPARE(b->renderCount(), 1);
    }

    void eventLoopP99UnderFiftyMsWhileStreamingAndScanning()
    {
        QTemporaryDir dir;
        QTemporaryDir models;
        // 100,000 files: walking them takes far longer than a frame on this machine.
        makeTree(models.path(), 400, 250);
        const QString model = refMain();
        // Unseeded: replies to the repeated "And then?" must stream; a deterministic (seeded) one
        // could be answered from the response cache in one chunk.
        const qint64 id = writeLongConversation(dir.path(), 2000, QFileInfo(model).absoluteFilePath(),
                                                R"({"max_tokens":256,"seed":-1,"temperature":0.8})");
        auto app = launchLoaded(dir.path(), model);
        QVERIFY(app);
        ChatPage* chat = chatPage(*app);
        QVERIFY(openAndWait(chat, id));

        QElapsedTimer clock;
        std::vector<qint64> ticks;
        QTimer tick;
        tick.setTimerType(Qt::PreciseTimer);
        tick.setInterval(5);
        connect(&tick, &QTimer::timeout, this, [&] { ticks.push_back(clock.elapsed()); });
        QSignalSpy chunks(&app->context().host(), &ModelHost::textStreamed);
        QSignalSpy finished(chat, &ChatPage::replyFinished);
        ModelsPage* page = modelsPage(*app);

        clock.start();
        tick.start();
        // Replies keep streaming (a model may end one early) until the scan is done and at least
        // 150 chunks arrived; the scan starts with the first reply's first chunk.
        qint64 scanStarted = -1, scanTook = -1;
        connect(page, &ModelsPage::folderScanned, this, [&] { scanTook = clock.elapsed() - scanStarted; });
        int replies = 0;
        while (replies < 20 && (scanTook < 0 || chunks.count() < 150)) {
            finished.clear();
            chat->composer()->setPlainText(QStringLiteral("And then?"));
            QTest::keyClick(chat->composer(), Qt::Key_Return);
            if (scanStarted < 0) {
                QVERIFY(chunks.wait(30000));
                scanStarted = clock.elapsed();
                page->scanFolder(models.path());
            }
            QVERIFY(finished.wait(120000));
            ++replies;
        }
        tick.stop();
        QVERIFY2(scanTook >= 0, "the folder scan did not finish while replies streamed");
        QVERIFY2(chunks.count() >= 150, qPrintable(QString::number(chunks.count())));
        QVERIFY2(ticks.size() >= 200, "the measurement was too short");

        const double p99 = latencyQuantile(ticks, 0.99);
        qint64 worst = 0;
        for (size_t i = 1; i < ticks.size(); ++i)
            worst = std::max(worst, ticks[i] - ticks[i - 1]);
        qInfo("event loop over %.1f s, %d replies, %d chunks, folder scan %lld ms: p99 latency %.1f ms, "
              "longest gap %lld ms",
              double(ticks.back() - ticks.front()) / 1000.0, replies, int(chunks.count()), scanTook, p99, worst);
        QVERIFY2(p99 < 50.0, qPrintable(QStringLiteral("p99 event-loop latency %1 ms").arg(p99)));
        // Each exchange added its two cards to the newest page; the 2,000 stored messages were
        // never all built.
        QCOMPARE(chat->transcript()->bubbles().size(), ChatPage::kMessagesPerPage + 2 * replies);
        QCOMPARE(chat->transcript()->lastBubble()->state(), MessageState::Complete);
    }
};

QTEST_MAIN(TestUiResponsiveness)
#include "tst_ui_responsiveness.moc"
