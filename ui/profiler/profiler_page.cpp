#include "profiler/profiler_page.h"

#include "core/app_context.h"
#include "core/app_settings.h"
#include "core/background.h"
#include "core/number_item.h"
#include "models/library_ops.h"
#include "runtime/memory_bandwidth.h"
#include "session/model_host.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QStackedBarSeries>
#include <QTableWidget>
#include <QTimer>
#include <QValueAxis>
#include <QVBoxLayout>

#include <map>
#include <set>

namespace tenfold::ui {
namespace {

QChartView* chartView(QWidget* parent, const QString& title, const QString& accessibleName)
{
    auto* chart = new QChart;
    chart->setTitle(title);
    chart->setBackgroundVisible(false);
    chart->legend()->setAlignment(Qt::AlignBottom);
    auto* view = new QChartView(chart, parent);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(240);
    view->setAccessibleName(accessibleName);
    return view;
}

void clearChart(QChart* chart)
{
    chart->removeAllSeries();
    for (QAbstractAxis* axis : chart->axes())
        chart->removeAxis(axis);
}

QString bytesText(double bytes)
{
    return QLocale().formattedDataSize(qint64(bytes), 1, QLocale::DataSizeTraditionalFormat);
}

QString layerName(int layer)
{
    return layer < 0 ? ProfilerPage::tr("other") : ProfilerPage::tr("L%1").arg(layer);
}

struct Comparison {
    std::optional<ProfileRecord> a, b;
};

} // namespace

ProfilerPage::ProfilerPage(AppContext& context, QWidget* parent) : Page(parent), context_(context)
{
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

    auto* heading = new QLabel(tr("Profiler"), body);
    heading->setObjectName(QStringLiteral("pageTitle"));
    outer->addWidget(heading);
    auto* intro = new QLabel(tr("Where a reply's time goes, live while the chat generates, a benchmark runs or the "
                                "Server page's server (started with its timing switch) serves: speed, "
                                "the time of every operation in every layer (CPU timers or GPU timestamps), memory, CPU "
                                "use per core, and how close decoding comes to the machine's memory bandwidth. Timing "
                                "every operation costs a little speed, so it is a switch, applied when a model loads."),
                             body);
    intro->setWordWrap(true);
    outer->addWidget(intro);

    auto* switchRow = new QHBoxLayout;
    enable_ = new QCheckBox(tr("&Time every operation"), body);
    enable_->setChecked(context_.settings().profiling());
    reload_ = new QPushButton(tr("Re&load the model"), body);
    reload_->setToolTip(tr("Load the current model again so the setting takes effect"));
    loadedState_ = new QLabel(body);
    loadedState_->setWordWrap(true);
    switchRow->addWidget(enable_);
    switchRow->addWidget(reload_);
    switchRow->addWidget(loadedState_, 1);
    outer->addLayout(switchRow);

    auto* bandwidthRow = new QHBoxLayout;
    measure_ = new QPushButton(tr("&Measure memory bandwidth"), body);
    measure_->setToolTip(tr("Reads 1 GiB five times with the CPU's threads, as tenfold-cli bench --memory does"));
    bandwidth_ = new QLabel(tr("Memory bandwidth not measured yet."), body);
    bandwidth_->setWordWrap(true);
    bandwidthRow->addWidget(measure_);
    bandwidthRow->addWidget(bandwidth_, 1);
    outer->addLayout(bandwidthRow);

    auto* benchBox = new QGroupBox(tr("Benchmark the loaded model"), body);
    auto* benchLayout = new QVBoxLayout(benchBox);
    auto* benchRow = new QHBoxLayout;
    auto* promptLabel = new QLabel(tr("&Prompt tokens:"), benchBox);
    benchPrompt_ = new QSpinBox(benchBox);
    benchPrompt_->setRange(1, 1 << 20);
    benchPrompt_->setValue(256);
    benchPrompt_->setToolTip(tr("Processed in one pass from an empty cache (prefill)"));
    promptLabel->setBuddy(benchPrompt_);
    auto* genLabel = new QLabel(tr("&Tokens to generate:"), benchBox);
    benchGen_ = new QSpinBox(benchBox);
    benchGen_->setRange(1, 1 << 20);
    benchGen_->setValue(128);
    benchGen_->setToolTip(tr("Decoded one at a time after the prompt"));
    genLabel->setBuddy(benchGen_);
    benchRun_ = new QPushButton(tr("Run &benchmark"), benchBox);
    benchRun_->setToolTip(tr("The same test as tenfold-cli bench -p N -n M, on the model as loaded here"));
    benchCancel_ = new QPushButton(tr("Cancel"), benchBox);
    benchCancel_->setShortcut(Qt::Key_Escape);
    benchCancel_->setEnabled(false);
    benchProgress_ = new QProgressBar(benchBox);
    benchProgress_->setVisible(false);
    benchRow->addWidget(promptLabel);
    benchRow->addWidget(benchPrompt_);
    benchRow->addWidget(genLabel);
    benchRow->addWidget(benchGen_);
    benchRow->addWidget(benchRun_);
    benchRow->addWidget(benchCancel_);
    benchRow->addWidget(benchProgress_, 1);
    benchLayout->addLayout(benchRow);
    benchSummary_ = new QLabel(tr("Runs a prompt pass and a decode run on the loaded model and records them in the "
                                  "usage ledger (Cost history: source \"Benchmark\")."),
                               benchBox);
    benchSummary_->setWordWrap(true);
    benchSummary_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    benchLayout->addWidget(benchSummary_);
    outer->addWidget(benchBox);

    figures_ = new QLabel(tr("No reply profiled yet."), body);
    figures_->setWordWrap(true);
    figures_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    outer->addWidget(figures_);

    auto* charts = new QHBoxLayout;
    speedView_ = chartView(body, tr("Tokens per second"), tr("Generated tokens per second over time"));
    speed_ = new QLineSeries;
    speed_->setName(tr("tokens/s"));
    speed_->setPointsVisible(true); // a short reply may give a single sample
    speedView_->chart()->addSeries(speed_);
    speedX_ = new QValueAxis;
    speedX_->setTitleText(tr("seconds"));
    speedX_->setRange(0, 10);
    speedY_ = new QValueAxis;
    speedY_->setRange(0, 10);
    speedY_->setLabelFormat(QStringLiteral("%.0f"));
    speedView_->chart()->addAxis(speedX_, Qt::AlignBottom);
    speedView_->chart()->addAxis(speedY_, Qt::AlignLeft);
    speed_->attachAxis(speedX_);
    speed_->attachAxis(speedY_);
    speedView_->chart()->legend()->hide();
    coresView_ = chartView(body, tr("CPU use per core"), tr("Busy share of each CPU core"));
    charts->addWidget(speedView_, 1);
    charts->addWidget(coresView_, 1);
    outer->addLayout(charts);

    opsView_ = chartView(body, tr("Time per operation and layer (last forward pass)"),
                         tr("Microseconds of each operation in each layer"));
    opsView_->setMinimumHeight(300);
    outer->addWidget(opsView_);

    auto* opsBox = new QGroupBox(tr("Operations, summed over the decode passes sampled during the reply"), body);
    auto* opsLayout = new QVBoxLayout(opsBox);
    ops_ = new QTableWidget(0, 6, opsBox);
    ops_->setHorizontalHeaderLabels({tr("Operation"), tr("Layer"), tr("Total (µs)"), tr("Per pass (µs)"),
                                     tr("Share"), tr("Calls")});
    ops_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    ops_->setSortingEnabled(true);
    ops_->verticalHeader()->hide();
    ops_->setMinimumHeight(220);
    opsLayout->addWidget(ops_);
    auto* recordRow = new QHBoxLayout;
    record_ = new QPushButton(tr("&Record this profile"), opsBox);
    record_->setEnabled(false);
    recordStatus_ = new QLabel(opsBox);
    recordStatus_->setWordWrap(true);
    recordRow->addWidget(record_);
    recordRow->addWidget(recordStatus_, 1);
    opsLayout->addLayout(recordRow);
    outer->addWidget(opsBox);

    auto* compareBox = new QGroupBox(tr("Compare two recordings"), body);
    auto* compareLayout = new QVBoxLayout(compareBox);
    auto* pick = new QHBoxLayout;
    auto* firstLabel = new QLabel(tr("&First:"), compareBox);
    first_ = new QComboBox(compareBox);
    firstLabel->setBuddy(first_);
    auto* secondLabel = new QLabel(tr("&Second:"), compareBox);
    second_ = new QComboBox(compareBox);
    secondLabel->setBuddy(second_);
    for (QComboBox* box : {first_, second_})
        box->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    pick->addWidget(firstLabel);
    pick->addWidget(first_);
    pick->addWidget(secondLabel);
    pick->addWidget(second_);
    pick->addStretch(1);
    compareLayout->addLayout(pick);
    compare_ = new QTableWidget(0, 4, compareBox);
    compare_->setHorizontalHeaderLabels({tr("Figure"), tr("First"), tr("Second"), tr("Second / first")});
    compare_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    compare_->verticalHeader()->hide();
    compare_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    compare_->setMinimumHeight(240);
    compareLayout->addWidget(compare_);
    outer->addWidget(compareBox);

    connect(enable_, &QCheckBox::toggled, this, [this](bool on) {
        context_.settings().setProfiling(on);
        context_.settings().sync();
        showLoaded();
    });
    connect(reload_, &QPushButton::clicked, this, [this] {
        if (const auto& loaded = context_.host().loadedModel())
            context_.host().load(makeLoadRequest(context_, loaded->path, loaded->contextSize));
    });
    connect(measure_, &QPushButton::clicked, this, [this] { measureBandwidth(); });
    connect(record_, &QPushButton::clicked, this, [this] { recordProfile(); });
    for (QComboBox* box : {first_, second_})
        connect(box, &QComboBox::currentIndexChanged, this, [this] {
            if (first_->currentIndex() >= 0 && second_->currentIndex() >= 0)
                compare(first_->currentData().toLongLong(), second_->currentData().toLongLong());
        });
    connect(&context_.host(), &ModelHost::profileSampled, this, &ProfilerPage::onSample);
    connect(&context_, &AppContext::serverProfileSampled, this, &ProfilerPage::onSample);
    connect(benchRun_, &QPushButton::clicked, this, &ProfilerPage::runBenchmark);
    connect(benchCancel_, &QPushButton::clicked, this, [this] {
        if (benchId_ != 0)
            context_.host().stop();
    });
    connect(&context_.host(), &ModelHost::benchmarkFinished, this, [this](const BenchResult& r) {
        if (r.id != benchId_)
            return;
        setBenchmarkBusy(false);
        bench_ = r;
        showBenchmark(r);
        recordBenchmark(r);
        emit benchmarkDone(true);
    });
    connect(&context_.host(), &ModelHost::benchmarkFailed, this, [this](quint64 id, const QString& message) {
        if (id != benchId_)
            return;
        setBenchmarkBusy(false);
        benchSummary_->setText(tr("The benchmark failed: %1").arg(message));
        emit benchmarkDone(false);
    });
    connect(&context_.host(), &ModelHost::stateChanged, this, [this] { setBenchmarkBusy(benchId_ != 0); });
    connect(&context_.host(), &ModelHost::loaded, this, [this] { showLoaded(); });
    connect(&context_.host(), &ModelHost::unloaded, this, [this] { showLoaded(); });

    // CPU use per core, once a second while the page is visible (procfs read off the GUI thread).
    coreTimer_ = new QTimer(this);
    coreTimer_->setInterval(1000);
    connect(coreTimer_, &QTimer::timeout, this, &ProfilerPage::sampleCores);
    setBenchmarkBusy(false);
    showLoaded();
    refreshRecordings();
}

void ProfilerPage::pageShown()
{
    showLoaded();
    sampleCores();
    coreTimer_->start();
    refreshRecordings();
}

void ProfilerPage::showLoaded()
{
    const auto& loaded = context_.host().loadedModel();
    reload_->setEnabled(loaded.has_value() && loaded->profiled != enable_->isChecked());
    if (!loaded)
        loadedState_->setText(tr("No model is loaded."));
    else if (loaded->profiled)
        loadedState_->setText(tr("%1 is loaded with every operation timed.").arg(loaded->name));
    else
        loadedState_->setText(tr("%1 is loaded without timing: replies show speed and memory only.").arg(loaded->name));
}

void ProfilerPage::sampleCores()
{
    if (!isVisible() && coreTimer_->isActive()) {
        coreTimer_->stop();
        return;
    }
    runInBackground<std::vector<profile::CoreTimes>>(this, [] { return profile::readCoreTimes(); },
                                                     [this](std::vector<profile::CoreTimes> now) {
        const std::vector<double> shares = profile::coreBusyShares(cores_, now);
        cores_ = std::move(now);
        QChart* chart = coresView_->chart();
        clearChart(chart);
        auto* set = new QBarSet(tr("busy"));
        auto* axisX = new QBarCategoryAxis;
        for (size_t i = 0; i < shares.size(); ++i) {
            *set << 100.0 * shares[i];
            axisX->append(QString::number(i));
        }
        auto* series = new QBarSeries;
        series->append(set);
        chart->addSeries(series);
        chart->addAxis(axisX, Qt::AlignBottom);
        series->attachAxis(axisX);
        auto* axisY = new QValueAxis;
        axisY->setRange(0, 100);
        axisY->setLabelFormat(QStringLiteral("%.0f%%"));
        chart->addAxis(axisY, Qt::AlignLeft);
        series->attachAxis(axisY);
        chart->legend()->hide();
    });
}

void ProfilerPage::onSample(const ProfileSample& s)
{
    if (s.requestId != replyId_) {
        replyId_ = s.requestId;
        reply_.clear();
        speed_->clear();
    }
    ++samples_;
    last_ = s;
    if (s.requestId == benchId_ && benchId_ != 0 && benchTarget_ > 0) {
        benchProgress_->setValue(std::min(benchTarget_, s.generatedTokens));
        const double rate = s.decodeMs > 0 ? 1000.0 * s.generatedTokens / s.decodeMs : 0;
        if (rate > 0 && s.generatedTokens < benchTarget_)
            benchProgress_->setFormat(tr("%p% · about %1 s left").arg(
                QLocale().toString((benchTarget_ - s.generatedTokens) / rate, 'f', 0)));
    }
    // Each sample carries the last pass only; the reply's sums add each sampled pass.
    reply_.add(s.timings);
    const double tps = s.decodeMs > 0 ? 1000.0 * s.generatedTokens / s.decodeMs : 0;
    if (tps > 0 || (s.fromServer && s.decodeMs > 0)) { // an idle server's zero is a reading too
        speed_->append(s.seconds, tps);
        speedX_->setRange(0, std::max(10.0, s.seconds));
        speedY_->setRange(0, std::max(speedY_->max(), tps * 1.2));
    }
    showOps(s.timings);
    showFigures();
    record_->setEnabled(reply_.passes() > 0);
    emit sampleShown();
}

void ProfilerPage::showFigures()
{
    const QLocale locale;
    const auto& loaded = context_.host().loadedModel();
    const ProfileSample& s = last_;
    if (s.fromServer) {
        showServerFigures();
        return;
    }
    const double decodeTps = s.decodeMs > 0 ? 1000.0 * s.generatedTokens / s.decodeMs : 0;
    const double prefillTps = s.promptMs > 0 ? 1000.0 * s.promptTokens / s.promptMs : 0;
    QStringList lines;
    lines << tr("Decode: %1 tokens/s (%L2 tokens). Prefill: %3 tokens/s (%L4 tokens).")
                 .arg(locale.toString(decodeTps, 'f', 1))
                 .arg(s.generatedTokens)
                 .arg(locale.toString(prefillTps, 'f', 1))
                 .arg(s.promptTokens);
    if (loaded) {
        const double gflops = profile::prefillGflops(loaded->matmulWeights, s.promptTokens, s.promptMs / 1000.0);
        lines << tr("Prefill: %1 GFLOP/s.").arg(locale.toString(gflops, 'f', 2));
        const double share = profile::decodeBandwidthShare(uint64_t(loaded->weightBytes), decodeTps, machineGbPerSecond_);
        if (machineGbPerSecond_ > 0)
            lines << tr("Decode reads %1 GB/s: %2% of the machine's measured %3 GB/s.")
                         .arg(locale.toString(double(loaded->weightBytes) * decodeTps / 1e9, 'f', 2),
                              locale.toString(100.0 * share, 'f', 1), locale.toString(machineGbPerSecond_, 'f', 2));
        else
            lines << tr("Decode reads %1 GB/s (measure the memory bandwidth for the share).")
                         .arg(locale.toString(double(loaded->weightBytes) * decodeTps / 1e9, 'f', 2));
        lines << tr("Memory: process %1, KV cache %2, weights %3.")
                     .arg(bytesText(double(s.residentBytes)), bytesText(double(loaded->kvCacheBytes)),
                          bytesText(double(loaded->weightBytes)));
    }
    for (size_t h = 0; h < s.deviceHeaps.size(); ++h) {
        const DeviceHeapUse& u = s.deviceHeaps[h];
        const QString kind = u.deviceLocal ? tr("device-local") : tr("host");
        lines << (u.driverReported
                      ? tr("GPU heap %1 (%2): %3 in use by every process, of a %4 budget (heap %5).")
                            .arg(h)
                            .arg(kind, bytesText(double(u.usedBytes)), bytesText(double(u.budgetBytes)),
                                 bytesText(double(u.sizeBytes)))
                      : tr("GPU heap %1 (%2): %3 held by Tenfold, of %4 (the driver reports no budget).")
                            .arg(h)
                            .arg(kind, bytesText(double(u.usedBytes)), bytesText(double(u.sizeBytes))));
    }
    figures_->setText(lines.join(QLatin1Char('\n')));
}

void ProfilerPage::showServerFigures()
{
    const QLocale locale;
    const ProfileSample& s = last_;
    const double seconds = s.decodeMs / 1000.0;
    QStringList lines;
    if (seconds <= 0) {
        lines << tr("Server: waiting for the second poll to measure rates.");
    } else {
        lines << tr("Server: %1 tokens/s generated and %2 prompt tokens/s computed over the last %3 s; %4 passes/s, "
                    "busy %5% of the time.")
                     .arg(locale.toString(s.generatedTokens / seconds, 'f', 1),
                          locale.toString(s.promptTokens / seconds, 'f', 1), locale.toString(seconds, 'f', 1),
                          locale.toString(s.passesPerSecond, 'f', 1), locale.toString(100.0 * s.busyShare, 'f', 0));
        // A batched pass reads every weight once, whatever its rows: the reads follow the passes.
        const double gb = double(s.serverWeightBytes) * s.passesPerSecond / 1e9;
        if (machineGbPerSecond_ > 0)
            lines << tr("Weights read: %1 GB/s (once per pass): %2% of the machine's measured %3 GB/s.")
                         .arg(locale.toString(gb, 'f', 2), locale.toString(100.0 * gb / machineGbPerSecond_, 'f', 1),
                              locale.toString(machineGbPerSecond_, 'f', 2));
        else
            lines << tr("Weights read: %1 GB/s (once per pass; measure the memory bandwidth for the share).")
                         .arg(locale.toString(gb, 'f', 2));
    }
    lines << tr("Last pass: %1 rows, %2 of them prompt rows; %3 sequences generating. Server process memory: %4.")
                 .arg(s.batchRows)
                 .arg(s.batchPromptRows)
                 .arg(s.running)
                 .arg(bytesText(double(s.residentBytes)));
    figures_->setText(lines.join(QLatin1Char('\n')));
}

void ProfilerPage::showOps(const std::vector<OpTiming>& lastPass)
{
    const QLocale locale;
    // Stacked chart: one bar per layer, one set per op, of the last pass.
    std::set<int> layers;
    std::map<std::string, std::map<int, double>> byOp;
    for (const OpTiming& t : lastPass) {
        layers.insert(t.layer);
        byOp[t.op][t.layer] += t.microseconds;
    }
    QChart* chart = opsView_->chart();
    clearChart(chart);
    if (!lastPass.empty()) {
        auto* series = new QStackedBarSeries;
        std::map<int, double> height;
        for (const auto& [op, perLayer] : byOp) {
            auto* set = new QBarSet(QString::fromStdString(op));
            for (int layer : layers) {
                const auto it = perLayer.find(layer);
                const double v = it == perLayer.end() ? 0 : it->second;
                *set << v;
                height[layer] += v;
            }
            series->append(set);
        }
        double top = 0;
        for (const auto& [l, h] : height)
            top = std::max(top, h);
        chart->addSeries(series);
        auto* axisX = new QBarCategoryAxis;
        for (int layer : layers)
            axisX->append(layerName(layer));
        chart->addAxis(axisX, Qt::AlignBottom);
        series->attachAxis(axisX);
        auto* axisY = new QValueAxis;
        axisY->setRange(0, top > 0 ? top * 1.1 : 1);
        axisY->setTitleText(tr("µs"));
        chart->addAxis(axisY, Qt::AlignLeft);
        series->attachAxis(axisY);
    }

    // The table: the reply's sums per op and layer.
    const auto cells = reply_.cells();
    const double total = reply_.totalMicroseconds();
    ops_->setSortingEnabled(false);
    ops_->setRowCount(int(cells.size()));
    for (int i = 0; i < int(cells.size()); ++i) {
        const profile::OpCell& c = cells[size_t(i)];
        ops_->setItem(i, 0, new QTableWidgetItem(QString::fromStdString(c.op)));
        ops_->setItem(i, 1, new NumberItem(c.layer, layerName(c.layer)));
        ops_->setItem(i, 2, new NumberItem(c.microseconds, locale.toString(c.microseconds, 'f', 1)));
        const double perPass = reply_.passes() ? c.microseconds / reply_.passes() : 0;
        ops_->setItem(i, 3, new NumberItem(perPass, locale.toString(perPass, 'f', 1)));
        const double share = total > 0 ? 100.0 * c.microseconds / total : 0;
        ops_->setItem(i, 4, new NumberItem(share, locale.toString(share, 'f', 1) + QLatin1Char('%')));
        ops_->setItem(i, 5, new NumberItem(double(c.calls), locale.toString(qlonglong(c.calls))));
    }
    ops_->setSortingEnabled(true);
}

void ProfilerPage::setBenchmarkBusy(bool busy)
{
    const bool ready = context_.host().state() == ModelHost::State::Ready;
    benchRun_->setEnabled(!busy && ready);
    benchCancel_->setEnabled(busy);
    benchProgress_->setVisible(busy);
    if (!busy) {
        benchId_ = 0;
        benchTarget_ = 0;
    }
}

void ProfilerPage::runBenchmark()
{
    const auto& loaded = context_.host().loadedModel();
    if (!loaded || benchId_ != 0)
        return;
    if (benchPrompt_->value() + benchGen_->value() > loaded->contextSize) {
        benchSummary_->setText(tr("%1 prompt and %2 generated tokens do not fit the loaded %3-token context.")
                                   .arg(benchPrompt_->value())
                                   .arg(benchGen_->value())
                                   .arg(loaded->contextSize));
        return;
    }
    BenchRequest request;
    request.promptTokens = benchPrompt_->value();
    request.genTokens = benchGen_->value();
    const quint64 id = context_.host().benchmark(request);
    if (id == 0) {
        benchSummary_->setText(tr("The model is busy; try again when the reply has finished."));
        return;
    }
    benchId_ = id;
    benchTarget_ = request.genTokens;
    benchProgress_->setRange(0, request.genTokens);
    benchProgress_->setValue(0);
    benchProgress_->setFormat(QStringLiteral("%p%"));
    benchSummary_->setText(tr("Running: a %1-token prompt, then %2 tokens…").arg(request.promptTokens).arg(request.genTokens));
    setBenchmarkBusy(true);
}

void ProfilerPage::showBenchmark(const BenchResult& r)
{
    const QLocale locale;
    const auto& loaded = context_.host().loadedModel();
    QStringList parts;
    parts << tr("pp%1: %2 tokens/s").arg(r.promptTokens).arg(locale.toString(r.promptTokensPerSecond(), 'f', 1));
    if (loaded)
        parts.last() += QStringLiteral(" (") +
                        tr("%1 GFLOP/s").arg(locale.toString(
                            profile::prefillGflops(loaded->matmulWeights, r.promptTokens, r.promptMs / 1000.0), 'f', 2)) +
                        QLatin1Char(')');
    QString decode = tr("tg%1: %2 tokens/s").arg(r.genTokens).arg(locale.toString(r.decodeTokensPerSecond(), 'f', 1));
    if (loaded) {
        const double gb = double(loaded->weightBytes) * r.decodeTokensPerSecond() / 1e9;
        decode += QStringLiteral(" (") + tr("%1 GB/s of weights").arg(locale.toString(gb, 'f', 2));
        if (machineGbPerSecond_ > 0)
            decode += QStringLiteral(", ") + tr("%1% of the measured bandwidth")
                                                 .arg(locale.toString(100.0 * gb / machineGbPerSecond_, 'f', 1));
        decode += QLatin1Char(')');
    }
    parts << decode;
    parts << (r.energySource == QLatin1String("rapl")
                  ? tr("%1 J measured").arg(locale.toString(r.energyJoules, 'f', 1))
                  : tr("%1 J estimated").arg(locale.toString(r.energyJoules, 'f', 1)));
    QString text = parts.join(QStringLiteral(" · "));
    if (r.cancelled)
        text = tr("Cancelled after %1 generated tokens: %2").arg(r.genTokens).arg(text);
    benchSummary_->setText(text);
}

void ProfilerPage::recordBenchmark(const BenchResult& r)
{
    const auto& loaded = context_.host().loadedModel();
    if (!loaded || (r.promptTokens == 0 && r.genTokens == 0))
        return;
    LedgerEntry e;
    e.model = loaded->name.toStdString();
    e.device = loaded->deviceTag.toStdString();
    e.source = "benchmark";
    e.client = QStringLiteral("pp%1 tg%2").arg(r.promptTokens).arg(r.genTokens).toStdString();
    e.tokensIn = r.promptTokens;
    e.tokensOut = r.genTokens;
    e.prefillTokens = r.promptTokens;
    e.prefillMs = r.promptMs;
    e.decodeTokens = r.genTokens;
    e.decodeMs = r.decodeMs;
    e.timeToFirstTokenMs = r.promptMs;
    e.totalMs = r.promptMs + r.decodeMs;
    e.energyJoules = r.energyJoules;
    e.energySource = r.energySource.toStdString();
    e.modelHash = loaded->modelHash.toStdString();
    e.quantization = loaded->quantization.toStdString();
    e.kernelLevel = loaded->kernelLevel.toStdString();
    e.threads = loaded->threads;
    e.contextSize = loaded->contextSize;
    context_.storeWorker().post([e](Store& store) { store.recordUsage(e); }, tr("the benchmark"));
}

void ProfilerPage::measureBandwidth(quint64 bytes)
{
    measure_->setEnabled(false);
    bandwidth_->setText(tr("Measuring…"));
    const int threads = context_.settings().threads();
    runInBackground<double>(
        this,
        [threads, bytes] {
            try {
                return measureReadBandwidth(threads, bytes).gbPerSecond;
            } catch (const std::exception&) {
                return 0.0; // the buffer could not be had
            }
        },
        [this](double gbPerSecond) {
            measure_->setEnabled(true);
            machineGbPerSecond_ = gbPerSecond;
            bandwidth_->setText(gbPerSecond > 0 ? tr("Memory read bandwidth: %1 GB/s.").arg(QLocale().toString(gbPerSecond, 'f', 2))
                                                : tr("The memory bandwidth could not be measured (not enough memory)."));
            if (samples_ > 0)
                showFigures();
            emit bandwidthMeasured(gbPerSecond);
        });
}

void ProfilerPage::recordProfile(const QString& name)
{
    const auto& loaded = context_.host().loadedModel();
    if ((!loaded && !last_.fromServer) || reply_.passes() == 0)
        return;
    if (last_.fromServer) {
        recordServerProfile(name);
        return;
    }
    ProfileRecord r;
    r.name = (name.isEmpty() ? QStringLiteral("%1 %2 %3").arg(loaded->name, loaded->quantization, loaded->deviceTag) : name)
                 .toStdString();
    r.model = loaded->name.toStdString();
    r.modelHash = loaded->modelHash.toStdString();
    r.quantization = loaded->quantization.toStdString();
    r.device = loaded->deviceTag.toStdString();
    r.kernelLevel = loaded->kernelLevel.toStdString();
    r.threads = loaded->threads;
    r.passes = reply_.passes();
    r.decodeTokensPerSecond = last_.decodeMs > 0 ? 1000.0 * last_.generatedTokens / last_.decodeMs : 0;
    r.prefillTokensPerSecond = last_.promptMs > 0 ? 1000.0 * last_.promptTokens / last_.promptMs : 0;
    r.prefillGflops = profile::prefillGflops(loaded->matmulWeights, last_.promptTokens, last_.promptMs / 1000.0);
    r.machineGbPerSecond = machineGbPerSecond_;
    r.bandwidthShare = profile::decodeBandwidthShare(uint64_t(loaded->weightBytes), r.decodeTokensPerSecond, machineGbPerSecond_);
    r.residentBytes = last_.residentBytes;
    r.kvCacheBytes = loaded->kvCacheBytes;
    storeRecording(std::move(r));
}

void ProfilerPage::storeRecording(ProfileRecord r)
{
    for (const profile::OpCell& c : reply_.cells())
        r.ops.push_back({c.op, c.layer, c.microseconds, c.calls});
    recordStatus_->setText(tr("Recording…"));
    context_.storeWorker().call<qint64>(
        this, [r = std::move(r)](Store& store) { return qint64(store.recordProfile(r)); },
        [this](qint64 id) {
            recordStatus_->setText(tr("Recorded."));
            refreshRecordings();
            emit profileRecorded(id);
        },
        tr("the profile"), [this] { recordStatus_->setText(tr("Could not record the profile.")); });
}

void ProfilerPage::recordServerProfile(const QString& name)
{
    // The server's model is not the chat's: its figures come from the server's own answers.
    ProfileRecord r;
    r.name = (name.isEmpty() ? tr("tenfold-server") : name).toStdString();
    r.model = "tenfold-server";
    r.device = "server";
    r.passes = reply_.passes();
    const double seconds = last_.decodeMs / 1000.0;
    r.decodeTokensPerSecond = seconds > 0 ? last_.generatedTokens / seconds : 0;
    r.prefillTokensPerSecond = seconds > 0 ? last_.promptTokens / seconds : 0;
    r.machineGbPerSecond = machineGbPerSecond_;
    r.bandwidthShare = machineGbPerSecond_ > 0 ? double(last_.serverWeightBytes) * last_.passesPerSecond / 1e9 / machineGbPerSecond_ : 0;
    r.residentBytes = last_.residentBytes;
    storeRecording(std::move(r));
}

void ProfilerPage::refreshRecordings()
{
    context_.storeWorker().call<std::vector<ProfileRecord>>(
        this, [](Store& store) { return store.profiles(); },
        [this](std::vector<ProfileRecord> list) {
            recordings_ = std::move(list);
            const qint64 a = first_->currentData().toLongLong(), b = second_->currentData().toLongLong();
            for (QComboBox* box : {first_, second_}) {
                const QSignalBlocker block(box);
                box->clear();
                for (const ProfileRecord& r : recordings_)
                    box->addItem(QStringLiteral("%1 · %2").arg(QString::fromStdString(r.name),
                                                               QLocale().toString(QDateTime::fromMSecsSinceEpoch(r.createdAt),
                                                                                  QLocale::ShortFormat)),
                                 qlonglong(r.id));
            }
            // Keep the choices; otherwise the two newest side by side.
            const int ia = first_->findData(qlonglong(a)), ib = second_->findData(qlonglong(b));
            first_->setCurrentIndex(ia >= 0 ? ia : (recordings_.size() > 1 ? 1 : 0));
            second_->setCurrentIndex(ib >= 0 ? ib : 0);
            if (recordings_.size() >= 1)
                compare(first_->currentData().toLongLong(), second_->currentData().toLongLong());
            emit recordingsShown();
        },
        tr("the recorded profiles"));
}

void ProfilerPage::compare(qint64 a, qint64 b)
{
    context_.storeWorker().call<Comparison>(
        this, [a, b](Store& store) { return Comparison{store.profile(a), store.profile(b)}; },
        [this](Comparison c) {
            compare_->setRowCount(0);
            if (!c.a || !c.b)
                return;
            const QLocale locale;
            auto addRow = [&](const QString& figure, const QString& first, const QString& second, double ratio) {
                const int row = compare_->rowCount();
                compare_->insertRow(row);
                compare_->setItem(row, 0, new QTableWidgetItem(figure));
                compare_->setItem(row, 1, new QTableWidgetItem(first));
                compare_->setItem(row, 2, new QTableWidgetItem(second));
                compare_->setItem(row, 3, new QTableWidgetItem(ratio > 0 ? locale.toString(ratio, 'f', 2) + QStringLiteral("×")
                                                                         : QString()));
            };
            auto number = [&](const QString& figure, double x, double y, int decimals) {
                addRow(figure, locale.toString(x, 'f', decimals), locale.toString(y, 'f', decimals), x > 0 ? y / x : 0);
            };
            addRow(tr("Model"), QString::fromStdString(c.a->model), QString::fromStdString(c.b->model), 0);
            addRow(tr("Quantization"), QString::fromStdString(c.a->quantization), QString::fromStdString(c.b->quantization), 0);
            addRow(tr("Device"), QString::fromStdString(c.a->device), QString::fromStdString(c.b->device), 0);
            number(tr("Decode tokens/s"), c.a->decodeTokensPerSecond, c.b->decodeTokensPerSecond, 1);
            number(tr("Prefill tokens/s"), c.a->prefillTokensPerSecond, c.b->prefillTokensPerSecond, 1);
            number(tr("Prefill GFLOP/s"), c.a->prefillGflops, c.b->prefillGflops, 2);
            number(tr("Share of memory bandwidth (%)"), 100 * c.a->bandwidthShare, 100 * c.b->bandwidthShare, 1);
            addRow(tr("Process memory"), bytesText(double(c.a->residentBytes)), bytesText(double(c.b->residentBytes)),
                   c.a->residentBytes > 0 ? double(c.b->residentBytes) / double(c.a->residentBytes) : 0);
            // Per op, per pass: the two recordings may have timed different numbers of passes.
            std::map<std::string, std::pair<double, double>> perOp;
            for (const ProfileOp& o : c.a->ops)
                perOp[o.op].first += c.a->passes ? o.microseconds / c.a->passes : 0;
            for (const ProfileOp& o : c.b->ops)
                perOp[o.op].second += c.b->passes ? o.microseconds / c.b->passes : 0;
            for (const auto& [op, t] : perOp)
                number(tr("%1 (µs per pass)").arg(QString::fromStdString(op)), t.first, t.second, 1);
            compare_->resizeColumnsToContents();
            emit comparisonShown();
        },
        tr("the recorded profiles"));
}

} // namespace tenfold::ui
