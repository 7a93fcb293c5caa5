// Crash safety of streaming persistence: a child process streams a reply into the store and is
// killed with SIGKILL mid-reply. The database must open cleanly, the reply must be there, marked
// interrupted, and hold every token except at most the last fraction of a second's worth.
#include "store/store.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <map>

using namespace tenfold;

class TestStoreKill : public QObject {
    Q_OBJECT

private slots:
    void killDuringStreaming()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QProcess child;
        child.setProgram(QStringLiteral(TENFOLD_STREAM_WRITER));
        child.setArguments({dir.path(), QStringLiteral("2")});
        child.setProcessChannelMode(QProcess::SeparateChannels);
        child.start();
        QVERIFY2(child.waitForStarted(10000), qPrintable(child.errorString()));

        // token index -> child's milliseconds since start, as printed after each append
        std::map<long long, long long> tokenTimes;
        long long messageId = -1;
        QByteArray pending;
        auto consume = [&]() {
            pending += child.readAllStandardOutput();
            int nl;
            while ((nl = pending.indexOf('\n')) >= 0) {
                QList<QByteArray> parts = pending.left(nl).split(' ');
                pending.remove(0, nl + 1);
                if (parts.size() == 2 && parts[0] == "message")
                    messageId = parts[1].toLongLong();
                else if (parts.size() == 3 && parts[0] == "token")
                    tokenTimes[parts[1].toLongLong()] = parts[2].toLongLong();
            }
        };
        const long long wanted = 400;
        QElapsedTimer timer;
        timer.start();
        while ((tokenTimes.empty() || tokenTimes.rbegin()->first < wanted) && timer.elapsed() < 60000) {
            child.waitForReadyRead(100);
            consume();
            QVERIFY2(child.state() == QProcess::Running, child.readAllStandardError().constData());
        }
        QVERIFY2(!tokenTimes.empty() && tokenTimes.rbegin()->first >= wanted, "child did not stream enough tokens in time");

        child.kill(); // SIGKILL on Unix: no destructor, no flush
        QVERIFY(child.waitForFinished(10000));
        QCOMPARE(child.exitStatus(), QProcess::CrashExit);
        consume();
        QVERIFY(messageId > 0);
        const long long lastPrinted = tokenTimes.rbegin()->first;

        const std::string dbFile = (std::filesystem::path(dir.path().toStdString()) / Store::kFileName).string();
        // Before any Store opens it, the reply is still marked as streaming.
        {
            sqlite3* raw = nullptr;
            QCOMPARE(sqlite3_open_v2(dbFile.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
            sqlite3_stmt* stmt = nullptr;
            QCOMPARE(sqlite3_prepare_v2(raw, "SELECT state FROM messages WHERE id = ?", -1, &stmt, nullptr), SQLITE_OK);
            sqlite3_bind_int64(stmt, 1, messageId);
            QCOMPARE(sqlite3_step(stmt), SQLITE_ROW);
            QCOMPARE(QByteArray(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))), QByteArray("streaming"));
            sqlite3_finalize(stmt);
            sqlite3_close(raw);
        }

        Store store{std::filesystem::path(dir.path().toStdString())};
        QCOMPARE(store.recoveredInterruptedMessages(), 1);
        auto message = store.message(messageId);
        QVERIFY(message.has_value());
        QCOMPARE(message->state, MessageState::Interrupted);
        QCOMPARE(message->role, std::string("assistant"));

        // The stored text must be exactly the first k tokens, in order, nothing torn or repeated.
        long long k = 0;
        std::string expected;
        while (true) {
            std::string next = expected + "tok" + std::to_string(k) + " ";
            if (message->content.size() < next.size() || message->content.compare(0, next.size(), next) != 0)
                break;
            expected = std::move(next);
            ++k;
        }
        QCOMPARE(message->content, expected);
        // The child may have appended one token it did not get to print.
        QVERIFY2(k <= lastPrinted + 2, qPrintable(QStringLiteral("stored %1 tokens, child printed %2").arg(k).arg(lastPrinted + 1)));
        QVERIFY2(k > 0, "no streamed text survived");
        // What was lost covers at most the last fraction of a second (flush interval 100 ms).
        const long long lostMs = tokenTimes[lastPrinted] - tokenTimes[std::min(k - 1, lastPrinted)];
        qInfo("child printed %lld tokens, %lld stored, lost window %lld ms", lastPrinted + 1, k, lostMs);
        QVERIFY2(lostMs <= 400, qPrintable(QStringLiteral("lost %1 ms of text").arg(lostMs)));

        // The database is fully usable afterwards.
        auto conversations = store.listConversations();
        QCOMPARE(conversations.size(), size_t(1));
        QCOMPARE(store.messages(conversations[0].id).size(), size_t(2));
        store.appendMessage(conversations[0].id, {"user", "again", "", "{}", {}, MessageState::Complete});
        QCOMPARE(store.messages(conversations[0].id).size(), size_t(3));
    }
};

QTEST_GUILESS_MAIN(TestStoreKill)
#include "tst_store_kill.moc"
