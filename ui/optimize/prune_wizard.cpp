#include "optimize/prune_wizard.h"

#include "core/app_context.h"
#include "core/background.h"
#include "optimize/optimize_views.h"
#include "optimize/wizard_parts.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace tenfold::ui {

PruneWizard::PruneWizard(AppContext& context, const QString& inputModel, QWidget* parent)
    : QWizard(parent), context_(context), job_(new PruneJob(this))
{
    setWindowTitle(tr("Prune a model"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnLastPage, true);
    setPage(ModelPageId, makeModelPage());
    setPage(MethodPageId, makeMethodPage());
    setPage(TextPageId, makeTextPage());
    setPage(RunPageId, makeRunPage());
    setPage(ResultsPageId, makeResultsPage());
    resize(780, 680);

    connect(job_, &OptimizeJob::finished, this, [this](const OptimizeJobResult& r) {
        running_ = false;
        done_ = true;
        result_ = r;
        run_->stopped();
        run_->setStage(tr("Done in %1 s.").arg(r.seconds, 0, 'f', 1));
        record(QStringLiteral("ok"), {});
        results_->showResult(r, tr("Original"), tr("This run"), {{tr("Method"), pruneLabel(request())}});
        static_cast<GatedPage*>(page(RunPageId))->refresh();
        next();
        emit runFinished();
    });
    connect(job_, &OptimizeJob::failed, this, [this](const QString& message) {
        running_ = false;
        run_->stopped();
        run_->setStage(tr("The run failed: %1").arg(message));
        record(QStringLiteral("failed"), message);
        button(QWizard::BackButton)->setEnabled(true);
        emit runStopped();
    });
    connect(job_, &OptimizeJob::cancelled, this, [this] {
        running_ = false;
        run_->stopped();
        run_->setStage(tr("Cancelled. No file was written; go back to change the run, or close."));
        record(QStringLiteral("cancelled"), {});
        button(QWizard::BackButton)->setEnabled(true);
        emit runStopped();
    });
    fillModelCombo(context_, model_, inputModel, this);
    inputChanged();
}

PruneWizard::~PruneWizard() = default;

QWizardPage* PruneWizard::makeModelPage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("Which model?"));
    page->setSubTitle(tr("The model to prune. It stays as it is; the result is a new file."));
    model_ = new QComboBox;
    modelInfo_ = new QLabel;
    modelInfo_->setWordWrap(true);
    auto* form = new QFormLayout(page);
    addModelRow(form, model_, tr("&Model:"), this);
    form->addRow(modelInfo_);
    connect(model_, &QComboBox::currentIndexChanged, this, [this] { inputChanged(); });
    return page;
}

QWizardPage* PruneWizard::makeMethodPage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("What to remove?"));
    page->setSubTitle(tr("Zero the least important weights (the file keeps its shape), or cut whole KV head "
                         "groups, FFN channels or layers (a smaller file any engine runs)."));
    method_ = new QComboBox;
    method_->addItem(tr("Wanda: weights × input activations (calibrated)"), QStringLiteral("wanda"));
    method_->addItem(tr("SparseGPT: prune and reconstruct (best quality, slower)"), QStringLiteral("sparsegpt"));
    method_->addItem(tr("Magnitude: smallest weights (no calibration)"), QStringLiteral("magnitude"));
    method_->insertSeparator(method_->count());
    method_->addItem(tr("KV head groups (structured)"), QStringLiteral("heads"));
    method_->addItem(tr("FFN channels (structured)"), QStringLiteral("ffn"));
    method_->addItem(tr("Whole layers (structured)"), QStringLiteral("layers"));
    nm_ = new QCheckBox(tr("&2:4 pattern (two of every four weights kept)"));
    sparsity_ = new QDoubleSpinBox;
    sparsity_->setRange(1, 95);
    sparsity_->setDecimals(0);
    sparsity_->setSuffix(QStringLiteral(" %"));
    sparsity_->setValue(50);
    layersKeep_ = new QSpinBox;
    layersKeep_->setRange(1, 1);
    recoverSteps_ = new QSpinBox;
    recoverSteps_->setRange(0, 100000);
    recoverSteps_->setValue(0);
    recoverSteps_->setSpecialValueText(tr("none"));
    recoverSteps_->setToolTip(tr("Fine-tune the pruned model on the text afterwards; pruned weights stay zero."));
    recoverLr_ = new QDoubleSpinBox;
    recoverLr_->setDecimals(5);
    recoverLr_->setRange(0.00001, 0.01);
    recoverLr_->setSingleStep(0.0001);
    recoverLr_->setValue(0.0002);
    methodInfo_ = new QLabel;
    methodInfo_->setWordWrap(true);
    predicted_ = new QLabel;
    predicted_->setWordWrap(true);
    output_ = new QLineEdit;
    auto* choose = new QPushButton(tr("C&hoose…"));
    auto* outRow = new QHBoxLayout;
    outRow->addWidget(output_, 1);
    outRow->addWidget(choose);

    auto* form = new QFormLayout(page);
    auto buddy = [form](const QString& text, QWidget* w) {
        auto* l = new QLabel(text);
        l->setBuddy(w);
        form->addRow(l, w);
    };
    buddy(tr("M&ethod:"), method_);
    form->addRow(QString(), nm_);
    buddy(tr("&Sparsity (share removed):"), sparsity_);
    buddy(tr("&Layers to keep:"), layersKeep_);
    buddy(tr("&Recovery steps:"), recoverSteps_);
    buddy(tr("Recovery learning &rate:"), recoverLr_);
    form->addRow(methodInfo_);
    form->addRow(predicted_);
    auto* saveLabel = new QLabel(tr("Save &as:"));
    saveLabel->setBuddy(output_);
    form->addRow(saveLabel, outRow);

    connect(method_, &QComboBox::currentIndexChanged, this, [this] { methodChanged(); });
    for (auto* box : {static_cast<QAbstractSpinBox*>(sparsity_), static_cast<QAbstractSpinBox*>(layersKeep_),
                      static_cast<QAbstractSpinBox*>(recoverSteps_)})
        connect(box, &QAbstractSpinBox::editingFinished, this, [this] { methodChanged(); });
    connect(sparsity_, &QDoubleSpinBox::valueChanged, this, [this] { methodChanged(); });
    connect(layersKeep_, &QSpinBox::valueChanged, this, [this] { methodChanged(); });
    connect(recoverSteps_, &QSpinBox::valueChanged, this, [this] {
        recoverLr_->setEnabled(recoverSteps_->value() > 0);
        suggestOutput();
    });
    connect(nm_, &QCheckBox::toggled, this, [this] { methodChanged(); });
    connect(output_, &QLineEdit::textEdited, this, [this] { outputEdited_ = true; });
    connect(choose, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Save the pruned model as"), output_->text(),
                                                       tr("GGUF models (*.gguf)"));
        if (!f.isEmpty()) {
            output_->setText(f);
            outputEdited_ = true;
        }
    });
    recoverLr_->setEnabled(false);
    methodChanged();
    return page;
}

QWizardPage* PruneWizard::makeTextPage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("Which text?"));
    page->setSubTitle(tr("Calibration (and recovery training) see the first three quarters of the text; quality "
                         "is measured on the last quarter, which neither saw."));
    text_ = new TextChoice(tr("The &shipped short stories (about 11 KB: quick, rough figures)"));
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(text_);
    layout->addStretch();
    return page;
}

QWizardPage* PruneWizard::makeRunPage()
{
    auto* page = new GatedPage;
    page->setTitle(tr("Pruning"));
    page->setSubTitle(tr("The app stays usable meanwhile. Cancel leaves no partial file."));
    run_ = new RunView(job_);
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(run_);
    page->complete = [this] { return done_; };
    page->entered = [this] { startRun(); };
    return page;
}

QWizardPage* PruneWizard::makeResultsPage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("What it cost"));
    page->setSubTitle(tr("This file next to the original and every earlier run of the same model."));
    results_ = new ResultsView(context_);
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(results_);
    connect(results_, &ResultsView::chatRequested, this, [this] { accept(); });
    return page;
}

void PruneWizard::inputChanged()
{
    const QString path = model_->currentData().toString();
    shape_.reset();
    shapeFor_ = path;
    modelInfo_->setText(path.isEmpty() ? tr("Add a model to the library or browse for a GGUF file.")
                                       : tr("Reading %1…").arg(QDir::toNativeSeparators(path)));
    updatePrediction();
    suggestOutput();
    if (path.isEmpty())
        return;
    struct Read {
        std::shared_ptr<ModelShape> shape;
        QString error;
    };
    runInBackground<Read>(
        this,
        [path] {
            Read r;
            try {
                r.shape = std::make_shared<ModelShape>(ModelShape::read(path));
            } catch (const std::exception& e) {
                r.error = QString::fromUtf8(e.what());
            }
            return r;
        },
        [this, path](Read r) {
            if (path != shapeFor_)
                return;
            if (!r.shape) {
                modelInfo_->setText(tr("This file cannot be pruned: %1").arg(r.error));
                return;
            }
            shape_ = r.shape;
            modelInfo_->setText(tr("%1: %n layer(s), %2 MB on disk.", nullptr, shape_->layers)
                                    .arg(QDir::toNativeSeparators(path))
                                    .arg(double(shape_->fileBytes) / 1e6, 0, 'f', 2));
            layersKeep_->setRange(1, std::max(1, shape_->layers - 1));
            layersKeep_->setValue(std::max(1, shape_->layers * 3 / 4));
            methodChanged();
            emit shapeRead();
        });
}

void PruneWizard::methodChanged()
{
    if (!method_ || !predicted_)
        return;
    const QString m = method_->currentData().toString();
    const bool unstructured = m == QLatin1String("wanda") || m == QLatin1String("sparsegpt") || m == QLatin1String("magnitude");
    nm_->setEnabled(unstructured);
    sparsity_->setEnabled(m != QLatin1String("layers") && !(unstructured && nm_->isChecked()));
    layersKeep_->setEnabled(m == QLatin1String("layers"));
    if (unstructured)
        methodInfo_->setText(tr("Pruned weights become zeros in a file of the same size and speed: a 2:4 sparse CPU "
                                "kernel was measured slower than dense (docs/PRUNING.md), so the gain is what a "
                                "later quantization or sparse accelerator makes of the zeros."));
    else if (m == QLatin1String("layers"))
        methodInfo_->setText(tr("The layers that change their input least (1 − cosine on the calibration text) go."));
    else if (m == QLatin1String("heads"))
        methodInfo_->setText(tr("The same number of KV head groups (with the query heads that read them) goes from "
                                "every layer, ranked by their share of the attention output."));
    else
        methodInfo_->setText(tr("The same number of FFN channels goes from every layer, ranked by weight norm × "
                                "activation on the calibration text."));
    updatePrediction();
    suggestOutput();
}

uint64_t PruneWizard::predictedBytes() const
{
    if (!shape_ || shapeFor_ != model_->currentData().toString())
        return 0;
    return shape_->prunedBytes(method_->currentData().toString(), sparsity_->value() / 100.0, layersKeep_->value());
}

void PruneWizard::updatePrediction()
{
    if (!predicted_)
        return;
    const uint64_t bytes = predictedBytes();
    if (bytes == 0) {
        predicted_->setText(tr("Predicted size: reading the model…"));
        return;
    }
    const double ratio = double(bytes) / double(shape_->fileBytes);
    predicted_->setText(tr("Predicted size: %1 MB (%2% of %3 MB); generation about %4× the original's speed "
                           "(it reads every weight once per token).")
                            .arg(double(bytes) / 1e6, 0, 'f', 2)
                            .arg(100.0 * ratio, 0, 'f', 1)
                            .arg(double(shape_->fileBytes) / 1e6, 0, 'f', 2)
                            .arg(ratio > 0 ? 1.0 / ratio : 1.0, 0, 'f', 2));
}

void PruneWizard::suggestOutput()
{
    if (!output_ || outputEdited_)
        return;
    const PruneJobRequest r = request();
    QString what = r.method == QLatin1String("layers") ? QStringLiteral("layers%1").arg(r.layersKeep)
                   : r.nmGroup > 0                      ? QStringLiteral("%1-2of4").arg(r.method)
                                                        : QStringLiteral("%1-%2").arg(r.method).arg(int(r.sparsity * 100 + 0.5));
    if (r.recoverSteps > 0)
        what += QStringLiteral("-rec%1").arg(r.recoverSteps);
    output_->setText(suggestedOutputPath(model_->currentData().toString(), what));
}

PruneJobRequest PruneWizard::request() const
{
    PruneJobRequest r;
    r.input = model_->currentData().toString();
    r.output = output_ ? output_->text() : QString();
    r.method = method_->currentData().toString();
    const bool unstructured = r.method == QLatin1String("wanda") || r.method == QLatin1String("sparsegpt") ||
                              r.method == QLatin1String("magnitude");
    r.sparsity = sparsity_->value() / 100.0;
    if (unstructured && nm_->isChecked()) {
        r.nmKeep = 2;
        r.nmGroup = 4;
    }
    r.layersKeep = r.method == QLatin1String("layers") ? layersKeep_->value() : 0;
    r.recoverSteps = recoverSteps_->value();
    r.recoverLr = recoverLr_->value();
    r.textFile = text_ ? text_->path() : QString();
    r.evalCacheDir = QDir(context_.dataDir()).filePath(QStringLiteral("eval-cache"));
    return r;
}

void PruneWizard::startRun()
{
    done_ = false;
    result_.reset();
    const PruneJobRequest r = request();
    run_->reset(r.recoverSteps > 0);
    QString problem;
    if (r.input.isEmpty())
        problem = tr("Choose a model first.");
    else if (r.output.isEmpty())
        problem = tr("Choose where to save the result.");
    else if (QFileInfo(r.output).absoluteFilePath() == QFileInfo(r.input).absoluteFilePath())
        problem = tr("The result cannot replace the model it is made from; choose another name.");
    else if (!QFileInfo(QFileInfo(r.output).absolutePath()).isWritable())
        problem = tr("The folder %1 cannot be written to.").arg(QDir::toNativeSeparators(QFileInfo(r.output).absolutePath()));
    else if (text_->fileRadio()->isChecked() && !QFileInfo(r.textFile).isReadable())
        problem = tr("The text file %1 cannot be read.").arg(QDir::toNativeSeparators(r.textFile));
    if (!problem.isEmpty()) {
        run_->stopped();
        run_->setStage(problem);
        emit runStopped();
        return;
    }
    running_ = true;
    run_->setStage(tr("Starting…"));
    job_->start(r);
    QMetaObject::invokeMethod(this, [this] { button(QWizard::BackButton)->setEnabled(!running_); }, Qt::QueuedConnection);
}

void PruneWizard::record(const QString& status, const QString& message)
{
    const auto r = request();
    recordOptimizeRun(context_, "prune", status, r.input, pruneParametersJson(r, message), result_, this,
                      [this] { emit runRecordedInStore(); });
}

void PruneWizard::reject()
{
    if (running_) {
        closeAfterRun(job_, this, [this] { QWizard::reject(); });
        return;
    }
    QWizard::reject();
}

} // namespace tenfold::ui
