#pragma once
// The Server page's throughput chart: generated tokens per second (left axis) and requests
// running (right axis) over the last few minutes, one point per /metrics poll.
#include "server/server_monitor.h"

#include <QChartView>

class QLineSeries;
class QValueAxis;

namespace tenfold::ui {

class ThroughputChart : public QChartView {
    Q_OBJECT
public:
    // The window the chart keeps; older points are dropped.
    static constexpr double kWindowSeconds = 300;

    explicit ThroughputChart(QWidget* parent = nullptr);

    void addPoint(const ThroughputPoint& point);
    void clear();
    QLineSeries* tokensSeries() const { return tokens_; }
    QLineSeries* runningSeries() const { return running_; }

protected:
    void changeEvent(QEvent* event) override;

private:
    void retranslate();
    void applyPalette();

    QLineSeries* tokens_ = nullptr;
    QLineSeries* running_ = nullptr;
    QValueAxis* time_ = nullptr;
    QValueAxis* rate_ = nullptr;
    QValueAxis* count_ = nullptr;
};

} // namespace tenfold::ui
