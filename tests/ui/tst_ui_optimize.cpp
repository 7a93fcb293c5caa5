// The Optimize page and the Quantize wizard, driven offscreen on stories260K through the real app
// (store thread, engine job thread): from the model to the results page, the file it wrote, the
// run in the store and on the page; then a run cancelled midway and one refused for a too-short
// text. Oracles: the predicted size against the written file, and the wizard's KL divergence
// against the runtime's klDivergence on the same held-out windows.
#include "gui_test_support.h"

#include "core/main_window.h"
#include "eval/evaluate.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "optimize/optimize_page.h"
#include "optimize/quality_chart.h"
#include "optimize/quantize_wizard.h"
#include "runtime/cpu_backend.h"
#include "runtime/perplexity.h"

#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QTableWidget>
#include <QtTest>

#include <set>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

class TestUiOptimize : public QObject {
    Q_OBJECT

    static OptimizePage* optimizePage(Application& app)
    {
        return qobject_cast<OptimizePage*>(app.window().page(QStringLiteral("optimize")));
    }

private slots:
    void quantizeFromStartToResults()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        QTemporaryDir dir;
        auto app = launch(dir.path());
        OptimizePage* page = optimizePage(*app);
        QVERIFY(page);
        QuantizeWizard* w = page->openQuantizeWizard(stories260K());
        QSignalSpy shapes(w, &QuantizeWizard::shapesRead);
        QVERIFY(shapes.wait(20000));
        // A preset: the reference engine's Q4_K_M mix (its per-tensor rules are held to
        // llama-quantize in tst_quant_presets; here the wizard's path to them).
        w->typeCombo()->setCurrentText(QStringLiteral("Q4_K_M"));
        QCOMPARE(w->typeCombo()->currentData().toString(), QStringLiteral("preset"));
        w->methodCombo()->setCurrentIndex(w->methodCombo()->findData(QStringLiteral("gptq")));
        QVERIFY(w->predictedLabel()->text().contains(QStringLiteral("MB")));
        const uint64_t predicted = w->predictedBytes();
        QVERIFY(predicted > 0);
        const QString out = dir.filePath(QStringLiteral("stories-q4km.gguf"));
        w->outputEdit()->setText(out);

        QSignalSpy finished(w, &QuantizeWizard::runFinished);
        QSignalSpy recorded(w, &QuantizeWizard::runRecordedInStore);
        QSignalSpy history(w, &QuantizeWizard::historyShown);
        w->next(); // recipe
        w->next(); // text (the shipped stories)
        w->next(); // run
        QCOMPARE(w->currentId(), int(QuantizeWizard::RunPageId));
        QVERIFY2(finished.wait(180000), qPrintable(w->stageLabel()->text()));
        QCOMPARE(w->currentId(), int(QuantizeWizard::ResultsPageId));
        QVERIFY(w->result().has_value());
        const QuantizeJobResult& r = *w->result();

        // The file is there, loads, and is the size the recipe page predicted (up to the last
        // tensor's padding, which the file does not carry).
        QVERIFY(QFile::exists(out));
        const uint64_t actual = uint64_t(QFileInfo(out).size());
        QVERIFY2(actual <= predicted && predicted - actual < 32,
                 qPrintable(QStringLiteral("predicted %1, wrote %2").arg(predicted).arg(actual)));
        QCOMPARE(r.outputBytes, actual);
        {
            const auto f = GGUFFile::open(out.toStdString());
            QCOMPARE(f->getInt("general.file_type"), std::optional<int64_t>(15)); // llama_ftype Q4_K_M
            std::set<GGMLType> quantizedTypes;
            for (const GGUFTensorInfo& t : f->tensors())
                if (typeTraits(t.type).quantized)
                    quantizedTypes.insert(t.type);
            QVERIFY2(quantizedTypes.size() >= 2, "a preset is a mix of types");
        }
        auto base = Model::loadGGUF(stories260K().toStdString());
        auto quantized = Model::loadGGUF(out.toStdString());

        // The KL divergence it shows, against the runtime's own on the same held-out windows.
        QFile text(QuantizeJob::defaultTextPath());
        QVERIFY(text.open(QIODevice::ReadOnly));
        const QByteArray bytes = text.readAll();
        const auto tokens = evaluationTokens(*base, std::string_view(bytes.constData(), size_t(bytes.size())));
        const std::vector<int32_t> held(tokens.begin() + int64_t(tokens.size() * 3 / 4), tokens.end());
        int nCtx = std::min(512, base->hparams().nCtxTrain);
        while (nCtx > 64 && int64_t(held.size()) < nCtx)
            nCtx /= 2;
        auto backend = createCpuBackend(0);
        ContextParams cp;
        cp.nCtx = nCtx;
        auto bc = backend->createContext(base, cp), qc = backend->createContext(quantized, cp);
        PerplexityOptions po;
        po.nCtx = nCtx;
        po.bos = evaluationBos(*base);
        const KlDivergenceResult direct = klDivergence(*bc, *qc, held, po);
        QCOMPARE(r.evalWindows, direct.base.chunks);
        QVERIFY(r.meanKld > 0);
        QVERIFY2(std::fabs(r.meanKld - direct.meanKld) <= 1e-9 + 1e-6 * direct.meanKld,
                 qPrintable(QStringLiteral("wizard %1, klDivergence %2").arg(r.meanKld).arg(direct.meanKld)));
        QVERIFY(w->reportTable()->rowCount() >= 8);

        // Recorded, charted with the original, and listed on the page.
        QVERIFY(recorded.count() > 0 || recorded.wait(10000));
        QVERIFY(history.count() > 0 || history.wait(10000));
        bool current = false, original = false;
        for (const QualityPoint& p : w->chart()->points()) {
            current |= p.kind == QualityPoint::Kind::Current && std::fabs(p.kld - r.meanKld) < 1e-12;
            original |= p.kind == QualityPoint::Kind::Original && p.kld == 0;
        }
        QVERIFY(current && original);
        const auto runs = storeAfterPendingWrites(*app).optimizationRuns();
        QCOMPARE(int(runs.size()), 1);
        QCOMPARE(runs[0].status, std::string("ok"));
        QCOMPARE(QString::fromStdString(runs[0].outputPath), out);
        QSignalSpy shown(page, &OptimizePage::runsShown);
        page->refresh();
        QVERIFY(shown.wait(10000));
        QCOMPARE(page->runsTable()->rowCount(), 1);
        QCOMPARE(page->runsTable()->item(0, 6)->text(), OptimizePage::tr("done"));
        // For a person to look at (like tst_ui_screenshots): the results page and the history.
        QDir().mkpath(QStringLiteral(TENFOLD_BINARY_DIR "/screenshots"));
        w->resize(900, 760);
        w->grab().save(QStringLiteral(TENFOLD_BINARY_DIR "/screenshots/quantize-results-en.png"));
        page->resize(1100, 760);
        page->grab().save(QStringLiteral(TENFOLD_BINARY_DIR "/screenshots/optimize-history-en.png"));
        w->close();
    }

    void cancelMidRunLeavesNoFile()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        QTemporaryDir dir;
        auto app = launch(dir.path());
        OptimizePage* page = optimizePage(*app);
        QuantizeWizard* w = page->openQuantizeWizard(stories260K());
        QSignalSpy shapes(w, &QuantizeWizard::shapesRead);
        QVERIFY(shapes.wait(20000));
        // A size budget: calibration, then a sensitivity measurement per tensor and type, long
        // enough to cancel in the middle.
        w->targetSizeRadio()->setChecked(true);
        w->targetSizeSpin()->setValue(0.9);
        const QString out = dir.filePath(QStringLiteral("never.gguf"));
        w->outputEdit()->setText(out);
        QSignalSpy stopped(w, &QuantizeWizard::runStopped);
        QSignalSpy recorded(w, &QuantizeWizard::runRecordedInStore);
        w->next();
        w->next();
        w->next();
        QVERIFY(waitUntil([&] { return w->progressBar()->value() > 0; }, 60000));
        QVERIFY(w->cancelRunButton()->isEnabled());
        QTest::mouseClick(w->cancelRunButton(), Qt::LeftButton);
        QVERIFY(stopped.count() > 0 || stopped.wait(60000));
        QVERIFY2(w->stageLabel()->text().contains(QuantizeWizard::tr("Cancelled").left(6)), qPrintable(w->stageLabel()->text()));
        QVERIFY(!QFile::exists(out));
        QVERIFY(QDir(dir.path()).entryList({QStringLiteral("never.gguf*")}).isEmpty()); // no temporary left either
        QVERIFY(recorded.count() > 0 || recorded.wait(10000));
        const auto runs = storeAfterPendingWrites(*app).optimizationRuns();
        QCOMPARE(int(runs.size()), 1);
        QCOMPARE(runs[0].status, std::string("cancelled"));
        QVERIFY(w->button(QWizard::BackButton)->isEnabled()); // the wizard stays usable
        w->back();
        QCOMPARE(w->currentId(), int(QuantizeWizard::TextPageId));
        w->close();
    }

    void tooShortTextIsRefusedClearly()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        QTemporaryDir dir;
        auto app = launch(dir.path());
        QuantizeWizard* w = optimizePage(*app)->openQuantizeWizard(stories260K());
        QSignalSpy shapes(w, &QuantizeWizard::shapesRead);
        QVERIFY(shapes.wait(20000));
        QFile t(dir.filePath(QStringLiteral("tiny.txt")));
        QVERIFY(t.open(QIODevice::WriteOnly));
        t.write("Once upon a time there was a cat.");
        t.close();
        const QString out = dir.filePath(QStringLiteral("tiny.gguf"));
        w->outputEdit()->setText(out);
        QSignalSpy stopped(w, &QuantizeWizard::runStopped);
        w->next();
        w->textFileRadio()->setChecked(true);
        w->textFileEdit()->setText(t.fileName());
        w->next();
        w->next();
        QVERIFY(stopped.count() > 0 || stopped.wait(30000));
        QVERIFY2(w->stageLabel()->text().contains(QStringLiteral("tokens")), qPrintable(w->stageLabel()->text()));
        QVERIFY(!QFile::exists(out));
        w->close();
    }
};

QTEST_MAIN(TestUiOptimize)
#include "tst_ui_optimize.moc"
