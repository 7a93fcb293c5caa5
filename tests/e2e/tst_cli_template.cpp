// tenfold-cli template against Python's jinja2: every template in ../shared/templates, rendered
// for every message list in tests/e2e/templates/messages, must give byte for byte the text that
// tools/gen_template_goldens.py produced with Debian's python3-jinja2 (trim_blocks,
// lstrip_blocks, Hugging Face's tojson and raise_exception); where jinja2 raised, the CLI must
// exit non-zero with the template's message.
#include "common/shared_data.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

const QString kCasesDir = QStringLiteral(TENFOLD_SOURCE_DIR "/tests/e2e/templates");

struct Run {
    int code = -1;
    bool crashed = false;
    QByteArray out;
    QString err;
};

Run cli(const QStringList& args)
{
    QProcess p;
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

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// The first byte where two texts differ, with a little context, for a readable failure.
QString firstDifference(const QByteArray& got, const QByteArray& want)
{
    qsizetype i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i])
        ++i;
    const qsizetype from = std::max<qsizetype>(0, i - 40);
    return QStringLiteral("first difference at byte %1 (got %2 bytes, want %3)\n got: ...%4\nwant: ...%5")
        .arg(i)
        .arg(got.size())
        .arg(want.size())
        .arg(QString::fromUtf8(got.mid(from, 80)).toHtmlEscaped(),
             QString::fromUtf8(want.mid(from, 80)).toHtmlEscaped());
}

} // namespace

class TstCliTemplate : public QObject {
    Q_OBJECT

private slots:
    void rendersLikeJinja2_data()
    {
        QTest::addColumn<QString>("templateFile");
        QTest::addColumn<QString>("messagesFile");
        QTest::addColumn<bool>("generationPrompt");
        QTest::addColumn<QString>("bos");
        QTest::addColumn<QString>("eos");
        QTest::addColumn<QString>("expectedFile");
        const QByteArray cases = readAll(kCasesDir + "/cases.tsv");
        QVERIFY2(!cases.isEmpty(), "tests/e2e/templates/cases.tsv is missing");
        int rows = 0;
        for (const QByteArray& line : cases.split('\n')) {
            if (line.isEmpty() || line.startsWith('#'))
                continue;
            const QList<QByteArray> f = line.split('\t');
            QCOMPARE(f.size(), 6);
            QTest::newRow(f[5].constData())
                << QString::fromUtf8(f[0]) << QString::fromUtf8(f[1]) << (f[2] == "1")
                << QString::fromUtf8(f[3]) << QString::fromUtf8(f[4]) << QString::fromUtf8(f[5]);
            ++rows;
        }
        QVERIFY(rows >= 50);
    }

    void rendersLikeJinja2()
    {
        QFETCH(QString, templateFile);
        QFETCH(QString, messagesFile);
        QFETCH(bool, generationPrompt);
        QFETCH(QString, bos);
        QFETCH(QString, eos);
        QFETCH(QString, expectedFile);
        // "extra/NAME": a template of the goldens' own (tests/e2e/templates/extra).
        const auto templatePath = templateFile.startsWith("extra/")
                                      ? std::filesystem::path((kCasesDir + "/" + templateFile).toStdString())
                                      : tenfold::test::sharedDir() / "templates" / templateFile.toStdString();
        TENFOLD_REQUIRE_SHARED(templatePath);

        QStringList args{"template", "--template", QString::fromStdString(templatePath.string()),
                         "--messages", kCasesDir + "/messages/" + messagesFile,
                         "--bos-token", bos, "--eos-token", eos};
        if (generationPrompt)
            args << "--add-generation-prompt";
        const Run r = cli(args);
        QVERIFY2(!r.crashed, qPrintable("crashed; stderr: " + r.err));
        const QByteArray expected = readAll(kCasesDir + "/golden/" + expectedFile);
        if (expectedFile.endsWith(".error")) {
            QVERIFY2(!expected.isEmpty(), "empty golden error message");
            QVERIFY2(r.code != 0, "jinja2 raised, but tenfold-cli template succeeded");
            QVERIFY2(r.out.isEmpty(), "a raising template printed text");
            QVERIFY2(r.err.contains(QString::fromUtf8(expected)),
                     qPrintable("stderr lacks the template's message: " + r.err));
            return;
        }
        QVERIFY2(r.code == 0, qPrintable(QString("exit code %1; stderr: %2").arg(r.code).arg(r.err)));
        QVERIFY2(r.out == expected, qPrintable(firstDifference(r.out, expected)));
    }

    // The CLI's own mistakes: reported with what and where, never a crash or partial output.
    void refusesBadInput()
    {
        const auto templatePath = tenfold::test::sharedDir() / "templates" / "Qwen-Qwen2.5-7B-Instruct.jinja";
        TENFOLD_REQUIRE_SHARED(templatePath);
        const QString tmpl = QString::fromStdString(templatePath.string());
        const QString messages = kCasesDir + "/messages/system_user.json";

        Run r = cli({"template", "--messages", messages});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains("exactly one of --model"));
        r = cli({"template", "--template", tmpl, "--model", tmpl, "--messages", messages});
        QCOMPARE(r.code, 2);
        r = cli({"template", "--template", tmpl});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains("--messages"));

        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        auto write = [&](const QString& name, const QByteArray& data) {
            QFile f(dir.filePath(name));
            f.open(QIODevice::WriteOnly);
            f.write(data);
            return f.fileName();
        };
        r = cli({"template", "--template", tmpl, "--messages", write("bad.json", "[{\"role\": \"user\", ")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("conversation JSON"), qPrintable(r.err));
        QVERIFY(r.out.isEmpty());
        r = cli({"template", "--template", tmpl, "--messages", write("norole.json", "[{\"content\": \"hi\"}]")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("message 0 has no \"role\""), qPrintable(r.err));
        r = cli({"template", "--template", tmpl, "--messages", write("obj.json", "{\"tools\": []}")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("no \"messages\""), qPrintable(r.err));

        r = cli({"template", "--template", write("broken.jinja", "{% for m in messages %}{{ m.content }}"),
                 "--messages", messages});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("chat template line 1"), qPrintable(r.err));
        // --model reads the template from the GGUF; ref-main has none, which is said plainly.
        const auto refMain = tenfold::test::sharedFile("models/tenfold-ref-main-f16.gguf");
        if (std::filesystem::exists(refMain)) {
            r = cli({"template", "--model", QString::fromStdString(refMain.string()), "--messages", messages});
            QCOMPARE(r.code, 1);
            QVERIFY2(r.err.contains("has no tokenizer.chat_template"), qPrintable(r.err));
        }
        r = cli({"template", "--template", dir.filePath("missing.jinja"), "--messages", messages});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("missing.jinja"), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TstCliTemplate)
#include "tst_cli_template.moc"
