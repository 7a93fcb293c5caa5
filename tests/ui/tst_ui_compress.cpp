// The Compress wizard, driven offscreen on stories260K through the real app (store thread, engine
// job thread): palettes with 4-bit indices from the model to the results page, the file it wrote,
// the run in the store and on the chart, the standard-GGUF export; then a low-rank run cancelled
// midway leaves no file. Oracles: the predicted size against the written file, the wizard's KL
// divergence against the runtime's klDivergence on the same held-out windows, and the exported
// file's types read back from its header.
#include "gui_test_support.h"

#include "core/main_window.h"
#include "eval/evaluate.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "optimize/compress_wizard.h"
#include "optimize/optimize_page.h"
#include "optimize/quality_chart.h"
#include "runtime/cpu_backend.h"
#include "runtime/perplexity.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QTableWidget>
#include <QtTest>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

class TestUiCompress : public QObject {
    Q_OBJECT

    static OptimizePage* optimizePage(Application& app)
    {
        return qobject_cast<OptimizePage*>(app.window().page(QStringLiteral("optimize")));
    }

private slots:
    void paletteFromStartToResults()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        QTemporaryDir dir;
        auto app = launch(dir.path());
        OptimizePage* page = optimizePage(*app);
        QVERIFY(page);
        QVERIFY(page->compressButton());
        QCOMPARE(page->compressButton()->shortcut(), QKeySequence(QStringLiteral("Ctrl+Shift+C")));
        CompressWizard* w = page->openCompressWizard(stories260K());
        QSignalSpy shapes(w, &CompressWizard::shapesRead);
        QVERIFY(shapes.wait(20000));
        w->paletteRadio()->setChecked(true);
        w->bitsCombo()->setCurrentIndex(w->bitsCombo()->findData(3)); // 8-entry tables, indices straddling bytes
        QVERIFY(w->tuneStepsSpin()->isEnabled());
        QVERIFY(!w->tuneCodesCheck()->isEnabled()); // nothing to tune yet
        w->tuneStepsSpin()->setValue(6); // a few distillation steps: the tables move, the size does not
        QVERIFY(w->tuneCodesCheck()->isEnabled());
        w->tuneCodesCheck()->setChecked(true); // the codes may move too
        QVERIFY(w->predictedLabel()->text().contains(QStringLiteral("MB")));
        const uint64_t predicted = w->predictedBytes();
        QVERIFY(predicted > 0);
        // Low-rank's floor is shown too, and a target below it is said to be unreachable.
        w->lowRankRadio()->setChecked(true);
        QVERIFY(w->smallestLowRankBytes() > 0);
        w->targetSizeSpin()->setValue(0.01);
        QVERIFY2(w->predictedLabel()->text().contains(QStringLiteral("below")), qPrintable(w->predictedLabel()->text()));
        w->paletteRadio()->setChecked(true);
        QCOMPARE(w->predictedBytes(), predicted);
        const QString out = dir.filePath(QStringLiteral("stories-pal3.gguf"));
        w->outputEdit()->setText(out);

        QSignalSpy finished(w, &CompressWizard::runFinished);
        QSignalSpy recorded(w, &CompressWizard::runRecordedInStore);
        QSignalSpy history(w, &CompressWizard::historyShown);
        w->next(); // method
        w->next(); // text (the shipped stories)
        w->next(); // run
        QCOMPARE(w->currentId(), int(CompressWizard::RunPageId));
        QVERIFY2(finished.wait(60000), qPrintable(w->stageLabel()->text()));
        QCOMPARE(w->currentId(), int(CompressWizard::ResultsPageId));
        QVERIFY(w->result().has_value());
        const CompressJobResult& r = *w->result();

        // The file is there, has palettes, and is the size the method page predicted (up to the
        // last tensor's padding, which the file does not carry).
        QVERIFY(QFile::exists(out));
        const uint64_t actual = uint64_t(QFileInfo(out).size());
        QVERIFY2(actual <= predicted && predicted - actual < 32,
                 qPrintable(QStringLiteral("predicted %1, wrote %2").arg(predicted).arg(actual)));
        QCOMPARE(r.outputBytes, actual);
        int palettes = 0;
        {
            const auto f = GGUFFile::open(out.toStdString());
            for (const GGUFTensorInfo& t : f->tensors())
                palettes += t.name.ends_with(".pal_idx") ? 1 : 0;
        }
        QVERIFY(palettes > 0);
        auto base = Model::loadGGUF(stories260K().toStdString());
        auto compressed = Model::loadGGUF(out.toStdString()); // the output loads

        // The KL divergence it shows, against the runtime's own on the same held-out windows.
        QFile text(CompressJob::defaultTextPath());
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
        auto bc = backend->createContext(base, cp), cc = backend->createContext(compressed, cp);
        PerplexityOptions po;
        po.nCtx = nCtx;
        po.bos = evaluationBos(*base);
        const KlDivergenceResult direct = klDivergence(*bc, *cc, held, po);
        QCOMPARE(r.evalWindows, direct.base.chunks);
        QVERIFY(r.meanKld > 0);
        QVERIFY2(std::fabs(r.meanKld - direct.meanKld) <= 1e-9 + 1e-6 * direct.meanKld,
                 qPrintable(QStringLiteral("wizard %1, klDivergence %2").arg(r.meanKld).arg(direct.meanKld)));
        QVERIFY(w->reportTable()->rowCount() >= 8);

        // Recorded as a compress run with its label, and charted with the original.
        QVERIFY(recorded.count() > 0 || recorded.wait(10000));
        QVERIFY(history.count() > 0 || history.wait(10000));
        bool current = false, original = false;
        for (const QualityPoint& p : w->chart()->points()) {
            current |= p.kind == QualityPoint::Kind::Current && std::fabs(p.kld - r.meanKld) < 1e-12 &&
                       std::fabs(p.megabytes - double(actual) / 1e6) < 1e-9;
            original |= p.kind == QualityPoint::Kind::Original && p.kld == 0;
        }
        QVERIFY(current && original);
        const auto runs = storeAfterPendingWrites(*app).optimizationRuns();
        QCOMPARE(int(runs.size()), 1);
        QCOMPARE(runs[0].method, std::string("compress"));
        QCOMPARE(runs[0].status, std::string("ok"));
        QCOMPARE(QString::fromStdString(runs[0].outputPath), out);
        QCOMPARE(runs[0].outputBytes, int64_t(actual));
        const QJsonObject params = QJsonDocument::fromJson(QByteArray::fromStdString(runs[0].parametersJson)).object();
        QCOMPARE(params.value(QStringLiteral("label")).toString(), QStringLiteral("palette 3-bit, tuned"));
        QCOMPARE(params.value(QStringLiteral("tune_steps")).toInt(), 6);
        QCOMPARE(params.value(QStringLiteral("tune_codes")).toBool(), true);
        QVERIFY2(params.value(QStringLiteral("detail")).toString().contains(QStringLiteral("codes changed")),
                 qPrintable(params.value(QStringLiteral("detail")).toString()));
        QVERIFY2(params.value(QStringLiteral("detail")).toString().contains(QStringLiteral("tuned for 6 steps")),
                 qPrintable(params.value(QStringLiteral("detail")).toString()));
        const auto point = qualityPointOf(runs[0], QualityPoint::Kind::Earlier);
        QVERIFY(point.has_value());
        QCOMPARE(point->label, QStringLiteral("palette 3-bit, tuned"));

        // Export standard GGUF: palettes decoded, every weight matrix in the chosen type.
        QSignalSpy exported(w, &CompressWizard::exportDone);
        w->exportTypeCombo()->setCurrentText(QStringLiteral("Q8_0"));
        QTest::mouseClick(w->exportButton(), Qt::LeftButton);
        QVERIFY(exported.count() > 0 || exported.wait(30000));
        QVERIFY2(exported.at(0).at(0).toBool(), qPrintable(w->exportStatusLabel()->text()));
        QVERIFY(QFile::exists(w->lastExportPath()));
        {
            const auto f = GGUFFile::open(w->lastExportPath().toStdString());
            QVERIFY(!f->find("tenfold.palette.tensors"));
            int q8 = 0;
            for (const GGUFTensorInfo& t : f->tensors()) {
                QVERIFY2(!t.name.ends_with(".pal_idx") && !t.name.ends_with(".pal_tab"), t.name.c_str());
                q8 += t.type == GGMLType::Q8_0 ? 1 : 0;
            }
            QVERIFY(q8 > 0);
        }
        QVERIFY(Model::loadGGUF(w->lastExportPath().toStdString()) != nullptr);
        QDir().mkpath(QStringLiteral(TENFOLD_BINARY_DIR "/screenshots"));
        w->resize(900, 760);
        w->grab().save(QStringLiteral(TENFOLD_BINARY_DIR "/screenshots/compress-results-en.png"));
        w->close();
    }

    void cancelMidRunLeavesNoFile()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        TENFOLD_REQUIRE_SHARED(sharedFile("text/valid.txt"));
        QTemporaryDir dir;
        auto app = launch(dir.path());
        CompressWizard* w = optimizePage(*app)->openCompressWizard(stories260K());
        QSignalSpy shapes(w, &CompressWizard::shapesRead);
        QVERIFY(shapes.wait(20000));
        w->lowRankRadio()->setChecked(true);
        w->targetSizeSpin()->setValue(double(w->smallestLowRankBytes()) / 1e6 + 0.05);
        const QString out = dir.filePath(QStringLiteral("never.gguf"));
        w->outputEdit()->setText(out);
        QSignalSpy stopped(w, &CompressWizard::runStopped);
        QSignalSpy recorded(w, &CompressWizard::runRecordedInStore);
        w->next();
        // A long text: calibration runs over many windows, long enough to cancel in the middle.
        w->textFileRadio()->setChecked(true);
        w->textFileEdit()->setText(QString::fromStdString(sharedFile("text/valid.txt").string()));
        w->next();
        w->next();
        QVERIFY(waitUntil([&] { return w->progressBar()->value() > 0; }, 30000));
        QVERIFY(w->cancelRunButton()->isEnabled());
        QTest::mouseClick(w->cancelRunButton(), Qt::LeftButton);
        QVERIFY(stopped.count() > 0 || stopped.wait(30000));
        QVERIFY2(w->stageLabel()->text().contains(CompressWizard::tr("Cancelled").left(6)), qPrintable(w->stageLabel()->text()));
        QVERIFY(!QFile::exists(out));
        QVERIFY(QDir(dir.path()).entryList({QStringLiteral("never.gguf*")}).isEmpty()); // no temporary left either
        QVERIFY(recorded.count() > 0 || recorded.wait(10000));
        const auto runs = storeAfterPendingWrites(*app).optimizationRuns();
        QCOMPARE(int(runs.size()), 1);
        QCOMPARE(runs[0].method, std::string("compress"));
        QCOMPARE(runs[0].status, std::string("cancelled"));
        QVERIFY(w->button(QWizard::BackButton)->isEnabled()); // the wizard stays usable
        w->back();
        QCOMPARE(w->currentId(), int(CompressWizard::TextPageId));
        w->close();
    }
};

QTEST_MAIN(TestUiCompress)
#include "tst_ui_compress.moc"
