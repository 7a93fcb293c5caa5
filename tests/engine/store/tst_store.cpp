// The SQLite store: CRUD, search, streaming persistence and recovery, migration from the v1
// schema, settings, model library, the usage ledger and clear errors for unwritable folders and
// full disks (without damaging what was stored).
#include "store/store.h"

#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace tenfold;

namespace {

std::filesystem::path pathOf(const QTemporaryDir& dir) { return std::filesystem::path(dir.path().toStdString()); }

Conversation conversation(const std::string& title, int64_t updatedAt = 0)
{
    Conversation c;
    c.title = title;
    c.updatedAt = updatedAt;
    c.createdAt = updatedAt;
    c.modelPath = "/models/m.gguf";
    c.systemPrompt = "Be brief.";
    c.settingsJson = R"({"temperature":0.7})";
    return c;
}

NewMessage newMessage(const std::string& role, const std::string& content)
{
    NewMessage m;
    m.role = role;
    m.content = content;
    return m;
}

// Runs SQL on a database file through SQLite directly (independent of the Store under test).
void execRaw(const std::filesystem::path& file, const std::string& sql)
{
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(file.string().c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    QVERIFY2(rc == SQLITE_OK, err ? err : "?");
    sqlite3_close(db);
}

std::string queryText(const std::filesystem::path& file, const std::string& sql)
{
    sqlite3* db = nullptr;
    sqlite3_open_v2(file.string().c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    std::string out = "<error>";
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
        out = "<no row>";
        if (sqlite3_step(stmt) == SQLITE_ROW)
            out = sqlite3_column_text(stmt, 0) ? reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)) : "";
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
}

// The v1 schema exactly as it shipped (a frozen copy: the test must fail if v1 is edited later).
const char* const kShippedV1 = R"SQL(
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    model_path TEXT NOT NULL DEFAULT '',
    system_prompt TEXT NOT NULL DEFAULT '',
    settings_json TEXT NOT NULL DEFAULT '{}',
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    settings_json TEXT NOT NULL DEFAULT '{}',
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    ttft_ms REAL NOT NULL DEFAULT 0,
    total_ms REAL NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'complete',
    created_at INTEGER NOT NULL,
    UNIQUE (conversation_id, ordinal)
);
CREATE TABLE models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    architecture TEXT NOT NULL DEFAULT '',
    parameter_count INTEGER NOT NULL DEFAULT 0,
    weight_types TEXT NOT NULL DEFAULT '',
    file_size INTEGER NOT NULL DEFAULT 0,
    context_length INTEGER NOT NULL DEFAULT 0,
    added_at INTEGER NOT NULL
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO schema_version VALUES (1, 1700000000000);
)SQL";

} // namespace

class TestStore : public QObject {
    Q_OBJECT

private slots:
    void openCreatesFolderAndPragmas()
    {
        QTemporaryDir dir;
        auto dataDir = pathOf(dir) / "nested" / "data";
        Store store(dataDir);
        QVERIFY(std::filesystem::exists(dataDir / Store::kFileName));
        QCOMPARE(store.databasePath(), dataDir / Store::kFileName);
        QCOMPARE(store.schemaVersion(), Store::kSchemaVersion);
        QCOMPARE(queryText(store.databasePath(), "PRAGMA journal_mode"), std::string("wal"));
        QCOMPARE(queryText(store.databasePath(), "SELECT max(version) FROM schema_version"), std::to_string(Store::kSchemaVersion));
        QCOMPARE(store.recoveredInterruptedMessages(), 0);
    }

    void conversationsCrud()
    {
        QTemporaryDir dir;
        Store store(pathOf(dir));
        int64_t a = store.createConversation(conversation("First chat", 1000));
        int64_t b = store.createConversation(conversation("Second chat", 2000));
        QVERIFY(a > 0 && b > a);

        auto list = store.listConversations();
        QCOMPARE(list.size(), size_t(2));
        QCOMPARE(list[0].id, b); // most recently updated first
        QCOMPARE(list[1].title, std::string("First chat"));
        QCOMPARE(list[1].systemPrompt, std::string("Be brief."));
        QCOMPARE(list[1].settingsJson, std::string(R"({"temperature":0.7})"));
        QCOMPARE(list[1].createdAt, int64_t(1000));

        // A new message bumps the conversation to the top.
        store.appendMessage(a, newMessage("user", "hello"));
        QCOMPARE(store.listConversations()[0].id, a);

        store.renameConversation(a, "Renamed");
        QCOMPARE(store.conversation(a)->title, std::string("Renamed"));
        Conversation c = *store.conversation(b);
        c.systemPrompt = "New prompt";
        c.modelPath = "/models/other.gguf";
        store.updateConversation(c);
        QCOMPARE(store.conversation(b)->systemPrompt, std::string("New prompt"));
        QCOMPARE(store.conversation(b)->modelPath, std::string("/models/other.gguf"));

        // Soft delete hides, undo restores, purge removes for good (with messages).
        store.setConversationDeleted(a, true);
        QCOMPARE(store.listConversations().size(), size_t(1));
        QCOMPARE(store.listConversations(true).size(), size_t(2));
        QVERIFY(store.conversation(a)->deleted);
        store.setConversationDeleted(a, false);
        QCOMPARE(store.listConversations().size(), size_t(2));
        store.setConversationDeleted(a, true);
        QCOMPARE(store.purgeDeletedConversations(), 1);
        QVERIFY(!store.conversation(a).has_value());
        QVERIFY(store.messages(a).empty());
        QCOMPARE(queryText(store.databasePath(), "SELECT count(*) FROM messages"), std::string("0"));

        store.deleteConversationPermanently(b);
        QVERIFY(store.listConversations(true).empty());

        QVERIFY_THROWS_EXCEPTION(InvalidArgument, store.renameConversation(12345, "x"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, store.appendMessage(12345, newMessage("user", "x")));
    }

    void messages()
    {
        QTemporaryDir dir;
        Store store(pathOf(dir));
        int64_t c = store.createConversation(conversation("chat"));
        int64_t m0 = store.appendMessage(c, newMessage("system", "sys"));
        int64_t m1 = store.appendMessage(c, newMessage("user", "question"));
        NewMessage reply = newMessage("assistant", "answer");
        reply.model = "ref-main";
        reply.settingsJson = R"({"seed":1})";
        reply.stats = {12, 34, 56.5, 789.25, 42.5};
        int64_t m2 = store.appendMessage(c, reply);

        auto all = store.messages(c);
        QCOMPARE(all.size(), size_t(3));
        QCOMPARE(all[0].id, m0);
        QCOMPARE(all[1].id, m1);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(all[i].ordinal, i);
        QCOMPARE(all[2].model, std::string("ref-main"));
        QCOMPARE(all[2].settingsJson, std::string(R"({"seed":1})"));
        QCOMPARE(all[2].stats.tokensIn, 12);
        QCOMPARE(all[2].stats.tokensOut, 34);
        QCOMPARE(all[2].stats.timeToFirstTokenMs, 56.5);
        QCOMPARE(all[2].stats.totalMs, 789.25);
        QCOMPARE(all[2].stats.tokensPerSecond, 42.5);
        QCOMPARE(all[2].state, MessageState::Complete);

        store.updateMessageContent(m2, "better answer");
        store.setMessageState(m2, MessageState::Stopped);
        store.setMessageStats(m2, {1, 2, 3, 4, 5});
        auto edited = store.message(m2);
        QCOMPARE(edited->content, std::string("better answer"));
        QCOMPARE(edited->state, MessageState::Stopped);
        QCOMPARE(edited->stats.tokensOut, 2);
        QCOMPARE(edited->stats.tokensPerSecond, 5.0);

        // Regenerate: drop from the reply on, and the next message takes its ordinal.
        store.deleteMessagesFrom(c, 2);
        QCOMPARE(store.messages(c).size(), size_t(2));
        int64_t again = store.appendMessage(c, newMessage("assistant", "again"));
        QCOMPARE(store.message(again)->ordinal, 2);

        // Edit-and-resend: the tail from ordinal 1 is replaced by one message, in one step.
        const int64_t replaced = store.replaceMessagesFrom(c, 1, newMessage("user", "edited question"));
        const auto afterEdit = store.messages(c);
        QCOMPARE(afterEdit.size(), size_t(2));
        QCOMPARE(afterEdit[1].id, replaced);
        QCOMPARE(afterEdit[1].ordinal, 1);
        QCOMPARE(afterEdit[1].content, std::string("edited question"));
        QVERIFY(!store.message(again).has_value());
        // An unknown conversation throws and changes nothing.
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, store.replaceMessagesFrom(999999, 0, newMessage("user", "x")));
        QCOMPARE(store.messages(c).size(), size_t(2));

        QVERIFY(!store.message(999999).has_value());
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, store.setMessageState(999999, MessageState::Error));
        QCOMPARE(messageStateFromName("interrupted"), MessageState::Interrupted);
        QCOMPARE(std::string(messageStateName(MessageState::Error)), std::string("error"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, messageStateFromName("bogus"));
    }

    void streamingBatchesCommits()
    {
        QTemporaryDir dir;
        Store store(pathOf(dir));
        int64_t c = store.createConversation(conversation("stream"));
        int64_t m = store.beginStreamingMessage(c, "assistant", "ref-main", R"({"t":1})");
        QCOMPARE(store.message(m)->state, MessageState::Streaming);
        const std::string sql = "SELECT content FROM messages WHERE id = " + std::to_string(m);

        // With a long interval and a large buffer nothing reaches the file until flush().
        store.setStreamingFlushPolicy(std::chrono::hours(1), 1 << 20);
        store.appendStreamingText(m, "Hello");
        store.appendStreamingText(m, ", world");
        QCOMPARE(queryText(store.databasePath(), sql), std::string(""));
        store.flush();
        QCOMPARE(queryText(store.databasePath(), sql), std::string("Hello, world"));

        // A small byte threshold commits as soon as it is reached.
        store.setStreamingFlushPolicy(std::chrono::hours(1), 8);
        store.appendStreamingText(m, "!!");
        QCOMPARE(queryText(store.databasePath(), sql), std::string("Hello, world"));
        store.appendStreamingText(m, " more text");
        QCOMPARE(queryText(store.databasePath(), sql), std::string("Hello, world!! more text"));

        // The time threshold commits on the first append after the interval.
        store.setStreamingFlushPolicy(std::chrono::milliseconds(30), 1 << 20);
        store.appendStreamingText(m, " a");
        QTest::qSleep(60);
        store.appendStreamingText(m, " b");
        QCOMPARE(queryText(store.databasePath(), sql), std::string("Hello, world!! more text a b"));

        store.appendStreamingText(m, " end");
        store.finishMessage(m, MessageState::Complete, {10, 20, 30.0, 400.0, 50.0});
        auto done = store.message(m);
        QCOMPARE(done->content, std::string("Hello, world!! more text a b end"));
        QCOMPARE(done->state, MessageState::Complete);
        QCOMPARE(done->stats.tokensOut, 20);
        QCOMPARE(done->model, std::string("ref-main"));
        QCOMPARE(done->settingsJson, std::string(R"({"t":1})"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, store.appendStreamingText(424242, "x"));
    }

    void streamingRecoveredOnReopen()
    {
        QTemporaryDir dir;
        int64_t m = 0;
        {
            Store store(pathOf(dir));
            int64_t c = store.createConversation(conversation("crash"));
            m = store.beginStreamingMessage(c, "assistant", "ref-main");
            store.appendStreamingText(m, "partial reply");
            store.flush();
            // The process "dies" here: the message is never finished.
        }
        QCOMPARE(queryText(pathOf(dir) / Store::kFileName, "SELECT state FROM messages WHERE id = " + std::to_string(m)),
                 std::string("streaming"));
        Store reopened(pathOf(dir));
        QCOMPARE(reopened.recoveredInterruptedMessages(), 1);
        auto msg = reopened.message(m);
        QCOMPARE(msg->state, MessageState::Interrupted);
        QCOMPARE(msg->content, std::string("partial reply"));
        Store again(pathOf(dir));
        QCOMPARE(again.recoveredInterruptedMessages(), 0);
    }

    void search_data()
    {
        QTest::addColumn<bool>("fullText");
        QTest::newRow("fts5") << true;
        QTest::newRow("like fallback") << false;
    }

    void search()
    {
        QFETCH(bool, fullText);
        QTemporaryDir dir;
        Store store = Store::openFile(pathOf(dir) / Store::kFileName, StoreOptions{fullText});
        if (!fullText)
            QVERIFY(!store.hasFullTextSearch());
        else if (!store.hasFullTextSearch())
            qWarning("this SQLite has no FTS5: both rows test the LIKE fallback");
        int64_t recipes = store.createConversation(conversation("Pasta recipes", 1000));
        int64_t travel = store.createConversation(conversation("Trip to Lisbon", 2000));
        int64_t gone = store.createConversation(conversation("Deleted pasta talk", 3000));
        store.appendMessage(recipes, newMessage("user", "How long do I boil spaghetti?"));
        int64_t answer = store.appendMessage(recipes, newMessage("assistant", "Boil the spaghetti for about nine minutes."));
        store.appendMessage(travel, newMessage("user", "What should I see in Lisbon? Also, any good pasta there?"));
        store.appendMessage(gone, newMessage("user", "pasta pasta"));
        store.setConversationDeleted(gone, true);

        // Title match, case-insensitive.
        auto hits = store.searchConversations("PASTA RECIPES");
        QCOMPARE(hits.size(), size_t(1));
        QCOMPARE(hits[0].conversationId, recipes);
        QCOMPARE(hits[0].messageId, int64_t(0));

        // Content match with every word required; prefix of a word matches too.
        hits = store.searchConversations("boil minutes");
        QCOMPARE(hits.size(), size_t(1));
        QCOMPARE(hits[0].messageId, answer);
        QCOMPARE(hits[0].snippet, std::string("Boil the spaghetti for about nine minutes."));
        QCOMPARE(hits[0].title, std::string("Pasta recipes"));
        QCOMPARE(store.searchConversations("spagh").size(), size_t(2));

        // Title and content hits across conversations; deleted conversations never appear.
        hits = store.searchConversations("pasta");
        QCOMPARE(hits.size(), size_t(2));
        QCOMPARE(hits[0].conversationId, recipes); // title hit comes first
        QCOMPARE(hits[1].conversationId, travel);
        QVERIFY(store.searchConversations("nothing-like-this").empty());
        QVERIFY(store.searchConversations("   ").empty());
        // Quotes and wildcards are taken literally.
        QVERIFY(store.searchConversations("\"pasta").empty() || store.hasFullTextSearch());
        QVERIFY(store.searchConversations("%").empty());

        // Edits are searchable; a streamed reply is, once it has finished.
        store.updateMessageContent(answer, "Cook the linguine al dente.");
        QVERIFY(store.searchConversations("minutes").empty());
        QCOMPARE(store.searchConversations("linguine").size(), size_t(1));
        int64_t s = store.beginStreamingMessage(travel, "assistant", "m");
        store.appendStreamingText(s, "Visit the Belém tower");
        store.finishMessage(s, MessageState::Complete, {});
        QCOMPARE(store.searchConversations("Belém").size(), size_t(1));
        QCOMPARE(store.searchConversations("belém TOWER").size(), size_t(1)); // LIKE folds ASCII case only
        // Deleting the conversation's messages takes them out of the index too.
        store.deleteMessagesFrom(travel, 0);
        QVERIFY(store.searchConversations("Belém").empty());
    }

    void settings()
    {
        QTemporaryDir dir;
        Store store(pathOf(dir));
        QVERIFY(!store.setting("theme").has_value());
        QCOMPARE(store.setting("theme", "light"), std::string("light"));
        store.setSetting("theme", "dark");
        store.setSetting("threads", "2");
        QCOMPARE(store.setting("theme", "light"), std::string("dark"));
        store.setSetting("theme", "system");
        QCOMPARE(*store.setting("theme"), std::string("system"));
        auto all = store.allSettings();
        QCOMPARE(all.size(), size_t(2));
        QCOMPARE(all["threads"], std::string("2"));
        store.removeSetting("threads");
        QVERIFY(!store.setting("threads").has_value());
    }

    void persistsAcrossReopen()
    {
        QTemporaryDir dir;
        int64_t c = 0;
        {
            Store store(pathOf(dir));
            c = store.createConversation(conversation("kept"));
            store.appendMessage(c, newMessage("user", "persist me"));
            store.setSetting("k", "v");
        }
        Store store(pathOf(dir));
        QCOMPARE(store.conversation(c)->title, std::string("kept"));
        QCOMPARE(store.messages(c)[0].content, std::string("persist me"));
        QCOMPARE(store.setting("k", ""), std::string("v"));
    }

    void modelLibrary()
    {
        QTemporaryDir dir;
        Store store(pathOf(dir));
        ModelRecord m;
        m.path = "/models/b.gguf";
        m.name = "beta";
        m.architecture = "llama";
        m.parameterCount = 15735168;
        m.weightTypes = "F16, F32";
        m.fileSize = 31'500'000;
        m.contextLength = 512;
        m.addedAt = 5000;
        int64_t id = store.upsertModel(m);
        ModelRecord a = m;
        a.path = "/models/a.gguf";
        a.name = "Alpha";
        store.upsertModel(a);

        auto models = store.models();
        QCOMPARE(models.size(), size_t(2));
        QCOMPARE(models[0].name, std::string("Alpha")); // by name, case-insensitive
        QCOMPARE(models[1].parameterCount, int64_t(15735168));
        QCOMPARE(models[1].weightTypes, std::string("F16, F32"));
        QCOMPARE(models[1].contextLength, 512);

        // Re-scanning updates the facts but keeps identity and the time it was added.
        m.name = "beta v2";
        m.fileSize = 99;
        m.addedAt = 0;
        QCOMPARE(store.upsertModel(m), id);
        auto b = store.modelByPath("/models/b.gguf");
        QCOMPARE(b->name, std::string("beta v2"));
        QCOMPARE(b->fileSize, int64_t(99));
        QCOMPARE(b->addedAt, int64_t(5000));
        QCOMPARE(b->lastUsedAt, int64_t(0));
        store.markModelUsed("/models/b.gguf", 7777);
        QCOMPARE(store.modelByPath("/models/b.gguf")->lastUsedAt, int64_t(7777));

        store.removeModel("/models/a.gguf");
        QCOMPARE(store.models().size(), size_t(1));
        QVERIFY(!store.modelByPath("/models/a.gguf"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, store.upsertModel(ModelRecord{}));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, store.markModelUsed("/nope", 1));
    }

    void usageLedger()
    {
        QTemporaryDir dir;
        Store store(pathOf(dir));
        const int64_t day1 = 1'735'689'600'000; // 2025-01-01T00:00:00Z
        const int64_t day2 = day1 + 86'400'000;
        auto entry = [](int64_t t, const char* model, int in, int out, double ms) {
            LedgerEntry e;
            e.time = t;
            e.model = model;
            e.device = "cpu";
            e.tokensIn = in;
            e.tokensOut = out;
            e.timeToFirstTokenMs = 10;
            e.totalMs = ms;
            return e;
        };
        store.recordUsage(entry(day1 + 1000, "main", 10, 100, 1000));
        store.recordUsage(entry(day1 + 86'399'000, "main", 20, 200, 2000)); // 23:59:59, still day 1
        store.recordUsage(entry(day1 + 5000, "draft", 5, 50, 250));
        LedgerEntry linked = entry(day2 + 1, "main", 1, 2, 3);
        linked.conversationId = 7;
        linked.messageId = 9;
        linked.device = "vulkan:NVIDIA H100";
        store.recordUsage(linked);

        auto rows = store.usage();
        QCOMPARE(rows.size(), size_t(4));
        QCOMPARE(rows[0].model, std::string("main"));
        QCOMPARE(rows[1].model, std::string("draft")); // by time
        QCOMPARE(rows[3].conversationId, int64_t(7));
        QCOMPARE(rows[3].messageId, int64_t(9));
        QCOMPARE(rows[3].device, std::string("vulkan:NVIDIA H100"));
        QCOMPARE(rows[0].conversationId, int64_t(0));
        QCOMPARE(store.usage(day2, INT64_MAX).size(), size_t(1));

        auto totals = store.usageTotals();
        QCOMPARE(totals.size(), size_t(3));
        QCOMPARE(totals[0].day, std::string("2025-01-01"));
        QCOMPARE(totals[0].model, std::string("draft"));
        QCOMPARE(totals[0].generations, int64_t(1));
        QCOMPARE(totals[1].model, std::string("main"));
        QCOMPARE(totals[1].generations, int64_t(2));
        QCOMPARE(totals[1].tokensIn, int64_t(30));
        QCOMPARE(totals[1].tokensOut, int64_t(300));
        QCOMPARE(totals[1].totalMs, 3000.0);
        QCOMPARE(totals[2].day, std::string("2025-01-02"));
        QCOMPARE(totals[2].tokensOut, int64_t(2));
        QCOMPARE(store.usageTotals(day2, day2 + 86'400'000).size(), size_t(1));
    }

    void migrationFromV1()
    {
        QTemporaryDir dir;
        auto file = pathOf(dir) / Store::kFileName;
        execRaw(file, kShippedV1);
        execRaw(file, R"SQL(
INSERT INTO conversations(id, title, created_at, updated_at, model_path, system_prompt, settings_json, deleted)
    VALUES (1, 'Old chat', 100, 200, '/m/old.gguf', 'sys', '{"temperature":0.5}', 0);
INSERT INTO messages(conversation_id, ordinal, role, content, model, tokens_in, tokens_out, ttft_ms, total_ms, state, created_at)
    VALUES (1, 0, 'user', 'old question', '', 0, 0, 0, 0, 'complete', 150),
           (1, 1, 'assistant', 'old half answer', 'old', 5, 7, 12.5, 99, 'streaming', 160);
INSERT INTO models(path, name, architecture, parameter_count, weight_types, file_size, context_length, added_at)
    VALUES ('/m/old.gguf', 'old', 'llama', 1000, 'F16', 2000, 256, 50);
INSERT INTO settings VALUES ('theme', 'dark');
)SQL");

        Store store(pathOf(dir));
        QCOMPARE(store.schemaVersion(), Store::kSchemaVersion);
        QCOMPARE(queryText(file, "SELECT count(*) FROM schema_version"), std::to_string(Store::kSchemaVersion));
        auto c = store.conversation(1);
        QVERIFY(c.has_value());
        QCOMPARE(c->title, std::string("Old chat"));
        QCOMPARE(c->settingsJson, std::string(R"({"temperature":0.5})"));
        auto msgs = store.messages(1);
        QCOMPARE(msgs.size(), size_t(2));
        QCOMPARE(msgs[0].content, std::string("old question"));
        QCOMPARE(msgs[1].content, std::string("old half answer"));
        QCOMPARE(msgs[1].stats.tokensOut, 7);
        QCOMPARE(msgs[1].stats.tokensPerSecond, 0.0); // new v2 column, default
        QCOMPARE(msgs[1].state, MessageState::Interrupted); // was streaming when v1 last ran
        QCOMPARE(store.recoveredInterruptedMessages(), 1);
        auto model = store.modelByPath("/m/old.gguf");
        QCOMPARE(model->contextLength, 256);
        QCOMPARE(model->lastUsedAt, int64_t(0)); // new v2 column
        QCOMPARE(store.setting("theme", ""), std::string("dark"));
        // Old rows are searchable (index built over existing text) and v2 tables work.
        QCOMPARE(store.searchConversations("half answer").size(), size_t(1));
        store.recordUsage(LedgerEntry{0, 0, "old", "cpu", 1, 2, 3, 4, 1, 0});
        QCOMPARE(store.usage().size(), size_t(1));
        store.appendMessage(1, newMessage("user", "new question"));
        QCOMPARE(store.messages(1)[2].ordinal, 2);
    }

    void newerSchemaIsRefused()
    {
        QTemporaryDir dir;
        { Store store(pathOf(dir)); }
        execRaw(pathOf(dir) / Store::kFileName, "INSERT INTO schema_version VALUES (99, 0)");
        try {
            Store store(pathOf(dir));
            QFAIL("a database from a newer version was opened");
        } catch (const IoError& e) {
            QVERIFY2(std::string(e.what()).find("newer") != std::string::npos, e.what());
        }
    }

    void unwritableFolder()
    {
        QTemporaryDir dir;
        // A data folder that cannot be created: its parent is a regular file.
        auto blocker = pathOf(dir) / "blocker";
        std::ofstream(blocker) << "x";
        try {
            Store store(blocker / "data");
            QFAIL("opened a store under a regular file");
        } catch (const IoError& e) {
            QVERIFY2(std::string(e.what()).find((blocker / "data").string()) != std::string::npos, e.what());
        }
        // Not a database at all.
        auto bogus = pathOf(dir) / "bogus";
        std::filesystem::create_directories(bogus);
        std::ofstream(bogus / Store::kFileName) << std::string(8192, 'z');
        try {
            Store store(bogus);
            QFAIL("opened a file that is not a database");
        } catch (const IoError& e) {
            QVERIFY2(std::string(e.what()).find((bogus / Store::kFileName).string()) != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("not a database") != std::string::npos, e.what());
        }
    }

    // A folder the user may not write to. Root may write anywhere, so as root (CI runs as root)
    // the attempt runs in a child process that has dropped to the unprivileged user "nobody".
    void readOnlyFolder()
    {
        QTemporaryDir dir;
        auto readOnly = pathOf(dir) / "readonly";
        std::filesystem::create_directories(readOnly);
        ::chmod(readOnly.c_str(), 0555);
        const auto restore = qScopeGuard([&] { ::chmod(readOnly.c_str(), 0755); });
        // 0: refused with an IoError naming the folder; 1: opened; 2: an IoError without the
        // folder; 3: could not drop privileges; 4: another exception.
        const auto attempt = [&]() -> int {
            try {
                Store store(readOnly);
                return 1;
            } catch (const IoError& e) {
                return std::string(e.what()).find(readOnly.string()) != std::string::npos ? 0 : 2;
            } catch (...) {
                return 4;
            }
        };
        int outcome = 0;
        if (::geteuid() != 0) {
            outcome = attempt();
        } else {
            ::chmod(pathOf(dir).c_str(), 0755); // nobody must reach the folder to find it read-only
            const pid_t child = ::fork();
            QVERIFY(child >= 0);
            if (child == 0) {
                if (::setgid(65534) != 0 || ::setuid(65534) != 0 || ::geteuid() == 0)
                    ::_exit(3);
                ::_exit(attempt());
            }
            int status = 0;
            QCOMPARE(::waitpid(child, &status, 0), child);
            QVERIFY(WIFEXITED(status));
            outcome = WEXITSTATUS(status);
        }
        QVERIFY2(outcome != 1, "opened a store in a read-only folder");
        QVERIFY2(outcome != 2, "the error does not name the read-only folder");
        QVERIFY2(outcome != 3, "running as root and could not switch to user nobody to test this");
        QCOMPARE(outcome, 0);
    }

    void diskFull()
    {
        QTemporaryDir dir;
        Store store(pathOf(dir));
        int64_t c = store.createConversation(conversation("before full"));
        int64_t first = store.appendMessage(c, newMessage("user", "kept safe"));
        int64_t streaming = store.beginStreamingMessage(c, "assistant", "m");
        store.appendStreamingText(streaming, "early text");
        store.flush();

        // Cap the file at its current size: the next growth fails as a full disk would.
        store.setMaxPageCount(1);
        const std::string big(512 * 1024, 'x');
        try {
            store.appendMessage(c, newMessage("assistant", big));
            QFAIL("write past the size cap succeeded");
        } catch (const IoError& e) {
            std::string what = e.what();
            QVERIFY2(what.find(store.databasePath().string()) != std::string::npos, e.what());
            QVERIFY2(what.find("full") != std::string::npos, e.what());
        }
        // Streaming text that cannot be committed stays buffered, and the error is clear.
        store.setStreamingFlushPolicy(std::chrono::milliseconds(0), 1);
        QVERIFY_THROWS_EXCEPTION(IoError, store.appendStreamingText(streaming, big));

        // Everything stored before is intact and readable.
        auto msgs = store.messages(c);
        QCOMPARE(msgs.size(), size_t(2));
        QCOMPARE(msgs[0].id, first);
        QCOMPARE(msgs[0].content, std::string("kept safe"));
        QCOMPARE(queryText(store.databasePath(), "PRAGMA integrity_check"), std::string("ok"));
        QCOMPARE(queryText(store.databasePath(), "SELECT content FROM messages WHERE id = " + std::to_string(streaming)),
                 std::string("early text"));

        // Space freed: the buffered text goes in and normal writes work again.
        store.setMaxPageCount(1'000'000);
        store.flush();
        QCOMPARE(store.message(streaming)->content, "early text" + big);
        store.appendMessage(c, newMessage("user", "after"));
        QCOMPARE(store.messages(c).size(), size_t(3));
    }
};

QTEST_APPLESS_MAIN(TestStore)
#include "tst_store.moc"
