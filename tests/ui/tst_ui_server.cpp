// The Server page against the real tenfold-server: it starts the binary on stories260K, shows the
// address it listens on, lists a real completion request and charts its tokens, passes API keys
// in an owner-only file instead of the command line, shows the server's own error text when the
// model cannot be opened, and leaves no server process behind on Stop or when the app quits.
#include "gui_test_support.h"

#include "core/app_context.h"
#include "core/main_window.h"
#include "gguf/gguf_file.h"
#include "profiler/profiler_page.h"
#include "session/model_host.h"
#include "server/server_cluster_box.h"
#include "server/server_monitor.h"
#include "server/server_page.h"
#include "server/server_process.h"
#include "server/server_request_model.h"
#include "server/throughput_chart.h"
#include "store/store.h"

#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QGuiApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QTableWidget>
#include <QLineEdit>
#include <QLineSeries>
#include <QListWidget>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSpinBox>
#include <QTableView>
#include <QtTest>

#include <csignal>
#include <set>
#include <sys/stat.h>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

namespace {

// The server binary of this build tree (TENFOLD_SERVER_BINARY overrides it).
QString serverBinary()
{
    const QByteArray env = qgetenv("TENFOLD_SERVER_BINARY");
    return env.isEmpty() ? QStringLiteral(TENFOLD_SERVER_BINARY) : QString::fromLocal8Bit(env);
}

#define REQUIRE_SERVER()                                                                              \
    do {                                                                                              \
        if (!QFileInfo(serverBinary()).isExecutable())                                                \
            QSKIP(qPrintable(QStringLiteral("tenfold-server is not built: %1 (build the tenfold-server " \
                                            "target or set TENFOLD_SERVER_BINARY)").arg(serverBinary())));  \
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));                                \
    } while (0)

// Whether `pid` is still a tenfold-server process (not reaped, not reused by something else).
bool serverAlive(qint64 pid)
{
    if (pid <= 0)
        return false;
    const QFileInfo exe(QStringLiteral("/proc/%1/exe").arg(pid));
    return exe.exists() && exe.symLinkTarget() == QFileInfo(serverBinary()).canonicalFilePath();
}

QStringList commandLineOf(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/cmdline").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QStringList args;
    for (const QByteArray& a : f.readAll().split('\0'))
        if (!a.isEmpty())
            args << QString::fromLocal8Bit(a);
    return args;
}

struct HttpResult {
    int status = 0;
    QByteArray body;
    QString error;
};

// One real HTTP request, waited for with the event loop running (the page keeps polling).
HttpResult http(const QUrl& url, const QByteArray& method, const QByteArray& body = {}, const QString& key = {})
{
    QNetworkAccessManager network;
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    if (!key.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + key.toUtf8());
    QNetworkReply* reply = network.sendCustomRequest(request, method, body);
    HttpResult r;
    if (!QTest::qWaitFor([reply] { return reply->isFinished(); }, 60000)) {
        r.error = QStringLiteral("timed out");
        return r;
    }
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    r.error = reply->errorString();
    reply->deleteLater();
    return r;
}

ServerPage* serverPage(Application& app)
{
    return qobject_cast<ServerPage*>(app.window().page(QStringLiteral("server")));
}

// Starts the page's server on `model` and waits until it listens (or fails the test).
bool startAndWait(ServerPage* page, const QString& model)
{
    page->serverProcess()->setProgram(serverBinary());
    page->setModelPath(model);
    if (!page->startButton()->isEnabled())
        return false;
    QTest::mouseClick(page->startButton(), Qt::LeftButton);
    waitUntil([page] {
        const auto s = page->serverProcess()->state();
        return s == ServerProcess::State::Listening || s == ServerProcess::State::Failed;
    }, 120000);
    return page->serverProcess()->state() == ServerProcess::State::Listening;
}

} // namespace

class TestUiServer : public QObject {
    Q_OBJECT
private slots:
    void servesARealRequestAndStops()
    {
        REQUIRE_SERVER();
        QTemporaryDir dir;
        auto app = launch(dir.path());
        app->window().show();
        app->window().showPage(QStringLiteral("server"));
        ServerPage* page = serverPage(*app);
        QVERIFY(page);
        QVERIFY2(startAndWait(page, stories260K()), qPrintable(page->serverProcess()->errorMessage()));

        const QUrl url = page->serverProcess()->url();
        QVERIFY2(url.port() > 0, qPrintable(url.toString())); // --port 0: the one it picked
        QCOMPARE(page->urlField()->text(), url.toString());
        QVERIFY2(page->stateLabel()->text().contains(url.toString()), qPrintable(page->stateLabel()->text()));
        QVERIFY(page->curlExample()->toPlainText().contains(url.toString() + QStringLiteral("/v1/chat/completions")));
        QTest::mouseClick(page->copyUrlButton(), Qt::LeftButton);
        QCOMPARE(QGuiApplication::clipboard()->text(), url.toString());
        QVERIFY(page->stopButton()->isEnabled());
        QVERIFY(!page->startButton()->isEnabled());
        const qint64 pid = page->serverProcess()->processId();
        QVERIFY(serverAlive(pid));
        // The ledger goes into the app's own data folder; no key means no key file argument.
        const QStringList args = commandLineOf(pid);
        QVERIFY2(args.contains(QStringLiteral("--data-dir")) && args.contains(dir.path()), qPrintable(args.join(' ')));
        QVERIFY(!args.contains(QStringLiteral("--api-key-file")));

        // A real completion over HTTP.
        QUrl completions = url;
        completions.setPath(QStringLiteral("/v1/completions"));
        const HttpResult reply = http(completions, "POST",
                                      R"({"prompt": "Once upon a time", "max_tokens": 12, "temperature": 0})");
        QVERIFY2(reply.status == 200, qPrintable(QStringLiteral("%1 %2 %3").arg(reply.status).arg(reply.error, QString::fromUtf8(reply.body))));
        const QJsonObject usage = QJsonDocument::fromJson(reply.body).object().value(QStringLiteral("usage")).toObject();
        const int completionTokens = usage.value(QStringLiteral("completion_tokens")).toInt();
        const int promptTokens = usage.value(QStringLiteral("prompt_tokens")).toInt();
        QVERIFY2(completionTokens > 0 && promptTokens > 0, reply.body.constData());

        // It shows up in the live list as finished, with the server's own token counts.
        ServerRequestModel* requests = page->requestModel();
        auto listed = [&] {
            for (int i = 0; i < requests->rowCount(); ++i) {
                const ServerRequestInfo& r = requests->request(i);
                if (r.finished && r.generatedTokens == completionTokens && r.promptTokens == promptTokens)
                    return true;
            }
            return false;
        };
        QVERIFY2(waitUntil(listed, 15000), qPrintable(QStringLiteral("rows: %1").arg(requests->rowCount())));
        QCOMPARE(page->requestTable()->model(), requests);

        // Totals come from /metrics: every figure the page shows was found in the real output.
        QVERIFY(waitUntil([&] { return page->monitor()->metrics().generatedTokens >= completionTokens; }, 15000));
        const ServerMetrics m = page->monitor()->metrics();
        QCOMPARE(m.requestsTotal, 1.0);
        QCOMPARE(m.generatedTokens, double(completionTokens));
        QCOMPARE(m.promptTokens, double(promptTokens));
        for (double v : {m.requestsRejected, m.requestsCancelled, m.requestsFailed, m.responseCacheHits,
                         m.queueDepth, m.running, m.lastBatchSize, m.kvBlocksUsed, m.kvBlocksTotal})
            QVERIFY2(v >= 0, "a /metrics figure the page shows was not found in the server's output");
        QVERIFY2(page->totalsLabel()->text().contains(QLocale().toString(completionTokens) + QStringLiteral(" generated")),
                 qPrintable(page->totalsLabel()->text()));

        // The same deterministic request again comes from the server's response cache, and the
        // totals say so.
        QCOMPARE(m.responseCacheHits, 0.0);
        const HttpResult again = http(completions, "POST",
                                      R"({"prompt": "Once upon a time", "max_tokens": 12, "temperature": 0})");
        QCOMPARE(again.status, 200);
        QVERIFY(waitUntil([&] { return page->monitor()->metrics().responseCacheHits == 1.0; }, 15000));
        QVERIFY2(page->totalsLabel()->text().contains(QStringLiteral("answered from cache 1")),
                 qPrintable(page->totalsLabel()->text()));

        // The chart got points, and one of them carries the request's tokens per second.
        QLineSeries* tokens = page->chart()->tokensSeries();
        auto sawTokens = [tokens] {
            for (int i = 0; i < tokens->count(); ++i)
                if (tokens->at(i).y() > 0)
                    return true;
            return false;
        };
        QVERIFY2(waitUntil(sawTokens, 15000), qPrintable(QStringLiteral("points: %1").arg(tokens->count())));
        QCOMPARE(page->chart()->runningSeries()->count(), tokens->count());

        // The server recorded the request in the app's ledger as a server generation.
        bool ledgered = false;
        for (const LedgerEntry& e : storeAfterPendingWrites(*app).usage())
            ledgered = ledgered || (e.source == "server" && e.tokensOut == completionTokens);
        QVERIFY(ledgered);

        // For a person to review: the page while serving (the screenshot suite shows it idle).
        QDir().mkpath(QStringLiteral(TENFOLD_BINARY_DIR "/screenshots"));
        // A line needs two points; polling goes on while the test waits.
        QVERIFY(waitUntil([tokens] { return tokens->count() >= 3; }, 15000));
        page->window()->grab().save(QStringLiteral(TENFOLD_BINARY_DIR "/screenshots/server-listening-en.png"));

        QTest::mouseClick(page->stopButton(), Qt::LeftButton);
        QVERIFY(waitUntil([page] { return page->serverProcess()->state() == ServerProcess::State::Stopped; }, 15000));
        QVERIFY(!serverAlive(pid));
        QVERIFY(!page->monitor()->isActive());
        QVERIFY(page->urlField()->text().isEmpty());
        QVERIFY(page->startButton()->isEnabled());
    }

    void liveListShowsRequestsInFlight()
    {
        REQUIRE_SERVER();
        TENFOLD_REQUIRE_SHARED(sharedFile("models/tenfold-ref-main-f16.gguf"));
        QTemporaryDir dir;
        auto app = launch(dir.path());
        ServerPage* page = serverPage(*app);
        // One sequence at a time, so of three requests two must wait in the queue; polled every
        // 50 ms so that requests lasting a fraction of a second are seen in flight.
        page->parallelBox()->setValue(1);
        page->setPollInterval(50);
        QVERIFY2(startAndWait(page, refMain()), qPrintable(page->serverProcess()->errorMessage()));
        QSet<QString> statesSeen;
        connect(page->monitor(), &ServerMonitor::statusUpdated, this, [&](const ServerStatus&) {
            ServerRequestModel* m = page->requestModel();
            for (int i = 0; i < m->rowCount(); ++i)
                if (!m->request(i).finished)
                    statesSeen << m->request(i).state + QLatin1Char('|') +
                                      m->data(m->index(i, ServerRequestModel::State), Qt::DisplayRole).toString();
        });

        QUrl completions = page->serverProcess()->url();
        completions.setPath(QStringLiteral("/v1/completions"));
        QNetworkAccessManager network;
        QList<QNetworkReply*> replies;
        for (int i = 0; i < 3; ++i) {
            QNetworkRequest request(completions);
            request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
            // Three different prompts: the server answers a repeated deterministic request from its
            // response cache, which would never be in flight.
            const QByteArray body = QStringLiteral(R"({"prompt": "Once upon a time there were %1 cats", "max_tokens": 400,
                                                       "ignore_eos": true, "temperature": 0})").arg(i + 2).toUtf8();
            replies << network.post(request, body);
        }
        QVERIFY(waitUntil([&] { return std::all_of(replies.begin(), replies.end(), [](QNetworkReply* r) { return r->isFinished(); }); }, 120000));
        for (QNetworkReply* r : replies)
            QCOMPARE(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        QVERIFY2(statesSeen.contains(QStringLiteral("generating|Generating")), qPrintable(statesSeen.values().join(", ")));
        QVERIFY2(statesSeen.contains(QStringLiteral("queued|Queued")), qPrintable(statesSeen.values().join(", ")));
        // Then all three are listed as finished at the token limit.
        auto finished = [page] {
            int n = 0;
            for (int i = 0; i < page->requestModel()->rowCount(); ++i)
                n += page->requestModel()->request(i).finished && page->requestModel()->request(i).generatedTokens == 400;
            return n;
        };
        QVERIFY(waitUntil([&] { return finished() == 3; }, 10000));
        page->stopServer();
        QVERIFY(waitUntil([page] { return page->serverProcess()->state() == ServerProcess::State::Stopped; }, 15000));
    }

    void apiKeysTravelInAPrivateFile()
    {
        REQUIRE_SERVER();
        QTemporaryDir dir;
        auto app = launch(dir.path());
        ServerPage* page = serverPage(*app);
        QTest::mouseClick(page->generateKeyButton(), Qt::LeftButton);
        QCOMPARE(page->keyList()->count(), 1);
        const QString key = page->keyList()->item(0)->text();
        QVERIFY2(key.startsWith(QStringLiteral("tf-")) && key.size() == 3 + 64, qPrintable(key));

        QString keyFile;
        int mode = -1;
        QByteArray keyFileText;
        connect(page->serverProcess(), &ServerProcess::keyFileWritten, this, [&](const QString& path) {
            keyFile = path;
            struct stat st {};
            if (::stat(QFile::encodeName(path).constData(), &st) == 0)
                mode = int(st.st_mode & 0777);
            QFile f(path);
            if (f.open(QIODevice::ReadOnly))
                keyFileText = f.readAll();
        });
        QVERIFY2(startAndWait(page, stories260K()), qPrintable(page->serverProcess()->errorMessage()));
        QCOMPARE(mode, 0600);
        QCOMPARE(keyFileText.trimmed(), key.toUtf8());
        const QStringList args = commandLineOf(page->serverProcess()->processId());
        QVERIFY(args.contains(QStringLiteral("--api-key-file")) && args.contains(keyFile));
        for (const QString& a : args)
            QVERIFY2(!a.contains(key), "the API key is visible on the command line");
        // Read by the server by the time it listens, so it is not left lying around.
        QVERIFY(waitUntil([&] { return !QFileInfo::exists(keyFile); }, 5000));

        QUrl models = page->serverProcess()->url();
        models.setPath(QStringLiteral("/v1/models"));
        QCOMPARE(http(models, "GET").status, 401);
        const HttpResult allowed = http(models, "GET", {}, key);
        QVERIFY2(allowed.status == 200, qPrintable(allowed.error));
        // The page's own polling carries the key too.
        const int before = page->monitor()->pollsCompleted();
        QVERIFY(waitUntil([&] { return page->monitor()->pollsCompleted() >= before + 2; }, 10000));
        page->stopServer();
        QVERIFY(waitUntil([page] { return page->serverProcess()->state() == ServerProcess::State::Stopped; }, 15000));
    }

    void badModelShowsTheServersError()
    {
        REQUIRE_SERVER();
        QTemporaryDir dir;
        const QString missing = dir.filePath(QStringLiteral("no-such-model.gguf"));
        // The oracle: what the server itself says about this file when run by hand.
        QProcess direct;
        direct.start(serverBinary(), {missing, QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--no-ledger")});
        QVERIFY(direct.waitForFinished(60000));
        QVERIFY(direct.exitCode() != 0);
        const QStringList lines = QString::fromUtf8(direct.readAllStandardError()).trimmed().split(QLatin1Char('\n'));
        const QString serverSays = lines.last().trimmed();
        QVERIFY(!serverSays.isEmpty());

        auto app = launch(dir.path());
        ServerPage* page = serverPage(*app);
        QVERIFY(!startAndWait(page, missing));
        QCOMPARE(page->serverProcess()->state(), ServerProcess::State::Failed);
        QVERIFY2(page->stateLabel()->text().contains(serverSays),
                 qPrintable(page->stateLabel()->text() + QStringLiteral(" / expected: ") + serverSays));
        QVERIFY(page->startButton()->isEnabled()); // can be tried again
        QVERIFY(!page->stopButton()->isEnabled());
    }

    void quittingTheAppStopsTheServer()
    {
        REQUIRE_SERVER();
        QTemporaryDir dir;
        auto app = launch(dir.path());
        ServerPage* page = serverPage(*app);
        QVERIFY2(startAndWait(page, stories260K()), qPrintable(page->serverProcess()->errorMessage()));
        const qint64 pid = page->serverProcess()->processId();
        QVERIFY(serverAlive(pid));
        app.reset();
        QVERIFY(!serverAlive(pid));
    }

    void stopKillsAServerThatDoesNotExit()
    {
        REQUIRE_SERVER();
        QTemporaryDir dir;
        auto app = launch(dir.path());
        ServerPage* page = serverPage(*app);
        QVERIFY2(startAndWait(page, stories260K()), qPrintable(page->serverProcess()->errorMessage()));
        const qint64 pid = page->serverProcess()->processId();
        // A stopped process cannot act on SIGTERM (it stays pending), as a hung server would not.
        QCOMPARE(::kill(pid_t(pid), SIGSTOP), 0);
        QElapsedTimer clock;
        clock.start();
        QTest::mouseClick(page->stopButton(), Qt::LeftButton);
        QCOMPARE(page->serverProcess()->state(), ServerProcess::State::Stopping);
        QVERIFY(!page->stopButton()->isEnabled());
        QVERIFY(waitUntil([page] { return page->serverProcess()->state() == ServerProcess::State::Stopped; }, 20000));
        // It waited the grace period before SIGKILL (the clock started just before the click).
        QVERIFY2(clock.elapsed() >= ServerProcess::kStopTimeoutMs - 20, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(!serverAlive(pid));

        // The same when the app quits: no hung server outlives it.
        QVERIFY2(startAndWait(page, stories260K()), qPrintable(page->serverProcess()->errorMessage()));
        const qint64 second = page->serverProcess()->processId();
        QCOMPARE(::kill(pid_t(second), SIGSTOP), 0);
        app.reset();
        QVERIFY(!serverAlive(second));
    }

    void quittingWhileStartingLeavesNoKeyFile()
    {
        REQUIRE_SERVER();
        const QStringList pattern{QStringLiteral("tenfold-server-keys-*")};
        const QStringList before = QDir::temp().entryList(pattern, QDir::Files);
        for (int round = 0; round < 5; ++round) {
            QTemporaryDir dir;
            auto app = launch(dir.path());
            ServerPage* page = serverPage(*app);
            page->serverProcess()->setProgram(serverBinary());
            page->setModelPath(stories260K());
            QTest::mouseClick(page->generateKeyButton(), Qt::LeftButton);
            page->startServer();
            // Quit at once, then a little later on each round: before the key file is written,
            // between writing and launching, and while the server loads.
            QTest::qWait(round * 5);
            app.reset();
        }
        QTest::qWait(500); // a key-file writer still running finishes and cleans up
        QCOMPARE(QDir::temp().entryList(pattern, QDir::Files), before);
    }

    void findsTheServerNextToTheApp()
    {
        REQUIRE_SERVER();
        const QString server = QFileInfo(serverBinary()).canonicalFilePath();
        // Installed: side by side with the tenfold executable.
        QTemporaryDir installed;
        QVERIFY(QFile::copy(server, installed.filePath(QStringLiteral("tenfold-server"))));
        QCOMPARE(ServerProcess::findServerProgram(installed.path()),
                 QFileInfo(installed.filePath(QStringLiteral("tenfold-server"))).canonicalFilePath());
        // A build tree: app/gui/tenfold finds app/server/tenfold-server.
        const QString built = QStringLiteral(TENFOLD_BINARY_DIR "/app/server/tenfold-server");
        if (QFileInfo(built).isExecutable())
            QCOMPARE(ServerProcess::findServerProgram(QStringLiteral(TENFOLD_BINARY_DIR "/app/gui")),
                     QFileInfo(built).canonicalFilePath());
    }

    void missingBinaryFailsWithAReason()
    {
        QTemporaryDir dir;
        auto app = launch(dir.path());
        ServerPage* page = serverPage(*app);
        page->serverProcess()->setProgram(dir.filePath(QStringLiteral("not-a-server")));
        page->setModelPath(dir.filePath(QStringLiteral("model.gguf")));
        page->startServer();
        QVERIFY(waitUntil([page] { return page->serverProcess()->state() == ServerProcess::State::Failed; }, 10000));
        QVERIFY2(page->stateLabel()->text().contains(QStringLiteral("not-a-server")), qPrintable(page->stateLabel()->text()));
    }

    void choicesAreRememberedButKeysAreNot()
    {
        QTemporaryDir dir;
        {
            auto app = launch(dir.path());
            ServerPage* page = serverPage(*app);
            page->serverProcess()->setProgram(dir.filePath(QStringLiteral("not-a-server")));
            page->setModelPath(dir.filePath(QStringLiteral("model.gguf")));
            page->hostEdit()->setText(QStringLiteral("0.0.0.0"));
            page->portBox()->setValue(18080);
            page->parallelBox()->setValue(3);
            page->deviceBox()->setCurrentIndex(page->deviceBox()->findData(QStringLiteral("vulkan")));
            QTest::mouseClick(page->generateKeyButton(), Qt::LeftButton);
            page->startServer();
            QVERIFY(waitUntil([page] { return page->serverProcess()->state() == ServerProcess::State::Failed; }, 10000));
            app->context().settings().sync();
        }
        QFile ini(QDir(dir.path()).filePath(QStringLiteral("tenfold.ini")));
        QVERIFY(ini.open(QIODevice::ReadOnly));
        QVERIFY2(!ini.readAll().contains("tf-"), "an API key was written to the settings file");
        auto app = launch(dir.path());
        ServerPage* page = serverPage(*app);
        QCOMPARE(page->hostEdit()->text(), QStringLiteral("0.0.0.0"));
        QCOMPARE(page->portBox()->value(), 18080);
        QCOMPARE(page->parallelBox()->value(), 3);
        QCOMPARE(page->deviceBox()->currentData().toString(), QStringLiteral("vulkan"));
        QCOMPARE(page->keyList()->count(), 0);
    }

    void offersTheModelTheAppHasLoaded()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        QTemporaryDir dir;
        auto app = launch(dir.path(), stories260K()); // --model: added to the library and loaded
        ServerPage* page = serverPage(*app);
        QVERIFY(waitUntil([&] { return app->context().host().isLoaded(); }, 60000));
        QVERIFY(waitUntil([&] { return page->modelPath() == stories260K(); }, 10000));
        // It is listed from the library, by name.
        QVERIFY2(page->modelBox()->currentText().startsWith(QStringLiteral("stories260K")),
                 qPrintable(page->modelBox()->currentText()));
    }

    void anotherHostNeedsAKey()
    {
        QTemporaryDir dir;
        auto app = launch(dir.path());
        ServerPage* page = serverPage(*app);
        app->window().show();
        app->window().showPage(QStringLiteral("server"));
        page->setModelPath(dir.filePath(QStringLiteral("model.gguf")));
        QVERIFY(page->startButton()->isEnabled());
        QVERIFY(!page->hostWarning()->isVisible());
        page->hostEdit()->setText(QStringLiteral("0.0.0.0"));
        QVERIFY(page->hostWarning()->isVisible());
        QVERIFY2(page->hostWarning()->text().contains(QStringLiteral("API key")), qPrintable(page->hostWarning()->text()));
        QVERIFY(!page->startButton()->isEnabled());
        QTest::mouseClick(page->generateKeyButton(), Qt::LeftButton);
        QVERIFY(page->startButton()->isEnabled());
        QVERIFY(page->hostWarning()->isVisible());
        QVERIFY(page->curlExample()->toPlainText().contains(QStringLiteral("Authorization: Bearer $TENFOLD_API_KEY")));
        page->hostEdit()->setText(QStringLiteral("localhost"));
        QVERIFY(!page->hostWarning()->isVisible());
        page->hostEdit()->setText(QStringLiteral("::1"));
        QVERIFY(!page->hostWarning()->isVisible());
    }

    void keyboardReachesEveryControl()
    {
        QTemporaryDir dir;
        auto app = launch(dir.path());
        ServerPage* page = serverPage(*app);
        app->window().show();
        app->window().showPage(QStringLiteral("server"));
        QVERIFY(QTest::qWaitForWindowExposed(&app->window()));
        // Alt+H moves to the host field through its label's mnemonic.
        QTest::keyClick(&app->window(), Qt::Key_H, Qt::AltModifier);
        QCOMPARE(QApplication::focusWidget(), page->hostEdit());
        // Every interactive control of the page has a name for screen readers.
        for (QWidget* w : page->findChildren<QWidget*>())
            if (w->isVisibleTo(page) && w->focusPolicy() != Qt::NoFocus && !qobject_cast<QAbstractButton*>(w) &&
                w->parentWidget() && !w->parentWidget()->inherits("QAbstractScrollArea") &&
                !w->inherits("QScrollBar") && !w->inherits("QSplitterHandle") && !w->inherits("QHeaderView"))
                QVERIFY2(!w->accessibleName().isEmpty() ||
                             (w->inherits("QLineEdit") && w->parentWidget()->inherits("QAbstractSpinBox")),
                         w->metaObject()->className());
    }

    // tenfold-worker serve's /tenfold/status (as docs/DISTRIBUTED.md documents it): the page shows
    // every rank, the lost one with its reason; a single-process status hides the box again.
    void clusterOfAnMpiServerIsShown()
    {
        const QByteArray json = R"({"model":"m","uptime_s":3,"requests":[],"recent":[],
            "cluster":{"mode":"data_parallel","lost_ranks":[1],"ranks":[
              {"rank":0,"host":"front","pid":10,"role":"front end","lost":false},
              {"rank":1,"host":"gpu-a","pid":11,"role":"replica","first_layer":0,"end_layer":8,"ready":true,
               "lost":true,"lost_reason":"no sign of life for 2.0 s: its process 11 is gone","in_flight":0,
               "routed":4,"completed":3,"failed":1},
              {"rank":2,"host":"gpu-b","pid":12,"role":"replica","first_layer":0,"end_layer":8,"ready":true,
               "lost":false,"in_flight":2,"routed":5,"completed":3,"failed":0,"busy_seconds":12.25,
               "resident_bytes":3145728}]}})";
        const std::optional<ServerStatus> status = parseServerStatus(json);
        QVERIFY(status);
        QCOMPARE(status->clusterMode, QStringLiteral("data_parallel"));
        QCOMPARE(status->cluster.size(), 3);
        QCOMPARE(status->cluster[1].host, QStringLiteral("gpu-a"));
        QVERIFY(status->cluster[1].lost);
        QCOMPARE(status->cluster[1].failed, 1);
        QCOMPARE(status->cluster[2].inFlight, 2);
        QCOMPARE(status->cluster[2].endLayer, 8);
        QVERIFY(status->cluster[0].ready);

        QTemporaryDir dir;
        auto app = launch(dir.path());
        ServerPage* page = serverPage(*app);
        app->window().show();
        app->window().showPage(QStringLiteral("server"));
        QVERIFY(!page->clusterBox()->isVisible());
        emit page->monitor()->statusUpdated(*status);
        QVERIFY(page->clusterBox()->isVisible());
        QTableWidget* table = page->clusterBox()->table();
        QCOMPARE(table->rowCount(), 3);
        QCOMPARE(table->item(1, 1)->text(), QStringLiteral("gpu-a"));
        QCOMPARE(table->item(1, 3)->text(), QStringLiteral("0 to 7"));
        QVERIFY2(table->item(1, 9)->text().contains(QStringLiteral("its process 11 is gone")),
                 qPrintable(table->item(1, 9)->text()));
        QCOMPARE(table->item(2, 4)->text(), QStringLiteral("2"));
        QCOMPARE(status->cluster[2].busySeconds, 12.25);
        QCOMPARE(table->item(2, 7)->text(), QLocale().toString(12.25, 'f', 1)); // compute time
        QCOMPARE(table->item(2, 8)->text(), QStringLiteral("3.0 MB"));             // 3 MiB, traditional units
        QCOMPARE(table->item(1, 7)->text(), QString());                          // not reported: empty
        const QString summary = page->clusterBox()->summaryLabel()->text();
        QVERIFY2(summary.contains(QStringLiteral("1 of 2 replicas serving")) && summary.contains(QStringLiteral("Lost ranks: 1")),
                 qPrintable(summary));
        // A pipeline: every rank a stage with its layers and compute time; a lost one ends the job.
        const std::optional<ServerStatus> pipeline = parseServerStatus(R"({"model":"m","requests":[],"recent":[],
            "cluster":{"mode":"pipeline","lost_ranks":[2],"ranks":[
              {"rank":0,"host":"a","pid":20,"role":"front end and stage","first_layer":0,"end_layer":2,"ready":true,
               "lost":false,"passes":40,"busy_seconds":1.5,"resident_bytes":1048576},
              {"rank":1,"host":"b","pid":21,"role":"stage","first_layer":2,"end_layer":5,"ready":true,
               "lost":false,"passes":40,"busy_seconds":2.25,"resident_bytes":2097152},
              {"rank":2,"host":"c","pid":22,"role":"stage","first_layer":5,"end_layer":8,"ready":true,
               "lost":true,"lost_reason":"it took a pass and did not hand it on within 2.0 s","passes":39,
               "busy_seconds":2.0,"resident_bytes":2097152}]}})");
        QVERIFY(pipeline);
        emit page->monitor()->statusUpdated(*pipeline);
        QCOMPARE(table->rowCount(), 3);
        QCOMPARE(table->item(0, 2)->text(), QStringLiteral("HTTP front end and pipeline stage"));
        QCOMPARE(table->item(1, 2)->text(), QStringLiteral("Pipeline stage"));
        QCOMPARE(table->item(1, 3)->text(), QStringLiteral("2 to 4"));
        QCOMPARE(table->item(1, 7)->text(), QLocale().toString(2.25, 'f', 1)); // per-stage compute time
        QCOMPARE(table->item(1, 8)->text(), QStringLiteral("2.0 MB"));
        QVERIFY2(table->item(2, 9)->text().contains(QStringLiteral("did not hand it on")),
                 qPrintable(table->item(2, 9)->text()));
        const QString pipelineSummary = page->clusterBox()->summaryLabel()->text();
        QVERIFY2(pipelineSummary.contains(QStringLiteral("pipeline: 3 ranks, layers split 2 + 3 + 3")) &&
                     pipelineSummary.contains(QStringLiteral("Lost ranks: 2")),
                 qPrintable(pipelineSummary));
        // A single-process server's status has no cluster.
        const std::optional<ServerStatus> single = parseServerStatus(R"({"model":"m","requests":[],"recent":[]})");
        QVERIFY(single && single->cluster.isEmpty());
        emit page->monitor()->statusUpdated(*single);
        QVERIFY(!page->clusterBox()->isVisible());
    }

    // The page starts an Open MPI job: two processes of tenfold-worker serve with the layers split
    // between them. mpirun runs the job, the job answers a completion, the cluster box shows both
    // stages with their layers, and Stop ends every process of it.
    void mpiJobStartedFromThePage()
    {
        REQUIRE_SERVER();
        const QString worker = QStringLiteral(TENFOLD_WORKER_BINARY);
        if (!QFileInfo(worker).isExecutable() || ServerProcess::findMpirun().isEmpty())
            QSKIP("tenfold-worker or mpirun is missing (Debian: openmpi-bin, libopenmpi-dev)");
        // Open MPI refuses root unless told twice; this container's only interface is loopback and
        // it forbids the single-copy transport. Settings a user would make in Open MPI's own files.
        const std::vector<std::pair<const char*, const char*>> env{
            {"OMPI_ALLOW_RUN_AS_ROOT", "1"}, {"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"},
            {"OMPI_MCA_btl", "self,vader"}, {"OMPI_MCA_btl_vader_single_copy_mechanism", "none"},
            {"OMPI_MCA_oob_tcp_if_include", "lo"}, {"OMPI_MCA_btl_tcp_if_include", "lo"}};
        for (const auto& [name, value] : env)
            qputenv(name, value);
        struct Unset {
            const std::vector<std::pair<const char*, const char*>>& env;
            ~Unset()
            {
                for (const auto& e : env)
                    qunsetenv(e.first);
            }
        } unset{env};

        QTemporaryDir dir;
        auto app = launch(dir.path());
        app->window().show();
        app->window().showPage(QStringLiteral("server"));
        ServerPage* page = serverPage(*app);
        QVERIFY(!page->mpiModeBox()->isEnabled()); // one process: nothing to split
        page->mpiRanksBox()->setValue(2);
        QVERIFY(page->mpiModeBox()->isEnabled() && !page->deviceBox()->isEnabled());
        page->mpiModeBox()->setCurrentIndex(page->mpiModeBox()->findData(QStringLiteral("pipeline")));
        page->serverProcess()->setWorkerProgram(worker);
        QVERIFY2(startAndWait(page, stories260K()), qPrintable(page->serverProcess()->errorMessage()));
        const QStringList args = page->serverProcess()->arguments();
        QVERIFY2(args.contains(QStringLiteral("--pipeline")) && args.contains(QStringLiteral("serve")) &&
                     args.mid(0, 2) == QStringList({QStringLiteral("-np"), QStringLiteral("2")}),
                 qPrintable(args.join(' ')));
        const qint64 mpirun = page->serverProcess()->processId();
        QVERIFY(QFileInfo(QStringLiteral("/proc/%1/exe").arg(mpirun)).symLinkTarget().contains(QStringLiteral("orterun")) ||
                commandLineOf(mpirun).value(0).contains(QStringLiteral("mpirun")));

        QUrl completions = page->serverProcess()->url();
        completions.setPath(QStringLiteral("/v1/completions"));
        const HttpResult r = http(completions, "POST", R"({"prompt":"Once upon a time","max_tokens":8,"temperature":0})");
        QCOMPARE(r.status, 200);
        const QJsonObject answer = QJsonDocument::fromJson(r.body).object();
        QVERIFY2(!answer.value(QStringLiteral("choices")).toArray().first().toObject().value(QStringLiteral("text")).toString().isEmpty(),
                 r.body.constData());

        QVERIFY(waitUntil([page] { return page->clusterBox()->isVisible() && page->clusterBox()->table()->rowCount() == 2; },
                          15000));
        QTableWidget* table = page->clusterBox()->table();
        QCOMPARE(table->item(0, 2)->text(), QStringLiteral("HTTP front end and pipeline stage"));
        QCOMPARE(table->item(1, 2)->text(), QStringLiteral("Pipeline stage"));
        QVERIFY2(page->clusterBox()->summaryLabel()->text().contains(QStringLiteral("pipeline: 2 ranks")),
                 qPrintable(page->clusterBox()->summaryLabel()->text()));

        QTest::mouseClick(page->stopButton(), Qt::LeftButton);
        QVERIFY(waitUntil([page] { return page->serverProcess()->state() == ServerProcess::State::Stopped; }, 20000));
        QVERIFY(!QFileInfo::exists(QStringLiteral("/proc/%1/exe").arg(mpirun)) ||
                QFileInfo(QStringLiteral("/proc/%1/exe").arg(mpirun)).symLinkTarget().isEmpty());
    }

    // With the page's timing switch the server runs with --profile; the monitor's samples reach
    // the Profiler page through the app context: the last pass's ops cover every layer the GGUF
    // file declares, and the generated tokens of the samples' intervals add up to the usage the
    // server reported for the request.
    void profiledServerFeedsTheProfiler()
    {
        REQUIRE_SERVER();
        QTemporaryDir dir;
        auto app = launch(dir.path());
        app->window().show();
        app->window().showPage(QStringLiteral("server"));
        ServerPage* page = serverPage(*app);
        page->profileBox()->setChecked(true);
        QSignalSpy samples(&app->context(), &AppContext::serverProfileSampled);
        QVERIFY2(startAndWait(page, stories260K()), qPrintable(page->serverProcess()->errorMessage()));
        QVERIFY(commandLineOf(page->serverProcess()->processId()).contains(QStringLiteral("--profile")));
        QVERIFY(waitUntil([&] { return samples.count() >= 1; }, 15000)); // the baseline, before any request

        QUrl completions = page->serverProcess()->url();
        completions.setPath(QStringLiteral("/v1/completions"));
        const HttpResult reply = http(completions, "POST",
                                      R"({"prompt": "Once upon a time", "max_tokens": 40, "temperature": 0})");
        QCOMPARE(reply.status, 200);
        const int completionTokens = QJsonDocument::fromJson(reply.body)
                                         .object().value(QStringLiteral("usage")).toObject()
                                         .value(QStringLiteral("completion_tokens")).toInt();
        QVERIFY(completionTokens > 0);
        auto generatedSeen = [&] {
            int sum = 0;
            for (const QList<QVariant>& args : samples)
                sum += args.at(0).value<ProfileSample>().generatedTokens;
            return sum;
        };
        QVERIFY2(waitUntil([&] { return generatedSeen() >= completionTokens; }, 15000),
                 qPrintable(QStringLiteral("%1 of %2").arg(generatedSeen()).arg(completionTokens)));
        QTest::qWait(2500); // two more polls: nothing more is counted
        QCOMPARE(generatedSeen(), completionTokens);

        const ProfileSample last = samples.last().at(0).value<ProfileSample>();
        QVERIFY(last.fromServer);
        QCOMPARE(last.requestId, kServerProfileRequestId);
        QVERIFY(last.serverWeightBytes > 0 && last.residentBytes > 0);
        const auto file = GGUFFile::open(std::filesystem::path(stories260K().toStdString()));
        const int layers = int(file->getInt("llama.block_count").value_or(0));
        std::set<int> seen;
        for (const OpTiming& t : last.timings)
            if (t.layer >= 0)
                seen.insert(t.layer);
        QCOMPARE(int(seen.size()), layers);

        auto* profiler = qobject_cast<ProfilerPage*>(app->window().page(QStringLiteral("profiler")));
        QVERIFY(profiler);
        QVERIFY2(profiler->figuresLabel()->text().startsWith(QStringLiteral("Server:")),
                 qPrintable(profiler->figuresLabel()->text()));
        QVERIFY(profiler->opsTable()->rowCount() > 0);
        page->stopServer();
        QVERIFY(waitUntil([page] { return page->serverProcess()->state() == ServerProcess::State::Stopped; }, 15000));
    }

    // The rates of a sample are the counters' changes over the interval, by hand.
    void profileSampleRates()
    {
        const QByteArray a = R"({"profiling":true,"steps":10,"prompt_tokens_total":30,"generated_tokens_total":50,
            "busy_seconds":1.0,"running":2,"last_pass":{"rows":3,"prompt_rows":1,"ops":[{"op":"attention","layer":0,"us":12.5}]},
            "resident_bytes":1000,"weight_bytes":2000000,"matmul_weights":5})";
        const QByteArray b = R"({"profiling":true,"steps":30,"prompt_tokens_total":70,"generated_tokens_total":90,
            "busy_seconds":1.5,"running":1,"last_pass":{"rows":1,"prompt_rows":0,"ops":[]},
            "resident_bytes":1000,"weight_bytes":2000000,"matmul_weights":5})";
        const auto pa = parseServerProfile(a), pb = parseServerProfile(b);
        QVERIFY(pa && pb);
        QCOMPARE(pa->lastPassOps.size(), size_t(1));
        QCOMPARE(pa->lastPassOps[0].op, std::string("attention"));
        QCOMPARE(pa->lastPassOps[0].microseconds, 12.5);
        const ProfileSample first = profileSampleBetween(nullptr, *pa, 0, 1.0);
        QCOMPARE(first.generatedTokens, 0);
        const ProfileSample s = profileSampleBetween(&*pa, *pb, 2.0, 3.0);
        QCOMPARE(s.generatedTokens, 40);       // 90 - 50 over 2 s: 20 tokens/s
        QCOMPARE(s.decodeMs, 2000.0);
        QCOMPARE(s.promptTokens, 40);
        QCOMPARE(s.passesPerSecond, 10.0);     // (30 - 10) / 2
        QCOMPARE(s.busyShare, 0.25);           // 0.5 s of 2
        QCOMPARE(s.batchRows, 1);
        QVERIFY(!parseServerProfile("{}"));
        QVERIFY(!parseServerProfile("not json"));
    }

    void prometheusTextIsParsed()
    {
        // Label sets of one name add up; comments, histogram buckets and junk lines are skipped.
        const QByteArray text = "# HELP tenfold_requests_total Requests.\n# TYPE tenfold_requests_total counter\n"
                                "tenfold_requests_total 3\ntenfold_http_errors_total{code=\"401\"} 2\n"
                                "tenfold_http_errors_total{code=\"503 busy\"} 1\n"
                                "tenfold_generated_tokens_total 120 1700000000\ntenfold_kv_blocks_used 4\n"
                                "tenfold_kv_blocks_total 64\nx_latency_seconds_bucket{le=\"0.5\"} 7\nmalformed\n";
        const QHash<QString, double> samples = parsePrometheusText(text);
        QCOMPARE(samples.value(QStringLiteral("tenfold_http_errors_total")), 3.0);
        QCOMPARE(samples.value(QStringLiteral("tenfold_generated_tokens_total")), 120.0);
        QVERIFY(!samples.contains(QStringLiteral("malformed")));
        const ServerMetrics m = metricsFromPrometheus(samples);
        QCOMPARE(m.requestsTotal, 3.0);
        QCOMPARE(m.generatedTokens, 120.0);
        QCOMPARE(m.kvBlocksUsed, 4.0);
        QCOMPARE(m.kvBlocksTotal, 64.0);
        QCOMPARE(m.promptTokens, -1.0);
    }
};

QTEST_MAIN(TestUiServer)
#include "tst_ui_server.moc"
