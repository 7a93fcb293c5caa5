#include "optimize/optimize_views.h"

#include "core/app_context.h"
#include "optimize/quality_chart.h"
#include "optimize/training_chart.h"
#include "optimize/wizard_parts.h"
#include "store/store.h"

#include <QButtonGroup>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
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

#include <cmath>

namespace tenfold::ui {

TextChoice::TextChoice(const QString& shippedLabel, QWidget* parent) : QWidget(parent)
{
    shipped_ = new QRadioButton(shippedLabel);
    fileRadio_ = new QRadioButton(tr("A text &file:"));
    shipped_->setChecked(true);
    auto* group = new QButtonGroup(this);
    group->addButton(shipped_);
    group->addButton(fileRadio_);
    file_ = new QLineEdit;
    file_->setEnabled(false);
    auto* browse = new QPushButton(tr("B&rowse…"));
    browse->setEnabled(false);
    auto* row = new QHBoxLayout;
    row->addWidget(file_, 1);
    row->addWidget(browse);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(shipped_);
    layout->addWidget(fileRadio_);
    layout->addLayout(row);
    connect(fileRadio_, &QRadioButton::toggled, this, [this, browse](bool on) {
        file_->setEnabled(on);
        browse->setEnabled(on);
    });
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Choose a text"), {}, tr("Text files (*.txt);;All files (*)"));
        if (!f.isEmpty())
            file_->setText(f);
    });
}

QString TextChoice::path() const { return fileRadio_->isChecked() ? file_->text() : QString(); }

RunView::RunView(OptimizeJob* job, QWidget* parent) : QWidget(parent), job_(job)
{
    stage_ = new QLabel;
    stage_->setWordWrap(true);
    progress_ = new QProgressBar;
    progress_->setRange(0, 1000);
    progress_->setFormat(QStringLiteral("%p%"));
    eta_ = new QLabel;
    chart_ = new TrainingChart;
    pause_ = new QPushButton(tr("&Pause"));
    pause_->setCheckable(true);
    cancel_ = new QPushButton(tr("&Cancel the run"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(pause_);
    buttons->addWidget(cancel_);
    buttons->addStretch();
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(stage_);
    layout->addWidget(progress_);
    layout->addWidget(eta_);
    layout->addWidget(chart_, 1);
    layout->addLayout(buttons);
    connect(job_, &OptimizeJob::progress, this, [this](const QString& stage, double f, double left) {
        progress_->setValue(int(f * 1000));
        if (!job_->isPaused())
            stage_->setText(stage);
        eta_->setText(formatTimeLeft(left));
    });
    connect(job_, &OptimizeJob::trainingStep, this, [this](qint64 step, qint64, double loss, double val) {
        pause_->setEnabled(true);
        chart_->addTrainLoss(double(step), loss);
        if (!std::isnan(val))
            chart_->addValidationLoss(double(step), val);
    });
    connect(pause_, &QPushButton::toggled, this, [this](bool paused) {
        job_->setPaused(paused);
        pause_->setText(paused ? tr("&Resume") : tr("&Pause"));
        if (paused)
            stage_->setText(tr("Paused after the current step. Resume to go on; Cancel keeps nothing."));
    });
    connect(cancel_, &QPushButton::clicked, this, [this] {
        cancel_->setEnabled(false);
        pause_->setChecked(false);
        stage_->setText(tr("Cancelling…"));
        job_->cancel();
    });
}

void RunView::reset(bool training)
{
    progress_->setValue(0);
    eta_->clear();
    chart_->clear();
    chart_->setVisible(training);
    pause_->setVisible(training);
    pause_->setChecked(false);
    pause_->setEnabled(false); // until the first training step
    cancel_->setEnabled(true);
}

void RunView::setStage(const QString& text) { stage_->setText(text); }

void RunView::stopped()
{
    eta_->clear();
    pause_->setChecked(false);
    pause_->setEnabled(false);
    cancel_->setEnabled(false);
}

ResultsView::ResultsView(AppContext& context, QWidget* parent) : QWidget(parent), context_(context)
{
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
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(chart_, 3);
    layout->addWidget(table_, 2);
    layout->addLayout(buttons);
    connect(chat_, &QPushButton::clicked, this, [this] {
        if (!result_)
            return;
        chatWithModel(context_, result_->output);
        emit chatRequested();
    });
    connect(openFolder_, &QPushButton::clicked, this, [this] {
        if (result_)
            QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(result_->output).absolutePath()));
    });
}

void ResultsView::showResult(const OptimizeJobResult& r, const QString& originalLabel, const QString& thisLabel,
                       const std::vector<std::pair<QString, QString>>& extraRows)
{
    result_ = r;
    table_->setRowCount(0);
    auto add = [this](const QString& k, const QString& v) {
        const int row = table_->rowCount();
        table_->insertRow(row);
        table_->setItem(row, 0, new QTableWidgetItem(k));
        table_->setItem(row, 1, new QTableWidgetItem(v));
    };
    add(tr("File"), QDir::toNativeSeparators(r.output));
    for (const auto& [k, v] : extraRows)
        add(k, v);
    add(tr("Size"), tr("%1 MB (was %2 MB, %3%)")
                        .arg(double(r.outputBytes) / 1e6, 0, 'f', 2)
                        .arg(double(r.inputBytes) / 1e6, 0, 'f', 2)
                        .arg(r.inputBytes ? 100.0 * double(r.outputBytes) / double(r.inputBytes) : 0.0, 0, 'f', 1));
    add(tr("Mean KL divergence"), QString::number(r.meanKld, 'f', 6));
    add(tr("Median / 99th percentile KLD"), QStringLiteral("%1 / %2").arg(r.kldMedian, 0, 'f', 6).arg(r.kld99, 0, 'f', 6));
    add(tr("Same top token"), QStringLiteral("%1%").arg(r.sameTopPct, 0, 'f', 2));
    add(tr("Perplexity (original)"), QStringLiteral("%1 (%2)").arg(r.ppl, 0, 'f', 3).arg(r.basePpl, 0, 'f', 3));
    add(tr("Prompt / generation speed"), tr("%1 / %2 tokens/s").arg(r.prefillTps, 0, 'f', 0).arg(r.decodeTps, 0, 'f', 1));
    add(tr("What was done"), r.summary);
    add(tr("Measured on"), tr("%n window(s) of held-out text", nullptr, r.evalWindows));
    add(tr("Time"), tr("%1 s").arg(r.seconds, 0, 'f', 1));
    table_->resizeRowsToContents();

    const std::string hash = r.inputHash.toStdString();
    context_.storeWorker().call<std::vector<OptimizationRun>>(
        this, [hash](Store& store) { return store.optimizationRuns(hash); },
        [this, originalLabel, thisLabel](std::vector<OptimizationRun> runs) {
            if (!result_)
                return;
            std::vector<QualityPoint> points;
            points.push_back({QualityPoint::Kind::Original, originalLabel, double(result_->inputBytes) / 1e6, 0.0});
            for (const OptimizationRun& run : runs)
                if (run.outputPath != result_->output.toStdString())
                    if (auto p = qualityPointOf(run, QualityPoint::Kind::Earlier))
                        points.push_back(*p);
            for (const QualityPoint& p : QualityChart::referencePointsFor(result_->input))
                points.push_back(p);
            points.push_back({QualityPoint::Kind::Current, thisLabel, double(result_->outputBytes) / 1e6, result_->meanKld});
            chart_->setPoints(points);
            emit historyShown();
        },
        tr("the optimization history"));
}

} // namespace tenfold::ui
