#pragma once
// The live chart of a training run (distillation, recovery after pruning): training loss per step
// and validation loss at each evaluation, on one axis of steps, rescaled as points arrive. A
// person watching a run wants to see at a glance whether the loss still falls; numbers alone do
// not show a plateau or a blow-up.
#include <QChartView>

class QLineSeries;
class QScatterSeries;
class QValueAxis;

namespace tenfold::ui {

class TrainingChart : public QChartView {
    Q_OBJECT
public:
    explicit TrainingChart(QWidget* parent = nullptr);
    void clear();
    void addTrainLoss(double step, double loss);
    void addValidationLoss(double step, double loss);
    // A horizontal marker, e.g. the teacher's validation loss or the model's before pruning.
    void setReference(const QString& name, double loss);
    int trainPoints() const;
    int validationPoints() const;

private:
    void rescale(double step, double loss);
    QLineSeries* train_ = nullptr;
    QScatterSeries* validation_ = nullptr;
    QLineSeries* reference_ = nullptr;
    QValueAxis* x_ = nullptr;
    QValueAxis* y_ = nullptr;
    double maxStep_ = 1, minLoss_ = 0, maxLoss_ = 0;
    bool any_ = false;
};

} // namespace tenfold::ui
