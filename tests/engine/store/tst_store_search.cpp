// Full-text search: words inside CJK sentences (trigram index, LIKE for short words), the v2 ->
// v3 index rebuild, and streaming commits that leave the index alone until the reply finishes.
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "store/store.h"

#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <string>

using namespace tenfold;

namespace {

std::filesystem::path pathOf(const QTemporaryDir& dir) { return std::filesystem::path(dir.path().toStdString()); }

NewMessage newMessage(const std::string& role, const std::string& content)
{
    NewMessage m;
    m.role = role;
    m.content = content;
    return m;
}

// A second, independent connection to the same file: what another reader sees, and the FTS
// shadow tables the Store never exposes.
class Reader {
public:
    explicit Reader(const std::filesystem::path& file)
    {
        if (sqlite3_open_v2(file.string().c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
            qFatal("cannot open %s", file.string().c_str());
    }
    ~Reader() { sqlite3_close(db_); }
    int64_t integer(const std::string& sql) const
    {
        sqlite3_stmt* stmt = nullptr;
        int64_t out = -1;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
            out = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
        return out;
    }
    std::string text(const std::string& sql) const
    {
        sqlite3_stmt* stmt = nullptr;
        std::string out;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW &&
            sqlite3_column_text(stmt, 0))
            out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        sqlite3_finalize(stmt);
        return out;
    }

private:
    sqlite3* db_ = nullptr;
};

void execRaw(const std::filesystem::path& file, const std::string& sql)
{
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(file.string().c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    QVERIFY2(rc == SQLITE_OK, err ? err : "?");
    sqlite3_close(db);
}

} // namespace

class TestStoreSearch : public QObject {
    Q_OBJECT

private slots:
    void chineseWordsInsideSentences_data()
    {
        QTest::addColumn<bool>("fullText");
        QTest::newRow("fts5 trigram") << true;
        QTest::newRow("like fallback") << false;
    }

    void chineseWordsInsideSentences()
    {
        QFETCH(bool, fullText);
        QTemporaryDir dir;
        Store store = Store::openFile(pathOf(dir) / Store::kFileName, StoreOptions{fullText});
        // Debian 12's SQLite (3.40) has FTS5 and the trigram tokenizer; the CI must test the index.
        QCOMPARE(store.hasFullTextSearch(), fullText);
        Conversation c;
        c.title = "Travel";
        const int64_t trip = store.createConversation(c);
        const int64_t other = store.createConversation(c);
        const int64_t message = store.appendMessage(trip, newMessage("user", "我们今天去北京旅行"));
        store.appendMessage(other, newMessage("user", "上海的天气很好"));

        for (const char* query : {"北京", "北京旅行", "今天去北京", "我们", "旅行", "京"}) {
            const auto hits = store.searchConversations(query);
            QVERIFY2(hits.size() == 1, query);
            QCOMPARE(hits[0].messageId, message);
            QCOMPARE(hits[0].snippet, std::string("我们今天去北京旅行"));
        }
        QVERIFY(store.searchConversations("北京 旅行").size() == 1);      // every word, anywhere
        QVERIFY(store.searchConversations("北京 上海").empty());
        QVERIFY(store.searchConversations("南京").empty());
        QCOMPARE(store.searchConversations("天气很好").size(), size_t(1));
    }

    void streamingCommitsLeaveTheIndexAlone()
    {
        QTemporaryDir dir;
        Store store(pathOf(dir));
        QVERIFY(store.hasFullTextSearch());
        Conversation c;
        c.title = "Long reply";
        const int64_t conversation = store.createConversation(c);
        store.appendMessage(conversation, newMessage("user", "Tell me everything"));
        // Commit every chunk, as a slow model with the 100 ms policy would over a long reply.
        store.setStreamingFlushPolicy(std::chrono::milliseconds(0), 1);
        const int64_t reply = store.beginStreamingMessage(conversation, "assistant", "m");

        Reader reader(store.databasePath());
        const int64_t indexRowsBefore = reader.integer("SELECT count(*) FROM messages_fts_data");
        const int64_t indexedBefore = reader.integer("SELECT count(*) FROM messages_fts_docsize");
        QVERIFY(indexRowsBefore > 0);
        std::string expected;
        for (int i = 0; i < 400; ++i) {
            const std::string chunk = "word" + std::to_string(i) + " zebra ";
            expected += chunk;
            store.appendStreamingText(reply, chunk);
        }
        // 400 commits of a reply growing to ~5 KB: the text is stored ...
        QCOMPARE(reader.text("SELECT content FROM messages WHERE id = " + std::to_string(reply)), expected);
        // ... and the full-text index was not written at all (the old triggers deleted and
        // re-inserted the whole text on every commit: quadratic in the reply's length).
        QCOMPARE(reader.integer("SELECT count(*) FROM messages_fts_data"), indexRowsBefore);
        QCOMPARE(reader.integer("SELECT count(*) FROM messages_fts_docsize"), indexedBefore);
        QCOMPARE(reader.integer("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '\"zebra\"'"), int64_t(0));

        // Finishing indexes it exactly once.
        store.finishMessage(reply, MessageState::Complete, {});
        QCOMPARE(reader.integer("SELECT count(*) FROM messages_fts_docsize"), indexedBefore + 1);
        QCOMPARE(reader.integer("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '\"zebra\"'"), int64_t(1));
        QCOMPARE(store.searchConversations("word399 zebra").size(), size_t(1));
        // The index agrees with the table (FTS5's own consistency check).
        execRaw(store.databasePath(), "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)");
    }

    void interruptedRepliesAreIndexedOnRecovery()
    {
        QTemporaryDir dir;
        int64_t reply = 0;
        {
            Store store(pathOf(dir));
            Conversation c;
            const int64_t conversation = store.createConversation(c);
            reply = store.beginStreamingMessage(conversation, "assistant", "m");
            store.appendStreamingText(reply, "a half-written giraffe story");
            store.flush();
            QVERIFY(store.searchConversations("giraffe").empty());
        }
        Store reopened(pathOf(dir));
        QCOMPARE(reopened.recoveredInterruptedMessages(), 1);
        const auto hits = reopened.searchConversations("giraffe");
        QCOMPARE(hits.size(), size_t(1));
        QCOMPARE(hits[0].messageId, reply);
    }

    void version2IndexIsRebuiltWithTrigrams()
    {
        QTemporaryDir dir;
        const auto file = pathOf(dir) / Store::kFileName;
        // The file as version 2 wrote it: the migrations up to 2 (never edited once shipped),
        // then the unicode61 index (a CJK run is one token, so "北京旅行" was not found) with its
        // per-commit update trigger, which version 2's ensureFullTextIndex created.
        {
            sqlite::Database db(file);
            store_schema::migrate(db, 2);
        }
        execRaw(file, R"SQL(
INSERT INTO conversations(id, title, created_at, updated_at) VALUES (1, '', 1700000000000, 1700000000000);
INSERT INTO messages(id, conversation_id, ordinal, role, content, created_at)
    VALUES (1, 1, 0, 'user', '我们今天去北京旅行', 1700000000000);
CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id',
                                             tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
)SQL");
        const int64_t message = 1;
        {
            Reader reader(file);
            QCOMPARE(reader.integer("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '\"北京旅行\"'"), int64_t(0));
        }
        Store store(pathOf(dir));
        QCOMPARE(store.schemaVersion(), Store::kSchemaVersion);
        Reader reader(file);
        QVERIFY(reader.text("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'").find("trigram") != std::string::npos);
        QCOMPARE(reader.integer("SELECT count(*) FROM sqlite_master WHERE name = 'messages_fts_update'"), int64_t(0));
        const auto hits = store.searchConversations("北京旅行");
        QCOMPARE(hits.size(), size_t(1));
        QCOMPARE(hits[0].messageId, message);
    }
};

QTEST_MAIN(TestStoreSearch)
#include "tst_store_search.moc"
