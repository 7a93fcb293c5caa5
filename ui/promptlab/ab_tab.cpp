#include "promptlab/ab_tab.h"

#include "core/app_settings.h"
#include "cost/price_settings.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QFont>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStackedBarSeries>
#include <QTableWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tenfold::ui {

namespace {

QPlainTextEdit* textBox(QWidget* parent, const QString& name, bool readOnly)
{
    auto* e = new QPlainTextEdit(parent);
    e->setReadOnly(readOnly);
    e->setTabChangesFocus(true);
    e->setAccessibleName(name);
    return e;
}

} // namespace

double AbTab::localCost(const AbSide& side, const cost::PriceTable& prices)
{
    return prices.hardwareCost(side.prefillMs + side.decodeMs) + prices.energyCost(side.joules);
}

double AbTab::cloudCost(const AbSide& side, const cost::CloudPrice& price)
{
    return (side.promptTokens * price.inputPerMillion + side.outputTokens * price.outputPerMillion) / 1e6;
}

AbTab::AbTab(PromptLabHost& host, AppSettings& settings, QWidget* parent)
    : QWidget(parent), host_(host), settings_(settings)
{
    auto* layout = new QVBoxLayout(this);
    auto* prompts = new QGridLayout;
    auto* labelA = new QLabel(tr("Prompt &A"), this);
    auto* labelB = new QLabel(tr("Prompt &B"), this);
    promptA_ = textBox(this, tr("Prompt A"), false);
    promptB_ = textBox(this, tr("Prompt B"), false);
    // Sample input for the model (English, like the shared models), not interface text.
    promptA_->setPlainText(QStringLiteral("Summarize in one sentence: the lamp of the lighthouse went dark during a "
                                          "winter storm, and the village waited in fear until morning."));
    promptB_->setPlainText(QStringLiteral("Lighthouse lamp dark in storm; village afraid until morning. One-sentence summary:"));
    labelA->setBuddy(promptA_);
    labelB->setBuddy(promptB_);
    prompts->addWidget(labelA, 0, 0);
    prompts->addWidget(labelB, 0, 1);
    prompts->addWidget(promptA_, 1, 0);
    prompts->addWidget(promptB_, 1, 1);
    auto* inputsLabel = new QLabel(tr("&Inputs, one per line (optional; {input} in a prompt is replaced by each, "
                                      "otherwise the input is added on a new line):"),
                                   this);
    inputsLabel->setWordWrap(true);
    inputs_ = textBox(this, tr("Inputs"), false);
    inputs_->setMaximumHeight(inputs_->fontMetrics().lineSpacing() * 5);
    inputsLabel->setBuddy(inputs_);
    prompts->addWidget(inputsLabel, 2, 0, 1, 2);
    prompts->addWidget(inputs_, 3, 0, 1, 2);
    for (QPlainTextEdit* e : {promptA_, promptB_})
        e->setMaximumHeight(e->fontMetrics().lineSpacing() * 8);
    layout->addLayout(prompts, 1);

    auto* controls = new QHBoxLayout;
    auto* tokensLabel = new QLabel(tr("&Tokens to generate:"), this);
    tokens_ = new QSpinBox(this);
    tokens_->setRange(1, 1024);
    tokens_->setValue(48);
    tokensLabel->setBuddy(tokens_);
    auto* cloudLabel = new QLabel(tr("Compare &with:"), this);
    cloud_ = new QComboBox(this);
    cloud_->setToolTip(tr("A cloud API whose prices per 1M tokens the same tokens are priced at "
                          "(the price table on the Cost history page)"));
    cloudLabel->setBuddy(cloud_);
    run_ = new QPushButton(tr("&Run both"), this);
    cancel_ = new QPushButton(tr("Cancel"), this);
    cancel_->setShortcut(Qt::Key_Escape);
    cancel_->setEnabled(false);
    busy_ = new QProgressBar(this);
    busy_->setRange(0, 2);
    busy_->setVisible(false);
    stage_ = new QLabel(this);
    stage_->setWordWrap(true);
    controls->addWidget(tokensLabel);
    controls->addWidget(tokens_);
    controls->addWidget(cloudLabel);
    controls->addWidget(cloud_);
    controls->addWidget(run_);
    controls->addWidget(cancel_);
    controls->addWidget(busy_);
    controls->addWidget(stage_, 1);
    layout->addLayout(controls);

    auto* results = new QHBoxLayout;
    table_ = new QTableWidget(8, 2, this);
    table_->setHorizontalHeaderLabels({tr("A"), tr("B")});
    table_->setVerticalHeaderLabels({tr("Prompt tokens"), tr("Output tokens"), tr("Prompt time (ms)"),
                                     tr("Generation time (ms)"), tr("Total time (ms)"), tr("Tokens/s (generation)"),
                                     tr("Cost on this machine"), tr("Cost on the cloud API")});
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setAccessibleName(tr("A/B figures"));
    results->addWidget(table_, 1);

    prefill_ = new QBarSet(tr("Prompt"));
    decode_ = new QBarSet(tr("Generation"));
    *prefill_ << 0 << 0;
    *decode_ << 0 << 0;
    auto* series = new QStackedBarSeries;
    series->append(prefill_);
    series->append(decode_);
    auto* chart = new QChart;
    chart->addSeries(series);
    chart->setTitle(tr("Time per variant (ms)"));
    auto* variants = new QBarCategoryAxis;
    variants->append({tr("A"), tr("B")});
    chart->addAxis(variants, Qt::AlignBottom);
    series->attachAxis(variants);
    timeAxis_ = new QValueAxis;
    timeAxis_->setRange(0, 1);
    timeAxis_->setLabelFormat(QStringLiteral("%.0f"));
    chart->addAxis(timeAxis_, Qt::AlignLeft);
    series->attachAxis(timeAxis_);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setBackgroundVisible(false);
    chart_ = new QChartView(chart, this);
    chart_->setRenderHint(QPainter::Antialiasing);
    chart_->setMinimumHeight(200);
    chart_->setAccessibleName(tr("Time of each variant, prompt and generation"));
    results->addWidget(chart_, 1);
    layout->addLayout(results, 2);

    perInput_ = new QTableWidget(0, 13, this);
    perInput_->setHorizontalHeaderLabels({tr("Input"), tr("A prompt tokens"), tr("A output tokens"), tr("A time (ms)"),
                                          tr("A cost here"), tr("A cloud cost"), tr("A output"), tr("B prompt tokens"),
                                          tr("B output tokens"), tr("B time (ms)"), tr("B cost here"),
                                          tr("B cloud cost"), tr("B output")});
    perInput_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    perInput_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    perInput_->setWordWrap(false); // one line per input; the whole text is in each cell's tooltip
    perInput_->setAccessibleName(tr("A/B figures per input"));
    perInput_->setVisible(false);
    layout->addWidget(perInput_, 2);

    // Over a list of inputs the outputs are in the per-input table; these boxes show one run's.
    outputsBox_ = new QWidget(this);
    auto* outputs = new QGridLayout(outputsBox_);
    outputs->setContentsMargins(0, 0, 0, 0);
    outputA_ = textBox(outputsBox_, tr("Output A"), true);
    outputB_ = textBox(outputsBox_, tr("Output B"), true);
    outputs->addWidget(new QLabel(tr("Output A"), outputsBox_), 0, 0);
    outputs->addWidget(new QLabel(tr("Output B"), outputsBox_), 0, 1);
    outputs->addWidget(outputA_, 1, 0);
    outputs->addWidget(outputB_, 1, 1);
    layout->addWidget(outputsBox_, 2);

    connect(run_, &QPushButton::clicked, this, &AbTab::start);
    connect(cloud_, &QComboBox::currentIndexChanged, this, [this] {
        if (report_.id != 0)
            show(report_);
    });
    reloadPrices();
    connect(cancel_, &QPushButton::clicked, this, [this] { host_.cancel(); });
    connect(host_.worker(), &PromptLabWorker::progress, this, [this](quint64 id, const QString& stage) {
        if (id != lastId_)
            return;
        stage_->setText(stage);
        busy_->setValue(std::min(busy_->maximum(), steps_++)); // A, then B
    });
    connect(host_.worker(), &PromptLabWorker::abFinished, this, [this](const AbReport& r) {
        if (r.id != lastId_)
            return;
        setBusy(false);
        stage_->clear();
        show(r);
        emit finished(true);
    });
    connect(host_.worker(), &PromptLabWorker::jobFailed, this, [this](quint64 id, const QString& message) {
        if (id != lastId_)
            return;
        setBusy(false);
        stage_->setText(message);
        emit finished(false);
    });
    setModelReady(false);
}

void AbTab::setModelReady(bool ready)
{
    ready_ = ready;
    run_->setEnabled(ready && !cancel_->isEnabled());
    if (!ready)
        stage_->setText(tr("Load a model to run the prompts on."));
    else if (!cancel_->isEnabled())
        stage_->clear();
}

QStringList AbTab::inputList() const
{
    QStringList out;
    for (const QString& line : inputs_->toPlainText().split(QLatin1Char('\n')))
        if (!line.trimmed().isEmpty())
            out.push_back(line);
    return out;
}

void AbTab::start()
{
    if (!ready_ || cancel_->isEnabled())
        return;
    lastId_ = (lastId_ + 1) | (quint64(1) << 61);
    reloadPrices();
    const QStringList list = inputList();
    setBusy(true);
    busy_->setRange(0, list.isEmpty() ? 2 : 2 * int(list.size())); // one step per run
    host_.runAb(lastId_, promptA_->toPlainText(), promptB_->toPlainText(), tokens_->value(), list);
}

void AbTab::setBusy(bool busy)
{
    busy_->setVisible(busy);
    busy_->setValue(0);
    steps_ = 0;
    cancel_->setEnabled(busy);
    run_->setEnabled(!busy && ready_);
}

void AbTab::reloadPrices()
{
    prices_ = currentPriceTable(settings_);
    const QString chosen = cloud_->currentText();
    const QSignalBlocker quiet(cloud_);
    cloud_->clear();
    for (const cost::CloudPrice& p : prices_.cloud)
        cloud_->addItem(QString::fromStdString(p.name));
    const int again = cloud_->findText(chosen);
    cloud_->setCurrentIndex(again >= 0 ? again : 0);
    cloud_->setEnabled(cloud_->count() > 0);
}

QString AbTab::localCostText(const AbSide& s) const
{
    if (prices_.hardwareHours <= 0 && prices_.electricityPerKwh <= 0)
        return tr("no machine prices set");
    const QString money = moneyText(localCost(s, prices_), QString::fromStdString(prices_.currency));
    return s.energyEstimated ? tr("%1 (energy estimated)").arg(money) : money;
}

QString AbTab::cloudCostText(const AbSide& s) const
{
    const cost::CloudPrice* price =
        cloud_->currentIndex() >= 0 ? prices_.cloudPrice(cloud_->currentText().toStdString()) : nullptr;
    return price ? moneyText(cloudCost(s, *price), QString::fromStdString(prices_.currency))
                 : tr("no cloud price in the table");
}

void AbTab::showPerInput(const AbReport& r)
{
    perInput_->setVisible(!r.inputs.isEmpty());
    outputsBox_->setVisible(r.inputs.isEmpty());
    perInput_->setRowCount(r.inputs.isEmpty() ? 0 : int(r.inputs.size()) + 1);
    if (r.inputs.isEmpty())
        return;
    const QLocale locale;
    auto fill = [&](int row, const QString& input, const AbSide& a, const AbSide& b, bool total) {
        // Outputs on one line in the cell (line breaks as spaces), as generated in the tooltip.
        QStringList cells{input}, tips{input};
        for (const AbSide* s : {&a, &b}) {
            cells << locale.toString(s->promptTokens) << locale.toString(s->outputTokens)
                  << locale.toString(s->prefillMs + s->decodeMs, 'f', 1) << localCostText(*s)
                  << cloudCostText(*s) << (total ? QString() : s->output.simplified());
            tips << cells.mid(cells.size() - 6, 5) << (total ? QString() : s->output);
        }
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            item->setToolTip(tips[c]);
            if (total) {
                QFont f = item->font();
                f.setBold(true);
                item->setFont(f);
            }
            perInput_->setItem(row, c, item);
        }
    };
    for (int i = 0; i < r.inputs.size(); ++i)
        fill(i, r.inputs[i].input, r.inputs[i].a, r.inputs[i].b, false);
    fill(int(r.inputs.size()), tr("Total"), r.a, r.b, true);
    perInput_->resizeColumnsToContents();
    for (int c : {0, 6, 12})
        perInput_->setColumnWidth(c, std::min(perInput_->columnWidth(c), 260));
}

void AbTab::show(const AbReport& r)
{
    report_ = r;
    showPerInput(r);
    const QLocale locale;
    const AbSide* sides[2] = {&r.a, &r.b};
    for (int c = 0; c < 2; ++c) {
        const AbSide& s = *sides[c];
        const double rate = s.decodeMs > 0 ? s.outputTokens * 1000.0 / s.decodeMs : 0.0;
        const QStringList cells = {
            locale.toString(s.promptTokens),
            locale.toString(s.outputTokens),
            locale.toString(s.prefillMs, 'f', 1),
            locale.toString(s.decodeMs, 'f', 1),
            locale.toString(s.prefillMs + s.decodeMs, 'f', 1),
            locale.toString(rate, 'f', 1),
            localCostText(s),
            cloudCostText(s),
        };
        for (int row = 0; row < cells.size(); ++row) {
            auto* item = new QTableWidgetItem(cells[row]);
            if (row == 6)
                item->setToolTip(tr("%1 ms at the hardware amortisation plus %2 J at the electricity price")
                                     .arg(locale.toString(s.prefillMs + s.decodeMs, 'f', 1),
                                          locale.toString(s.joules, 'f', 2)));
            table_->setItem(row, c, item);
        }
    }
    table_->setVerticalHeaderItem(7, new QTableWidgetItem(cloud_->count() > 0 ? tr("Cost on %1").arg(cloud_->currentText())
                                                                              : tr("Cost on the cloud API")));
    outputA_->setPlainText(r.a.output);
    outputB_->setPlainText(r.b.output);
    prefill_->replace(0, r.a.prefillMs);
    prefill_->replace(1, r.b.prefillMs);
    decode_->replace(0, r.a.decodeMs);
    decode_->replace(1, r.b.decodeMs);
    const double top = std::max(r.a.prefillMs + r.a.decodeMs, r.b.prefillMs + r.b.decodeMs);
    timeAxis_->setRange(0, std::max(1.0, std::ceil(top * 1.1)));
}

} // namespace tenfold::ui
