// The Prompt lab page and the composer's token line, driven in the real app on ref-main.
// Oracles: the template preview against the golden renderings Python's jinja2 made
// (tests/e2e/templates, tools/gen_template_goldens.py); token counts against Google's
// SentencePiece (tools/spm_encode.py on the shared tokenizer model); costs and context shares
// computed here from the counts and the prices; compression against its definition (budget,
// question kept); screenshots of every tab in English and Chinese.
#include "gui_test_support.h"

#include "chat/chat_page.h"
#include "chat/composer.h"
#include "core/main_window.h"
#include "promptlab/ab_tab.h"
#include "promptlab/compression_tab.h"
#include "promptlab/prompt_lab_page.h"
#include "promptlab/template_preview_tab.h"
#include "promptlab/token_count_label.h"
#include "session/model_host.h"

#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTextEdit>
#include <QtTest>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

namespace {

const QString kCases = QStringLiteral(TENFOLD_SOURCE_DIR "/tests/e2e/templates");

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Token ids of `text` by Google's SentencePiece (no BOS), or -1 when the oracle cannot run.
int sentencePieceCount(const QString& text)
{
    QTemporaryDir dir;
    QFile input(dir.filePath(QStringLiteral("in.json")));
    if (!input.open(QIODevice::WriteOnly))
        return -1;
    input.write(QJsonDocument(QJsonArray{text}).toJson());
    input.close();
    QProcess p;
    p.start(QStringLiteral("/usr/bin/python3"),
            {QStringLiteral(TENFOLD_SOURCE_DIR "/tools/spm_encode.py"),
             QString::fromStdString(sharedFile("models/tenfold-ref-tokenizer.model").string()), input.fileName()});
    if (!p.waitForFinished(30000) || p.exitCode() != 0)
        return -1;
    return int(QJsonDocument::fromJson(p.readAllStandardOutput()).array().at(0).toArray().size());
}

struct Lab {
    std::unique_ptr<Application> app;
    PromptLabPage* page = nullptr;
};

} // namespace

class TstUiPromptLab : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;

    Lab launchLab(const QString& dataDir)
    {
        Lab lab;
        lab.app = launch(dataDir, refMain());
        MainWindow& w = lab.app->window();
        w.resize(1280, 860);
        w.show();
        lab.page = qobject_cast<PromptLabPage*>(w.page(QStringLiteral("promptlab")));
        if (lab.page)
            waitUntil([&] { return lab.page->modelReady(); }, 60000);
        return lab;
    }

private slots:
    void initTestCase()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/tenfold-ref-main-f16.gguf"));
        TENFOLD_REQUIRE_SHARED(sharedFile("templates"));
        QVERIFY(dir_.isValid());
    }

    // The preview shows exactly what Python's jinja2 renders, for every golden case, and a
    // template's raise_exception as an error.
    void templatePreviewMatchesJinja2()
    {
        Lab lab = launchLab(dir_.path());
        QVERIFY(lab.page && lab.page->modelReady());
        TemplatePreviewTab* tab = lab.page->templateTab();
        // ref-main has no chat template: the built-in the app picks is rendered at once.
        QVERIFY(waitUntil([&] { return !tab->preview()->toPlainText().isEmpty(); }, 10000));

        int checked = 0, errors = 0;
        QString lastTemplate;
        for (const QByteArray& line : readAll(kCases + "/cases.tsv").split('\n')) {
            if (line.isEmpty() || line.startsWith('#'))
                continue;
            const QList<QByteArray> f = line.split('\t');
            QCOMPARE(f.size(), 6);
            const QString templatePath = f[0].startsWith("extra/")
                                             ? kCases + "/" + QString::fromUtf8(f[0])
                                             : QString::fromStdString((sharedDir() / "templates").string()) + "/" + QString::fromUtf8(f[0]);
            QSignalSpy rendered(tab, &TemplatePreviewTab::rendered);
            QSignalSpy failed(tab, &TemplatePreviewTab::renderFailed);
            tab->setTemplateSource(QString::fromUtf8(readAll(templatePath)));
            tab->setConversation(QString::fromUtf8(readAll(kCases + "/messages/" + QString::fromUtf8(f[1]))));
            tab->setAddGenerationPrompt(f[2] == "1");
            tab->setSpecialTokens(QString::fromUtf8(f[3]), QString::fromUtf8(f[4]));
            tab->renderNow();
            QVERIFY(waitUntil([&] { return rendered.count() + failed.count() > 0; }, 10000));
            const QByteArray expected = readAll(kCases + "/golden/" + QString::fromUtf8(f[5]));
            if (f[5].endsWith(".error")) {
                QVERIFY2(failed.count() > 0, f[5].constData());
                QVERIFY2(tab->status()->text().contains(QString::fromUtf8(expected)), qPrintable(tab->status()->text()));
                ++errors;
            } else {
                QVERIFY2(rendered.count() > 0, qPrintable(f[5] + ": " + tab->status()->text()));
                QCOMPARE(tab->preview()->toPlainText(), QString::fromUtf8(expected));
                // Highlighting: Qwen's markers, counted in jinja2's text independently.
                if (f[0].startsWith("Qwen")) {
                    const QString text = QString::fromUtf8(expected);
                    const int markers = int(text.count(QStringLiteral("<|im_start|>")) + text.count(QStringLiteral("<|im_end|>")));
                    QCOMPARE(int(tab->highlights().size()), markers);
                    for (const auto& [b, e] : tab->highlights())
                        QVERIFY(text.mid(b, e - b).startsWith(QStringLiteral("<|im_")));
                }
            }
            ++checked;
        }
        QVERIFY(checked >= 50);
        QVERIFY(errors >= 4);
    }

    // The counter on the lab's first tab and under the chat composer: SentencePiece's count,
    // the context share and the cost at the prices in the settings.
    void countsTokensWithContextAndCost()
    {
        const QString text = QStringLiteral("The jury said that the city's election was conducted fairly, and 谢谢.");
        const int expected = sentencePieceCount(text);
        if (expected < 0)
            QSKIP("SentencePiece oracle (tools/spm_encode.py, python3-sentencepiece) did not run");
        QTemporaryDir dir;
        presetSettings(dir.path(), [](AppSettings& s) {
            s.setInputPricePerMillionTokens(2.5);
            s.setPriceCurrency(QStringLiteral("$"));
        });
        Lab lab = launchLab(dir.path());
        QVERIFY(lab.page && lab.page->modelReady());
        lab.app->window().showPage(QStringLiteral("promptlab"));
        lab.page->tabs()->setCurrentIndex(0);
        QSignalSpy counted(lab.page->counter(), &TokenCountLabel::counted);
        QTest::keyClicks(lab.page->counterEditor(), QStringLiteral("The jury"));
        lab.page->counterEditor()->setPlainText(text);
        QVERIFY(waitUntil([&] { return lab.page->counter()->tokens() == expected; }, 10000));
        QCOMPARE(lab.page->counter()->tokens(), expected);
        const int context = 512; // ref-main's training context
        const QString line = lab.page->counter()->text();
        QVERIFY2(line.contains(QString::number(expected)), qPrintable(line));
        QVERIFY2(line.contains(QLocale().toString(100.0 * expected / context, 'f', 1) + "%"), qPrintable(line));
        QVERIFY2(line.contains("$" + QLocale().toString(expected * 2.5 / 1e6, 'f', 6)), qPrintable(line));

        auto* chat = qobject_cast<ChatPage*>(lab.app->window().page(QStringLiteral("chat")));
        QVERIFY(chat && chat->tokenCount());
        lab.app->window().showPage(QStringLiteral("chat"));
        // Typed (QTest types ASCII only), then the rest pasted.
        QTest::keyClicks(chat->composer(), QStringLiteral("The jury said"));
        chat->composer()->moveCursor(QTextCursor::End);
        chat->composer()->insertPlainText(text.mid(13));
        QVERIFY(waitUntil([&] { return chat->tokenCount()->tokens() == expected; }, 10000));
        QVERIFY2(chat->tokenCount()->text().contains("$" + QLocale().toString(expected * 2.5 / 1e6, 'f', 6)),
                 qPrintable(chat->tokenCount()->text()));
        // Sending the message empties the composer, and the line counts nothing again.
        QSignalSpy replied(chat, &ChatPage::replyFinished);
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QVERIFY(replied.wait(60000));
        QVERIFY2(waitUntil([&] { return chat->tokenCount()->tokens() == 0; }, 10000), qPrintable(chat->tokenCount()->text()));
        // The wording itself, with no price set.
        QCOMPARE(TokenCountLabel::describe(3, 0, 0, QStringLiteral("$")), QStringLiteral("3 tokens · no price set"));
    }

    // Compression on ref-main scored by ref-draft: within budget, the question kept, the answer
    // compared; A/B on two prompts with the figures and the cost in the table.
    void compressesAndComparesVariants()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/tenfold-ref-draft-f16.gguf"));
        QTemporaryDir dir;
        presetSettings(dir.path(), [](AppSettings& s) {
            s.setInputPricePerMillionTokens(1.0);
            s.setOutputPricePerMillionTokens(4.0);
        });
        Lab lab = launchLab(dir.path());
        QVERIFY(lab.page && lab.page->modelReady());
        lab.app->window().showPage(QStringLiteral("promptlab"));

        CompressionTab* c = lab.page->compressionTab();
        lab.page->tabs()->setCurrentWidget(c);
        c->ratio()->setValue(0.5);
        c->scorer()->setText(QString::fromStdString(sharedFile("models/tenfold-ref-draft-f16.gguf").string()));
        c->answerTokens()->setValue(16);
        QSignalSpy done(c, &CompressionTab::finished);
        QTest::mouseClick(c->compressButton(), Qt::LeftButton);
        QVERIFY(done.wait(60000));
        QCOMPARE(done.at(0).at(0).toBool(), true);
        const CompressionReport& r = c->lastReport();
        QVERIFY(r.originalTokens > 40);
        QCOMPARE(r.tokenBudget, r.originalTokens / 2);
        int kept = 0;
        for (const CompressedPiece& p : r.pieces)
            kept += p.kept;
        QVERIFY(kept <= r.tokenBudget);
        QVERIFY(c->output()->toPlainText().contains(QStringLiteral("Question: why did the village wait in fear?")));
        QVERIFY(r.compared && r.positions > 0 && r.meanKld > 0);
        QVERIFY2(c->summary()->text().contains(QString::number(r.originalTokens - r.compressedTokens)),
                 qPrintable(c->summary()->text()));

        AbTab* ab = lab.page->abTab();
        lab.page->tabs()->setCurrentWidget(ab);
        ab->tokens()->setValue(8);
        QSignalSpy abDone(ab, &AbTab::finished);
        QTest::mouseClick(ab->runButton(), Qt::LeftButton);
        QVERIFY(abDone.wait(60000));
        QCOMPARE(abDone.at(0).at(0).toBool(), true);
        const AbReport& rep = ab->lastReport();
        for (int col = 0; col < 2; ++col) {
            const AbSide& s = col == 0 ? rep.a : rep.b;
            QVERIFY(s.promptTokens > 5 && s.outputTokens > 0 && s.outputTokens <= 8);
            QCOMPARE(ab->table()->item(0, col)->text(), QLocale().toString(s.promptTokens));
            QCOMPARE(ab->table()->item(1, col)->text(), QLocale().toString(s.outputTokens));
            const double cost = (s.promptTokens * 1.0 + s.outputTokens * 4.0) / 1e6;
            QCOMPARE(ab->table()->item(6, col)->text(), "$" + QLocale().toString(cost, 'f', 6));
        }
        QVERIFY(rep.a.promptTokens != rep.b.promptTokens);
        QVERIFY(!ab->outputA()->toPlainText().isEmpty() && !ab->outputB()->toPlainText().isEmpty());
    }

    void screenshots_data()
    {
        QTest::addColumn<QString>("language");
        QTest::newRow("en") << QStringLiteral("en");
        QTest::newRow("zh_CN") << QStringLiteral("zh_CN");
    }

    // Every tab after a run, in English and Chinese, saved for review under <build>/screenshots.
    void screenshots()
    {
        QFETCH(QString, language);
        TENFOLD_REQUIRE_SHARED(sharedFile("models/tenfold-ref-draft-f16.gguf"));
        QTemporaryDir dir;
        presetSettings(dir.path(), [&](AppSettings& s) {
            s.setLanguage(language);
            s.setInputPricePerMillionTokens(0.15);
            s.setOutputPricePerMillionTokens(0.6);
        });
        Lab lab = launchLab(dir.path());
        QVERIFY(lab.page && lab.page->modelReady());
        MainWindow& w = lab.app->window();
        w.showPage(QStringLiteral("promptlab"));
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        lab.page->counterEditor()->setPlainText(QStringLiteral("Once upon a time, a little dog found a red ball in the park."));
        QVERIFY(waitUntil([&] { return lab.page->counter()->tokens() > 0; }, 10000));
        TemplatePreviewTab* t = lab.page->templateTab();
        QSignalSpy rendered(t, &TemplatePreviewTab::rendered);
        t->setTemplateSource(QString::fromUtf8(readAll(QString::fromStdString(sharedFile("templates/Qwen-Qwen2.5-7B-Instruct.jinja").string()))));
        t->setSpecialTokens(QString(), QStringLiteral("<|im_end|>"));
        QVERIFY(rendered.wait(10000));
        CompressionTab* c = lab.page->compressionTab();
        c->scorer()->setText(QString::fromStdString(sharedFile("models/tenfold-ref-draft-f16.gguf").string()));
        QSignalSpy compressed(c, &CompressionTab::finished);
        c->start();
        QVERIFY(compressed.wait(60000));
        AbTab* ab = lab.page->abTab();
        ab->tokens()->setValue(24);
        QSignalSpy abDone(ab, &AbTab::finished);
        ab->start();
        QVERIFY(abDone.wait(60000));

        const QString out = QStringLiteral(TENFOLD_BINARY_DIR "/screenshots");
        QDir().mkpath(out);
        const QStringList names = {QStringLiteral("tokens"), QStringLiteral("template"), QStringLiteral("compression"),
                                   QStringLiteral("ab")};
        for (int i = 0; i < names.size(); ++i) {
            lab.page->tabs()->setCurrentIndex(i);
            QTest::qWait(150);
            const QImage image = w.grab().toImage();
            QSet<QRgb> colours;
            for (int y = 0; y < image.height(); y += 7)
                for (int x = 0; x < image.width(); x += 7)
                    colours.insert(image.pixel(x, y));
            QVERIFY(colours.size() > 20);
            const QString path = QStringLiteral("%1/promptlab-%2-%3.png").arg(out, names[i], language);
            QVERIFY(image.save(path));
            qInfo("screenshot: %s", qPrintable(path));
        }
        QLocale::setDefault(QLocale::c());
    }
};

QTEST_MAIN(TstUiPromptLab)
#include "tst_ui_promptlab.moc"
