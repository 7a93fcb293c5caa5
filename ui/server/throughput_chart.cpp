#include "server/throughput_chart.h"

#include <QChart>
#include <QEvent>
#include <QLineSeries>
#include <QPalette>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace tenfold::ui {

ThroughputChart::ThroughputChart(QWidget* parent) : QChartView(parent)
{
    auto* chart = new QChart;
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(4, 4, 4, 4));
    tokens_ = new QLineSeries(chart);
    running_ = new QLineSeries(chart);
    // Markers too: a burst shorter than a poll interval is a single point, which a bare line
    // would not show.
    tokens_->setPointsVisible(true);
    running_->setPointsVisible(true);
    chart->addSeries(tokens_);
    chart->addSeries(running_);
    time_ = new QValueAxis(chart);
    rate_ = new QValueAxis(chart);
    count_ = new QValueAxis(chart);
    time_->setLabelFormat(QStringLiteral("%.0f"));
    rate_->setLabelFormat(QStringLiteral("%.0f"));
    count_->setLabelFormat(QStringLiteral("%.0f"));
    chart->addAxis(time_, Qt::AlignBottom);
    chart->addAxis(rate_, Qt::AlignLeft);
    chart->addAxis(count_, Qt::AlignRight);
    tokens_->attachAxis(time_);
    tokens_->attachAxis(rate_);
    running_->attachAxis(time_);
    running_->attachAxis(count_);
    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(180);
    setMinimumWidth(360); // room for both axes and the legend
    retranslate();
    applyPalette();
    clear();
}

void ThroughputChart::addPoint(const ThroughputPoint& point)
{
    tokens_->append(point.seconds, point.tokensPerSecond);
    running_->append(point.seconds, point.running);
    // Keep kWindowSeconds of history: at one point a second the series stay a few hundred long.
    const double oldest = point.seconds - kWindowSeconds;
    int drop = 0;
    while (drop < tokens_->count() && tokens_->at(drop).x() < oldest)
        ++drop;
    if (drop > 0) {
        tokens_->removePoints(0, drop);
        running_->removePoints(0, drop);
    }
    double maxRate = 0, maxRunning = 0;
    for (int i = 0; i < tokens_->count(); ++i) {
        maxRate = std::max(maxRate, tokens_->at(i).y());
        maxRunning = std::max(maxRunning, running_->at(i).y());
    }
    time_->setRange(std::max(0.0, oldest), std::max(60.0, point.seconds));
    // The top is rounded up to 1, 2 or 5 times a power of ten, so the axis does not jitter with
    // every point.
    double top = 10;
    if (maxRate > 0) {
        const double decade = std::pow(10, std::floor(std::log10(maxRate * 1.1)));
        for (double step : {1.0, 2.0, 5.0, 10.0})
            if (step * decade >= maxRate * 1.1) {
                top = std::max(1.0, step * decade);
                break;
            }
    }
    rate_->setRange(0, top);
    rate_->applyNiceNumbers();
    count_->setRange(0, std::max(4.0, std::ceil(maxRunning + 1)));
}

void ThroughputChart::clear()
{
    tokens_->clear();
    running_->clear();
    time_->setRange(0, 60);
    rate_->setRange(0, 10);
    rate_->applyNiceNumbers();
    count_->setRange(0, 4);
}

void ThroughputChart::retranslate()
{
    tokens_->setName(tr("Generated tokens/s"));
    running_->setName(tr("Requests running"));
    time_->setTitleText(tr("Seconds"));
    setAccessibleName(tr("Throughput chart"));
    setAccessibleDescription(tr("Generated tokens per second and requests running, once a second"));
}

void ThroughputChart::applyPalette()
{
    // The chart draws its own background; follow the application's light or dark palette.
    const QPalette pal = palette();
    chart()->setBackgroundBrush(pal.color(QPalette::Base));
    chart()->legend()->setLabelColor(pal.color(QPalette::Text));
    chart()->setTitleBrush(pal.color(QPalette::Text));
    for (QValueAxis* axis : {time_, rate_, count_}) {
        axis->setLabelsColor(pal.color(QPalette::Text));
        axis->setTitleBrush(pal.color(QPalette::Text));
        axis->setGridLineColor(pal.color(QPalette::Mid));
    }
}

void ThroughputChart::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::LanguageChange)
        retranslate();
    else if (event->type() == QEvent::PaletteChange)
        applyPalette();
    QChartView::changeEvent(event);
}

} // namespace tenfold::ui
