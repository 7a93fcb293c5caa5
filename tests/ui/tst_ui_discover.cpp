// The Models page's Discover tab, driven offscreen through the real app against a loopback hub
// (tests/engine/hub/hub_test_server.h, reached through HF_ENDPOINT as the app reads it): search,
// pick a file from the quantization groups, download, pause, resume, and the verified file joins
// the library; then the downloaded model is loaded and answers one chat message. The file served
// is the shared stories260K.gguf, its SHA-256 taken by coreutils' sha256sum, not by our code.
// Screenshots in English and Chinese go to <build>/screenshots.
#include "gui_test_support.h"

#include "chat/chat_page.h"
#include "chat/composer.h"
#include "chat/message_bubble.h"
#include "chat/transcript_view.h"
#include "core/main_window.h"
#include "engine/hub/hub_test_server.h"
#include "models/discover_tab.h"
#include "models/model_library_model.h"
#include "models/models_page.h"
#include "session/model_host.h"

#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QTabWidget>
#include <QTreeWidget>
#include <QtTest>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

namespace {

QTreeWidgetItem* fileItem(QTreeWidget* files, const QString& name)
{
    for (int g = 0; g < files->topLevelItemCount(); ++g)
        for (int c = 0; c < files->topLevelItem(g)->childCount(); ++c)
            if (files->topLevelItem(g)->child(c)->text(0) == name)
                return files->topLevelItem(g)->child(c);
    return nullptr;
}

QString stateOf(DiscoverTab* tab, qint64 id)
{
    QTreeWidgetItem* item = tab->downloadItem(id);
    return item ? item->text(1) : QString();
}

} // namespace

class TestUiDiscover : public QObject {
    Q_OBJECT

private slots:
    void searchDownloadPauseResumeChat_data()
    {
        QTest::addColumn<QString>("language");
        QTest::newRow("en") << QStringLiteral("en");
        QTest::newRow("zh_CN") << QStringLiteral("zh_CN");
    }

    void searchDownloadPauseResumeChat()
    {
        QFETCH(QString, language);
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        QFile source(stories260K());
        QVERIFY(source.open(QIODevice::ReadOnly));
        const QByteArray bytes = source.readAll();
        const std::string sha = sha256sumOfFile(stories260K());
        QCOMPARE(int(sha.size()), 64);

        HubTestServer server;
        server.slowDelayMs = 40; // 16 KiB per 40 ms: about 3 s for the file, time to pause it
        server.addModel({"tenfold-test/stories260K-GGUF", 4321, 12});
        server.addModel({"tenfold-test/unrelated", 1, 0});
        HubTestServer::File model{"tenfold-test/stories260K-GGUF", "stories260K-F32.gguf", bytes};
        model.mode = HubTestServer::Mode::Slow;
        QCOMPARE(server.addFile(model), sha);
        server.addFile({"tenfold-test/stories260K-GGUF", "stories260K-Q8_0.gguf", randomBytes(700000, 1)});
        server.addFile({"tenfold-test/stories260K-GGUF", "stories260K-Q4_K_M.gguf", randomBytes(400000, 2)});
        qputenv("HF_ENDPOINT", QByteArray::fromStdString(server.endpoint()));
        qunsetenv("HF_TOKEN");
        qputenv("HF_TOKEN_PATH", "/nonexistent/tenfold-test-token");

        QTemporaryDir dir;
        presetSettings(dir.path(), [&](AppSettings& s) { s.setLanguage(language); });
        auto app = launch(dir.path());
        MainWindow& w = app->window();
        w.resize(1280, 860);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.showPage(QStringLiteral("models"));
        auto* models = qobject_cast<ModelsPage*>(w.page(QStringLiteral("models")));
        QVERIFY(models);
        DiscoverTab* tab = models->discoverTab();
        models->tabs()->setCurrentWidget(tab);

        // Search: typed, Enter.
        tab->searchEdit()->setFocus();
        QTest::keyClicks(tab->searchEdit(), QStringLiteral("stories"));
        QTest::keyClick(tab->searchEdit(), Qt::Key_Return);
        QVERIFY(waitUntil([&] { return tab->resultsView()->topLevelItemCount() == 1; }, 20000));
        QCOMPARE(tab->resultsView()->topLevelItem(0)->text(0), QStringLiteral("tenfold-test/stories260K-GGUF"));
        QVERIFY(server.requestsTo("hub", "/api/models").at(0).query.find("filter=gguf") != std::string::npos);

        // Pick the repository: its files, one group per quantization.
        tab->resultsView()->setCurrentItem(tab->resultsView()->topLevelItem(0));
        QVERIFY(waitUntil([&] { return tab->filesView()->topLevelItemCount() == 3; }, 20000));
        QStringList groups;
        for (int g = 0; g < 3; ++g)
            groups << tab->filesView()->topLevelItem(g)->text(0);
        QCOMPARE(groups, (QStringList{QStringLiteral("F32"), QStringLiteral("Q4_K_M"), QStringLiteral("Q8_0")}));
        QTreeWidgetItem* pick = fileItem(tab->filesView(), QStringLiteral("stories260K-F32.gguf"));
        QVERIFY(pick);
        QCOMPARE(pick->text(2), DiscoverTab::tr("Fits")); // 1.2 MB of weights
        QVERIFY(!tab->downloadButton()->isEnabled());
        tab->filesView()->setCurrentItem(pick);
        QVERIFY(tab->downloadButton()->isEnabled());

        // Download, and pause it midway.
        QSignalSpy downloaded(tab, &DiscoverTab::modelDownloaded);
        QTest::mouseClick(tab->downloadButton(), Qt::LeftButton);
        qint64 id = 0;
        QVERIFY(waitUntil([&] {
            for (int i = 0; i < tab->downloadsView()->topLevelItemCount(); ++i)
                id = tab->downloadsView()->topLevelItem(i)->data(0, Qt::UserRole + 2).toLongLong();
            return id && stateOf(tab, id) == DiscoverTab::tr("Downloading") &&
                   qobject_cast<QProgressBar*>(tab->downloadsView()->itemWidget(tab->downloadItem(id), 2))->value() > 100;
        }, 20000));
        // Speed and time left are shown while it runs.
        QVERIFY(waitUntil([&] {
            QTreeWidgetItem* row = tab->downloadItem(id);
            return row->text(3).contains(QLatin1Char('/')) && !row->text(4).isEmpty() && row->text(4) != QStringLiteral("—");
        }, 20000));
        const QString dest = QDir(dir.path()).filePath(
            QStringLiteral("models/tenfold-test/stories260K-GGUF/stories260K-F32.gguf"));
        tab->downloadsView()->setCurrentItem(tab->downloadItem(id));
        QVERIFY(tab->pauseButton()->isEnabled());
        QTest::mouseClick(tab->pauseButton(), Qt::LeftButton);
        QVERIFY(waitUntil([&] { return stateOf(tab, id) == DiscoverTab::tr("Paused"); }, 20000));
        QVERIFY(!QFile::exists(dest));
        const qint64 kept = QFileInfo(dest + QStringLiteral(".part")).size();
        QVERIFY2(kept > 0 && kept < bytes.size(), qPrintable(QString::number(kept)));
        QVERIFY(tab->resumeButton()->isEnabled());
        QDir().mkpath(QStringLiteral(TENFOLD_BINARY_DIR "/screenshots"));
        QTest::qWait(50);
        QVERIFY(w.grab().save(QStringLiteral(TENFOLD_BINARY_DIR "/screenshots/discover-paused-%1.png").arg(language)));

        // Resume: the rest comes with a Range request, the file is verified and joins the library.
        QTest::mouseClick(tab->resumeButton(), Qt::LeftButton);
        QVERIFY(downloaded.count() > 0 || downloaded.wait(30000));
        QCOMPARE(downloaded.at(0).at(0).toString(), dest);
        QCOMPARE(stateOf(tab, id), DiscoverTab::tr("Verified"));
        QCOMPARE(sha256sumOfFile(dest), sha);
        QCOMPARE(server.requestsTo("storage", "/lfs/").back().range, "bytes=" + std::to_string(kept) + "-");
        QVERIFY(waitUntil([&] {
            models->selectPath(dest);
            return models->selectedPath() == dest;
        }, 20000));
        QTest::qWait(50);
        QVERIFY(w.grab().save(QStringLiteral(TENFOLD_BINARY_DIR "/screenshots/discover-done-%1.png").arg(language)));

        // Load the downloaded model from the library and chat with it.
        models->tabs()->setCurrentIndex(0);
        models->loadSelected();
        QVERIFY(waitUntil([&] { return app->context().host().isLoaded(); }, 60000));
        app->context().requestNewChatWithModel(dest);
        auto* chat = qobject_cast<ChatPage*>(w.page(QStringLiteral("chat")));
        w.showPage(QStringLiteral("chat"));
        QSignalSpy finished(chat, &ChatPage::replyFinished);
        QVERIFY(waitUntil([&] { return app->context().host().isLoaded(); }, 60000));
        chat->composer()->setFocus();
        chat->composer()->setPlainText(QStringLiteral("Once upon a time"));
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QVERIFY(finished.count() > 0 || finished.wait(60000));
        MessageBubble* reply = chat->transcript()->lastBubble();
        QVERIFY(reply);
        QVERIFY2(!reply->contentLabel()->text().trimmed().isEmpty(), "empty reply");
        const auto library = storeAfterPendingWrites(*app).models();
        bool inLibrary = false;
        for (const ModelRecord& m : library)
            inLibrary = inLibrary || QString::fromStdString(m.path) == dest;
        QVERIFY(inLibrary);
        qunsetenv("HF_ENDPOINT");
        qunsetenv("HF_TOKEN_PATH");
        QLocale::setDefault(QLocale::c());
    }
};

QTEST_MAIN(TestUiDiscover)
#include "tst_ui_discover.moc"
