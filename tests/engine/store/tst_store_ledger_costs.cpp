// The usage ledger's cost columns: a database at the previous schema version (made by the
// migrations as they shipped up to it, with old rows inserted by plain SQL) opens with the new
// code, keeps its rows and reads the new columns as 0 / ''; a new row keeps every field, checked
// through a separate SQLite connection rather than the Store's own reader.
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "store/store.h"

#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

using namespace tenfold;

namespace {

std::filesystem::path pathOf(const QTemporaryDir& dir) { return std::filesystem::path(dir.path().toStdString()); }

void execRaw(const std::filesystem::path& file, const std::string& sql)
{
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(file.string().c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
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

} // namespace

class TestStoreLedgerCosts : public QObject {
    Q_OBJECT
private slots:
    void migrationKeepsOldRows()
    {
        QTemporaryDir dir;
        const auto file = pathOf(dir) / Store::kFileName;
        {
            sqlite::Database db(file);
            store_schema::migrate(db, Store::kSchemaVersion - 1);
        }
        execRaw(file, R"SQL(
INSERT INTO conversations(id, title, created_at, updated_at) VALUES (7, 'old', 1, 1);
INSERT INTO usage_ledger(time, model, device, tokens_in, tokens_out, ttft_ms, total_ms, conversation_id,
                         source, client, cache_hit)
    VALUES (1700000000000, 'main', 'cpu', 12, 34, 5.5, 678.25, 7, 'app', '', ''),
           (1700000001000, 'main', 'vulkan:lavapipe', 3, 4, 1, 2, NULL, 'server', '127.0.0.1', 'exact');
)SQL");
        QCOMPARE(queryText(file, "SELECT count(*) FROM pragma_table_info('usage_ledger') WHERE name = 'energy_j'"),
                 std::string("0"));

        Store store(pathOf(dir));
        QCOMPARE(store.schemaVersion(), Store::kSchemaVersion);
        const auto rows = store.usage();
        QCOMPARE(rows.size(), size_t(2));
        QCOMPARE(rows[0].time, int64_t(1700000000000));
        QCOMPARE(rows[0].tokensIn, 12);
        QCOMPARE(rows[0].tokensOut, 34);
        QCOMPARE(rows[0].totalMs, 678.25);
        QCOMPARE(rows[0].conversationId, int64_t(7));
        QCOMPARE(rows[1].client, std::string("127.0.0.1"));
        QCOMPARE(rows[1].cacheHit, std::string("exact"));
        for (const LedgerEntry& r : rows) {
            QCOMPARE(r.modelHash, std::string());
            QCOMPARE(r.quantization, std::string());
            QCOMPARE(r.kernelLevel, std::string());
            QCOMPARE(r.threads, 0);
            QCOMPARE(r.contextSize, 0);
            QCOMPARE(r.prefillTokens, 0);
            QCOMPARE(r.prefillMs, 0.0);
            QCOMPARE(r.decodeTokens, 0);
            QCOMPARE(r.decodeMs, 0.0);
            QCOMPARE(r.reusedPromptTokens, 0);
            QCOMPARE(r.speculativeTokens, 0);
            QCOMPARE(r.energyJoules, 0.0);
            QCOMPARE(r.energySource, std::string());
        }
        QCOMPARE(queryText(file, "SELECT energy_source || '|' || energy_j || '|' || model_hash FROM usage_ledger LIMIT 1"),
                 std::string("|0.0|"));
    }

    void everyCostColumnRoundTrips()
    {
        QTemporaryDir dir;
        Store store(pathOf(dir));
        LedgerEntry e;
        e.time = 1736094600000;
        e.model = "ref-main Q4_0";
        e.device = "cpu";
        e.tokensIn = 40;
        e.tokensOut = 64;
        e.totalMs = 812.5;
        e.source = "cli";
        e.modelHash = "00112233445566ff";
        e.quantization = "Q4_0";
        e.kernelLevel = "avx512";
        e.threads = 2;
        e.contextSize = 2048;
        e.prefillTokens = 40;
        e.prefillMs = 12.25;
        e.decodeTokens = 64;
        e.decodeMs = 800.25;
        e.reusedPromptTokens = 16;
        e.speculativeTokens = 9;
        e.energyJoules = 31.5;
        e.energySource = "estimate";
        store.recordUsage(e);
        const auto file = store.databasePath();
        QCOMPARE(queryText(file, "SELECT model_hash || '|' || quantization || '|' || kernel_level || '|' || threads || '|' || "
                                 "context_size || '|' || prefill_tokens || '|' || prefill_ms || '|' || decode_tokens || '|' || "
                                 "decode_ms || '|' || reused_prompt_tokens || '|' || speculative_tokens || '|' || "
                                 "energy_j || '|' || energy_source FROM usage_ledger"),
                 std::string("00112233445566ff|Q4_0|avx512|2|2048|40|12.25|64|800.25|16|9|31.5|estimate"));
        const auto back = store.usage();
        QCOMPARE(back.size(), size_t(1));
        QCOMPARE(back[0].decodeMs, 800.25);
        QCOMPARE(back[0].energySource, std::string("estimate"));
        QCOMPARE(back[0].speculativeTokens, 9);
        QCOMPARE(back[0].kernelLevel, std::string("avx512"));
    }

    // Recorded profiles: a summary and its ops, listed newest first, read back by id (ops by
    // layer then op), deleted with their ops.
    void profilesRecordReadAndDelete()
    {
        QTemporaryDir dir;
        Store store(pathOf(dir));
        ProfileRecord a;
        a.createdAt = 1000;
        a.name = "Q4_0 on the CPU";
        a.model = "ref-main";
        a.quantization = "Q4_0";
        a.device = "cpu";
        a.passes = 64;
        a.decodeTokensPerSecond = 512.5;
        a.bandwidthShare = 0.375;
        a.residentBytes = 123456789;
        a.ops = {{"matvec", 1, 300.5, 64}, {"attention", 0, 20, 64}, {"matvec", 0, 310.25, 64}, {"output", -1, 90, 64}};
        ProfileRecord b = a;
        b.createdAt = 2000;
        b.name = "Q8_0";
        b.ops = {{"matvec", 0, 1, 1}};
        const int64_t ia = store.recordProfile(a);
        const int64_t ib = store.recordProfile(b);
        const auto file = store.databasePath();
        QCOMPARE(queryText(file, "SELECT count(*) FROM profile_ops"), std::string("5"));
        QCOMPARE(queryText(file, "SELECT group_concat(op || ':' || layer || ':' || microseconds, ',') FROM "
                                 "(SELECT * FROM profile_ops WHERE profile_id = " + std::to_string(ia) + " ORDER BY layer, op)"),
                 std::string("output:-1:90.0,attention:0:20.0,matvec:0:310.25,matvec:1:300.5"));
        const auto list = store.profiles();
        QCOMPARE(list.size(), size_t(2));
        QCOMPARE(list[0].id, ib);
        QVERIFY(list[0].ops.empty());
        const auto back = store.profile(ia);
        QVERIFY(back);
        QCOMPARE(back->name, a.name);
        QCOMPARE(back->bandwidthShare, 0.375);
        QCOMPARE(back->residentBytes, int64_t(123456789));
        QCOMPARE(back->ops.size(), size_t(4));
        QCOMPARE(back->ops[0].op, std::string("output"));
        QCOMPARE(back->ops[3].microseconds, 300.5);
        store.deleteProfile(ia);
        QVERIFY(!store.profile(ia));
        QCOMPARE(queryText(file, "SELECT count(*) FROM profile_ops"), std::string("1"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, store.deleteProfile(ia));
    }

    void migrateRefusesTargetsOutOfRange()
    {
        QTemporaryDir dir;
        sqlite::Database db(pathOf(dir) / "x.db");
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, store_schema::migrate(db, store_schema::latestVersion() + 1));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, store_schema::migrate(db, 0));
    }
};

QTEST_MAIN(TestStoreLedgerCosts)
#include "tst_store_ledger_costs.moc"
