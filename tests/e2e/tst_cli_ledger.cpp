// tenfold-cli generate and bench write usage-ledger rows: the real binary runs against a
// temporary data folder (XDG_DATA_HOME, the way the desktop app and the server find theirs, and
// --data-dir), then the rows are read back with SQLite itself and compared with what the CLI
// printed and what was asked for (-n, -p, -r), and the source column.
#include "common/shared_data.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

namespace {

struct Run {
    int code = -1;
    bool crashed = false;
    QByteArray out;
    QString err;
};

Run cli(const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment())
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(TENFOLD_CLI_PATH), args);
    if (!p.waitForStarted(20000))
        return {};
    p.closeWriteChannel();
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
    }
    Run r;
    r.crashed = p.exitStatus() != QProcess::NormalExit;
    r.code = p.exitCode();
    r.out = p.readAllStandardOutput();
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

using Row = QMap<QString, QVariant>;

// Every ledger row, oldest first, read with SQLite directly (not through the Store).
QList<Row> ledgerRows(const QString& dbFile)
{
    QList<Row> rows;
    sqlite3* h = nullptr;
    if (sqlite3_open_v2(dbFile.toUtf8().constData(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(h);
        return rows;
    }
    sqlite3_stmt* st = nullptr;
    const char* sql = "SELECT source, client, model, device, tokens_in, tokens_out, prefill_tokens, prefill_ms,"
                      " decode_tokens, decode_ms, total_ms, energy_j, energy_source, model_hash, quantization,"
                      " kernel_level, threads, context_size FROM usage_ledger ORDER BY id";
    if (sqlite3_prepare_v2(h, sql, -1, &st, nullptr) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            Row r;
            for (int c = 0; c < sqlite3_column_count(st); ++c) {
                const QString name = QString::fromUtf8(sqlite3_column_name(st, c));
                switch (sqlite3_column_type(st, c)) {
                case SQLITE_INTEGER: r[name] = qlonglong(sqlite3_column_int64(st, c)); break;
                case SQLITE_FLOAT: r[name] = sqlite3_column_double(st, c); break;
                case SQLITE_NULL: r[name] = QVariant(); break;
                default: r[name] = QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(st, c)));
                }
            }
            rows.push_back(r);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return rows;
}

int printed(const QString& err, const char* pattern)
{
    const auto m = QRegularExpression(QString::fromLatin1(pattern)).match(err);
    return m.hasMatch() ? m.captured(1).toInt() : -1;
}

const QRegularExpression kHash(QStringLiteral("^[0-9a-f]{16}$"));

} // namespace

class TstCliLedger : public QObject {
    Q_OBJECT

    QString model_;

private slots:
    void initTestCase()
    {
        const auto m = tenfold::test::sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(m);
        model_ = QString::fromStdString(m.string());
    }

    void generateRecordsACliRowWhereTheAppLooks()
    {
        QTemporaryDir home;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_DATA_HOME"), home.path());
        const int n = 6;
        const Run r = cli({"generate", model_, "-p", "Once upon a time", "-n", QString::number(n), "--ignore-eos",
                           "--temp", "0", "--threads", "1", "--ctx", "64"},
                          env);
        QVERIFY2(!r.crashed && r.code == 0, qPrintable(r.err));
        const int promptTokens = printed(r.err, "prompt: (\\d+) tokens");
        const int generated = printed(r.err, "generated: (\\d+) tokens");
        QCOMPARE(generated, n);
        QVERIFY(promptTokens > 1);

        // The desktop app's database: $XDG_DATA_HOME/tenfold/tenfold/tenfold.db.
        const QList<Row> rows = ledgerRows(home.path() + "/tenfold/tenfold/tenfold.db");
        QCOMPARE(rows.size(), 1);
        const Row& row = rows[0];
        QCOMPARE(row["source"].toString(), QStringLiteral("cli"));
        QCOMPARE(row["model"].toString(), QStringLiteral("tenfold-ref-main-f16"));
        QCOMPARE(row["device"].toString(), QStringLiteral("cpu"));
        QCOMPARE(row["tokens_in"].toInt(), promptTokens);
        QCOMPARE(row["prefill_tokens"].toInt(), promptTokens);
        QCOMPARE(row["tokens_out"].toInt(), n);
        QCOMPARE(row["decode_tokens"].toInt(), n);
        QCOMPARE(row["threads"].toInt(), 1);
        QCOMPARE(row["context_size"].toInt(), 64);
        QCOMPARE(row["quantization"].toString(), QStringLiteral("F16"));
        QVERIFY(kHash.match(row["model_hash"].toString()).hasMatch());
        QVERIFY(!row["kernel_level"].toString().isEmpty());
        QVERIFY(row["prefill_ms"].toDouble() > 0);
        QVERIFY(row["total_ms"].toDouble() >= row["prefill_ms"].toDouble());
        QVERIFY(row["energy_j"].toDouble() > 0);
        const QString source = row["energy_source"].toString();
        QVERIFY2(source == "rapl" || source == "estimate", qPrintable(source));
    }

    void benchRecordsOneBenchmarkRowPerTest()
    {
        QTemporaryDir dir;
        const int p = 8, n = 4, reps = 2;
        const Run r = cli({"bench", model_, "-p", QString::number(p), "-n", QString::number(n), "-r",
                           QString::number(reps), "--threads", "1", "--data-dir", dir.path()});
        QVERIFY2(!r.crashed && r.code == 0, qPrintable(r.err));
        const QList<Row> rows = ledgerRows(dir.path() + "/tenfold.db");
        QCOMPARE(rows.size(), 2);
        for (const Row& row : rows) {
            QCOMPARE(row["source"].toString(), QStringLiteral("benchmark"));
            QCOMPARE(row["threads"].toInt(), 1);
            QVERIFY(row["energy_j"].toDouble() > 0);
            QVERIFY(kHash.match(row["model_hash"].toString()).hasMatch());
        }
        // ppN: the timed repetitions' prompt tokens, nothing decoded.
        QCOMPARE(rows[0]["client"].toString(), QStringLiteral("pp8"));
        QCOMPARE(rows[0]["prefill_tokens"].toInt(), p * reps);
        QCOMPARE(rows[0]["tokens_in"].toInt(), p * reps);
        QCOMPARE(rows[0]["decode_tokens"].toInt(), 0);
        QVERIFY(rows[0]["prefill_ms"].toDouble() > 0);
        // tgN: N decoded tokens per repetition.
        QCOMPARE(rows[1]["client"].toString(), QStringLiteral("tg4"));
        QCOMPARE(rows[1]["decode_tokens"].toInt(), n * reps);
        QCOMPARE(rows[1]["tokens_out"].toInt(), n * reps);
        QCOMPARE(rows[1]["prefill_tokens"].toInt(), 0);
        QVERIFY(rows[1]["decode_ms"].toDouble() > 0);
    }

    void noLedgerWritesNothing()
    {
        QTemporaryDir dir;
        const Run r = cli({"generate", model_, "-p", "Hi", "-n", "2", "--data-dir", dir.path() + "/sub", "--no-ledger"});
        QVERIFY2(!r.crashed && r.code == 0, qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(dir.path() + "/sub"));
    }

    void anUnusableDatabaseIsAClearErrorBeforeAnyWork()
    {
        QTemporaryDir dir;
        QFile junk(dir.path() + "/tenfold.db");
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write(QByteArray(4096, 'x')); // not an SQLite file
        junk.close();
        for (const QString& command : {QStringLiteral("generate"), QStringLiteral("bench")}) {
            QStringList args{command, model_, "--data-dir", dir.path()};
            args += command == "generate" ? QStringList{"-p", "Hi", "-n", "2"} : QStringList{"-p", "4", "-n", "2", "-r", "1"};
            const Run r = cli(args);
            QVERIFY(!r.crashed);
            QCOMPARE(r.code, 1);
            QVERIFY2(r.err.contains("usage ledger") && r.err.contains(dir.path()) && r.err.contains("--no-ledger"),
                     qPrintable(r.err));
            QVERIFY2(r.out.isEmpty(), r.out.constData()); // failed before generating or measuring
        }
    }
};

QTEST_GUILESS_MAIN(TstCliLedger)
#include "tst_cli_ledger.moc"
