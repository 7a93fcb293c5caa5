// tenfold-cli distill / train end to end on stories260K:
// - kill -9 after the first checkpoint, then --resume: OUT is byte-identical to the OUT of an
//   uninterrupted run with the same options, and so is the final validation line;
// - --config FILE makes a fresh student of that shape (its GGUF says so);
// - compress --palette --tune-steps and tune-palette (more tuning from a saved file);
// - the clear messages for bad input: a text shorter than one window, a student larger than
//   the teacher, --resume without a directory, a checkpoint from other settings.
#include "train/checkpoint.h"
#include "common/shared_data.h"

#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

struct Run {
    int code = -1;
    QString out, err;
};

Run cli(const QStringList& args, int timeoutMs = 60000)
{
    QProcess p;
    p.start(QStringLiteral(TENFOLD_CLI_PATH), args);
    Run r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

QByteArray fileBytes(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QString lastLine(const QString& text, const QString& prefix)
{
    QString found;
    for (const QString& l : text.split('\n'))
        if (l.startsWith(prefix))
            found = l;
    return found;
}

} // namespace

class TestTrainCli : public QObject {
    Q_OBJECT
private:
    QString model_, text_;
    QTemporaryDir dir_;
    QStringList common(const QString& out, const QString& ckDir)
    {
        return {"distill", model_, out, "--layers", "3", "-f", text_, "--steps", "120", "--batch", "2",
                "--ctx", "32", "--seed", "5", "--threads", "2", "--eval-every", "0",
                "--checkpoint-dir", ckDir, "--checkpoint-every", "10"};
    }

private slots:
    void initTestCase()
    {
        const auto m = tenfold::test::sharedFile("models/stories260K.gguf");
        const auto t = tenfold::test::sharedFile("text/tinystories_sample.txt");
        TENFOLD_REQUIRE_SHARED(m);
        TENFOLD_REQUIRE_SHARED(t);
        model_ = QString::fromStdString(m.string());
        text_ = QString::fromStdString(t.string());
    }

    void killAndResume_sameResult()
    {
        const QString outA = dir_.filePath("a.gguf"), outB = dir_.filePath("b.gguf");
        const QString ckA = dir_.filePath("ckA"), ckB = dir_.filePath("ckB");
        const Run a = cli(common(outA, ckA));
        QVERIFY2(a.code == 0, qPrintable(a.err));

        QProcess p;
        p.start(QStringLiteral(TENFOLD_CLI_PATH), common(outB, ckB));
        QVERIFY(p.waitForStarted());
        const std::string ck = (ckB + "/checkpoint.tftrain").toStdString();
        const auto t0 = std::chrono::steady_clock::now();
        while (!std::filesystem::exists(ck) && p.state() == QProcess::Running &&
               std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30))
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        QVERIFY2(p.state() == QProcess::Running, "the run ended before it could be killed");
        ::kill(pid_t(p.processId()), SIGKILL);
        p.waitForFinished();
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);
        QVERIFY(!QFile::exists(outB));
        const int64_t killedAt = tenfold::train::readCheckpoint(ck).step;
        qInfo("killed with a checkpoint at step %lld of 120", static_cast<long long>(killedAt));
        QVERIFY(killedAt > 0 && killedAt < 120);

        // without --resume the directory is not silently overwritten
        const Run refused = cli(common(outB, ckB));
        QCOMPARE(refused.code, 1);
        QVERIFY2(refused.err.contains("--resume"), qPrintable(refused.err));

        const Run b = cli(common(outB, ckB) << "--resume");
        QVERIFY2(b.code == 0, qPrintable(b.err));
        QVERIFY2(b.err.contains("resumed from"), qPrintable(b.err));
        QCOMPARE(lastLine(b.out, "trained 120 steps").section(';', 1),
                 lastLine(a.out, "trained 120 steps").section(';', 1)); // validation loss and ppl
        const QByteArray bytesA = fileBytes(outA), bytesB = fileBytes(outB);
        QVERIFY(!bytesA.isEmpty());
        QVERIFY2(bytesA == bytesB, "the resumed run's model differs from the uninterrupted one");
    }

    void badInput_clearMessages()
    {
        const QString out = dir_.filePath("x.gguf");
        Run r = cli({"distill", model_, out, "--layers", "6", "-f", text_, "--steps", "1"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("larger than the teacher"), qPrintable(r.err));

        r = cli({"train", model_, out, "-f", text_, "--ctx", "4096", "--steps", "1"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("tokens, too short") && r.err.contains("at least 8194"), qPrintable(r.err));

        r = cli({"train", model_, out, "-f", text_, "--resume"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("--resume needs --checkpoint-dir"), qPrintable(r.err));

        r = cli({"distill", model_, out, "-f", text_, "--steps", "1"});
        QCOMPARE(r.code, 2);

        // --config: a fresh student of that shape; one wider than the teacher is refused
        auto writeConfig = [&](const QString& name, const QByteArray& text) {
            QFile f(dir_.filePath(name));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(text);
        };
        writeConfig("big.cfg", "dim = 128\nlayers = 6\nheads = 4\nffn = 512\n");
        r = cli({"distill", model_, out, "--config", dir_.filePath("big.cfg"), "-f", text_, "--steps", "1"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("a distilled student must be smaller"), qPrintable(r.err));
        writeConfig("small.cfg", "# a fresh student\ndim = 32\nlayers = 2\nheads = 4\nkv_heads = 2\nffn = 64\n");
        r = cli({"distill", model_, out, "--config", dir_.filePath("small.cfg"), "-f", text_, "--steps", "3", "--ctx", "16"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        r = cli({"inspect", out});
        QCOMPARE(r.code, 0);
        QCOMPARE(lastLine(r.out, "  llama.embedding_length").simplified(), QString("llama.embedding_length 32"));
        QCOMPARE(lastLine(r.out, "  llama.block_count").simplified(), QString("llama.block_count 2"));
        QFile::remove(out);

        // a checkpoint of other settings is refused, naming the difference
        const QString ck = dir_.filePath("ckOther");
        r = cli({"train", model_, out, "-f", text_, "--steps", "2", "--ctx", "16", "--checkpoint-dir", ck});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        r = cli({"train", model_, out, "-f", text_, "--steps", "2", "--ctx", "16", "--batch", "3",
                 "--checkpoint-dir", ck, "--resume"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("batch = 4") && r.err.contains("batch = 3"), qPrintable(r.err));
        QVERIFY(!QFile::exists(dir_.filePath("missing.gguf")));
    }

    // compress --palette --tune-steps: tuning without a text is refused before any file is
    // written; a text too short for one window fails with the token counts and leaves no file;
    // a real run writes a file of exactly the untuned size.
    void paletteTuning_cli()
    {
        const QString out = dir_.filePath("pal3.gguf");
        Run r = cli({"compress", model_, out, "--palette", "3", "--tune-steps", "2"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("--tune-steps needs --tune-text"), qPrintable(r.err));
        QVERIFY(!QFile::exists(out));
        {
            QFile f(dir_.filePath("short.txt"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("Once upon a time.");
        }
        r = cli({"compress", model_, out, "--palette", "3", "--tune-steps", "2", "--tune-text", dir_.filePath("short.txt")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("too short") && r.err.contains("needs at least"), qPrintable(r.err));
        QVERIFY(!QFile::exists(out));

        const QString plain = dir_.filePath("pal3-plain.gguf");
        r = cli({"compress", model_, plain, "--palette", "3", "--type", "IQ4_NL"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        r = cli({"compress", model_, out, "--palette", "3", "--type", "IQ4_NL", "--tune-steps", "3", "--tune-text", text_,
                 "--tune-ctx", "32", "--threads", "2"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("tuned "), qPrintable(r.out));
        QCOMPARE(QFileInfo(out).size(), QFileInfo(plain).size());
        QVERIFY(fileBytes(out) != fileBytes(plain));

        // The codes may move too: reported, same size; a code step of 0 is refused before any work.
        const QString codes = dir_.filePath("pal3-codes.gguf");
        r = cli({"compress", model_, codes, "--palette", "3", "--type", "IQ4_NL", "--tune-steps", "3", "--tune-text", text_,
                 "--tune-ctx", "32", "--threads", "2", "--tune-codes", "--tune-code-lr", "0.5"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("codes changed: "), qPrintable(r.out));
        QCOMPARE(QFileInfo(codes).size(), QFileInfo(plain).size());
        r = cli({"compress", model_, dir_.filePath("never.gguf"), "--palette", "3", "--tune-steps", "3", "--tune-text",
                 text_, "--tune-codes", "--tune-code-lr", "0"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("--tune-code-lr"), qPrintable(r.err));
        QVERIFY(!QFile::exists(dir_.filePath("never.gguf")));

        // tune-palette continues from a file on disk. With compress's options it writes the very
        // file compress's own tuning wrote (same seed, same threads: the trainer is
        // deterministic), so tuning a saved file is tuning after clustering; MODEL is not touched.
        const QByteArray plainBytes = fileBytes(plain);
        const QString again = dir_.filePath("pal3-again.gguf");
        r = cli({"tune-palette", plain, model_, again, "--tune-steps", "3", "--tune-text", text_, "--tune-ctx", "32",
                 "--threads", "2"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("tuned "), qPrintable(r.out));
        QCOMPARE(fileBytes(again), fileBytes(out));
        QCOMPARE(fileBytes(plain), plainBytes);
        // Another seed sees other windows, so other numbers; in place (OUT = MODEL) keeps the size.
        r = cli({"tune-palette", out, model_, out, "--tune-steps", "3", "--tune-text", text_, "--tune-ctx", "32",
                 "--threads", "2", "--tune-seed", "7"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(QFileInfo(out).size(), QFileInfo(plain).size());
        QVERIFY(fileBytes(out) != fileBytes(again));
        // Bad input: no steps, a missing model, a text too short; no OUT is left behind.
        const QString none = dir_.filePath("none.gguf");
        r = cli({"tune-palette", plain, model_, none, "--tune-text", text_});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("--tune-steps"), qPrintable(r.err));
        r = cli({"tune-palette", dir_.filePath("missing.gguf"), model_, none, "--tune-steps", "2", "--tune-text", text_});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("missing.gguf"), qPrintable(r.err));
        r = cli({"tune-palette", plain, model_, none, "--tune-steps", "2", "--tune-text", dir_.filePath("short.txt")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("too short"), qPrintable(r.err));
        QVERIFY(!QFile::exists(none));
        QVERIFY(!QFile::exists(none + ".part"));
        QCOMPARE(fileBytes(plain), plainBytes);
        // A failed run over an existing OUT leaves that file as it was.
        const QByteArray againBytes = fileBytes(again);
        r = cli({"tune-palette", plain, model_, again, "--tune-steps", "2", "--tune-text", dir_.filePath("short.txt")});
        QCOMPARE(r.code, 1);
        QCOMPARE(fileBytes(again), againBytes);
    }
};

QTEST_GUILESS_MAIN(TestTrainCli)
#include "tst_train_cli.moc"
