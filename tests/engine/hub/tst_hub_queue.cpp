// The download queue over a real SQLite store and the loopback hub: the concurrency limit (as the
// server counts connections), pause and resume, a split set, survival of a restart (the queue is
// rebuilt from the database and continues with a Range request), failures recorded per file, and
// no access token in the database file.
#include "hub/download_queue.h"
#include "hub_test_server.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace tenfold;
using namespace tenfold::hub;
using tenfold::test::HubTestServer;

namespace {

QByteArray readAll(const std::string& p)
{
    QFile f(QString::fromStdString(p));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

HubConfig configFor(const HubTestServer& server, const std::string& token = {})
{
    HubConfig c;
    c.endpoint = server.endpoint();
    c.token = token;
    c.readTimeoutSeconds = 20;
    return c;
}

GgufChoice choiceOf(const HubClient& client, const std::string& repo, const std::string& quant)
{
    const auto choice = findChoice(ggufChoices(client.listFiles(repo)), quant, "");
    if (!choice)
        throw Error("no " + quant + " in " + repo);
    return *choice;
}

HubDownload rowOf(const Store& store, int64_t id) { return *store.hubDownload(id); }

} // namespace

class TestHubQueue : public QObject {
    Q_OBJECT

private slots:
    void concurrencyLimitAndSplitSet()
    {
        HubTestServer server;
        server.addModel({"o/m", 1, 1});
        std::vector<QByteArray> parts;
        for (int i = 1; i <= 3; ++i) {
            HubTestServer::File f{"o/m", "m-Q8_0-0000" + std::to_string(i) + "-of-00003.gguf",
                                  test::randomBytes(200000, 20 + i)};
            f.mode = HubTestServer::Mode::Slow;
            parts.push_back(f.bytes);
            server.addFile(f);
        }
        server.addFile({"o/m", "m-Q4_0.gguf", test::randomBytes(1000, 30)});
        QTemporaryDir dir;
        Store store(dir.filePath("data").toStdString());
        const HubClient client(configFor(server));
        DownloadQueue queue(store, configFor(server), dir.filePath("models").toStdString(), 2);
        const auto ids = queue.enqueue("o/m", "main", choiceOf(client, "o/m", "Q8_0"));
        QCOMPARE(ids.size(), size_t(3));
        queue.start();
        QVERIFY(queue.waitIdle(std::chrono::seconds(60)));
        QCOMPARE(server.maxConcurrentDownloads(), 2);
        for (size_t i = 0; i < ids.size(); ++i) {
            const HubDownload d = rowOf(store, ids[i]);
            QCOMPARE(d.state, std::string("done"));
            QCOMPARE(d.setKey, std::string("o/m/m-Q8_0-00001-of-00003.gguf"));
            QCOMPARE(readAll(d.destination), parts[i]);
            QCOMPARE(d.bytesDone, int64_t(parts[i].size()));
        }
    }

    void pauseResumeAndRestart()
    {
        HubTestServer server;
        server.addModel({"o/m", 1, 1});
        HubTestServer::File f{"o/m", "slow-Q4_K_M.gguf", test::randomBytes(3 << 20, 40)};
        f.mode = HubTestServer::Mode::Slow;
        const std::string sha = server.addFile(f);
        QTemporaryDir dir;
        const std::string models = dir.filePath("models").toStdString();
        const HubClient client(configFor(server));
        int64_t id = 0;
        std::string destination;
        {
            Store store(dir.filePath("data").toStdString());
            DownloadQueue queue(store, configFor(server), models, 1);
            std::atomic<uint64_t> done{0};
            std::atomic<int> pausedEvents{0};
            queue.setListener([&](const QueueEvent& e) {
                done = e.progress.bytesDone;
                if (e.download.state == "paused")
                    ++pausedEvents;
            });
            id = queue.enqueue("o/m", "main", choiceOf(client, "o/m", "Q4_K_M")).at(0);
            destination = rowOf(store, id).destination;
            queue.start();
            QTRY_VERIFY_WITH_TIMEOUT(done > 100000, 20000);
            queue.pause(id);
            QTRY_COMPARE_WITH_TIMEOUT(rowOf(store, id).state, std::string("paused"), 10000);
            QVERIFY(pausedEvents >= 1);
            const int64_t kept = int64_t(std::filesystem::file_size(partPathOf(destination)));
            QVERIFY(kept > 0 && kept < f.bytes.size());
            QCOMPARE(rowOf(store, id).bytesDone, kept);

            queue.resume(id);
            QTRY_VERIFY_WITH_TIMEOUT(done > uint64_t(kept) + 100000, 20000);
            QCOMPARE(server.requestsTo("storage", "/lfs/").back().range, "bytes=" + std::to_string(kept) + "-");
            // The app quits mid-download: queue and store go away with the file half fetched.
        }
        QVERIFY(!std::filesystem::exists(destination));
        const int64_t left = int64_t(std::filesystem::file_size(partPathOf(destination)));
        QVERIFY(left > 0 && left < f.bytes.size());
        {
            Store store(dir.filePath("data").toStdString());
            // Still wanted: the row was left queued (running rows are queued again on open).
            QVERIFY(rowOf(store, id).state == "queued" || rowOf(store, id).state == "running");
            DownloadQueue queue(store, configFor(server), models, 1);
            QCOMPARE(rowOf(store, id).state, std::string("queued"));
            queue.start();
            QVERIFY(queue.waitIdle(std::chrono::seconds(60)));
            QCOMPARE(rowOf(store, id).state, std::string("done"));
        }
        QCOMPARE(readAll(destination), f.bytes);
        QCOMPARE(test::sha256sumOfFile(QString::fromStdString(destination)), sha);
        QCOMPARE(server.requestsTo("storage", "/lfs/").back().range, "bytes=" + std::to_string(left) + "-");
    }

    void failuresAreRecordedAndTokenIsNotStored()
    {
        HubTestServer server;
        server.addModel({"gated/model", 1, 1, true});
        const QByteArray bytes = test::randomBytes(50000, 50);
        server.addFile({"gated/model", "g-Q4_0.gguf", bytes});
        HubTestServer::File bad{"gated/model", "g-Q5_0.gguf", test::randomBytes(50000, 51)};
        bad.listedSha = test::sha256sumOf("not these bytes");
        server.addFile(bad);
        QTemporaryDir dir;
        const std::string dbDir = dir.filePath("data").toStdString();
        {
            Store store(dbDir);
            const HubClient client(configFor(server, server.token));
            DownloadQueue anonymous(store, configFor(server), dir.filePath("models").toStdString(), 2);
            const int64_t first = anonymous.enqueue("gated/model", "main", choiceOf(client, "gated/model", "Q4_0")).at(0);
            anonymous.start();
            QVERIFY(anonymous.waitIdle(std::chrono::seconds(30)));
            HubDownload d = rowOf(store, first);
            QCOMPARE(d.state, std::string("failed"));
            QVERIFY2(d.error.find("401") != std::string::npos, d.error.c_str());
        }
        {
            Store store(dbDir);
            const HubClient client(configFor(server, server.token));
            DownloadQueue queue(store, configFor(server, server.token), dir.filePath("models").toStdString(), 2);
            const int64_t good = queue.enqueue("gated/model", "main", choiceOf(client, "gated/model", "Q4_0")).at(0);
            const int64_t wrong = queue.enqueue("gated/model", "main", choiceOf(client, "gated/model", "Q5_0")).at(0);
            queue.start();
            QVERIFY(queue.waitIdle(std::chrono::seconds(30)));
            QCOMPARE(rowOf(store, good).state, std::string("done"));
            QCOMPARE(readAll(rowOf(store, good).destination), bytes);
            QCOMPARE(rowOf(store, wrong).state, std::string("failed"));
            QVERIFY2(rowOf(store, wrong).error.find("SHA-256") != std::string::npos, rowOf(store, wrong).error.c_str());
            QVERIFY(!std::filesystem::exists(rowOf(store, wrong).destination));
            // Removing a failed download forgets it.
            queue.remove(wrong);
            QVERIFY(!store.hubDownload(wrong));
        }
        // The database file and its WAL never held the token.
        for (const char* name : {"tenfold.db", "tenfold.db-wal"}) {
            const QByteArray raw = readAll(dbDir + "/" + name);
            QVERIFY2(!raw.contains(QByteArray::fromStdString(server.token)), name);
        }
    }
};

QTEST_GUILESS_MAIN(TestHubQueue)
#include "tst_hub_queue.moc"
