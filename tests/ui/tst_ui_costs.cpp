// The Cost history page on a real tenfold.db: ledger rows seeded with known energy and times in a
// fixed UTC+8 zone (so local days differ from UTC days), checked against hand-computed costs;
// filters, savings, the price editor (a bad line is refused, an edit reprices), CSV export read
// back from disk; and a real chat reply with ref-main, whose ledger row must carry the new cost
// columns (prefill/decode split matching the message's own counts, the file's F16 type, energy
// from RAPL where readable and otherwise marked as an estimate).
#include "gui_test_support.h"

#include "chat/chat_page.h"
#include "chat/composer.h"
#include "chat/conversation_settings_panel.h"
#include "core/app_context.h"
#include "core/app_settings.h"
#include "core/main_window.h"
#include "cost/cost_page.h"
#include "cost/rapl.h"
#include "session/model_host.h"
#include "store/store.h"

#include <QBarCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QtTest>

#include <cstdlib>
#include <ctime>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

namespace {

// Monday 2025-01-06 00:30 at UTC+8 (still Sunday the 5th in UTC), and a day later.
constexpr int64_t kMonday = 1736094600000;
constexpr int64_t kDay = 86'400'000;

LedgerEntry row(int64_t time, const std::string& model, const std::string& hash, const std::string& source, int in,
                int out, double joules, double ms)
{
    LedgerEntry e;
    e.time = time;
    e.model = model;
    e.modelHash = hash;
    e.device = "cpu";
    e.source = source;
    e.tokensIn = e.prefillTokens = in;
    e.tokensOut = e.decodeTokens = out;
    e.energyJoules = joules;
    e.energySource = "rapl";
    e.totalMs = ms;
    return e;
}

// Energy only (hardware_hours 0): cost = joules / 3.6e6 x 0.5.
const char* kPrices = "currency\tUSD\nelectricity_per_kwh\t0.5\nhardware_price\t0\nhardware_hours\t0\n"
                      "cloud\tCloud A\t1\t2\n";

void seed(const QString& dataDir)
{
    Store store(dataDir.toStdString());
    store.recordUsage(row(kMonday, "f16", "BBBB", "app", 100, 900, 72000, 1000));          // 0.01
    store.recordUsage(row(kMonday + kDay, "q4", "QQQQ", "server", 50, 450, 7200, 500));    // 0.001
    LedgerEntry est = row(kMonday + 2 * kDay, "q4", "QQQQ", "cli", 10, 10, 3600, 100);     // 0.0005
    est.energySource = "estimate";
    store.recordUsage(est);
    OptimizationRun run;
    run.method = "quantize";
    run.inputModelHash = "BBBB";
    run.outputHash = "QQQQ";
    run.inputPath = "/m/f16.gguf";
    run.outputPath = "/m/q4.gguf";
    store.recordOptimizationRun(run);
}

CostPage* costPage(Application& app) { return qobject_cast<CostPage*>(app.window().page(QStringLiteral("costs"))); }

bool shown(CostPage* page)
{
    QSignalSpy spy(page, &CostPage::dataShown);
    page->refresh();
    return spy.wait(20000);
}

} // namespace

class TestUiCosts : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        setenv("TZ", "CST-8", 1);
        tzset();
        // Figures below are written the English way ("82,800.0").
        QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates));
    }

    void pageShowsHandComputedCosts()
    {
        QTemporaryDir dir;
        seed(dir.path());
        presetSettings(dir.path(), [](AppSettings& s) { s.setPriceTableText(QString::fromLatin1(kPrices)); });
        auto app = launch(dir.path());
        app->window().show();
        CostPage* page = costPage(*app);
        QVERIFY(page);
        app->window().showPage(QStringLiteral("costs"));
        QVERIFY(shown(page));

        QCOMPARE(page->rowsTable()->rowCount(), 3);
        // 1000 + 500 + 20 tokens; 0.01 + 0.001 + 0.0005 = 0.0115 USD; 82800 J.
        const QString summary = page->summaryLabel()->text();
        QVERIFY2(summary.contains(QStringLiteral("0.011500 USD")), qPrintable(summary));
        QVERIFY2(summary.contains(QStringLiteral("82,800.0 J")), qPrintable(summary));
        // Per 1M tokens: 0.0115 / 1520 x 1e6 = 7.5658 USD.
        QVERIFY2(summary.contains(QStringLiteral("7.5658 USD")), qPrintable(summary));
        QVERIFY2(summary.contains(QStringLiteral("is an estimate")), qPrintable(summary));
        // Cloud A at 1 and 2 per 1M: 160 x 1 + 1360 x 2 = 2880 per 1M -> 0.002880.
        QVERIFY2(summary.contains(QStringLiteral("0.002880 USD")), qPrintable(summary));

        // Quantized vs base: 500 tokens at the base's 0.01 / 1000 = 0.005 against 0.001 actual
        // (the CLI row of q4 adds 20 tokens at 0.0005: 520 x 1e-5 = 0.0052 vs 0.0015).
        QCOMPARE(page->savingsTable()->rowCount(), 1);
        QCOMPARE(page->savingsTable()->item(0, 2)->text(), QStringLiteral("520"));
        QCOMPARE(page->savingsTable()->item(0, 3)->text(), QStringLiteral("0.003700"));

        // The estimated row is marked in the table.
        int marked = 0;
        for (int r = 0; r < page->rowsTable()->rowCount(); ++r)
            marked += page->rowsTable()->item(r, 8)->text().endsWith(QStringLiteral("est.")) ? 1 : 0;
        QCOMPARE(marked, 1);

        // Filters: one model, then one source.
        page->modelFilter()->setCurrentIndex(page->modelFilter()->findData(QStringLiteral("q4")));
        QCOMPARE(page->rowsTable()->rowCount(), 2);
        page->sourceFilter()->setCurrentIndex(page->sourceFilter()->findData(QStringLiteral("server")));
        QCOMPARE(page->rowsTable()->rowCount(), 1);
        QCOMPARE(page->filteredRows().front().model, std::string("q4"));
        page->modelFilter()->setCurrentIndex(0);
        page->sourceFilter()->setCurrentIndex(0);
        QCOMPARE(page->rowsTable()->rowCount(), 3);

        // Local-time days: three days from Monday the 6th (the first row is the 5th in UTC); as
        // weeks, all three fall in the week of Monday the 6th.
        auto categories = [&] {
            for (QAbstractAxis* axis : page->chartView()->chart()->axes(Qt::Horizontal))
                if (auto* bars = qobject_cast<QBarCategoryAxis*>(axis))
                    return bars->categories();
            return QStringList();
        };
        QCOMPARE(categories(), (QStringList{QStringLiteral("2025-01-06"), QStringLiteral("2025-01-07"),
                                            QStringLiteral("2025-01-08")}));
        page->periodBox()->setCurrentIndex(1);
        QCOMPARE(categories(), QStringList{QStringLiteral("2025-01-06")});
        QCOMPARE(page->rowsTable()->rowCount(), 3);

        // A bad price line is refused with its line; a good edit reprices (double the price).
        page->priceEditor()->setPlainText(QStringLiteral("electricity_per_kwh\tcheap\n"));
        page->savePricesButton()->click();
        QVERIFY2(page->priceStatus()->text().contains(QStringLiteral(":1: electricity_per_kwh")),
                 qPrintable(page->priceStatus()->text()));
        QString doubled = QString::fromLatin1(kPrices);
        doubled.replace(QStringLiteral("0.5"), QStringLiteral("1"));
        page->priceEditor()->setPlainText(doubled);
        page->savePricesButton()->click();
        QVERIFY2(page->summaryLabel()->text().contains(QStringLiteral("0.023000 USD")), qPrintable(page->summaryLabel()->text()));
        QCOMPARE(app->context().settings().priceTableText(), doubled);

        // CSV of the filtered rows, written atomically, read back from disk.
        const QString csvPath = dir.filePath(QStringLiteral("usage.csv"));
        QSignalSpy written(page, &CostPage::csvWritten);
        page->modelFilter()->setCurrentIndex(page->modelFilter()->findData(QStringLiteral("f16")));
        page->exportCsv(csvPath);
        QVERIFY(written.wait(10000));
        QCOMPARE(written.first().at(1).toString(), QString());
        QFile csv(csvPath);
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = csv.readAll().split('\n');
        QCOMPARE(lines.size(), 3); // header, one row, the empty tail after the last CRLF
        QVERIFY(lines[0].startsWith("time,source,client,model,"));
        QVERIFY2(lines[1].startsWith("2025-01-06T00:30:00+0800,app,,f16,BBBB,"), lines[1].constData());
        QVERIFY2(lines[1].contains(",72000,rapl,0.02,0,0.02,USD"), lines[1].constData());
        // An unwritable target reports the error instead of leaving a partial file.
        QSignalSpy failed(page, &CostPage::csvWritten);
        page->exportCsv(dir.filePath(QStringLiteral("missing/folder/usage.csv")));
        QVERIFY(failed.wait(10000));
        QVERIFY(!failed.first().at(1).toString().isEmpty());
    }

    // Rows written by the real tenfold-cli (generate: "cli", bench: "benchmark", one per test) into
    // the app's database show on the page under their names, and the source filter finds them.
    void cliAndBenchmarkRowsShowWithTheirSources()
    {
#ifndef TENFOLD_CLI_PATH
        QSKIP("built without tenfold-cli");
#else
        const auto model = sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(model);
        QTemporaryDir dir;
        const QString m = QString::fromStdString(model.string());
        for (const QStringList& args : {QStringList{"generate", m, "-p", "Once upon a time", "-n", "4", "--data-dir", dir.path()},
                                        QStringList{"bench", m, "-p", "8", "-n", "4", "-r", "1", "--data-dir", dir.path()}}) {
            QProcess p;
            p.start(QStringLiteral(TENFOLD_CLI_PATH), args);
            QVERIFY(p.waitForFinished(60000));
            QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, p.readAllStandardError().constData());
        }
        auto app = launch(dir.path());
        app->window().show();
        CostPage* page = costPage(*app);
        QVERIFY(page);
        app->window().showPage(QStringLiteral("costs"));
        QVERIFY(shown(page));
        QCOMPARE(page->rowsTable()->rowCount(), 3);
        QStringList sources;
        for (int r = 0; r < 3; ++r)
            sources << page->rowsTable()->item(r, 1)->text();
        sources.sort();
        QCOMPARE(sources, (QStringList{"Benchmark", "Benchmark", "Command line"}));
        page->sourceFilter()->setCurrentIndex(page->sourceFilter()->findData(QStringLiteral("benchmark")));
        QCOMPARE(page->rowsTable()->rowCount(), 2);
        page->sourceFilter()->setCurrentIndex(page->sourceFilter()->findData(QStringLiteral("cli")));
        QCOMPARE(page->rowsTable()->rowCount(), 1);
        QCOMPARE(page->filteredRows().front().tokensOut, 4);
#endif
    }

    void chatReplyFillsTheCostColumns()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/tenfold-ref-main-f16.gguf"));
        QTemporaryDir dir;
        auto app = launch(dir.path(), refMain());
        app->window().show();
        QVERIFY(waitUntil([&] { return app->context().host().isLoaded(); }, 60000));
        auto* chat = qobject_cast<ChatPage*>(app->window().page(QStringLiteral("chat")));
        chat->settingsPanel()->maxTokensBox()->setValue(24);
        chat->settingsPanel()->seedBox()->setValue(5);
        QSignalSpy finished(chat, &ChatPage::replyFinished);
        chat->composer()->setPlainText(QStringLiteral("The jury said that"));
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QVERIFY(finished.wait(60000));

        Store& store = storeAfterPendingWrites(*app);
        const auto usage = store.usage();
        QCOMPARE(int(usage.size()), 1);
        const LedgerEntry& e = usage[0];
        const auto messages = store.messages(chat->currentConversationId());
        QCOMPARE(int(messages.size()), 2);
        QCOMPARE(e.prefillTokens, messages[1].stats.tokensIn);
        QCOMPARE(e.decodeTokens, messages[1].stats.tokensOut);
        QVERIFY(e.decodeTokens > 0);
        QCOMPARE(e.quantization, std::string("F16")); // the file is the F16 reference model
        QCOMPARE(int(e.modelHash.size()), 16);
        QVERIFY(!e.kernelLevel.empty());
        QVERIFY(e.threads > 0);
        QCOMPARE(e.contextSize, app->context().host().loadedModel()->contextSize);
        QVERIFY(e.prefillMs > 0 && e.decodeMs > 0);
        QVERIFY(e.prefillMs + e.decodeMs <= e.totalMs + 0.001);
        QVERIFY(e.energyJoules > 0);
        QCOMPARE(e.energySource, std::string(cost::RaplReader::open().available() ? "rapl" : "estimate"));

        CostPage* page = costPage(*app);
        app->window().showPage(QStringLiteral("costs"));
        QVERIFY(shown(page));
        QCOMPARE(page->rowsTable()->rowCount(), 1);
        QCOMPARE(page->rowsTable()->item(0, 3)->text(), QStringLiteral("F16"));
    }
};

QTEST_MAIN(TestUiCosts)
#include "tst_ui_costs.moc"
