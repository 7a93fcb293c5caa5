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
#include "cost/price_settings.h"
#include "store/store.h"

#include <QComboBox>
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
#include <QProgressBar>
#include <QRegularExpression>
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
    // the context share and the estimated cost of sending it on this machine: the tokens x the
    // loaded model's measured prompt ms and joules per token (from ledger rows written here)
    // priced with the price table, computed by hand below; redrawn after the table is edited.
    void countsTokensWithContextAndCost()
    {
        const QString text = QStringLiteral("The jury said that the city's election was conducted fairly, and 谢谢.");
        const int expected = sentencePieceCount(text);
        if (expected < 0)
            QSKIP("SentencePiece oracle (tools/spm_encode.py, python3-sentencepiece) did not run");
        QTemporaryDir dir;
        // Electricity 50/kWh (dear, so energy weighs as much as the hardware); hardware 3600 over
        // 1000 h = 1e-6 per ms.
        const auto table = [](int hardwarePrice) {
            return QStringLiteral("date_taken\t2025-01-15\ncurrency\tUSD\nelectricity_per_kwh\t50\n"
                                  "hardware_price\t%1\nhardware_hours\t1000\n").arg(hardwarePrice);
        };
        presetSettings(dir.path(), [&](AppSettings& s) { QCOMPARE(savePriceTable(s, table(3600)), QString()); });
        Lab lab = launchLab(dir.path());
        QVERIFY(lab.page && lab.page->modelReady());
        const auto& loaded = lab.app->context().host().loadedModel();
        QVERIFY(loaded && !loaded->modelHash.isEmpty());
        {
            // ref-main's earlier runs here: 100 prompt tokens in 150 ms of a 300 ms run that took
            // 4.8 J (2.4 J its prompt's share), 300 in 450 ms of 900 ms with 52.8 J (26.4 J): 1.5 ms
            // and 0.072 J per prompt token. Rows of another model and another device don't count.
            Store& store = storeAfterPendingWrites(*lab.app);
            auto row = [&](const std::string& hash, const std::string& device, int tokens, double prefillMs,
                           double totalMs, double joules) {
                LedgerEntry e;
                e.model = "ref-main";
                e.modelHash = hash;
                e.device = device;
                e.tokensIn = e.prefillTokens = tokens;
                e.prefillMs = prefillMs;
                e.totalMs = totalMs;
                e.energyJoules = joules;
                e.energySource = "rapl";
                store.recordUsage(e);
            };
            row(loaded->modelHash.toStdString(), loaded->deviceTag.toStdString(), 100, 150, 300, 4.8);
            row(loaded->modelHash.toStdString(), loaded->deviceTag.toStdString(), 300, 450, 900, 52.8);
            row("0123456789abcdef", loaded->deviceTag.toStdString(), 100, 9000, 9000, 999);
            row(loaded->modelHash.toStdString(), "vulkan:Other GPU", 100, 9000, 9000, 999);
        }
        // Hand computed: 1.5 ms x 1e-6 + 0.072 J / 3.6e6 x 50 = 1.5e-6 + 1e-6 per token (shown to
        // three significant digits, so within 0.6%).
        const auto expectedCost = [&](double hardwarePerMs) { return expected * (1.5 * hardwarePerMs + 1e-6); };
        const auto shownCost = [](const QString& line) {
            const auto m = QRegularExpression(QStringLiteral("≈ ([0-9.,]+) USD to send on this machine \\(estimate\\)")).match(line);
            return m.hasMatch() ? QLocale().toDouble(m.captured(1)) : -1.0;
        };
        lab.app->window().showPage(QStringLiteral("promptlab"));
        lab.page->tabs()->setCurrentIndex(0);
        QSignalSpy counted(lab.page->counter(), &TokenCountLabel::counted);
        lab.page->counter()->refreshRate();
        QVERIFY(waitUntil([&] { return lab.page->counter()->rate().tokens == 400; }, 10000));
        QTest::keyClicks(lab.page->counterEditor(), QStringLiteral("The jury"));
        lab.page->counterEditor()->setPlainText(text);
        QVERIFY(waitUntil([&] { return lab.page->counter()->tokens() == expected; }, 10000));
        QCOMPARE(lab.page->counter()->tokens(), expected);
        const int context = 512; // ref-main's training context
        const QString line = lab.page->counter()->text();
        QVERIFY2(line.contains(QString::number(expected)), qPrintable(line));
        QVERIFY2(line.contains(QLocale().toString(100.0 * expected / context, 'f', 1) + "%"), qPrintable(line));
        QVERIFY2(qAbs(shownCost(line) - expectedCost(1e-6)) < 0.006 * expectedCost(1e-6), qPrintable(line));

        auto* chat = qobject_cast<ChatPage*>(lab.app->window().page(QStringLiteral("chat")));
        QVERIFY(chat && chat->tokenCount());
        lab.app->window().showPage(QStringLiteral("chat"));
        // Typed (QTest types ASCII only), then the rest pasted.
        QTest::keyClicks(chat->composer(), QStringLiteral("The jury said"));
        chat->composer()->moveCursor(QTextCursor::End);
        chat->composer()->insertPlainText(text.mid(13));
        QVERIFY(waitUntil([&] { return chat->tokenCount()->tokens() == expected; }, 10000));
        QVERIFY(waitUntil([&] { return chat->tokenCount()->rate().tokens == 400; }, 10000));
        QVERIFY2(qAbs(shownCost(chat->tokenCount()->text()) - expectedCost(1e-6)) < 0.006 * expectedCost(1e-6),
                 qPrintable(chat->tokenCount()->text()));
        // The price table edited on the Cost history page (hardware twice as dear): back on the
        // chat, the line shows the new figure without a keystroke.
        lab.app->window().showPage(QStringLiteral("costs"));
        QCOMPARE(savePriceTable(lab.app->context().settings(), table(7200)), QString());
        lab.app->window().showPage(QStringLiteral("chat"));
        QVERIFY2(waitUntil([&] {
                     return qAbs(shownCost(chat->tokenCount()->text()) - expectedCost(2e-6)) < 0.006 * expectedCost(2e-6);
                 }, 10000),
                 qPrintable(chat->tokenCount()->text()));
        // Sending the message empties the composer, and the line counts nothing again.
        QSignalSpy replied(chat, &ChatPage::replyFinished);
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QVERIFY(replied.wait(60000));
        QVERIFY2(waitUntil([&] { return chat->tokenCount()->tokens() == 0; }, 10000), qPrintable(chat->tokenCount()->text()));
        // The wording itself, with nothing measured yet.
        QCOMPARE(TokenCountLabel::describe(3, 0, cost::PromptTokenRate{}, cost::PriceTable{}),
                 QStringLiteral("3 tokens · cost: not measured yet (no runs of this model on this device)"));
    }

    // The price table the A/B tests save: 1.2 EUR per hour of hardware (4800 over 4000 h), 0.36 EUR
    // per kWh (1e-7 EUR per joule), and two cloud APIs.
    static QString abPriceTable()
    {
        return QStringLiteral("date_taken\t2026-01-01\ncurrency\tEUR\nelectricity_per_kwh\t0.36\n"
                              "hardware_price\t4800\nhardware_hours\t4000\n"
                              "cloud\tCheap API\t1.0\t4.0\ncloud\tDear API\t10\t30\n");
    }
    // The figures by hand: prompt tokens x input price + output tokens x output price per 1M; the
    // machine's cost = ms x (1.2 EUR / 3.6e6 ms) + J x 1e-7 EUR.
    static double cloudCostByHand(const AbSide& s, double in, double out)
    {
        return (s.promptTokens * in + s.outputTokens * out) / 1e6;
    }
    static double machineCostByHand(const AbSide& s)
    {
        return (s.prefillMs + s.decodeMs) * 1.2 / 3.6e6 + s.joules * 1e-7;
    }
    // The number in "0.0000123 EUR" / "0.0000123 EUR (energy estimated)".
    static double shownMoney(const QString& text)
    {
        bool ok = false;
        const double v = QLocale().toDouble(text.section(QLatin1Char(' '), 0, 0), &ok);
        return ok ? v : -1;
    }
    static bool near3(double shown, double expected) // three significant digits shown
    {
        return expected > 0 && qAbs(shown - expected) <= 0.006 * expected;
    }

    // Compression on ref-main scored by ref-draft: within budget, the question kept, the answer
    // compared; A/B on two prompts with the figures and the costs from the price table.
    void compressesAndComparesVariants()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/tenfold-ref-draft-f16.gguf"));
        QTemporaryDir dir;
        presetSettings(dir.path(), [](AppSettings& s) { QCOMPARE(savePriceTable(s, abPriceTable()), QString()); });
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
            QVERIFY(s.joules > 0);
            const QString here = ab->table()->item(6, col)->text();
            QVERIFY2(near3(shownMoney(here), machineCostByHand(s)), qPrintable(here));
            QVERIFY(here.contains(QStringLiteral("EUR")));
            const QString cloud = ab->table()->item(7, col)->text();
            QVERIFY2(near3(shownMoney(cloud), cloudCostByHand(s, 1.0, 4.0)), qPrintable(cloud));
        }
        QCOMPARE(ab->table()->verticalHeaderItem(7)->text(), QStringLiteral("Cost on Cheap API"));
        // Another cloud API re-prices the same run at once, without running it again.
        ab->cloudChoice()->setCurrentText(QStringLiteral("Dear API"));
        QVERIFY(near3(shownMoney(ab->table()->item(7, 0)->text()), cloudCostByHand(rep.a, 10, 30)));
        QCOMPARE(ab->table()->verticalHeaderItem(7)->text(), QStringLiteral("Cost on Dear API"));
        QVERIFY(rep.a.promptTokens != rep.b.promptTokens);
        QVERIFY(!ab->outputA()->toPlainText().isEmpty() && !ab->outputB()->toPlainText().isEmpty());
    }

    // A/B over a list of inputs: each input's prompt tokens are SentencePiece's count of the
    // variant with the input filled in by hand here, plus BOS; the totals row is the sum; the
    // progress bar counts the four runs; Cancel stops a long run with "Cancelled".
    void abOverInputs()
    {
        const QString a = QStringLiteral("Tell a short story about {input}.");
        const QString b = QStringLiteral("{input}:");
        const QStringList inputs = {QStringLiteral("a cat"), QStringLiteral("the red ball in the park")};
        const QStringList filledA = {QStringLiteral("Tell a short story about a cat."),
                                     QStringLiteral("Tell a short story about the red ball in the park.")};
        const QStringList filledB = {QStringLiteral("a cat:"), QStringLiteral("the red ball in the park:")};
        QList<int> expectA, expectB;
        for (int i = 0; i < 2; ++i) {
            expectA << sentencePieceCount(filledA[i]) + 1; // + BOS
            expectB << sentencePieceCount(filledB[i]) + 1;
        }
        if (expectA.contains(0) || expectB.contains(0))
            QSKIP("SentencePiece oracle (tools/spm_encode.py, python3-sentencepiece) did not run");
        QTemporaryDir dir;
        presetSettings(dir.path(), [](AppSettings& s) { QCOMPARE(savePriceTable(s, abPriceTable()), QString()); });
        Lab lab = launchLab(dir.path());
        QVERIFY(lab.page && lab.page->modelReady());
        lab.app->window().showPage(QStringLiteral("promptlab"));
        AbTab* ab = lab.page->abTab();
        lab.page->tabs()->setCurrentWidget(ab);
        ab->promptA()->setPlainText(a);
        ab->promptB()->setPlainText(b);
        ab->inputs()->setPlainText(inputs.join(QStringLiteral("\n\n")) + QStringLiteral("\n")); // blank lines skipped
        ab->tokens()->setValue(6);
        QSignalSpy progress(lab.page->host()->worker(), &PromptLabWorker::progress);
        QSignalSpy done(ab, &AbTab::finished);
        QTest::mouseClick(ab->runButton(), Qt::LeftButton);
        QCOMPARE(ab->progressBar()->maximum(), 4);
        QVERIFY(done.wait(60000));
        QCOMPARE(done.at(0).at(0).toBool(), true);
        QCOMPARE(progress.count(), 4);
        const AbReport& rep = ab->lastReport();
        QCOMPARE(rep.inputs.size(), 2);
        QTableWidget* t = ab->perInputTable();
        QVERIFY(t->isVisible());
        QCOMPARE(t->rowCount(), 3);
        int sumA = 0, sumB = 0, outA = 0, outB = 0;
        for (int i = 0; i < 2; ++i) {
            const AbInputRow& row = rep.inputs[i];
            QCOMPARE(row.input, inputs[i]);
            QCOMPARE(row.a.promptTokens, expectA[i]);
            QCOMPARE(row.b.promptTokens, expectB[i]);
            QVERIFY(row.a.outputTokens > 0 && row.a.outputTokens <= 6);
            QVERIFY(row.b.outputTokens > 0 && row.b.outputTokens <= 6);
            QCOMPARE(t->item(i, 0)->text(), inputs[i]);
            QCOMPARE(t->item(i, 1)->text(), QLocale().toString(expectA[i]));
            QCOMPARE(t->item(i, 7)->text(), QLocale().toString(expectB[i]));
            QVERIFY2(near3(shownMoney(t->item(i, 4)->text()), machineCostByHand(row.a)), qPrintable(t->item(i, 4)->text()));
            QVERIFY(near3(shownMoney(t->item(i, 5)->text()), cloudCostByHand(row.a, 1.0, 4.0)));
            QVERIFY(near3(shownMoney(t->item(i, 11)->text()), cloudCostByHand(row.b, 1.0, 4.0)));
            QCOMPARE(t->item(i, 6)->text(), row.a.output.simplified());
            QCOMPARE(t->item(i, 12)->text(), row.b.output.simplified());
            QCOMPARE(t->item(i, 6)->toolTip(), row.a.output);
            QVERIFY(!row.a.output.isEmpty() && !row.b.output.isEmpty());
            sumA += expectA[i];
            sumB += expectB[i];
            outA += row.a.outputTokens;
            outB += row.b.outputTokens;
        }
        QCOMPARE(t->item(2, 1)->text(), QLocale().toString(sumA));
        QCOMPARE(t->item(2, 2)->text(), QLocale().toString(outA));
        QCOMPARE(t->item(2, 7)->text(), QLocale().toString(sumB));
        QCOMPARE(t->item(2, 8)->text(), QLocale().toString(outB));
        // The totals row prices the summed tokens and the summed time and energy.
        QVERIFY(near3(shownMoney(t->item(2, 5)->text()), cloudCostByHand(rep.a, 1.0, 4.0)));
        QVERIFY(near3(shownMoney(t->item(2, 4)->text()),
                      machineCostByHand(rep.inputs[0].a) + machineCostByHand(rep.inputs[1].a)));
        QCOMPARE(ab->table()->item(0, 0)->text(), QLocale().toString(sumA)); // the figures table: totals

        // Cancel: a long run over the same inputs stops at the button.
        ab->tokens()->setValue(400);
        QSignalSpy cancelled(ab, &AbTab::finished);
        QSignalSpy started(lab.page->host()->worker(), &PromptLabWorker::progress);
        ab->start();
        QVERIFY(started.wait(10000));
        QVERIFY(ab->cancelButton()->isEnabled());
        QTest::mouseClick(ab->cancelButton(), Qt::LeftButton);
        QVERIFY(cancelled.wait(30000));
        QCOMPARE(cancelled.at(0).at(0).toBool(), false);
        QCOMPARE(ab->stage()->text(), QStringLiteral("Cancelled"));
        QVERIFY(ab->runButton()->isEnabled());
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
        ab->promptA()->setPlainText(QStringLiteral("Summarize in one sentence: {input}"));
        ab->promptB()->setPlainText(QStringLiteral("{input} In short:"));
        ab->inputs()->setPlainText(QStringLiteral("The lamp of the lighthouse went dark during a winter storm.\n"
                                                  "A little dog found a red ball in the park and ran home."));
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
