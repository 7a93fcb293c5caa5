// tenfold-worker under a real `mpirun` on loopback (label mpi). The oracles: the single-process
// CPU context computed here in the test (the same prompt and greedy steps; every logits row must
// match the distributed run's bit for bit), tenfold-cli generate's stdout (the same text), and
// the reference engine's greedy continuation (reference/greedy.json). Failures: a worker killed
// or stopped mid-generation must be reported within 10 s and end the job with a non-zero code.
#include "common/mpi_environment.h"
#include "common/shared_data.h"

#include "dist/protocol.h"
#include "dist/stage_plan.h"
#include "model/model.h"
#include "runtime/cpu_backend.h"
#include "tokenizer/tokenizer.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <span>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <unistd.h>

using namespace tenfold;

namespace {

struct Run {
    int code = -1;
    bool crashed = false;
    bool finished = false;
    QString out, err;
};

QString shared(const char* rel)
{
    return QString::fromStdString(test::sharedFile(rel).string());
}

using test::mpiEnvironment;

// One machine, loopback only: shared memory between the ranks, and mpirun's own channel on lo,
// which is all a container without other interfaces has.
QStringList mpirunArgs(int ranks)
{
    // Not bound to cores: with two ranks or fewer Open MPI pins each to one core, where a
    // rank's threads cannot move away from the other work of a shared machine.
    // Shared memory without the single-copy (CMA) path: containers often forbid
    // process_vm_readv, which that path needs for large messages.
    return {"--oversubscribe", "--bind-to", "none", "-np", QString::number(ranks), "--mca", "btl", "self,vader",
            "--mca", "btl_vader_single_copy_mechanism", "none",
            "--mca", "oob_tcp_if_include", "lo", "--mca", "btl_tcp_if_include", "lo",
            QStringLiteral(TENFOLD_WORKER_PATH), "generate"};
}

// mpirun passes SIGTERM on to its ranks; SIGKILL would leave them behind.
void stop(QProcess& p)
{
    p.terminate();
    if (!p.waitForFinished(5000)) {
        p.kill();
        p.waitForFinished();
    }
}

Run runProcess(const QString& program, const QStringList& args, int timeoutMs = 60000)
{
    QProcess p;
    p.setProcessEnvironment(mpiEnvironment());
    p.start(program, args);
    Run r;
    if (!p.waitForStarted(20000))
        return r;
    r.finished = p.waitForFinished(timeoutMs);
    if (!r.finished)
        stop(p);
    r.crashed = p.exitStatus() != QProcess::NormalExit;
    r.code = p.exitCode();
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

Run worker(int ranks, const QStringList& args)
{
    return runProcess(QStringLiteral(TENFOLD_MPIRUN_PATH), mpirunArgs(ranks) + args);
}

QString referenceContinuation(const QString& model, const QString& prompt)
{
    QFile f(shared("reference/greedy.json"));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    for (const auto& v : QJsonDocument::fromJson(f.readAll()).array()) {
        const QJsonObject o = v.toObject();
        if (o["model"].toString() == model && o["prompt"].toString() == prompt)
            return o["continuation"].toString();
    }
    return {};
}

const QString kPrompt = QStringLiteral("The jury said that");
constexpr int kSteps = 8;

} // namespace

class TestMpiWorker : public QObject {
    Q_OBJECT
    QString model_;
    QString cliText_;              // tenfold-cli generate's stdout
    std::vector<float> reference_; // single-process logits rows, greedy, in order
    int vocab_ = 0;
    std::shared_ptr<Model> model__;
    int promptTokens_ = 0;

    // The single-process oracle: the prompt (in pieces of `micro` tokens, or whole when 0), then
    // greedy steps, on one CPU context with two threads (the workers run one each: the bits must
    // not depend on the thread count). The last row of each step, in order.
    std::vector<float> singleProcessLogits(int micro)
    {
        std::unique_ptr<Backend> backend = createCpuBackend(2);
        std::unique_ptr<InferenceContext> ctx = backend->createContext(model__, ContextParams{});
        std::vector<int32_t> tokens = model__->tokenizer().encode(kPrompt.toStdString(), true);
        promptTokens_ = int(tokens.size());
        std::vector<float> logits, rows;
        for (int step = 0; step < kSteps; ++step) {
            const size_t piece = micro > 0 ? size_t(micro) : tokens.size();
            for (size_t b = 0; b < tokens.size(); b += piece)
                ctx->decode(std::span<const int32_t>(tokens).subspan(b, std::min(piece, tokens.size() - b)), false,
                            logits);
            rows.insert(rows.end(), logits.begin(), logits.end());
            const int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
            tokens = {next};
        }
        return rows;
    }

private slots:
    void initTestCase()
    {
        model_ = shared("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(model_.toStdString());
        TENFOLD_REQUIRE_SHARED(test::sharedFile("reference/greedy.json"));
        if (!QFileInfo::exists(QStringLiteral(TENFOLD_MPIRUN_PATH)))
            QSKIP("mpirun missing (Debian: openmpi-bin)");

        model__ = Model::loadGGUF(model_.toStdString());
        vocab_ = model__->hparams().nVocab;
        reference_ = singleProcessLogits(0);

        const Run cli = runProcess(QStringLiteral(TENFOLD_CLI_PATH),
                                   {"generate", model_, "-p", kPrompt, "-n", QString::number(kSteps),
                                    "--temp", "0", "--repeat-penalty", "1"});
        QCOMPARE(cli.code, 0);
        cliText_ = cli.out;
        // The reference engine's continuation starts the same way (32 tokens there, 8 here).
        const QString continuation = referenceContinuation("tenfold-ref-main-f16.gguf", kPrompt);
        QVERIFY(!continuation.isEmpty());
        QVERIFY2((kPrompt + continuation).startsWith(cliText_.chopped(1)), qPrintable(cliText_));
    }

    void matchesSingleProcessBitForBit_data()
    {
        QTest::addColumn<int>("ranks");
        QTest::addColumn<QStringList>("extra");
        QTest::newRow("pipeline 2 ranks") << 2 << QStringList{};
        QTest::newRow("pipeline 3 ranks") << 3 << QStringList{};
        QTest::newRow("pipeline 3 ranks --split 1,3,4") << 3 << QStringList{"--split", "1,3,4"};
        QTest::newRow("pipeline 3 ranks --micro-batch 2") << 3 << QStringList{"--micro-batch", "2"};
        QTest::newRow("data parallel 2 ranks") << 2 << QStringList{"--data-parallel"};
        QTest::newRow("data parallel 3 ranks") << 3 << QStringList{"--data-parallel"};
    }
    void matchesSingleProcessBitForBit()
    {
        QFETCH(int, ranks);
        QFETCH(QStringList, extra);
        QTemporaryDir dir;
        const QString dump = dir.filePath("logits.f32");
        const Run r = worker(ranks, QStringList{model_, "-p", kPrompt, "-n", QString::number(kSteps), "--temp",
                                                "0", "--repeat-penalty", "1", "--threads", "1",
                                                "--dump-logits", dump} + extra);
        QVERIFY2(r.finished && r.code == 0, qPrintable(QString("exit %1: %2").arg(r.code).arg(r.err)));
        QCOMPARE(r.out, cliText_);
        // Every rank took part (pipeline), or one replica ran every pass and rank 0 none (data
        // parallel, one sequence): rank 0 lists each rank with its passes.
        int working = 0;
        for (int k = 0; k < ranks; ++k) {
            const auto m = QRegularExpression(QString("\\[mpi\\] rank %1 on [^:]+: .*, (\\d+) passes, ([0-9.]+) ms computing").arg(k)).match(r.err);
            QVERIFY2(m.hasMatch(), qPrintable(r.err));
            const bool computed = m.captured(1).toInt() > 0 && m.captured(2).toDouble() > 0;
            working += computed ? 1 : 0;
            if (!extra.contains("--data-parallel"))
                QVERIFY2(computed, qPrintable(r.err));
            else if (k == 0)
                QVERIFY2(!computed, qPrintable(r.err));
        }
        QCOMPARE(working, extra.contains("--data-parallel") ? 1 : ranks);
        // Micro-batches are passes of their own on the other stages: the prompt's pieces, then
        // one pass per generated token but the last.
        const int micro = extra.contains("--micro-batch") ? extra[extra.indexOf("--micro-batch") + 1].toInt() : 0;
        if (!extra.contains("--data-parallel")) {
            const int pieces = micro > 0 ? (promptTokens_ + micro - 1) / micro : 1;
            QVERIFY2(r.err.contains(QString("[mpi] rank 1 on ")) &&
                         r.err.contains(QRegularExpression(QString("\\[mpi\\] rank 1 on [^\\n]*, %1 passes").arg(pieces + kSteps - 1))),
                     qPrintable(r.err));
        }
        // Micro-batches: the prompt in pieces, compared with a single process taking the same pieces.
        const std::vector<float> expected = micro > 0 ? singleProcessLogits(micro) : reference_;
        QFile f(dump);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QCOMPARE(qsizetype(bytes.size()), qsizetype(expected.size() * sizeof(float)));
        for (int row = 0; row < kSteps; ++row)
            QVERIFY2(std::memcmp(bytes.constData() + size_t(row) * vocab_ * 4,
                                 expected.data() + size_t(row) * vocab_, size_t(vocab_) * 4) == 0,
                     qPrintable(QString("logits row %1 differs from the single process").arg(row)));
    }

    // A worker that dies (kill -9) or stops answering (SIGSTOP) mid-generation.
    void lostWorkerIsReported_data()
    {
        QTest::addColumn<int>("signal");
        QTest::addColumn<QStringList>("extra");
        QTest::newRow("kill -9, pipeline") << int(SIGKILL) << QStringList{};
        QTest::newRow("SIGSTOP, pipeline") << int(SIGSTOP) << QStringList{};
        QTest::newRow("SIGSTOP, data parallel") << int(SIGSTOP) << QStringList{"--data-parallel"};
    }
    void lostWorkerIsReported()
    {
        QFETCH(int, signal);
        QFETCH(QStringList, extra);
        QProcess p;
        p.setProcessEnvironment(mpiEnvironment());
        p.start(QStringLiteral(TENFOLD_MPIRUN_PATH),
                mpirunArgs(2) + QStringList{model_, "-p", kPrompt, "-n", "400", "--ignore-eos", "--temp", "0",
                                            "--threads", "1", "--rank-timeout", "2"} + extra);
        QVERIFY(p.waitForStarted(20000));
        // Wait for rank 1's pid and the first generated text.
        QString err, out;
        qint64 pid = 0;
        QElapsedTimer wait;
        wait.start();
        const QRegularExpression ready("\\[mpi\\] rank 1 \\(host [^,]+, pid (\\d+)");
        while (wait.elapsed() < 60000 && (pid == 0 || out.size() <= kPrompt.size())) {
            p.waitForReadyRead(50);
            err += QString::fromUtf8(p.readAllStandardError());
            out += QString::fromUtf8(p.readAllStandardOutput());
            if (const auto m = ready.match(err); m.hasMatch())
                pid = m.captured(1).toLongLong();
            QVERIFY2(p.state() == QProcess::Running, qPrintable(err));
        }
        QVERIFY2(pid > 0 && out.size() > kPrompt.size(), qPrintable(err));
        QElapsedTimer sinceKill;
        sinceKill.start();
        QCOMPARE(::kill(pid_t(pid), signal), 0);
        const bool ended = p.waitForFinished(20000);
        const qint64 ms = sinceKill.elapsed();
        if (signal == SIGSTOP)
            ::kill(pid_t(pid), SIGKILL); // the stopped worker cannot take mpirun's SIGTERM
        if (!ended)
            stop(p);
        err += QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(ended && ms < 10000, qPrintable(QString("ended %1 after %2 ms: %3").arg(ended).arg(ms).arg(err)));
        QVERIFY2(p.exitCode() != 0, qPrintable(err));
        // The lost rank is named: by rank 0 when the worker stops answering, by mpirun (and
        // rank 0 says why it stops) when it dies.
        if (signal == SIGSTOP) {
            QVERIFY2(err.contains("rank 1 lost"), qPrintable(err));
            QVERIFY2(err.contains("the generation in flight failed"), qPrintable(err));
        } else {
            QVERIFY2(err.contains(QRegularExpression("process rank 1 .*signal 9")), qPrintable(err));
            QVERIFY2(err.contains("tenfold-worker: stopped by mpirun: another rank of the job failed"), qPrintable(err));
        }
        QVERIFY2(!err.contains("generated: 400 tokens"), qPrintable(err));
    }

    void badOptionsAreRefused()
    {
        const Run a = worker(2, {model_, "-p", kPrompt, "-n", "2", "--split", "3,4"});
        QVERIFY(a.finished);
        QVERIFY(a.code != 0);
        QVERIFY2(a.err.contains("--split adds up to 7 layers; the model has 8"), qPrintable(a.err));
        const Run b = worker(2, {model_, "-p", kPrompt, "-n", "2", "--split", "4,2,2"});
        QVERIFY(b.code != 0);
        QVERIFY2(b.err.contains("--split names 3 stages but mpirun started 2 ranks"), qPrintable(b.err));
        const Run c = worker(2, {model_, "-p", kPrompt, "-n", "2", "--split", "4,x"});
        QVERIFY(c.code != 0);
        QVERIFY2(c.err.contains("'x' (item 2 of '4,x') is not a positive layer count"), qPrintable(c.err));
        const Run d = worker(2, {model_, "-p", kPrompt, "-n", "2", "--device", "vulkan"});
        QCOMPARE(d.code, 2);
        QVERIFY2(d.err.contains("--device vulkan is not supported across ranks"), qPrintable(d.err));
        const Run e = worker(2, {model_, "-p", kPrompt, "-n", "2", "--self-speculative"});
        QCOMPARE(e.code, 2);
        QVERIFY2(e.err.contains("--self-speculative needs the whole model's KV cache in one process"), qPrintable(e.err));
    }

    // A message is a 56-byte header, 4 bytes per token and per float, 8 per time; anything
    // else is refused with the byte counts, never read past.
    void protocolRefusesMalformedMessages()
    {
        dist::Message m;
        m.h.op = int64_t(dist::Op::Layers);
        m.tokens = {1, 2, 3};
        m.floats = {0.5f, -1.0f};
        m.times = {12.0};
        const std::vector<uint8_t> bytes = dist::encode(m);
        QCOMPARE(bytes.size(), size_t(7 * 8 + 3 * 4 + 2 * 4 + 1 * 8));
        dist::Message back;
        dist::decode(bytes, back);
        QCOMPARE(back.tokens, m.tokens);
        QCOMPARE(back.floats, m.floats);
        QCOMPARE(back.times, m.times);
        QCOMPARE(back.h.nTokens, int64_t(3));

        const std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 1);
        QVERIFY_THROWS_EXCEPTION(Error, dist::decode(cut, back));
        std::vector<uint8_t> longer = bytes;
        longer.push_back(0);
        QVERIFY_THROWS_EXCEPTION(Error, dist::decode(longer, back));
        const std::vector<uint8_t> shortHeader(bytes.begin(), bytes.begin() + 10);
        QVERIFY_THROWS_EXCEPTION(Error, dist::decode(shortHeader, back));
        std::vector<uint8_t> negative = bytes;
        const int64_t minusOne = -1;
        std::memcpy(negative.data() + 8, &minusOne, 8); // nTokens
        QVERIFY_THROWS_EXCEPTION(Error, dist::decode(negative, back));
        try {
            dist::decode(cut, back);
        } catch (const Error& e) {
            QCOMPARE(QString(e.what()), QString("a worker message of 83 bytes does not match its header"));
        }
    }

    // The split by memory, against hand-computed cases.
    void stagePlanByMemory()
    {
        // 8 equal layers of 10 bytes, rank 0 also holds 20: total 100; rank 0's share (50) ends
        // after 3 layers (20 + 30), rank 1 takes the other 5.
        const std::vector<uint64_t> equal(8, 10);
        auto s = dist::planStages(equal, 20, 2, {});
        QCOMPARE(s.size(), size_t(2));
        QCOMPARE(s[0].endLayer, 3);
        QCOMPARE(s[1].firstLayer, 3);
        QCOMPARE(s[1].endLayer, 8);
        QCOMPARE(s[0].weightBytes, uint64_t(50));
        QCOMPARE(s[1].weightBytes, uint64_t(50));
        // Without the head: 8 layers over 3 ranks, targets 26.7 / 53.3 / 80: 3, 3, 2 layers.
        s = dist::planStages(equal, 0, 3, {});
        QCOMPARE(s[0].endLayer, 3);
        QCOMPARE(s[1].endLayer, 6);
        QCOMPARE(s[2].endLayer, 8);
        // A head larger than everything still leaves each later rank one layer.
        s = dist::planStages(equal, 1000, 3, {});
        QCOMPARE(s[0].endLayer, 1);
        QCOMPARE(s[1].endLayer, 2);
        QCOMPARE(s[2].endLayer, 8);
        // Explicit counts are taken as given.
        const int counts[] = {1, 3, 4};
        s = dist::planStages(equal, 20, 3, counts);
        QCOMPARE(s[1].firstLayer, 1);
        QCOMPARE(s[2].firstLayer, 4);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, dist::planStages(equal, 0, 9, {}));
    }
};

QTEST_GUILESS_MAIN(TestMpiWorker)
#include "tst_mpi_worker.moc"
