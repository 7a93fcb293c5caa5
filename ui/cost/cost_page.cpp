#include "cost/cost_page.h"

#include "core/app_context.h"
#include "core/app_settings.h"
#include "core/background.h"
#include "core/number_item.h"
#include "cost/cost_report.h"
#include "cost/price_settings.h"
#include "session/model_host.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDateTime>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeySequence>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollArea>
#include <QStackedBarSeries>
#include <QTableWidget>
#include <QThread>
#include <QValueAxis>
#include <QVBoxLayout>

#include <cmath>
#include <map>
#include <set>

namespace tenfold::ui {
namespace {

struct Snapshot {
    std::vector<LedgerEntry> rows;
    std::vector<OptimizationRun> runs;
};

QTableWidgetItem* item(const QString& text, Qt::Alignment align = Qt::AlignLeft | Qt::AlignVCenter)
{
    auto* i = new QTableWidgetItem(text);
    i->setTextAlignment(align);
    return i;
}

// Money: six decimals, or three significant digits below a tenth of a cent (a single local
// reply often costs millionths).
QString money(double value)
{
    const QLocale locale;
    return value != 0 && std::abs(value) < 0.001 ? locale.toString(value, 'g', 3) : locale.toString(value, 'f', 6);
}

QTableWidgetItem* numberItem(double value, const QString& text)
{
    return new NumberItem(value, text);
}

} // namespace

CostPage::CostPage(AppContext& context, QWidget* parent) : Page(parent), context_(context)
{
    priceTable_ = currentPriceTable(context_.settings());

    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* body = new QWidget(scroll);
    scroll->setWidget(body);
    auto* pageLayout = new QVBoxLayout(this);
    pageLayout->setContentsMargins(0, 0, 0, 0);
    pageLayout->addWidget(scroll);

    auto* outer = new QVBoxLayout(body);
    outer->setContentsMargins(28, 24, 28, 24);
    auto* heading = new QLabel(tr("Cost history"), body);
    heading->setObjectName(QStringLiteral("pageTitle"));
    outer->addWidget(heading);
    auto* intro = new QLabel(tr("What each generation cost: the energy it used (measured from the CPU's RAPL "
                                "counters where the system allows reading them, otherwise estimated from the "
                                "configured wattage and marked \"est.\") at your electricity price, plus the "
                                "machine's cost spread over its hours of use. Days follow your local time."),
                             body);
    intro->setWordWrap(true);
    outer->addWidget(intro);

    auto* filters = new QHBoxLayout;
    auto addFilter = [&](const QString& label, QComboBox*& box) {
        auto* l = new QLabel(label, body);
        box = new QComboBox(body);
        box->setSizeAdjustPolicy(QComboBox::AdjustToContents);
        l->setBuddy(box);
        filters->addWidget(l);
        filters->addWidget(box);
    };
    addFilter(tr("&Period:"), period_);
    period_->addItem(tr("Day"), int(cost::Period::Day));
    period_->addItem(tr("Week"), int(cost::Period::Week));
    addFilter(tr("&Model:"), model_);
    addFilter(tr("&Device:"), device_);
    addFilter(tr("&Source:"), source_);
    addFilter(tr("C&hart:"), measure_);
    measure_->addItem(tr("Cost"));
    measure_->addItem(tr("Tokens"));
    measure_->addItem(tr("Energy (J)"));
    filters->addStretch(1);
    outer->addLayout(filters);

    auto* chart = new QChart;
    chart->setBackgroundVisible(false);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart_ = new QChartView(chart, body);
    chart_->setRenderHint(QPainter::Antialiasing);
    chart_->setMinimumHeight(260);
    chart_->setAccessibleName(tr("Cost per period by model"));
    outer->addWidget(chart_);

    auto* summaryBox = new QGroupBox(tr("Totals"), body);
    auto* summaryLayout = new QVBoxLayout(summaryBox);
    auto* cloudRow = new QHBoxLayout;
    auto* cloudLabel = new QLabel(tr("Compare &with:"), summaryBox);
    cloud_ = new QComboBox(summaryBox);
    cloudLabel->setBuddy(cloud_);
    cloudRow->addWidget(cloudLabel);
    cloudRow->addWidget(cloud_);
    cloudRow->addStretch(1);
    summaryLayout->addLayout(cloudRow);
    summary_ = new QLabel(summaryBox);
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    summaryLayout->addWidget(summary_);
    outer->addWidget(summaryBox);

    auto* savingsBox = new QGroupBox(tr("Savings by optimisation"), body);
    auto* savingsLayout = new QVBoxLayout(savingsBox);
    savings_ = new QTableWidget(0, 5, savingsBox);
    savings_->setHorizontalHeaderLabels({tr("Optimisation"), tr("Model (device)"), tr("Tokens"), tr("Saved"), tr("Energy saved (J)")});
    savings_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    savings_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    savings_->verticalHeader()->hide();
    savings_->setMinimumHeight(120);
    savingsLayout->addWidget(savings_);
    outer->addWidget(savingsBox);

    auto* rowsBox = new QGroupBox(tr("Generations"), body);
    auto* rowsLayout = new QVBoxLayout(rowsBox);
    rows_ = new QTableWidget(0, 10, rowsBox);
    rows_->setHorizontalHeaderLabels({tr("Time"), tr("Source"), tr("Model"), tr("Quantization"), tr("Device"),
                                      tr("Prompt tokens"), tr("Generated tokens"), tr("Time (ms)"), tr("Energy (J)"),
                                      tr("Cost")});
    rows_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    rows_->setSortingEnabled(true);
    rows_->verticalHeader()->hide();
    rows_->setMinimumHeight(220);
    rowsLayout->addWidget(rows_);
    outer->addWidget(rowsBox);

    auto* pricesBox = new QGroupBox(tr("Prices"), body);
    auto* pricesLayout = new QVBoxLayout(pricesBox);
    auto* pricesHelp = new QLabel(tr("One entry per line, fields separated by tabs: electricity_per_kwh, hardware_price, "
                                     "hardware_hours (hours of use the machine is written off over), and "
                                     "\"cloud NAME INPUT OUTPUT\" prices per 1M tokens."),
                                  pricesBox);
    pricesHelp->setWordWrap(true);
    pricesLayout->addWidget(pricesHelp);
    prices_ = new QPlainTextEdit(pricesBox);
    prices_->setTabChangesFocus(false);
    prices_->setMinimumHeight(150);
    prices_->setAccessibleName(tr("Price table"));
    prices_->setPlainText(QString::fromStdString(priceTable_.serialize()));
    pricesLayout->addWidget(prices_);
    auto* priceButtons = new QHBoxLayout;
    savePrices_ = new QPushButton(tr("Save &prices"), pricesBox);
    resetPrices_ = new QPushButton(tr("Restore &defaults"), pricesBox);
    priceStatus_ = new QLabel(pricesBox);
    priceStatus_->setWordWrap(true);
    priceButtons->addWidget(savePrices_);
    priceButtons->addWidget(resetPrices_);
    priceButtons->addWidget(priceStatus_, 1);
    pricesLayout->addLayout(priceButtons);
    outer->addWidget(pricesBox);

    auto* buttons = new QHBoxLayout;
    refresh_ = new QPushButton(tr("&Refresh"), body);
    refresh_->setShortcut(QKeySequence::Refresh);
    export_ = new QPushButton(tr("&Export CSV…"), body);
    status_ = new QLabel(body);
    buttons->addWidget(refresh_);
    buttons->addWidget(export_);
    buttons->addStretch(1);
    buttons->addWidget(status_);
    outer->addLayout(buttons);

    priceStatus_->setText(tr("Defaults taken %1.").arg(QString::fromStdString(defaultPriceTable().dateTaken)));

    for (QComboBox* box : {period_, model_, device_, source_, measure_, cloud_})
        connect(box, &QComboBox::currentIndexChanged, this, [this] { showData(); });
    connect(refresh_, &QPushButton::clicked, this, &CostPage::refresh);
    connect(export_, &QPushButton::clicked, this, &CostPage::chooseCsvFile);
    connect(savePrices_, &QPushButton::clicked, this, &CostPage::savePrices);
    connect(resetPrices_, &QPushButton::clicked, this, [this] {
        resetPriceTable(context_.settings());
        priceTable_ = defaultPriceTable();
        prices_->setPlainText(QString::fromStdString(priceTable_.serialize()));
        priceStatus_->setText(tr("Back to the defaults taken %1.").arg(QString::fromStdString(priceTable_.dateTaken)));
        fillFilters();
        showData();
    });
    connect(&context_.host(), &ModelHost::generationFinished, this, [this] { refresh(); });
    refresh();
}

void CostPage::refresh()
{
    status_->setText(tr("Reading…"));
    context_.storeWorker().call<Snapshot>(
        this, [](Store& store) { return Snapshot{store.usage(), store.optimizationRuns()}; },
        [this](Snapshot s) {
            all_ = std::move(s.rows);
            runs_ = std::move(s.runs);
            fillFilters();
            showData();
            status_->setText(tr("Updated %1").arg(QLocale().toString(QTime::currentTime(), QLocale::ShortFormat)));
            emit dataShown();
        },
        tr("the usage ledger"), [this] { status_->setText(tr("Could not read the usage ledger.")); });
}

void CostPage::fillFilters()
{
    auto refill = [](QComboBox* box, const QString& all, const std::vector<std::pair<QString, QString>>& entries) {
        const QString current = box->currentData().toString();
        const QSignalBlocker block(box);
        box->clear();
        if (!all.isEmpty())
            box->addItem(all, QString());
        for (const auto& [label, value] : entries)
            box->addItem(label, value);
        const int index = box->findData(current);
        box->setCurrentIndex(index >= 0 ? index : 0);
    };
    std::set<std::string> models, devices;
    for (const LedgerEntry& e : all_) {
        models.insert(e.model);
        devices.insert(e.device);
    }
    std::vector<std::pair<QString, QString>> m, d, c;
    for (const auto& s : models)
        m.push_back({QString::fromStdString(s), QString::fromStdString(s)});
    for (const auto& s : devices)
        d.push_back({QString::fromStdString(s), QString::fromStdString(s)});
    refill(model_, tr("All models"), m);
    refill(device_, tr("All devices"), d);
    refill(source_, tr("All sources"),
           {{tr("Chat"), QStringLiteral("app")}, {tr("Server"), QStringLiteral("server")},
            {tr("Command line"), QStringLiteral("cli")}, {tr("Benchmark"), QStringLiteral("benchmark")}});
    for (const cost::CloudPrice& p : priceTable_.cloud)
        c.push_back({QString::fromStdString(p.name), QString::fromStdString(p.name)});
    refill(cloud_, QString(), c);
}

void CostPage::showData()
{
    const QString model = model_->currentData().toString();
    const QString device = device_->currentData().toString();
    const QString source = source_->currentData().toString();
    filtered_.clear();
    for (const LedgerEntry& e : all_) {
        if (!model.isEmpty() && QString::fromStdString(e.model) != model)
            continue;
        if (!device.isEmpty() && QString::fromStdString(e.device) != device)
            continue;
        if (!source.isEmpty() && QString::fromStdString(e.source) != source)
            continue;
        filtered_.push_back(e);
    }
    showChart();
    showSummary();
    showSavings();
    showRows();
}

void CostPage::showChart()
{
    const auto period = cost::Period(period_->currentData().toInt());
    const auto buckets = cost::aggregate(filtered_, priceTable_, period);
    std::vector<std::string> periods;
    std::map<std::string, std::map<std::string, double>> byModel; // model -> period -> value
    for (const cost::CostBucket& b : buckets) {
        if (periods.empty() || periods.back() != b.period)
            periods.push_back(b.period);
        const std::string key = b.model + " (" + b.device + ")";
        double value = b.cost;
        if (measure_->currentIndex() == 1)
            value = double(b.tokensIn + b.tokensOut);
        else if (measure_->currentIndex() == 2)
            value = b.energyJoules;
        byModel[key][b.period] += value;
    }
    QChart* chart = chart_->chart();
    chart->removeAllSeries();
    for (QAbstractAxis* axis : chart->axes())
        chart->removeAxis(axis);
    auto* series = new QStackedBarSeries;
    double top = 0;
    std::map<std::string, double> stackHeight;
    for (const auto& [key, values] : byModel) {
        auto* set = new QBarSet(QString::fromStdString(key));
        for (const std::string& p : periods) {
            const auto it = values.find(p);
            const double v = it == values.end() ? 0 : it->second;
            *set << v;
            stackHeight[p] += v;
        }
        series->append(set);
    }
    for (const auto& [p, h] : stackHeight)
        top = std::max(top, h);
    chart->addSeries(series);
    auto* axisX = new QBarCategoryAxis;
    for (const std::string& p : periods)
        axisX->append(QString::fromStdString(p));
    chart->addAxis(axisX, Qt::AlignBottom);
    series->attachAxis(axisX);
    auto* axisY = new QValueAxis;
    axisY->setRange(0, top > 0 ? top * 1.1 : 1);
    // Costs are often fractions of a cent: significant digits, not fixed decimals.
    axisY->setLabelFormat(measure_->currentIndex() == 0 ? QStringLiteral("%.3g") : QStringLiteral("%.0f"));
    axisY->setTitleText(measure_->currentIndex() == 0   ? QString::fromStdString(priceTable_.currency)
                        : measure_->currentIndex() == 1 ? tr("tokens")
                                                        : tr("joules"));
    chart->addAxis(axisY, Qt::AlignLeft);
    series->attachAxis(axisY);
    chart->setTitle(period == cost::Period::Day ? tr("Per day (local time)") : tr("Per week (from Monday, local time)"));
}

void CostPage::showSummary()
{
    const QLocale locale;
    int64_t tokensIn = 0, tokensOut = 0, estimated = 0;
    double joules = 0, money = 0;
    for (const LedgerEntry& e : filtered_) {
        const cost::RowCost c = cost::costOf(e, priceTable_);
        tokensIn += e.tokensIn;
        tokensOut += e.tokensOut;
        joules += c.energyJoules;
        money += c.total();
        if (c.energyEstimated)
            ++estimated;
    }
    const int64_t tokens = tokensIn + tokensOut;
    const QString currency = QString::fromStdString(priceTable_.currency);
    QString text = tr("%Ln generation(s), %L1 prompt and %L2 generated tokens.", "", int(filtered_.size()))
                       .arg(tokensIn)
                       .arg(tokensOut);
    text += QLatin1Char(' ') + tr("Cost %1 %2, energy %3 J: %4 %2 and %5 J per 1M tokens.")
                                   .arg(tenfold::ui::money(money), currency, locale.toString(joules, 'f', 1),
                                        locale.toString(cost::perMillion(money, tokens), 'f', 4),
                                        locale.toString(cost::perMillion(joules, tokens), 'f', 0));
    if (estimated > 0)
        text += QLatin1Char(' ') + tr("Energy of %Ln generation(s) is an estimate (est.): RAPL was not readable or "
                                      "the work ran on a GPU.", "", int(estimated));
    if (const cost::CloudPrice* cloud = priceTable_.cloudPrice(cloud_->currentData().toString().toStdString()))
        text += QLatin1Char(' ') + tr("The same tokens at %1 would cost %2 %3 (prices taken %4).")
                                       .arg(QString::fromStdString(cloud->name),
                                            tenfold::ui::money(priceTable_.cloudCost(*cloud, tokensIn, tokensOut)),
                                            currency, QString::fromStdString(priceTable_.dateTaken));
    summary_->setText(text);
}

void CostPage::showSavings()
{
    const QLocale locale;
    const auto list = cost::savings(filtered_, runs_, priceTable_);
    savings_->setSortingEnabled(false);
    savings_->setRowCount(int(list.size()));
    for (int i = 0; i < int(list.size()); ++i) {
        const cost::Saving& s = list[size_t(i)];
        QString kind = s.kind == "quantization" ? tr("Quantized model vs its base")
                       : s.kind == "cache"      ? tr("Response cache hits")
                                                : tr("Speculative decoding");
        savings_->setItem(i, 0, item(kind));
        savings_->setItem(i, 1, item(QString::fromStdString(s.subject)));
        savings_->setItem(i, 2, numberItem(double(s.tokens), locale.toString(qlonglong(s.tokens))));
        savings_->setItem(i, 3, s.measured ? numberItem(s.saved(), money(s.saved()))
                                           : item(tr("no baseline rows")));
        savings_->setItem(i, 4, s.measured ? numberItem(s.baselineJoules - s.actualJoules,
                                                        locale.toString(s.baselineJoules - s.actualJoules, 'f', 1))
                                           : item(QStringLiteral("–")));
    }
    savings_->resizeColumnsToContents();
}

void CostPage::showRows()
{
    const QLocale locale;
    rows_->setSortingEnabled(false);
    rows_->setRowCount(int(filtered_.size()));
    for (int i = 0; i < int(filtered_.size()); ++i) {
        const LedgerEntry& e = filtered_[size_t(i)];
        const cost::RowCost c = cost::costOf(e, priceTable_);
        const QDateTime when = QDateTime::fromMSecsSinceEpoch(e.time).toLocalTime();
        auto* time = numberItem(double(e.time), locale.toString(when, QLocale::ShortFormat));
        time->setTextAlignment(Qt::AlignLeft | Qt::AlignVCenter);
        rows_->setItem(i, 0, time);
        const QString source = e.source == "app"      ? tr("Chat")
                               : e.source == "server" ? tr("Server")
                               : e.source == "cli"    ? tr("Command line")
                               : e.source == "benchmark" ? tr("Benchmark")
                                                      : QString::fromStdString(e.source);
        rows_->setItem(i, 1, item(source));
        rows_->setItem(i, 2, item(QString::fromStdString(e.model)));
        rows_->setItem(i, 3, item(QString::fromStdString(e.quantization)));
        rows_->setItem(i, 4, item(QString::fromStdString(e.device)));
        rows_->setItem(i, 5, numberItem(e.tokensIn, locale.toString(e.tokensIn)));
        rows_->setItem(i, 6, numberItem(e.tokensOut, locale.toString(e.tokensOut)));
        rows_->setItem(i, 7, numberItem(e.totalMs, locale.toString(e.totalMs, 'f', 0)));
        QString energy = locale.toString(c.energyJoules, 'f', 2);
        if (c.energyEstimated)
            energy += QLatin1Char(' ') + tr("est.");
        rows_->setItem(i, 8, numberItem(c.energyJoules, energy));
        rows_->setItem(i, 9, numberItem(c.total(), money(c.total())));
    }
    rows_->setSortingEnabled(true);
    rows_->resizeColumnsToContents();
}

void CostPage::savePrices()
{
    const QString error = savePriceTable(context_.settings(), prices_->toPlainText());
    if (!error.isEmpty()) {
        priceStatus_->setText(tr("Not saved: %1").arg(error));
        return;
    }
    priceTable_ = currentPriceTable(context_.settings());
    priceStatus_->setText(tr("Saved."));
    fillFilters();
    showData();
}

void CostPage::chooseCsvFile()
{
    auto* dialog = new QFileDialog(this, tr("Export the usage ledger"), QString(), tr("CSV files (*.csv)"));
    dialog->setAcceptMode(QFileDialog::AcceptSave);
    dialog->setDefaultSuffix(QStringLiteral("csv"));
    dialog->selectFile(QStringLiteral("tenfold-usage.csv"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QFileDialog::fileSelected, this, &CostPage::exportCsv);
    dialog->open();
}

void CostPage::exportCsv(const QString& path)
{
    status_->setText(tr("Writing %1…").arg(path));
    const std::string csv = cost::ledgerCsv(filtered_, priceTable_);
    runInBackground<QString>(
        this,
        [path, csv] {
            QSaveFile file(path); // a temporary file renamed over the target on commit
            if (!file.open(QIODevice::WriteOnly) || file.write(csv.data(), qint64(csv.size())) != qint64(csv.size()) ||
                !file.commit())
                return file.errorString().isEmpty() ? QStringLiteral("?") : file.errorString();
            return QString();
        },
        [this, path](QString error) {
            status_->setText(error.isEmpty() ? tr("Wrote %1.").arg(path) : tr("Could not write %1: %2").arg(path, error));
            emit csvWritten(path, error);
        });
}

} // namespace tenfold::ui
