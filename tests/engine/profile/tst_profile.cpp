// The Profiler's engine side: resident memory and per-core busy shares from a fake procfs tree
// (hand-computed), the real /proc of this process (a buffer it touches shows up in its RSS), op
// timings summed per op and layer, and the roofline arithmetic (prefill GFLOP/s, decode bandwidth
// share), with the matmul weight count checked against the GGUF file's own tensor shapes.
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "profile/op_profile.h"
#include "profile/process_sampler.h"

#include "common/shared_data.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <unistd.h>

using namespace tenfold;
using namespace tenfold::profile;
using tenfold::test::sharedFile;

namespace {

namespace fs = std::filesystem;

void writeFile(const fs::path& file, const std::string& text)
{
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
}

} // namespace

class TestProfile : public QObject {
    Q_OBJECT
private slots:
    void residentMemoryFromStatm()
    {
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        writeFile(root / "self" / "statm", "5000 1234 300 10 0 900 0\n");
        QCOMPARE(residentBytes(root), uint64_t(1234) * uint64_t(sysconf(_SC_PAGESIZE)));
        QCOMPARE(residentBytes(root / "missing"), uint64_t(0));

        // The real one: touching 64 MiB raises this process's RSS by about that much.
        const uint64_t before = residentBytes();
        QVERIFY(before > 0);
        std::vector<char> buffer(64 << 20);
        for (size_t i = 0; i < buffer.size(); i += 4096)
            buffer[i] = char(i);
        const uint64_t after = residentBytes();
        QVERIFY2(after >= before + (60ull << 20), qPrintable(QStringLiteral("%1 -> %2").arg(before).arg(after)));
    }

    void perCoreBusyShares()
    {
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        // user nice system idle iowait irq softirq steal
        writeFile(root / "stat", "cpu  999 0 0 999 0 0 0 0 0 0\n"
                                 "cpu0 100 0 50 800 50 0 0 0 0 0\n"
                                 "cpu1 10 0 0 990 0 0 0 0 0 0\n"
                                 "intr 12345\n");
        const auto a = readCoreTimes(root);
        QCOMPARE(a.size(), size_t(2));
        QCOMPARE(a[0].busy, uint64_t(150));
        QCOMPARE(a[0].idle, uint64_t(850));
        // cpu0: +75 busy (60 user, 10 irq, 5 softirq), +25 idle -> 0.75; cpu1: +0 busy, +100 idle.
        writeFile(root / "stat", "cpu  0 0 0 0 0 0 0 0 0 0\n"
                                 "cpu0 160 0 50 820 55 10 5 0 0 0\n"
                                 "cpu1 10 0 0 1090 0 0 0 0 0 0\n");
        const auto shares = coreBusyShares(a, readCoreTimes(root));
        QCOMPARE(shares.size(), size_t(2));
        QCOMPARE(shares[0], 0.75);
        QCOMPARE(shares[1], 0.0);
        QVERIFY(readCoreTimes(root / "missing").empty());
        // This machine's /proc/stat lists every core.
        QCOMPARE(int(readCoreTimes().size()) >= 1, true);
    }

    void opTimingsSumPerOpAndLayer()
    {
        OpProfile p;
        p.add({{"matvec", 0, 10}, {"attention", 0, 4}, {"matvec", 1, 12}, {"output", -1, 20}});
        p.add({{"matvec", 0, 14}, {"attention", 0, 6}, {"matvec", 1, 8}, {"output", -1, 22}});
        p.add({}); // a pass without timings (profiling off) is no pass
        QCOMPARE(p.passes(), 2);
        QCOMPARE(p.totalMicroseconds(), 96.0);
        const auto cells = p.cells();
        QCOMPARE(cells.size(), size_t(4));
        QCOMPARE(cells[0].layer, -1);
        QCOMPARE(cells[1].op, std::string("attention"));
        QCOMPARE(cells[1].microseconds, 10.0);
        QCOMPARE(cells[2].op, std::string("matvec"));
        QCOMPARE(cells[2].microseconds, 24.0);
        QCOMPARE(cells[2].calls, int64_t(2));
        const auto ops = p.perOp();
        QCOMPARE(ops.size(), size_t(3));
        QCOMPARE(ops[0].op, std::string("matvec"));
        QCOMPARE(ops[0].microseconds, 44.0);
        QCOMPARE(ops[1].op, std::string("output"));
        QCOMPARE(ops[2].microseconds, 10.0);
    }

    void rooflineArithmetic()
    {
        // 1e9 weights, 512 tokens in 2 s: 2 x 1e9 x 512 / 2 / 1e9 = 512 GFLOP/s.
        QCOMPARE(prefillGflops(1e9, 512, 2.0), 512.0);
        QCOMPARE(prefillGflops(1e9, 512, 0.0), 0.0);
        // 2 GB of weights at 10 tokens/s is 20 GB/s: 40% of a 50 GB/s machine.
        QCOMPARE(decodeBandwidthShare(2'000'000'000, 10.0, 50.0), 0.4);
        QCOMPARE(decodeBandwidthShare(2'000'000'000, 10.0, 0.0), 0.0);
    }

    // The matmul weight count against the file's own tensor shapes: every 2-D attention,
    // feed-forward and output-head tensor (the output head tied to the embedding when absent).
    void matmulWeightsMatchTheFile()
    {
        const auto path = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        const auto model = Model::loadGGUF(path);
        const GGUFFile& file = *model->gguf();
        double expected = 0;
        bool hasOutput = false;
        for (const auto& t : file.tensors()) {
            const std::string& n = t.name;
            const bool matmul = n.find("attn_q.weight") != std::string::npos || n.find("attn_k.weight") != std::string::npos ||
                                n.find("attn_v.weight") != std::string::npos ||
                                n.find("attn_output.weight") != std::string::npos ||
                                n.find("ffn_gate.weight") != std::string::npos || n.find("ffn_up.weight") != std::string::npos ||
                                n.find("ffn_down.weight") != std::string::npos || n == "output.weight";
            hasOutput = hasOutput || n == "output.weight";
            if (matmul)
                expected += double(t.ne[0]) * double(t.ne[1]);
        }
        if (!hasOutput)
            for (const auto& t : file.tensors())
                if (t.name == "token_embd.weight")
                    expected += double(t.ne[0]) * double(t.ne[1]);
        QCOMPARE(matmulWeights(*model), expected);
    }
};

QTEST_MAIN(TestProfile)
#include "tst_profile.moc"
