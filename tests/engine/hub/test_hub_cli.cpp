// tenfold-cli search and pull, the real binary, against the loopback hub (HF_ENDPOINT): a pull by
// quantization (SHA-256 checked by sha256sum), a split set as a whole, the list of choices when
// none is given, a 404, and Ctrl-C during a pull continued by running it again (Range request).
#include "hub_test_server.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>

using tenfold::test::HubTestServer;

namespace {

struct Run {
    int code = -1;
    QString out, err;
};

QProcessEnvironment envFor(const HubTestServer& server)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HF_ENDPOINT"), QString::fromStdString(server.endpoint()));
    env.remove(QStringLiteral("HF_TOKEN"));
    env.insert(QStringLiteral("HF_TOKEN_PATH"), QStringLiteral("/nonexistent/tenfold-test-token"));
    return env;
}

Run cli(const HubTestServer& server, const QStringList& args)
{
    QProcess p;
    p.setProcessEnvironment(envFor(server));
    p.start(QStringLiteral(TENFOLD_CLI_PATH), args);
    p.waitForFinished(60000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestHubCli : public QObject {
    Q_OBJECT

private slots:
    void searchAndPull()
    {
        HubTestServer server;
        server.addModel({"tenfold-test/tiny-GGUF", 1234, 56});
        const QByteArray q4 = tenfold::test::randomBytes(300000, 1);
        const std::string q4sha = server.addFile({"tenfold-test/tiny-GGUF", "tiny-Q4_K_M.gguf", q4});
        const QByteArray p1 = tenfold::test::randomBytes(100000, 2), p2 = tenfold::test::randomBytes(90000, 3);
        server.addFile({"tenfold-test/tiny-GGUF", "tiny-Q8_0-00001-of-00002.gguf", p1});
        server.addFile({"tenfold-test/tiny-GGUF", "tiny-Q8_0-00002-of-00002.gguf", p2});

        Run s = cli(server, {QStringLiteral("search"), QStringLiteral("tiny")});
        QCOMPARE(s.code, 0);
        QVERIFY2(s.out.contains(QStringLiteral("tenfold-test/tiny-GGUF")) && s.out.contains(QStringLiteral("1,234")),
                 qPrintable(s.out));
        QVERIFY(cli(server, {QStringLiteral("search"), QStringLiteral("--help")}).out.contains(QStringLiteral("HF_ENDPOINT")));

        QTemporaryDir dir;
        Run none = cli(server, {QStringLiteral("pull"), QStringLiteral("tenfold-test/tiny-GGUF"), QStringLiteral("-o"), dir.path()});
        QCOMPARE(none.code, 2);
        QVERIFY2(none.err.contains(QStringLiteral("Q4_K_M")) && none.err.contains(QStringLiteral("2 parts")), qPrintable(none.err));

        Run pull = cli(server, {QStringLiteral("pull"), QStringLiteral("tenfold-test/tiny-GGUF"), QStringLiteral("--quant"),
                                QStringLiteral("q4_k_m"), QStringLiteral("-o"), dir.path()});
        QCOMPARE(pull.code, 0);
        const QString path = dir.filePath(QStringLiteral("tenfold-test/tiny-GGUF/tiny-Q4_K_M.gguf"));
        QCOMPARE(pull.out.trimmed(), path);
        QCOMPARE(tenfold::test::sha256sumOfFile(path), q4sha);

        Run split = cli(server, {QStringLiteral("pull"), QStringLiteral("tenfold-test/tiny-GGUF"), QStringLiteral("-q"),
                                 QStringLiteral("Q8_0"), QStringLiteral("-o"), dir.path()});
        QCOMPARE(split.code, 0);
        QCOMPARE(readAll(dir.filePath(QStringLiteral("tenfold-test/tiny-GGUF/tiny-Q8_0-00001-of-00002.gguf"))), p1);
        QCOMPARE(readAll(dir.filePath(QStringLiteral("tenfold-test/tiny-GGUF/tiny-Q8_0-00002-of-00002.gguf"))), p2);

        Run missing = cli(server, {QStringLiteral("pull"), QStringLiteral("nobody/nothing"), QStringLiteral("-o"), dir.path()});
        QCOMPARE(missing.code, 1);
        QVERIFY2(missing.err.contains(QStringLiteral("404")), qPrintable(missing.err));
    }

    void interruptedPullContinues()
    {
        HubTestServer server;
        server.slowDelayMs = 30;
        server.addModel({"o/m", 1, 1});
        HubTestServer::File f{"o/m", "slow-Q4_0.gguf", tenfold::test::randomBytes(1 << 20, 4)};
        f.mode = HubTestServer::Mode::Slow;
        const std::string sha = server.addFile(f);
        QTemporaryDir dir;
        const QString dest = dir.filePath(QStringLiteral("o/m/slow-Q4_0.gguf"));
        QProcess p;
        p.setProcessEnvironment(envFor(server));
        p.start(QStringLiteral(TENFOLD_CLI_PATH), {QStringLiteral("pull"), QStringLiteral("o/m"), QStringLiteral("-o"), dir.path()});
        QVERIFY(p.waitForStarted());
        QVERIFY(QTest::qWaitFor([&] { return QFileInfo(dest + QStringLiteral(".part")).size() > 100000; }, 20000));
        ::kill(pid_t(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 130);
        QVERIFY(!QFile::exists(dest));
        const qint64 kept = QFileInfo(dest + QStringLiteral(".part")).size();
        QVERIFY(kept > 0 && kept < f.bytes.size());

        Run again = cli(server, {QStringLiteral("pull"), QStringLiteral("o/m"), QStringLiteral("-o"), dir.path()});
        QCOMPARE(again.code, 0);
        QVERIFY(again.err.contains(QStringLiteral("resuming")));
        QCOMPARE(tenfold::test::sha256sumOfFile(dest), sha);
        const auto storage = server.requestsTo("storage", "/lfs/");
        QCOMPARE(storage.back().range, "bytes=" + std::to_string(kept) + "-");
    }
};

QTEST_GUILESS_MAIN(TestHubCli)
#include "test_hub_cli.moc"
