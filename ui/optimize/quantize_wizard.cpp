#include "optimize/quantize_wizard.h"

#include "core/app_context.h"
#include "core/background.h"
#include "optimize/quality_chart.h"
#include "optimize/wizard_parts.h"
#include "session/model_facts.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QDesktopServices>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QTableWidget>
#include <QUrl>
#include <QVBoxLayout>

#include <memory>

namespace tenfold::ui {
namespace {

// One type for every weight; the names the presets share (Q2_K, Q6_K, Q8_0) are offered as presets.
const char* const kTypes[] = {"Q5_1", "Q5_0", "Q5_K", "Q4_1", "Q4_0", "Q4_K", "IQ4_NL", "IQ4_XS", "Q3_K"};
// The reference engine's mixes, largest first.
const char* const kPresets[] = {"Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q4_K_M", "Q4_K_S", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q2_K"};

} // namespace

QuantizeWizard::QuantizeWizard(AppContext& context, const QString& inputModel, QWidget* parent)
    : QWizard(parent), context_(context), job_(new QuantizeJob(this))
{
    setWindowTitle(tr("Quantize a model"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnLastPage, true);
    setPage(ModelPageId, makeModelPage());
    setPage(RecipePageId, makeRecipePage());
    setPage(TextPageId, makeTextPage());
    setPage(RunPageId, makeRunPage());
    setPage(ResultsPageId, makeResultsPage());
    resize(760, 620);

    connect(job_, &QuantizeJob::progress, this, [this](const QString& stage, double f, double left) {
        progress_->setValue(int(f * 1000));
        stage_->setText(stage);
        eta_->setText(formatTimeLeft(left));
    });
    connect(job_, &QuantizeJob::finished, this, [this](const QuantizeJobResult& r) {
        running_ = false;
        done_ = true;
        result_ = r;
        progress_->setValue(1000);
        stage_->setText(tr("Done in %1 s.").arg(r.seconds, 0, 'f', 1));
        eta_->clear();
        cancelRun_->setEnabled(false);
        record(QStringLiteral("ok"), {});
        showResult(r);
        static_cast<GatedPage*>(page(RunPageId))->refresh();
        next(); // straight to the results
        emit runFinished();
    });
    connect(job_, &QuantizeJob::failed, this, [this](const QString& message) {
        running_ = false;
        stage_->setText(tr("The run failed: %1").arg(message));
        eta_->clear();
        cancelRun_->setEnabled(false);
        record(QStringLiteral("failed"), message);
        button(QWizard::BackButton)->setEnabled(true);
        emit runStopped();
    });
    connect(job_, &QuantizeJob::cancelled, this, [this] {
        running_ = false;
        stage_->setText(tr("Cancelled. No file was written; go back to change the run, or close."));
        eta_->clear();
        cancelRun_->setEnabled(false);
        record(QStringLiteral("cancelled"), {});
        button(QWizard::BackButton)->setEnabled(true);
        emit runStopped();
    });

    // The library's models; the one asked for first.
    fillModelCombo(context_, model_, inputModel, this);
    inputChanged();
}

QuantizeWizard::~QuantizeWizard() = default;

QWizardPage* QuantizeWizard::makeModelPage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("Which model?"));
    page->setSubTitle(tr("The model to make smaller. It stays as it is; the result is a new file."));
    model_ = new QComboBox;
    model_->setEditable(false);
    modelInfo_ = new QLabel;
    modelInfo_->setWordWrap(true);
    auto* form = new QFormLayout(page);
    addModelRow(form, model_, tr("&Model:"), this);
    form->addRow(modelInfo_);
    connect(model_, &QComboBox::currentIndexChanged, this, [this] { inputChanged(); });
    return page;
}

QWizardPage* QuantizeWizard::makeRecipePage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("How small?"));
    page->setSubTitle(tr("One type for every weight, or a file size for which Tenfold measures each tensor's "
                         "sensitivity and picks the mix that loses the least."));
    byType_ = new QRadioButton(tr("One &type:"));
    bySize_ = new QRadioButton(tr("A target &size (MB):"));
    byType_->setChecked(true);
    auto* group = new QButtonGroup(page);
    group->addButton(byType_);
    group->addButton(bySize_);
    type_ = new QComboBox;
    for (const char* p : kPresets)
        type_->addItem(QString::fromLatin1(p), QStringLiteral("preset"));
    type_->insertSeparator(type_->count());
    for (const char* t : kTypes)
        type_->addItem(QString::fromLatin1(t), QStringLiteral("type"));
    type_->setCurrentText(QStringLiteral("Q4_0"));
    type_->setToolTip(tr("Presets (Q8_0 … Q2_K) are the reference engine's mixes: more bits for the "
                         "tensors most sensitive to rounding. Below the line: one type for every weight."));
    outputType_ = new QComboBox;
    outputType_->addItem(tr("default"), QString());
    for (const char* t : {"Q8_0", "Q6_K", "Q5_0", "Q4_0"})
        outputType_->addItem(QString::fromLatin1(t), QString::fromLatin1(t));
    targetMB_ = new QDoubleSpinBox;
    targetMB_->setRange(0.1, 1e6);
    targetMB_->setDecimals(2);
    targetMB_->setValue(10);
    targetMB_->setEnabled(false);
    method_ = new QComboBox;
    method_->addItem(tr("GPTQ: error feedback from calibration (best quality)"), QStringLiteral("gptq"));
    method_->addItem(tr("Importance matrix: weighted rounding (faster)"), QStringLiteral("imatrix"));
    method_->addItem(tr("Round to nearest: no calibration (fastest)"), QStringLiteral("rtn"));
    predicted_ = new QLabel;
    predicted_->setWordWrap(true);
    output_ = new QLineEdit;
    auto* choose = new QPushButton(tr("C&hoose…"));
    auto* outRow = new QHBoxLayout;
    outRow->addWidget(output_, 1);
    outRow->addWidget(choose);

    auto* form = new QFormLayout(page);
    form->addRow(byType_, type_);
    auto* outLabel = new QLabel(tr("&Output projection:"));
    outLabel->setBuddy(outputType_);
    form->addRow(outLabel, outputType_);
    form->addRow(bySize_, targetMB_);
    auto* methodLabel = new QLabel(tr("&Method:"));
    methodLabel->setBuddy(method_);
    form->addRow(methodLabel, method_);
    form->addRow(predicted_);
    auto* saveLabel = new QLabel(tr("Save &as:"));
    saveLabel->setBuddy(output_);
    form->addRow(saveLabel, outRow);

    auto changed = [this] {
        type_->setEnabled(byType_->isChecked());
        outputType_->setEnabled(byType_->isChecked());
        targetMB_->setEnabled(bySize_->isChecked());
        updatePrediction();
        suggestOutput();
    };
    connect(byType_, &QRadioButton::toggled, this, changed);
    connect(type_, &QComboBox::currentIndexChanged, this, changed);
    connect(outputType_, &QComboBox::currentIndexChanged, this, changed);
    connect(targetMB_, &QDoubleSpinBox::valueChanged, this, changed);
    connect(method_, &QComboBox::currentIndexChanged, this, changed);
    connect(output_, &QLineEdit::textEdited, this, [this] { outputEdited_ = true; });
    connect(choose, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Save the quantized model as"), output_->text(),
                                                       tr("GGUF models (*.gguf)"));
        if (!f.isEmpty()) {
            output_->setText(f);
            outputEdited_ = true;
        }
    });
    return page;
}

QWizardPage* QuantizeWizard::makeTextPage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("Which text?"));
    page->setSubTitle(tr("Calibration sees the first three quarters of the text; quality is measured on the "
                         "last quarter, which calibration never saw. Use text like what the model will read."));
    shippedText_ = new QRadioButton(tr("The &shipped short stories (about 11 KB: quick, rough figures)"));
    textFileRadio_ = new QRadioButton(tr("A text &file:"));
    shippedText_->setChecked(true);
    auto* group = new QButtonGroup(page);
    group->addButton(shippedText_);
    group->addButton(textFileRadio_);
    textFile_ = new QLineEdit;
    textFile_->setEnabled(false);
    auto* browse = new QPushButton(tr("B&rowse…"));
    browse->setEnabled(false);
    auto* row = new QHBoxLayout;
    row->addWidget(textFile_, 1);
    row->addWidget(browse);
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(shippedText_);
    layout->addWidget(textFileRadio_);
    layout->addLayout(row);
    layout->addStretch();
    connect(textFileRadio_, &QRadioButton::toggled, this, [this, browse](bool on) {
        textFile_->setEnabled(on);
        browse->setEnabled(on);
    });
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Choose a text"), {}, tr("Text files (*.txt);;All files (*)"));
        if (!f.isEmpty())
            textFile_->setText(f);
    });
    return page;
}

QWizardPage* QuantizeWizard::makeRunPage()
{
    auto* page = new GatedPage;
    page->setTitle(tr("Quantizing"));
    page->setSubTitle(tr("The app stays usable meanwhile. Cancel leaves no partial file."));
    progress_ = new QProgressBar;
    progress_->setRange(0, 1000);
    progress_->setTextVisible(true);
    progress_->setFormat(QStringLiteral("%p%"));
    stage_ = new QLabel;
    stage_->setWordWrap(true);
    eta_ = new QLabel;
    cancelRun_ = new QPushButton(tr("&Cancel the run"));
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(stage_);
    layout->addWidget(progress_);
    layout->addWidget(eta_);
    layout->addWidget(cancelRun_, 0, Qt::AlignLeft);
    layout->addStretch();
    page->complete = [this] { return done_; };
    page->entered = [this] { startRun(); };
    connect(cancelRun_, &QPushButton::clicked, this, [this] {
        cancelRun_->setEnabled(false);
        stage_->setText(tr("Cancelling…"));
        job_->cancel();
    });
    return page;
}

QWizardPage* QuantizeWizard::makeResultsPage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("What it cost"));
    page->setSubTitle(tr("This file next to the original and every earlier run of the same model."));
    chart_ = new QualityChart;
    table_ = new QTableWidget(0, 2);
    table_->setHorizontalHeaderLabels({tr("Measure"), tr("Value")});
    table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->setVisible(false);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    chat_ = new QPushButton(tr("C&hat with it"));
    openFolder_ = new QPushButton(tr("Open &folder"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(chat_);
    buttons->addWidget(openFolder_);
    buttons->addStretch();
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(chart_, 3);
    layout->addWidget(table_, 2);
    layout->addLayout(buttons);
    connect(chat_, &QPushButton::clicked, this, [this] {
        if (!result_)
            return;
        chatWithModel(context_, result_->output);
        accept();
    });
    connect(openFolder_, &QPushButton::clicked, this, [this] {
        if (result_)
            QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(result_->output).absolutePath()));
    });
    return page;
}

void QuantizeWizard::inputChanged()
{
    const QString path = model_->currentData().toString();
    sizes_.reset();
    modelInfo_->setText(path.isEmpty() ? tr("Add a model to the library or browse for a GGUF file.")
                                       : tr("Reading %1…").arg(QDir::toNativeSeparators(path)));
    shapesFor_ = path;
    updatePrediction();
    suggestOutput();
    if (path.isEmpty())
        return;
    struct Read {
        std::shared_ptr<QuantizeSizeModel> sizes;
        QString error;
    };
    runInBackground<Read>(
        this,
        [path] {
            Read r;
            try {
                r.sizes = std::make_shared<QuantizeSizeModel>(QuantizeSizeModel::read(path));
            } catch (const std::exception& e) {
                r.error = QString::fromUtf8(e.what());
            }
            return r;
        },
        [this, path](Read r) {
            if (path != shapesFor_)
                return; // another model was chosen meanwhile
            if (!r.sizes) {
                modelInfo_->setText(tr("This file cannot be quantized: %1").arg(r.error));
                return;
            }
            sizes_ = r.sizes;
            modelInfo_->setText(tr("%1, %2 on disk.").arg(QDir::toNativeSeparators(path), formatBytes(sizes_->inputBytes())));
            updatePrediction();
            emit shapesRead();
        });
}

uint64_t QuantizeWizard::predictedBytes() const
{
    if (!sizes_ || shapesFor_ != model_->currentData().toString())
        return 0;
    return sizes_->predictBytes(type_->currentText(), outputType_->currentData().toString(),
                                type_->currentData().toString() == QLatin1String("preset"));
}

void QuantizeWizard::updatePrediction()
{
    if (!predicted_)
        return;
    if (!sizes_ || shapesFor_ != model_->currentData().toString()) {
        predicted_->setText(tr("Predicted size: reading the model…"));
        return;
    }
    if (bySize_->isChecked()) {
        const uint64_t smallest = sizes_->smallestBytes();
        const uint64_t target = uint64_t(targetMB_->value() * 1e6);
        predicted_->setText(target < smallest
                                ? tr("%1 MB is below the smallest file the types can make of this model (%2 MB).")
                                      .arg(targetMB_->value(), 0, 'f', 2)
                                      .arg(double(smallest) / 1e6, 0, 'f', 2)
                                : tr("The file will be at most %1 MB (the original is %2 MB; the smallest possible %3 MB).")
                                      .arg(targetMB_->value(), 0, 'f', 2)
                                      .arg(double(sizes_->inputBytes()) / 1e6, 0, 'f', 2)
                                      .arg(double(smallest) / 1e6, 0, 'f', 2));
        return;
    }
    const uint64_t bytes = predictedBytes();
    predicted_->setText(tr("Predicted size: %1 MB (%2% of the original's %3 MB).")
                            .arg(double(bytes) / 1e6, 0, 'f', 2)
                            .arg(sizes_->inputBytes() ? 100.0 * double(bytes) / double(sizes_->inputBytes()) : 0.0, 0, 'f', 1)
                            .arg(double(sizes_->inputBytes()) / 1e6, 0, 'f', 2));
}

void QuantizeWizard::suggestOutput()
{
    if (!output_ || outputEdited_)
        return;
    const QFileInfo in(model_->currentData().toString());
    if (in.fileName().isEmpty()) {
        output_->clear();
        return;
    }
    QString stem = in.completeBaseName();
    stem.remove(QStringLiteral("-f16"), Qt::CaseInsensitive);
    const QString what = bySize_->isChecked() ? QStringLiteral("%1MB").arg(targetMB_->value(), 0, 'f', 1) : type_->currentText();
    output_->setText(QDir(in.absolutePath()).filePath(
        QStringLiteral("%1-%2-%3.gguf").arg(stem, what, method_->currentData().toString())));
}

QuantizeJobRequest QuantizeWizard::request() const
{
    QuantizeJobRequest r;
    r.input = model_->currentData().toString();
    r.output = output_->text();
    r.type = type_->currentText();
    r.preset = !bySize_->isChecked() && type_->currentData().toString() == QLatin1String("preset");
    r.outputType = bySize_->isChecked() ? QString() : outputType_->currentData().toString();
    r.method = method_->currentData().toString();
    r.targetMB = bySize_->isChecked() ? targetMB_->value() : 0;
    r.textFile = textFileRadio_->isChecked() ? textFile_->text() : QString();
    r.evalCacheDir = QDir(context_.dataDir()).filePath(QStringLiteral("eval-cache"));
    return r;
}

void QuantizeWizard::startRun()
{
    done_ = false;
    recorded_ = false;
    result_.reset();
    progress_->setValue(0);
    eta_->clear();
    const QuantizeJobRequest r = request();
    QString problem;
    if (r.input.isEmpty())
        problem = tr("Choose a model first.");
    else if (r.output.isEmpty())
        problem = tr("Choose where to save the result.");
    else if (QFileInfo(r.output).absoluteFilePath() == QFileInfo(r.input).absoluteFilePath())
        problem = tr("The result cannot replace the model it is made from; choose another name.");
    else if (!QFileInfo(QFileInfo(r.output).absolutePath()).isWritable())
        problem = tr("The folder %1 cannot be written to.").arg(QDir::toNativeSeparators(QFileInfo(r.output).absolutePath()));
    else if (textFileRadio_->isChecked() && !QFileInfo(r.textFile).isReadable())
        problem = tr("The text file %1 cannot be read.").arg(QDir::toNativeSeparators(r.textFile));
    if (!problem.isEmpty()) {
        stage_->setText(problem);
        cancelRun_->setEnabled(false);
        emit runStopped();
        return;
    }
    running_ = true;
    cancelRun_->setEnabled(true);
    stage_->setText(tr("Starting…"));
    job_->start(r);
    // Going back mid-run would leave the run without its page; Cancel first.
    QMetaObject::invokeMethod(this, [this] { button(QWizard::BackButton)->setEnabled(!running_); }, Qt::QueuedConnection);
}

void QuantizeWizard::record(const QString& status, const QString& message)
{
    const QuantizeJobRequest r = request();
    OptimizationRun run;
    run.method = "quantize";
    run.status = status.toStdString();
    run.inputPath = r.input.toStdString();
    run.parametersJson = quantizeParametersJson(r, {}, message).toStdString();
    if (result_) {
        run.inputModelHash = result_->inputHash.toStdString();
        run.outputPath = result_->output.toStdString();
        run.outputHash = result_->outputHash.toStdString();
        run.outputBytes = int64_t(result_->outputBytes);
        run.reportJson = result_->reportJson.toStdString();
        run.parametersJson = result_->parametersJson.toStdString();
        run.seconds = result_->seconds;
    }
    context_.storeWorker().post([run](Store& store) { store.recordOptimizationRun(run); }, tr("the optimization history"),
                                this, [this, ok = status == QLatin1String("ok")] {
                                    recorded_ = true;
                                    emit runRecordedInStore();
                                    if (ok)
                                        loadHistory();
                                });
}

void QuantizeWizard::showResult(const QuantizeJobResult& r)
{
    table_->setRowCount(0);
    auto add = [this](const QString& k, const QString& v) {
        const int row = table_->rowCount();
        table_->insertRow(row);
        table_->setItem(row, 0, new QTableWidgetItem(k));
        table_->setItem(row, 1, new QTableWidgetItem(v));
    };
    add(tr("File"), QDir::toNativeSeparators(r.output));
    add(tr("Size"), tr("%1 MB (was %2 MB, %3%)")
                        .arg(double(r.outputBytes) / 1e6, 0, 'f', 2)
                        .arg(double(r.inputBytes) / 1e6, 0, 'f', 2)
                        .arg(r.inputBytes ? 100.0 * double(r.outputBytes) / double(r.inputBytes) : 0.0, 0, 'f', 1));
    add(tr("Bits per weight"), QString::number(r.bitsPerWeight, 'f', 3));
    add(tr("Mean KL divergence"), QString::number(r.meanKld, 'f', 6));
    add(tr("Median / 99th percentile KLD"), QStringLiteral("%1 / %2").arg(r.kldMedian, 0, 'f', 6).arg(r.kld99, 0, 'f', 6));
    add(tr("Same top token"), QStringLiteral("%1%").arg(r.sameTopPct, 0, 'f', 2));
    add(tr("Perplexity (original)"), QStringLiteral("%1 (%2)").arg(r.ppl, 0, 'f', 3).arg(r.basePpl, 0, 'f', 3));
    add(tr("Prompt / generation speed"), tr("%1 / %2 tokens/s").arg(r.prefillTps, 0, 'f', 0).arg(r.decodeTps, 0, 'f', 1));
    add(tr("Tensors"), r.mix);
    add(tr("Measured on"), tr("%n window(s) of held-out text", nullptr, r.evalWindows));
    add(tr("Time"), tr("%1 s").arg(r.seconds, 0, 'f', 1));
}

void QuantizeWizard::loadHistory()
{
    if (!result_)
        return;
    const std::string hash = result_->inputHash.toStdString();
    context_.storeWorker().call<std::vector<OptimizationRun>>(
        this, [hash](Store& store) { return store.optimizationRuns(hash); },
        [this](std::vector<OptimizationRun> runs) {
            if (!result_)
                return;
            std::vector<QualityPoint> points;
            points.push_back({QualityPoint::Kind::Original, tr("Original"), double(result_->inputBytes) / 1e6, 0.0});
            for (const OptimizationRun& run : runs)
                if (run.outputPath != result_->output.toStdString())
                    if (auto p = qualityPointOf(run, QualityPoint::Kind::Earlier))
                        points.push_back(*p);
            for (const QualityPoint& p : QualityChart::referencePointsFor(result_->input))
                points.push_back(p);
            points.push_back({QualityPoint::Kind::Current, tr("This run"), double(result_->outputBytes) / 1e6,
                              result_->meanKld});
            chart_->setPoints(points);
            emit historyShown();
        },
        tr("the optimization history"));
}

void QuantizeWizard::reject()
{
    if (running_) {
        job_->cancel();
        connect(job_, &QuantizeJob::cancelled, this, [this] { QWizard::reject(); }, Qt::SingleShotConnection);
        connect(job_, &QuantizeJob::finished, this, [this] { QWizard::reject(); }, Qt::SingleShotConnection);
        connect(job_, &QuantizeJob::failed, this, [this] { QWizard::reject(); }, Qt::SingleShotConnection);
        return;
    }
    QWizard::reject();
}

} // namespace tenfold::ui
