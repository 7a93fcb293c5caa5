#include "optimize/optimize_page.h"

#include "core/app_context.h"
#include "optimize/quality_chart.h"
#include "optimize/compress_wizard.h"
#include "optimize/distill_wizard.h"
#include "optimize/prune_wizard.h"
#include "optimize/quantize_wizard.h"
#include "store/store.h"

#include <QAction>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

namespace tenfold::ui {
namespace {

QJsonObject parse(const std::string& json) { return QJsonDocument::fromJson(QByteArray::fromStdString(json)).object(); }

} // namespace

OptimizePage::OptimizePage(AppContext& context, QWidget* parent) : Page(parent), context_(context)
{
    auto* intro = new QLabel(tr("Make a model smaller and see exactly what it costs in quality: every run is measured "
                                "against the original (KL divergence on text calibration never saw) and kept here."));
    intro->setWordWrap(true);
    quantize_ = new QPushButton(tr("&Quantize a model…"));
    quantize_->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+Q")));
    quantize_->setToolTip(tr("Quantize a model (Ctrl+Shift+Q)"));
    compress_ = new QPushButton(tr("&Compress a model…"));
    compress_->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+C")));
    compress_->setToolTip(tr("Compress a model by low-rank factorisation or palettes (Ctrl+Shift+C)"));
    prune_ = new QPushButton(tr("&Prune a model…"));
    prune_->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+P")));
    prune_->setToolTip(tr("Remove weights, heads, channels or layers (Ctrl+Shift+P)"));
    distill_ = new QPushButton(tr("&Distill a model…"));
    distill_->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+D")));
    distill_->setToolTip(tr("Train a smaller student on a teacher (Ctrl+Shift+D)"));
    table_ = new QTableWidget(0, 7);
    table_->setHorizontalHeaderLabels(
        {tr("When"), tr("Model"), tr("Recipe"), tr("Size (MB)"), tr("Mean KLD"), tr("Perplexity"), tr("Status")});
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->setVisible(false);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    chart_ = new QualityChart;
    empty_ = new QLabel(tr("No runs yet. Quantize, compress, prune or distill a model to see what each size costs."));
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(table_);
    split->addWidget(chart_);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    auto* actions = new QHBoxLayout;
    actions->addWidget(quantize_);
    actions->addWidget(compress_);
    actions->addWidget(prune_);
    actions->addWidget(distill_);
    actions->addStretch();
    layout->addLayout(actions);
    layout->addWidget(empty_);
    layout->addWidget(split, 1);
    connect(quantize_, &QPushButton::clicked, this, [this] { openQuantizeWizard(); });
    connect(compress_, &QPushButton::clicked, this, [this] { openCompressWizard(); });
    connect(prune_, &QPushButton::clicked, this, [this] { openPruneWizard(); });
    connect(distill_, &QPushButton::clicked, this, [this] { openDistillWizard(); });
    connect(table_, &QTableWidget::itemSelectionChanged, this, &OptimizePage::selectionChanged);
}

QuantizeWizard* OptimizePage::openQuantizeWizard(const QString& model)
{
    auto* wizard = new QuantizeWizard(context_, model, this);
    wizard->setAttribute(Qt::WA_DeleteOnClose);
    connect(wizard, &QuantizeWizard::runRecordedInStore, this, &OptimizePage::refresh);
    wizard->show();
    return wizard;
}

CompressWizard* OptimizePage::openCompressWizard(const QString& model)
{
    auto* wizard = new CompressWizard(context_, model, this);
    wizard->setAttribute(Qt::WA_DeleteOnClose);
    connect(wizard, &CompressWizard::runRecordedInStore, this, &OptimizePage::refresh);
    wizard->show();
    return wizard;
}

PruneWizard* OptimizePage::openPruneWizard(const QString& model)
{
    auto* wizard = new PruneWizard(context_, model, this);
    wizard->setAttribute(Qt::WA_DeleteOnClose);
    connect(wizard, &PruneWizard::runRecordedInStore, this, &OptimizePage::refresh);
    wizard->show();
    return wizard;
}

DistillWizard* OptimizePage::openDistillWizard(const QString& teacher)
{
    auto* wizard = new DistillWizard(context_, teacher, this);
    wizard->setAttribute(Qt::WA_DeleteOnClose);
    connect(wizard, &DistillWizard::runRecordedInStore, this, &OptimizePage::refresh);
    wizard->show();
    return wizard;
}

void OptimizePage::refresh()
{
    context_.storeWorker().call<std::vector<OptimizationRun>>(
        this, [](Store& store) { return store.optimizationRuns(); },
        [this](std::vector<OptimizationRun> runs) { showRuns(std::move(runs)); }, tr("the optimization history"));
}

void OptimizePage::showRuns(std::vector<OptimizationRun> runs)
{
    runs_ = std::move(runs);
    table_->setRowCount(0);
    for (const OptimizationRun& r : runs_) {
        const int row = table_->rowCount();
        table_->insertRow(row);
        const QJsonObject p = parse(r.parametersJson);
        const QJsonObject rep = parse(r.reportJson);
        QString recipe = r.method == "quantize"
                             ? QStringLiteral("%1, %2").arg(p.value(QStringLiteral("target_mb")).isUndefined()
                                                                ? p.value(QStringLiteral("type")).toString()
                                                                : tr("%1 MB budget").arg(p.value(QStringLiteral("target_mb")).toDouble()),
                                                            p.value(QStringLiteral("method")).toString())
                             : p.contains(QStringLiteral("label"))
                                   ? QStringLiteral("%1: %2").arg(QString::fromStdString(r.method), p.value(QStringLiteral("label")).toString())
                                   : QString::fromStdString(r.method);
        const double kld = runMeanKld(r).value_or(-1);
        const double ppl = rep.value(QStringLiteral("perplexity")).toObject().value(QStringLiteral("ppl")).toDouble(-1);
        const QString status = r.status == "ok" ? tr("done") : r.status == "cancelled" ? tr("cancelled") : tr("failed");
        const QStringList cells = {
            QDateTime::fromMSecsSinceEpoch(r.createdAt).toString(QStringLiteral("yyyy-MM-dd hh:mm")),
            QFileInfo(QString::fromStdString(r.inputPath)).fileName(),
            recipe,
            r.outputBytes > 0 ? QString::number(double(r.outputBytes) / 1e6, 'f', 2) : QString(),
            kld >= 0 ? QString::number(kld, 'f', 6) : QString(),
            ppl >= 0 ? QString::number(ppl, 'f', 3) : QString(),
            status};
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (c == 1)
                item->setToolTip(QDir::toNativeSeparators(QString::fromStdString(r.inputPath)));
            if (c == 2 && !r.outputPath.empty())
                item->setToolTip(QDir::toNativeSeparators(QString::fromStdString(r.outputPath)));
            table_->setItem(row, c, item);
        }
    }
    empty_->setVisible(runs_.empty());
    chart_->setVisible(!runs_.empty()); // an empty chart says nothing the line above does not
    if (!runs_.empty())
        table_->selectRow(0);
    selectionChanged();
    emit runsShown();
}

void OptimizePage::selectionChanged()
{
    const int row = table_->currentRow();
    if (row < 0 || size_t(row) >= runs_.size()) {
        chart_->setPoints({});
        return;
    }
    const OptimizationRun& sel = runs_[size_t(row)];
    std::vector<QualityPoint> points;
    // The original's size comes from the input file when it is still there.
    const QFileInfo input(QString::fromStdString(sel.inputPath));
    if (input.exists())
        points.push_back({QualityPoint::Kind::Original, tr("Original"), double(input.size()) / 1e6, 0.0});
    for (const OptimizationRun& r : runs_)
        if (r.inputModelHash == sel.inputModelHash)
            if (auto p = qualityPointOf(r, &r == &sel ? QualityPoint::Kind::Current : QualityPoint::Kind::Earlier))
                points.push_back(*p);
    for (const QualityPoint& p : QualityChart::referencePointsFor(input.filePath()))
        points.push_back(p);
    chart_->setPoints(points);
}

} // namespace tenfold::ui
