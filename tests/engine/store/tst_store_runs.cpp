// Optimization runs (schema v6): the migration from a v5 database keeps its data and adds the
// table, and runs are recorded and listed (all, or those of one input model, newest first).
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "store/store.h"

#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

using namespace tenfold;

namespace {

std::filesystem::path pathOf(const QTemporaryDir& dir) { return std::filesystem::path(dir.path().toStdString()); }

// SQL through SQLite directly, independent of the Store under test.
void execRaw(const std::filesystem::path& file, const std::string& sql)
{
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(file.string().c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    QVERIFY2(rc == SQLITE_OK, err ? err : "?");
    sqlite3_close(db);
}

int64_t queryInt(const std::filesystem::path& file, const std::string& sql)
{
    sqlite3* db = nullptr;
    sqlite3_open_v2(file.string().c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    int64_t out = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        out = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
}

OptimizationRun run(const std::string& input, const std::string& method, int64_t createdAt)
{
    OptimizationRun r;
    r.createdAt = createdAt;
    r.inputModelHash = input;
    r.inputPath = "/models/" + input + ".gguf";
    r.method = method;
    r.parametersJson = R"({"type":"Q4_0"})";
    r.outputPath = "/out/" + method + ".gguf";
    r.outputHash = "00000000000000ff";
    r.outputBytes = 10666336;
    r.reportJson = R"({"kld":{"mean":0.0111}})";
    r.seconds = 12.5;
    return r;
}

} // namespace

class TestStoreRuns : public QObject {
    Q_OBJECT
private slots:
    // A v5 database as v5 shipped it: migrations are never edited, so applying the first five
    // is exactly what version 5 wrote.
    void migrationFromV5()
    {
        QTemporaryDir dir;
        const auto file = pathOf(dir) / Store::kFileName;
        {
            sqlite::Database db(file);
            store_schema::migrate(db, 5);
        }
        execRaw(file, "INSERT INTO usage_ledger(time, model, device, tokens_in, tokens_out, ttft_ms, total_ms, "
                      "source, cache_hit) VALUES (1000, 'm', 'cpu', 1, 2, 3, 4, 'cli', 'exact')");
        QCOMPARE(queryInt(file, "SELECT max(version) FROM schema_version"), int64_t(5));
        QCOMPARE(queryInt(file, "SELECT count(*) FROM sqlite_master WHERE name = 'optimization_runs'"), int64_t(0));

        Store store(pathOf(dir));
        QCOMPARE(store.schemaVersion(), Store::kSchemaVersion);
        QCOMPARE(queryInt(file, "SELECT max(version) FROM schema_version"), int64_t(Store::kSchemaVersion));
        QCOMPARE(queryInt(file, "SELECT count(*) FROM sqlite_master WHERE name = 'optimization_runs_input'"), int64_t(1));
        // v5 data survives and the new table works.
        const auto usage = store.usage();
        QCOMPARE(usage.size(), size_t(1));
        QCOMPARE(usage[0].cacheHit, std::string("exact"));
        QVERIFY(store.optimizationRuns().empty());
        QVERIFY(store.recordOptimizationRun(run("aa", "evaluate", 5)) > 0);
        QCOMPARE(store.optimizationRuns().size(), size_t(1));
    }

    void recordAndList()
    {
        QTemporaryDir dir;
        Store store(pathOf(dir));
        const int64_t a = store.recordOptimizationRun(run("aaaa", "quantize", 100));
        const int64_t b = store.recordOptimizationRun(run("bbbb", "evaluate", 300));
        OptimizationRun failed = run("aaaa", "evaluate", 200);
        failed.status = "cancelled";
        failed.reportJson.clear(); // stored as "{}"
        const int64_t c = store.recordOptimizationRun(failed);
        QVERIFY(a != b && b != c);

        const auto all = store.optimizationRuns();
        QCOMPARE(all.size(), size_t(3));
        QCOMPARE(all[0].id, b); // newest first
        QCOMPARE(all[1].id, c);
        QCOMPARE(all[2].id, a);

        const auto ofA = store.optimizationRuns("aaaa");
        QCOMPARE(ofA.size(), size_t(2));
        QCOMPARE(ofA[0].status, std::string("cancelled"));
        QCOMPARE(ofA[0].reportJson, std::string("{}"));
        const OptimizationRun& q = ofA[1];
        const OptimizationRun want = run("aaaa", "quantize", 100);
        QCOMPARE(q.createdAt, int64_t(100));
        QCOMPARE(q.inputModelHash, want.inputModelHash);
        QCOMPARE(q.inputPath, want.inputPath);
        QCOMPARE(q.method, want.method);
        QCOMPARE(q.parametersJson, want.parametersJson);
        QCOMPARE(q.outputPath, want.outputPath);
        QCOMPARE(q.outputHash, want.outputHash);
        QCOMPARE(q.outputBytes, want.outputBytes);
        QCOMPARE(q.reportJson, want.reportJson);
        QCOMPARE(q.seconds, want.seconds);
        QCOMPARE(q.status, std::string("ok"));
        QVERIFY(store.optimizationRuns("cccc").empty());

        // createdAt 0 means now; a run without a method is refused.
        OptimizationRun now = run("cccc", "evaluate", 0);
        const int64_t before = Store::nowMs();
        store.recordOptimizationRun(now);
        QVERIFY(store.optimizationRuns("cccc").at(0).createdAt >= before);
        now.method.clear();
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, store.recordOptimizationRun(now));
    }
};

QTEST_APPLESS_MAIN(TestStoreRuns)
#include "tst_store_runs.moc"
