#include "optimize/compress_wizard.h"

#include "core/app_context.h"
#include "core/background.h"
#include "optimize/quality_chart.h"
#include "optimize/wizard_parts.h"
#include "passes/export_standard.h"
#include "session/model_facts.h"
#include "tensor/ggml_type.h"

#include <QButtonGroup>
#include <QCheckBox>
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
#include <QSpinBox>
#include <QTableWidget>
#include <QUrl>
#include <QVBoxLayout>

namespace tenfold::ui {

CompressWizard::CompressWizard(AppContext& context, const QString& inputModel, QWidget* parent)
    : QWizard(parent), context_(context), job_(new CompressJob(this))
{
    setWindowTitle(tr("Compress a model"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnLastPage, true);
    setPage(ModelPageId, makeModelPage());
    setPage(MethodPageId, makeMethodPage());
    setPage(TextPageId, makeTextPage());
    setPage(RunPageId, makeRunPage());
    setPage(ResultsPageId, makeResultsPage());
    resize(760, 640);

    connect(job_, &CompressJob::progress, this, [this](const QString& stage, double f, double left) {
        progress_->setValue(int(f * 1000));
        stage_->setText(stage);
        eta_->setText(formatTimeLeft(left));
    });
    connect(job_, &CompressJob::finished, this, [this](const CompressJobResult& r) {
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
    connect(job_, &CompressJob::failed, this, [this](const QString& message) {
        running_ = false;
        stage_->setText(tr("The run failed: %1").arg(message));
        eta_->clear();
        cancelRun_->setEnabled(false);
        record(QStringLiteral("failed"), message);
        button(QWizard::BackButton)->setEnabled(true);
        emit runStopped();
    });
    connect(job_, &CompressJob::cancelled, this, [this] {
        running_ = false;
        stage_->setText(tr("Cancelled. No file was written; go back to change the run, or close."));
        eta_->clear();
        cancelRun_->setEnabled(false);
        record(QStringLiteral("cancelled"), {});
        button(QWizard::BackButton)->setEnabled(true);
        emit runStopped();
    });

    fillModelCombo(context_, model_, inputModel, this);
    inputChanged();
}

CompressWizard::~CompressWizard() = default;

QWizardPage* CompressWizard::makeModelPage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("Which model?"));
    page->setSubTitle(tr("The model to compress. It stays as it is; the result is a new file."));
    model_ = new QComboBox;
    modelInfo_ = new QLabel;
    modelInfo_->setWordWrap(true);
    auto* form = new QFormLayout(page);
    addModelRow(form, model_, tr("&Model:"), this);
    form->addRow(modelInfo_);
    connect(model_, &QComboBox::currentIndexChanged, this, [this] { inputChanged(); });
    return page;
}

QWizardPage* CompressWizard::makeMethodPage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("How to compress?"));
    page->setSubTitle(tr("Both methods are Tenfold extensions of GGUF: Tenfold runs the result, and the results page "
                         "can export the nearest standard GGUF for other engines."));
    lowRank_ = new QRadioButton(tr("&Low-rank factorisation to a target size (MB):"));
    lowRank_->setToolTip(tr("Each layer matrix becomes a product of two thin ones; the ranks are chosen so the file "
                            "meets the size while losing the least on the calibration text."));
    palette_ = new QRadioButton(tr("&Palettes (weight sharing), bits per weight:"));
    palette_->setToolTip(tr("The weights of each group of rows share a small palette of values found by weighted "
                            "k-means; each weight is stored as an index into it."));
    palette_->setChecked(true);
    auto* group = new QButtonGroup(page);
    group->addButton(lowRank_);
    group->addButton(palette_);
    targetMB_ = new QDoubleSpinBox;
    targetMB_->setRange(0.01, 1e6);
    targetMB_->setDecimals(2);
    targetMB_->setValue(8);
    targetMB_->setEnabled(false);
    bits_ = new QComboBox;
    bits_->addItem(tr("4 bits (16 values per palette)"), 4);
    bits_->addItem(tr("3 bits (8 values per palette)"), 3);
    bits_->addItem(tr("2 bits (4 values per palette)"), 2);
    tuneSteps_ = new QSpinBox;
    tuneSteps_->setRange(0, 100000);
    tuneSteps_->setSingleStep(50);
    tuneSteps_->setValue(0);
    tuneSteps_->setSpecialValueText(tr("off"));
    tuneSteps_->setToolTip(tr("After compressing, fit the palette tables, row scales and norms to the original model by "
                              "distillation on the calibration text (the size does not change). "
                              "About 1.5 s per step for a 16M-parameter model on 2 cores; 150 steps lowered the KL "
                              "divergence by about 11% on ref-main."));
    tuneCodes_ = new QCheckBox(tr("Let tuning &change the codes too"));
    tuneCodes_->setChecked(true);
    tuneCodes_->setToolTip(tr("Tuning may also switch a weight to a neighbouring palette entry (or IQ4_NL level) where the "
                              "gradient keeps pushing it there, starting from the codes GPTQ chose. The size stays the "
                              "same."));
    predicted_ = new QLabel;
    predicted_->setWordWrap(true);
    output_ = new QLineEdit;
    auto* choose = new QPushButton(tr("C&hoose…"));
    auto* outRow = new QHBoxLayout;
    outRow->addWidget(output_, 1);
    outRow->addWidget(choose);

    auto* form = new QFormLayout(page);
    form->addRow(lowRank_, targetMB_);
    form->addRow(palette_, bits_);
    auto* tuneLabel = new QLabel(tr("&Tune palettes by distillation, steps:"));
    tuneLabel->setBuddy(tuneSteps_);
    form->addRow(tuneLabel, tuneSteps_);
    form->addRow(QString(), tuneCodes_);
    form->addRow(predicted_);
    auto* saveLabel = new QLabel(tr("Save &as:"));
    saveLabel->setBuddy(output_);
    form->addRow(saveLabel, outRow);

    auto changed = [this] {
        targetMB_->setEnabled(lowRank_->isChecked());
        bits_->setEnabled(palette_->isChecked());
        tuneSteps_->setEnabled(palette_->isChecked());
        tuneCodes_->setEnabled(palette_->isChecked() && tuneSteps_->value() > 0);
        updatePrediction();
        suggestOutput();
    };
    connect(lowRank_, &QRadioButton::toggled, this, changed);
    connect(targetMB_, &QDoubleSpinBox::valueChanged, this, changed);
    connect(bits_, &QComboBox::currentIndexChanged, this, changed);
    connect(tuneSteps_, &QSpinBox::valueChanged, this, changed);
    connect(output_, &QLineEdit::textEdited, this, [this] { outputEdited_ = true; });
    connect(choose, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Save the compressed model as"), output_->text(),
                                                       tr("GGUF models (*.gguf)"));
        if (!f.isEmpty()) {
            output_->setText(f);
            outputEdited_ = true;
        }
    });
    return page;
}

QWizardPage* CompressWizard::makeTextPage()
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

QWizardPage* CompressWizard::makeRunPage()
{
    auto* page = new GatedPage;
    page->setTitle(tr("Compressing"));
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

QWizardPage* CompressWizard::makeResultsPage()
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
    exportType_ = new QComboBox;
    for (const char* t : {"Q8_0", "Q6_K", "Q5_0", "Q4_K", "Q4_0", "F16"})
        exportType_->addItem(QString::fromLatin1(t));
    exportType_->setToolTip(tr("The standard type every weight matrix of the exported file gets"));
    export_ = new QPushButton(tr("&Export standard GGUF"));
    export_->setToolTip(tr("Write the nearest standard GGUF (factors multiplied out, palettes decoded) for other engines"));
    openFolder_ = new QPushButton(tr("Open &folder"));
    exportStatus_ = new QLabel;
    exportStatus_->setWordWrap(true);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(chat_);
    buttons->addWidget(export_);
    auto* typeLabel = new QLabel(tr("as &type:"));
    typeLabel->setBuddy(exportType_);
    buttons->addWidget(typeLabel);
    buttons->addWidget(exportType_);
    buttons->addWidget(openFolder_);
    buttons->addStretch();
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(chart_, 3);
    layout->addWidget(table_, 2);
    layout->addLayout(buttons);
    layout->addWidget(exportStatus_);
    connect(chat_, &QPushButton::clicked, this, [this] {
        if (!result_)
            return;
        chatWithModel(context_, result_->output);
        accept();
    });
    connect(export_, &QPushButton::clicked, this, [this] { exportStandardFile(); });
    connect(openFolder_, &QPushButton::clicked, this, [this] {
        if (result_)
            QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(result_->output).absolutePath()));
    });
    return page;
}

void CompressWizard::inputChanged()
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
        std::shared_ptr<CompressSizeModel> sizes;
        QString error;
    };
    runInBackground<Read>(
        this,
        [path] {
            Read r;
            try {
                r.sizes = std::make_shared<CompressSizeModel>(CompressSizeModel::read(path));
            } catch (const std::exception& e) {
                r.error = QString::fromUtf8(e.what());
            }
            return r;
        },
        [this, path](Read r) {
            if (path != shapesFor_)
                return; // another model was chosen meanwhile
            if (!r.sizes) {
                modelInfo_->setText(tr("This file cannot be compressed: %1").arg(r.error));
                return;
            }
            sizes_ = r.sizes;
            modelInfo_->setText(tr("%1, %2 on disk; %3 layer matrices.")
                                    .arg(QDir::toNativeSeparators(path), formatBytes(sizes_->inputBytes()))
                                    .arg(sizes_->layerMatrices()));
            updatePrediction();
            emit shapesRead();
        });
}

uint64_t CompressWizard::predictedBytes() const
{
    if (!sizes_ || shapesFor_ != model_->currentData().toString())
        return 0;
    return lowRank_->isChecked() ? uint64_t(targetMB_->value() * 1e6) : sizes_->paletteBytes(bits_->currentData().toInt());
}

uint64_t CompressWizard::smallestLowRankBytes() const
{
    return sizes_ && shapesFor_ == model_->currentData().toString() ? sizes_->lowRankSmallestBytes() : 0;
}

void CompressWizard::updatePrediction()
{
    if (!predicted_)
        return;
    if (!sizes_ || shapesFor_ != model_->currentData().toString()) {
        predicted_->setText(tr("Predicted size: reading the model…"));
        return;
    }
    const double inMB = double(sizes_->inputBytes()) / 1e6;
    if (lowRank_->isChecked()) {
        const double smallest = double(sizes_->lowRankSmallestBytes()) / 1e6;
        predicted_->setText(targetMB_->value() * 1e6 < double(sizes_->lowRankSmallestBytes())
                                ? tr("%1 MB is below the smallest file low-rank factorisation can make of this model "
                                     "(%2 MB).")
                                      .arg(targetMB_->value(), 0, 'f', 2)
                                      .arg(smallest, 0, 'f', 2)
                                : tr("The file will be at most %1 MB (the original is %2 MB; the smallest reachable %3 MB).")
                                      .arg(targetMB_->value(), 0, 'f', 2)
                                      .arg(inMB, 0, 'f', 2)
                                      .arg(smallest, 0, 'f', 2));
        return;
    }
    const uint64_t bytes = predictedBytes();
    predicted_->setText(tr("Predicted size: %1 MB (%2% of the original's %3 MB).")
                            .arg(double(bytes) / 1e6, 0, 'f', 2)
                            .arg(sizes_->inputBytes() ? 100.0 * double(bytes) / double(sizes_->inputBytes()) : 0.0, 0, 'f', 1)
                            .arg(inMB, 0, 'f', 2));
}

void CompressWizard::suggestOutput()
{
    if (!output_ || outputEdited_)
        return;
    const QString what = lowRank_->isChecked() ? QStringLiteral("lowrank%1MB").arg(targetMB_->value(), 0, 'f', 1)
                                               : QStringLiteral("palette%1").arg(bits_->currentData().toInt());
    output_->setText(suggestedOutputPath(model_->currentData().toString(), what));
}

CompressJobRequest CompressWizard::request() const
{
    CompressJobRequest r;
    r.input = model_->currentData().toString();
    r.output = output_->text();
    r.method = lowRank_->isChecked() ? QStringLiteral("low-rank") : QStringLiteral("palette");
    r.targetMB = lowRank_->isChecked() ? targetMB_->value() : 0;
    r.bits = bits_->currentData().toInt();
    r.tuneSteps = palette_->isChecked() ? tuneSteps_->value() : 0;
    r.tuneCodes = r.tuneSteps > 0 && tuneCodes_->isChecked();
    r.textFile = textFileRadio_->isChecked() ? textFile_->text() : QString();
    r.evalCacheDir = QDir(context_.dataDir()).filePath(QStringLiteral("eval-cache"));
    return r;
}

void CompressWizard::startRun()
{
    done_ = false;
    recorded_ = false;
    result_.reset();
    progress_->setValue(0);
    eta_->clear();
    const CompressJobRequest r = request();
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
    else if (r.method == QLatin1String("low-rank") && smallestLowRankBytes() > 0 &&
             r.targetMB * 1e6 < double(smallestLowRankBytes()))
        problem = tr("%1 MB is below the smallest file low-rank factorisation can make of this model (%2 MB).")
                      .arg(r.targetMB, 0, 'f', 2)
                      .arg(double(smallestLowRankBytes()) / 1e6, 0, 'f', 2);
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

void CompressWizard::record(const QString& status, const QString& message)
{
    const CompressJobRequest r = request();
    OptimizationRun run;
    run.method = "compress";
    run.status = status.toStdString();
    run.inputPath = r.input.toStdString();
    run.parametersJson = compressParametersJson(r, {}, message).toStdString();
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

void CompressWizard::showResult(const CompressJobResult& r)
{
    table_->setRowCount(0);
    exportStatus_->clear();
    auto add = [this](const QString& k, const QString& v) {
        const int row = table_->rowCount();
        table_->insertRow(row);
        table_->setItem(row, 0, new QTableWidgetItem(k));
        table_->setItem(row, 1, new QTableWidgetItem(v));
    };
    add(tr("File"), QDir::toNativeSeparators(r.output));
    add(tr("Method"), compressLabel(request()));
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
    add(tr("Matrices"), r.detail);
    add(tr("Measured on"), tr("%n window(s) of held-out text", nullptr, r.evalWindows));
    add(tr("Time"), tr("%1 s").arg(r.seconds, 0, 'f', 1));
}

void CompressWizard::loadHistory()
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

void CompressWizard::exportStandardFile()
{
    if (!result_)
        return;
    const QString type = exportType_->currentText();
    const QString in = result_->output;
    const QString out = suggestedOutputPath(in, type);
    export_->setEnabled(false);
    exportStatus_->setText(tr("Exporting %1…").arg(QDir::toNativeSeparators(out)));
    struct Done {
        QString error;
        quint64 bytes = 0;
    };
    runInBackground<Done>(
        this,
        [in, out, type] {
            Done d;
            try {
                const auto t = typeFromName(type.toStdString());
                if (!t)
                    throw std::runtime_error("unknown type " + type.toStdString());
                d.bytes = exportStandard(in.toStdString(), out.toStdString(), *t).fileBytesAfter;
            } catch (const std::exception& e) {
                d.error = QString::fromUtf8(e.what());
            }
            return d;
        },
        [this, out](Done d) {
            export_->setEnabled(true);
            const bool ok = d.error.isEmpty();
            if (ok) {
                exportPath_ = out;
                exportStatus_->setText(tr("Exported a standard GGUF (%1 MB) that other engines load: %2")
                                           .arg(double(d.bytes) / 1e6, 0, 'f', 2)
                                           .arg(QDir::toNativeSeparators(out)));
            } else {
                exportStatus_->setText(tr("The export failed: %1").arg(d.error));
            }
            emit exportDone(ok);
        });
}

void CompressWizard::reject()
{
    if (running_) {
        job_->cancel();
        connect(job_, &CompressJob::cancelled, this, [this] { QWizard::reject(); }, Qt::SingleShotConnection);
        connect(job_, &CompressJob::finished, this, [this] { QWizard::reject(); }, Qt::SingleShotConnection);
        connect(job_, &CompressJob::failed, this, [this] { QWizard::reject(); }, Qt::SingleShotConnection);
        return;
    }
    QWizard::reject();
}

} // namespace tenfold::ui
