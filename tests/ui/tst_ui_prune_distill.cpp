// The Prune and Distill wizards, driven offscreen on stories260K through the real app (store
// thread, engine job thread): Wanda 50% with recovery training to the results page, a layer cut
// whose predicted size is held to the written file, a distillation to the results page, and a
// distillation paused, resumed and cancelled. Oracles: the zeros counted in the written file
// (at least half of every row of every pruned matrix, and still zero after recovery), the file's
// size and layer count read back from GGUF, and the wizards' KL divergence against the
// runtime's klDivergence on the same held-out windows.
#include "gui_test_support.h"

#include "core/main_window.h"
#include "eval/evaluate.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "optimize/distill_wizard.h"
#include "optimize/optimize_page.h"
#include "optimize/optimize_views.h"
#include "optimize/prune_wizard.h"
#include "optimize/quality_chart.h"
#include "optimize/training_chart.h"
#include "passes/prune_structured.h"
#include "passes/row_convert.h"
#include "runtime/cpu_backend.h"
#include "runtime/perplexity.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QtTest>

#include <cmath>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

namespace {

OptimizePage* optimizePage(Application& app)
{
    return qobject_cast<OptimizePage*>(app.window().page(QStringLiteral("optimize")));
}

// The runtime's own mean KL divergence of `model` from `base` on the held-out quarter of the
// shipped text, as the jobs measure it.
double directMeanKld(const QString& basePath, const QString& modelPath, int* windows)
{
    auto base = Model::loadGGUF(basePath.toStdString());
    auto model = Model::loadGGUF(modelPath.toStdString());
    QFile text(OptimizeJob::defaultTextPath());
    if (!text.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray bytes = text.readAll();
    const auto tokens = evaluationTokens(*base, std::string_view(bytes.constData(), size_t(bytes.size())));
    const std::vector<int32_t> held(tokens.begin() + int64_t(tokens.size() * 3 / 4), tokens.end());
    int nCtx = std::min(512, base->hparams().nCtxTrain);
    while (nCtx > 64 && int64_t(held.size()) < nCtx)
        nCtx /= 2;
    auto backend = createCpuBackend(0);
    ContextParams cp;
    cp.nCtx = nCtx;
    auto bc = backend->createContext(base, cp), mc = backend->createContext(model, cp);
    PerplexityOptions po;
    po.nCtx = nCtx;
    po.bos = evaluationBos(*base);
    const KlDivergenceResult r = klDivergence(*bc, *mc, held, po);
    *windows = r.base.chunks;
    return r.meanKld;
}

} // namespace

class TestUiPruneDistill : public QObject {
    Q_OBJECT

private slots:
    void wandaWithRecoveryToResults()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        QTemporaryDir dir;
        auto app = launch(dir.path());
        OptimizePage* page = optimizePage(*app);
        QVERIFY(page);
        PruneWizard* w = page->openPruneWizard(stories260K());
        QSignalSpy shape(w, &PruneWizard::shapeRead);
        QVERIFY(shape.wait(20000));
        w->methodCombo()->setCurrentIndex(w->methodCombo()->findData(QStringLiteral("wanda")));
        w->sparsitySpin()->setValue(50);
        w->recoverStepsSpin()->setValue(5);
        // Zeros are stored: the same size is predicted.
        QCOMPARE(w->predictedBytes(), uint64_t(QFileInfo(stories260K()).size()));
        const QString out = dir.filePath(QStringLiteral("stories-wanda50.gguf"));
        w->outputEdit()->setText(out);
        QSignalSpy finished(w, &PruneWizard::runFinished);
        QSignalSpy recorded(w, &PruneWizard::runRecordedInStore);
        w->next(); // method
        w->next(); // text (shipped)
        w->next(); // run
        QCOMPARE(w->currentId(), int(PruneWizard::RunPageId));
        QVERIFY2(finished.wait(180000), qPrintable(w->runView()->stageLabel()->text()));
        QCOMPARE(w->currentId(), int(PruneWizard::ResultsPageId));
        QVERIFY(w->result().has_value());
        const OptimizeJobResult& r = *w->result();
        QCOMPARE(r.trainSteps, qint64(5));
        QCOMPARE(w->runView()->chart()->trainPoints(), 5); // the live loss saw every step

        // At least half of every row of every pruned matrix is zero in the written file, after
        // recovery training too.
        {
            const auto f = GGUFFile::open(out.toStdString());
            int pruned = 0;
            for (const GGUFTensorInfo& t : f->tensors()) {
                if (prunableLayer(t.name) < 0)
                    continue;
                ++pruned;
                const int64_t cols = t.ne[0];
                std::vector<float> row(static_cast<size_t>(cols));
                for (int64_t i = 0; i < t.rows(); ++i) {
                    rowToFloat(t.type, t.data + i * (t.nbytes / uint64_t(t.rows())), row.data(), cols);
                    int64_t zeros = 0;
                    for (float v : row)
                        zeros += v == 0.0f;
                    QVERIFY2(zeros >= cols / 2, qPrintable(QStringLiteral("%1 row %2: %3 zeros of %4")
                                                               .arg(QString::fromStdString(t.name)).arg(i).arg(zeros).arg(cols)));
                }
            }
            QVERIFY(pruned > 0);
        }
        int windows = 0;
        const double direct = directMeanKld(stories260K(), out, &windows);
        QCOMPARE(r.evalWindows, windows);
        QVERIFY(r.meanKld > 0);
        QVERIFY2(std::fabs(r.meanKld - direct) <= 1e-9 + 1e-6 * direct,
                 qPrintable(QStringLiteral("wizard %1, klDivergence %2").arg(r.meanKld).arg(direct)));
        QVERIFY(recorded.count() > 0 || recorded.wait(10000));
        const auto runs = storeAfterPendingWrites(*app).optimizationRuns();
        QCOMPARE(int(runs.size()), 1);
        QCOMPARE(runs[0].method, std::string("prune"));
        QCOMPARE(runs[0].status, std::string("ok"));
        QVERIFY(waitUntil([&] { return !w->resultsView()->chart()->points().empty(); }, 10000));
        bool current = false;
        for (const QualityPoint& p : w->resultsView()->chart()->points())
            current |= p.kind == QualityPoint::Kind::Current && std::fabs(p.kld - r.meanKld) < 1e-12;
        QVERIFY(current);
        QDir().mkpath(QStringLiteral(TENFOLD_BINARY_DIR "/screenshots"));
        w->resize(900, 760);
        w->grab().save(QStringLiteral(TENFOLD_BINARY_DIR "/screenshots/prune-results-en.png"));
        w->close();
    }

    void layerCutMatchesPrediction()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        QTemporaryDir dir;
        auto app = launch(dir.path());
        PruneWizard* w = optimizePage(*app)->openPruneWizard(stories260K());
        QSignalSpy shape(w, &PruneWizard::shapeRead);
        QVERIFY(shape.wait(20000));
        const int layers = Model::loadGGUF(stories260K().toStdString())->hparams().nLayer;
        QVERIFY(layers >= 2);
        w->methodCombo()->setCurrentIndex(w->methodCombo()->findData(QStringLiteral("layers")));
        w->layersKeepSpin()->setValue(layers - 1);
        const uint64_t predicted = w->predictedBytes();
        const QString out = dir.filePath(QStringLiteral("stories-layers.gguf"));
        w->outputEdit()->setText(out);
        QSignalSpy finished(w, &PruneWizard::runFinished);
        w->next();
        w->next();
        w->next();
        QVERIFY2(finished.wait(180000), qPrintable(w->runView()->stageLabel()->text()));
        QCOMPARE(Model::loadGGUF(out.toStdString())->hparams().nLayer, layers - 1);
        // The prediction counts tensor bytes; the header and padding differ by a little.
        const double actual = double(QFileInfo(out).size());
        QVERIFY2(std::fabs(actual - double(predicted)) < 0.02 * actual,
                 qPrintable(QStringLiteral("predicted %1, wrote %2").arg(predicted).arg(actual)));
        QVERIFY(!w->runView()->chart()->isVisible()); // no training, no loss chart
        w->close();
    }

    void distillToResults()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        QTemporaryDir dir;
        auto app = launch(dir.path());
        DistillWizard* w = optimizePage(*app)->openDistillWizard(stories260K());
        QSignalSpy shape(w, &DistillWizard::shapeRead);
        QVERIFY(shape.wait(20000));
        const int layers = Model::loadGGUF(stories260K().toStdString())->hparams().nLayer;
        QCOMPARE(w->layersSpin()->maximum(), layers - 1); // a student is smaller than its teacher
        w->layersSpin()->setValue(2);
        w->stepsSpin()->setValue(6);
        w->batchSpin()->setValue(2);
        w->ctxSpin()->setValue(64);
        const QString out = dir.filePath(QStringLiteral("student.gguf"));
        w->outputEdit()->setText(out);
        const uint64_t predicted = w->predictedBytes();
        QSignalSpy finished(w, &DistillWizard::runFinished);
        QSignalSpy recorded(w, &DistillWizard::runRecordedInStore);
        w->next(); // student
        w->next(); // text
        w->next(); // run
        QVERIFY2(finished.wait(180000), qPrintable(w->runView()->stageLabel()->text()));
        QCOMPARE(w->currentId(), int(DistillWizard::ResultsPageId));
        const OptimizeJobResult& r = *w->result();
        QCOMPARE(r.trainSteps, qint64(6));
        QCOMPARE(w->runView()->chart()->trainPoints(), 6);
        QVERIFY(w->runView()->chart()->validationPoints() >= 1);
        QCOMPARE(Model::loadGGUF(out.toStdString())->hparams().nLayer, 2);
        const double actual = double(QFileInfo(out).size());
        QVERIFY2(std::fabs(actual - double(predicted)) < 0.05 * actual,
                 qPrintable(QStringLiteral("predicted %1, wrote %2").arg(predicted).arg(actual)));
        int windows = 0;
        const double direct = directMeanKld(stories260K(), out, &windows);
        QCOMPARE(r.evalWindows, windows);
        QVERIFY2(std::fabs(r.meanKld - direct) <= 1e-9 + 1e-6 * direct,
                 qPrintable(QStringLiteral("wizard %1, klDivergence %2").arg(r.meanKld).arg(direct)));
        QVERIFY(recorded.count() > 0 || recorded.wait(10000));
        const auto runs = storeAfterPendingWrites(*app).optimizationRuns();
        QCOMPARE(int(runs.size()), 1);
        QCOMPARE(runs[0].method, std::string("distill"));
        w->close();
    }

    void distillPauseResumeCancel()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        QTemporaryDir dir;
        auto app = launch(dir.path());
        DistillWizard* w = optimizePage(*app)->openDistillWizard(stories260K());
        QSignalSpy shape(w, &DistillWizard::shapeRead);
        QVERIFY(shape.wait(20000));
        w->layersSpin()->setValue(2);
        w->stepsSpin()->setValue(100000);
        w->batchSpin()->setValue(1);
        w->ctxSpin()->setValue(32);
        const QString out = dir.filePath(QStringLiteral("never.gguf"));
        w->outputEdit()->setText(out);
        QSignalSpy steps(&w->job(), &OptimizeJob::trainingStep);
        QSignalSpy stopped(w, &DistillWizard::runStopped);
        QSignalSpy recorded(w, &DistillWizard::runRecordedInStore);
        w->next();
        w->next();
        w->next();
        QVERIFY(waitUntil([&] { return steps.count() >= 2; }, 60000));
        QVERIFY(w->runView()->pauseButton()->isEnabled());
        QTest::mouseClick(w->runView()->pauseButton(), Qt::LeftButton);
        QVERIFY(w->job().isPaused());
        QTest::qWait(300); // the step under way when Pause was pressed may still arrive
        const int held = steps.count();
        QTest::qWait(1200);
        QCOMPARE(steps.count(), held); // no step while paused
        QTest::mouseClick(w->runView()->pauseButton(), Qt::LeftButton);
        QVERIFY(waitUntil([&] { return steps.count() > held; }, 30000));
        QTest::mouseClick(w->runView()->cancelButton(), Qt::LeftButton);
        QVERIFY(stopped.count() > 0 || stopped.wait(60000));
        QVERIFY(!QFile::exists(out));
        QVERIFY(QDir(dir.path()).entryList({QStringLiteral("never.gguf*")}).isEmpty());
        QVERIFY(recorded.count() > 0 || recorded.wait(10000));
        const auto runs = storeAfterPendingWrites(*app).optimizationRuns();
        QCOMPARE(int(runs.size()), 1);
        QCOMPARE(runs[0].status, std::string("cancelled"));
        QVERIFY(w->button(QWizard::BackButton)->isEnabled());
        w->close();
    }
};

QTEST_MAIN(TestUiPruneDistill)
#include "tst_ui_prune_distill.moc"
