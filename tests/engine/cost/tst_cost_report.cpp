// The cost history's arithmetic against figures worked out by hand: the price table (the shipped
// defaults parse; bad lines are refused naming the line), a row's energy and hardware cost,
// local-time day and week buckets (a fixed UTC+8 zone, so the local day differs from the UTC
// day), $ per 1M tokens, the savings of a quantized model, a cache hit and speculative decoding,
// and the CSV export.
#include "core/error.h"
#include "cost/cost_report.h"
#include "cost/price_table.h"

#include <QtTest>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

using namespace tenfold;
using namespace tenfold::cost;

namespace {

bool near(double a, double b) { return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(b)); }
#define QNEAR(a, b) QVERIFY2(near((a), (b)), qPrintable(QStringLiteral("%1 != %2").arg((a), 0, 'g', 17).arg((b), 0, 'g', 17)))

// 0.20 per kWh; a 1000 machine over 5000 hours is 0.2 per hour.
PriceTable prices()
{
    return PriceTable::parse("date_taken\t2025-01-15\ncurrency\tUSD\nelectricity_per_kwh\t0.20\n"
                             "hardware_price\t1000\nhardware_hours\t5000\n"
                             "cloud\tOpenAI gpt-4o-mini\t0.15\t0.60\n",
                             "test");
}

LedgerEntry row(int64_t time, const std::string& model, const std::string& hash, int in, int out, double joules,
                double ms = 0)
{
    LedgerEntry e;
    e.time = time;
    e.model = model;
    e.modelHash = hash;
    e.device = "cpu";
    e.tokensIn = in;
    e.tokensOut = out;
    e.prefillTokens = in;
    e.decodeTokens = out;
    e.energyJoules = joules;
    e.energySource = "rapl";
    e.totalMs = ms;
    return e;
}

void expectError(const std::string& text, const std::string& fragment)
{
    try {
        PriceTable::parse(text, "prices.tsv");
        QFAIL(("accepted: " + text).c_str());
    } catch (const InvalidArgument& e) {
        QVERIFY2(std::string(e.what()).find(fragment) != std::string::npos, e.what());
    }
}

} // namespace

class TestCostReport : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        // A zone without daylight saving, 8 hours east of UTC (POSIX: the sign is inverted).
        setenv("TZ", "CST-8", 1);
        tzset();
    }

    void shippedDefaultsParse()
    {
        std::ifstream in(std::string(TENFOLD_SOURCE_DIR) + "/resources/prices/prices.tsv");
        QVERIFY(in.good());
        std::stringstream text;
        text << in.rdbuf();
        const PriceTable t = PriceTable::parse(text.str(), "prices.tsv");
        QVERIFY(!t.dateTaken.empty());
        QCOMPARE(t.currency, std::string("USD"));
        QVERIFY(t.electricityPerKwh > 0 && t.hardwareHours > 0);
        QVERIFY(t.cloud.size() >= 4);
        const CloudPrice* mini = t.cloudPrice("OpenAI gpt-4o-mini");
        QVERIFY(mini);
        // 1M prompt tokens and 0.5M generated at 0.15 and 0.60 per 1M: 0.15 + 0.30.
        QNEAR(t.cloudCost(*mini, 1'000'000, 500'000), 0.45);
        const PriceTable again = PriceTable::parse(t.serialize(), "serialized");
        QCOMPARE(again.serialize(), t.serialize());
        QCOMPARE(again.cloud.size(), t.cloud.size());
        QCOMPARE(again.cloud[0].outputPerMillion, t.cloud[0].outputPerMillion);
    }

    void badLinesAreRefusedByLine()
    {
        expectError("currency\tUSD\nvoltage\t230\n", "prices.tsv:2: unknown key 'voltage'");
        expectError("electricity_per_kwh\tcheap\n", "prices.tsv:1: electricity_per_kwh: 'cheap' is not a number");
        expectError("\n# c\nhardware_price\t-5\n", "prices.tsv:3: hardware_price: -5 is negative");
        expectError("cloud\tX\t1\n", "prices.tsv:1: cloud takes 3 tab-separated values, found 2");
        expectError("cloud\tX\t1\t2\ncloud\tX\t3\t4\n", "prices.tsv:2: cloud price 'X' is listed twice");
    }

    void rowCost()
    {
        // 36 kJ = 0.01 kWh -> 0.002; 18 s = 0.005 h -> 0.001.
        const RowCost c = costOf(row(0, "m", "", 10, 10, 36000, 18000), prices());
        QNEAR(c.energyCost, 0.002);
        QNEAR(c.hardwareCost, 0.001);
        QNEAR(c.total(), 0.003);
        QVERIFY(!c.energyEstimated);
        LedgerEntry estimated = row(0, "m", "", 1, 1, 1);
        estimated.energySource = "estimate";
        QVERIFY(costOf(estimated, prices()).energyEstimated);
        LedgerEntry old; // written before schema v7: no energy figure at all
        QVERIFY(costOf(old, prices()).energyEstimated);
        QNEAR(perMillion(0.003, 20), 150.0);
        QCOMPARE(perMillion(1.0, 0), 0.0);
    }

    void localDayAndWeekBoundaries()
    {
        // 2025-01-05 15:59:59 UTC is Sunday 23:59:59 at UTC+8; half an hour later (16:30 UTC) it
        // is Monday 00:30 there while still the 5th in UTC.
        QCOMPARE(periodKey(1736092799000, Period::Day), std::string("2025-01-05"));
        QCOMPARE(periodKey(1736094600000, Period::Day), std::string("2025-01-06"));
        QCOMPARE(periodKey(1736092799000, Period::Week), std::string("2024-12-30"));
        QCOMPARE(periodKey(1736094600000, Period::Week), std::string("2025-01-06"));
        QCOMPARE(periodKey(1736697600000, Period::Week), std::string("2025-01-13"));

        const std::vector<LedgerEntry> rows = {
            row(1736092799000, "main", "", 10, 90, 3600, 1000),
            row(1736094600000, "main", "", 20, 80, 7200, 2000),
            row(1736094600000 + 60'000, "main", "", 5, 5, 0, 0),
            row(1736094600000, "draft", "", 1, 2, 0, 0),
        };
        const auto days = aggregate(rows, prices(), Period::Day);
        QCOMPARE(days.size(), size_t(3));
        QCOMPARE(days[0].period, std::string("2025-01-05"));
        QCOMPARE(days[0].tokensOut, int64_t(90));
        QCOMPARE(days[1].period, std::string("2025-01-06"));
        QCOMPARE(days[1].model, std::string("draft"));
        QCOMPARE(days[2].model, std::string("main"));
        QCOMPARE(days[2].generations, int64_t(2));
        QCOMPARE(days[2].tokensIn, int64_t(25));
        QCOMPARE(days[2].energyJoules, 7200.0);
        // 7200 J = 0.002 kWh -> 0.0004; 2 s = 1/1800 h at 0.2 per hour -> 0.000111...
        QNEAR(days[2].cost, 0.0004 + 0.2 / 1800.0);
        const auto weeks = aggregate(rows, prices(), Period::Week);
        QCOMPARE(weeks.size(), size_t(3));
        QCOMPARE(weeks[0].period, std::string("2024-12-30"));
    }

    void savingsAgainstHandFigures()
    {
        // Costs from energy only (no hardware) so every figure is joules x 0.2 / 3.6e6.
        PriceTable p = prices();
        p.hardwareHours = 0;
        std::vector<LedgerEntry> rows;
        rows.push_back(row(1, "base", "BBBB", 100, 900, 36000));   // 1000 tokens, 0.002: 2e-6 per token
        rows.push_back(row(2, "q4", "QQQQ", 50, 450, 7200));       // 500 tokens, 0.0004
        LedgerEntry hit = row(3, "base", "BBBB", 10, 90, 0, 1);    // 100 tokens from the cache, no energy
        hit.cacheHit = "exact";
        hit.prefillTokens = hit.decodeTokens = 0;
        rows.push_back(hit);
        LedgerEntry spec = row(4, "base", "BBBB", 100, 100, 14400); // 200 tokens, 0.0008
        spec.speculativeTokens = 30;
        rows.push_back(spec);

        OptimizationRun run;
        run.method = "quantize";
        run.inputModelHash = "BBBB";
        run.outputHash = "QQQQ";
        run.inputPath = "/m/f16.gguf";
        run.outputPath = "/m/q4.gguf";
        OptimizationRun failed = run;
        failed.status = "failed";
        failed.outputHash = "FFFF";

        const auto s = savings(rows, {run, failed}, p);
        QCOMPARE(s.size(), size_t(3));
        QCOMPARE(s[0].kind, std::string("quantization"));
        QCOMPARE(s[0].subject, std::string("q4.gguf vs f16.gguf (cpu)"));
        QCOMPARE(s[0].tokens, int64_t(500));
        QNEAR(s[0].baselineCost, 0.001);
        QNEAR(s[0].actualCost, 0.0004);
        QNEAR(s[0].saved(), 0.0006);
        QNEAR(s[0].baselineJoules, 18000.0);
        QCOMPARE(s[1].kind, std::string("cache"));
        QCOMPARE(s[1].tokens, int64_t(100));
        QNEAR(s[1].saved(), 0.0002);
        QCOMPARE(s[2].kind, std::string("speculative"));
        QCOMPARE(s[2].tokens, int64_t(200));
        QNEAR(s[2].baselineCost, 0.0004);
        QNEAR(s[2].saved(), -0.0004); // slower with the draft: a negative saving, shown as such
        QVERIFY(s[2].measured);

        // Without rows of the base there is nothing to compare with: not measured, no saving.
        const auto alone = savings({rows[1]}, {run}, p);
        QCOMPARE(alone.size(), size_t(1));
        QVERIFY(!alone[0].measured);
        QCOMPARE(alone[0].saved(), 0.0);
    }

    void csvQuotesAndLocalTimes()
    {
        LedgerEntry e = row(1736094600000, "my \"m\",x", "ab", 3, 4, 36000, 18000);
        e.source = "server";
        const std::string csv = ledgerCsv({e}, prices());
        const size_t eol = csv.find("\r\n");
        QVERIFY(csv.substr(0, eol).rfind("time,source,client,model,", 0) == 0);
        const std::string line = csv.substr(eol + 2);
        QVERIFY2(line.rfind("2025-01-06T00:30:00+0800,server,,\"my \"\"m\"\",x\",ab,", 0) == 0, line.c_str());
        QVERIFY2(line.find(",rapl,0.002,0.001,0.003,USD\r\n") != std::string::npos, line.c_str());
    }
};

QTEST_MAIN(TestCostReport)
#include "tst_cost_report.moc"
