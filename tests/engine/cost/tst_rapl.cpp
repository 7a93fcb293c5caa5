// RAPL through /sys/class/powercap: a fake tree made in a temporary folder (package and DRAM
// domains, a core subdomain and an mmio copy that must not count twice, an unreadable domain),
// counter wraparound at max_energy_range_uj, and the estimate the meter falls back to.
#include "core/error.h"
#include "cost/energy_meter.h"
#include "cost/rapl.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace tenfold;
using namespace tenfold::cost;

namespace {

namespace fs = std::filesystem;

void writeFile(const fs::path& file, const std::string& text)
{
    std::ofstream out(file);
    out << text << "\n";
}

void domain(const fs::path& root, const std::string& dir, const std::string& name, uint64_t energy, uint64_t range)
{
    fs::create_directories(root / dir);
    writeFile(root / dir / "name", name);
    writeFile(root / dir / "energy_uj", std::to_string(energy));
    writeFile(root / dir / "max_energy_range_uj", std::to_string(range));
}

} // namespace

class TestRapl : public QObject {
    Q_OBJECT
private slots:
    void findsPackageAndDramOnly()
    {
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        fs::create_directories(root / "intel-rapl"); // the control type: no counter
        domain(root, "intel-rapl:0", "package-0", 1'000'000, 262'143'328'850);
        domain(root, "intel-rapl:0:0", "core", 500'000, 262'143'328'850);
        domain(root, "intel-rapl:0:2", "dram", 2'000'000, 65'712'999'613);
        domain(root, "intel-rapl-mmio:0", "package-0", 1'000'000, 262'143'328'850);
        domain(root, "intel-rapl:1", "package-1", 3'000'000, 262'143'328'850);
        const RaplReader reader = RaplReader::open(root);
        QVERIFY(reader.available());
        QCOMPARE(reader.domains().size(), size_t(3));
        QCOMPARE(reader.domains()[0].name, std::string("package-0"));
        QCOMPARE(reader.domains()[1].name, std::string("dram"));
        QCOMPARE(reader.domains()[2].name, std::string("package-1"));
        QCOMPARE(reader.domains()[1].maxRangeUj, uint64_t(65'712'999'613));

        const auto before = reader.sample();
        QCOMPARE(before, (std::vector<uint64_t>{1'000'000, 2'000'000, 3'000'000}));
        // 1.5 J on package 0, 0.25 J on DRAM, 2 J on package 1; the core counter and the mmio
        // copy move too and must not be added.
        writeFile(root / "intel-rapl:0" / "energy_uj", "2500000");
        writeFile(root / "intel-rapl:0:2" / "energy_uj", "2250000");
        writeFile(root / "intel-rapl:1" / "energy_uj", "5000000");
        writeFile(root / "intel-rapl:0:0" / "energy_uj", "9000000");
        writeFile(root / "intel-rapl-mmio:0" / "energy_uj", "9000000");
        QCOMPARE(reader.joulesBetween(before, reader.sample()), 3.75);
    }

    void counterWrapsAtItsRange()
    {
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        // A 10 J range: 9.9 J -> wraps -> 0.3 J is 0.1 + 0.3 = 0.4 J.
        domain(root, "intel-rapl:0", "package-0", 9'900'000, 10'000'000);
        const RaplReader reader = RaplReader::open(root);
        const auto before = reader.sample();
        writeFile(root / "intel-rapl:0" / "energy_uj", "300000");
        QCOMPARE(reader.joulesBetween(before, reader.sample()), 0.4);
        // The same by hand on the static helper, and no wrap when the counter went up.
        QCOMPARE(RaplReader::counterDelta(9'900'000, 300'000, 10'000'000), uint64_t(400'000));
        QCOMPARE(RaplReader::counterDelta(100, 300, 10'000'000), uint64_t(200));
        QCOMPARE(RaplReader::counterDelta(262'143'328'000, 850, 262'143'328'850), uint64_t(1700));
    }

    void unreadableDomainsAreLeftOut()
    {
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        domain(root, "intel-rapl:0", "package-0", 1, 10);
        writeFile(root / "intel-rapl:0" / "energy_uj", "not a number");
        domain(root, "intel-rapl:1", "package-1", 1, 0); // no range: cannot handle a wrap
        QVERIFY(!RaplReader::open(root).available());
        QVERIFY(!RaplReader::open(root / "missing").available());
    }

    void counterThatVanishesIsAnIoError()
    {
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        domain(root, "intel-rapl:0", "package-0", 5, 100);
        const RaplReader reader = RaplReader::open(root);
        QVERIFY(reader.available());
        fs::remove(root / "intel-rapl:0" / "energy_uj");
        try {
            reader.sample();
            QFAIL("a missing counter was read");
        } catch (const IoError& e) {
            QVERIFY2(std::string(e.what()).find("intel-rapl:0/energy_uj") != std::string::npos, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, reader.joulesBetween({1, 2}, {3, 4}));
    }

    void meterMeasuresWithRaplAndEstimatesWithout()
    {
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        domain(root, "intel-rapl:0", "package-0", 0, 1'000'000'000);
        const EnergyMeter measured(RaplReader::open(root), Wattage{40, 200});
        QVERIFY(measured.measures());
        const auto mark = measured.start();
        writeFile(root / "intel-rapl:0" / "energy_uj", "7000000");
        const EnergyReading r = measured.since(mark);
        QCOMPARE(r.source, std::string("rapl"));
        QCOMPARE(r.joules, 7.0);
        // A GPU run: the package figure plus the GPU's configured wattage, marked as an estimate.
        const EnergyReading g = measured.since(mark, true);
        QCOMPARE(g.source, std::string("estimate"));
        QVERIFY(g.joules > 7.0);

        const EnergyMeter estimating(RaplReader::open(root / "missing"), Wattage{40, 200});
        QVERIFY(!estimating.measures());
        QCOMPARE(estimating.estimateJoules(2.5, false), 100.0);
        QCOMPARE(estimating.estimateJoules(2.5, true), 500.0);
        const auto start = estimating.start();
        QThread::msleep(50);
        const EnergyReading e = estimating.since(start);
        QCOMPARE(e.source, std::string("estimate"));
        // 40 W over at least 50 ms, and not absurdly more on a busy machine.
        QVERIFY2(e.joules >= 2.0 && e.joules < 40.0, qPrintable(QString::number(e.joules)));
    }

    // Two overlapping server requests share the energy of the time they both ran: A alone 4 J,
    // both 6 J (3 each), B alone 2 J: A 7 J, B 5 J, together the machine's 12 J.
    void overlappingRequestsShareEnergy()
    {
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        domain(root, "intel-rapl:0", "package-0", 0, 1'000'000'000);
        const EnergyMeter meter(RaplReader::open(root));
        SharedEnergy shared(meter, false);
        const double a = shared.begin();
        writeFile(root / "intel-rapl:0" / "energy_uj", "4000000");
        const double b = shared.begin();
        writeFile(root / "intel-rapl:0" / "energy_uj", "10000000");
        const EnergyReading ea = shared.finish(a);
        writeFile(root / "intel-rapl:0" / "energy_uj", "12000000");
        const EnergyReading eb = shared.finish(b);
        QCOMPARE(ea.joules, 7.0);
        QCOMPARE(eb.joules, 5.0);
        QCOMPARE(ea.source, std::string("rapl"));
    }

    // The machine's own counters: where they can be read (root on a RAPL CPU), a second of busy
    // work uses some energy and less than a 1 kW socket would; where they cannot (containers,
    // kernels that restrict energy_uj to root, non-x86), the default meter estimates, and says so.
    void realPowercapOrTheEstimate()
    {
        const RaplReader reader = RaplReader::open();
        const EnergyMeter meter;
        QCOMPARE(meter.measures(), reader.available());
        const auto mark = meter.start();
        QElapsedTimer t;
        t.start();
        volatile double x = 0;
        while (t.elapsed() < 200)
            x = x + 1.0;
        const EnergyReading e = meter.since(mark);
        if (reader.available()) {
            qInfo("RAPL domains: %zu; %.3f J in 0.2 s", reader.domains().size(), e.joules);
            QCOMPARE(e.source, std::string("rapl"));
            QVERIFY2(e.joules > 0 && e.joules < 200, qPrintable(QString::number(e.joules)));
        } else {
            qInfo("no readable RAPL counter under /sys/class/powercap: the estimate is used");
            QCOMPARE(e.source, std::string("estimate"));
            // The default 65 W over at least 0.2 s.
            QVERIFY2(e.joules >= 13.0, qPrintable(QString::number(e.joules)));
        }
    }
};

QTEST_MAIN(TestRapl)
#include "tst_rapl.moc"
