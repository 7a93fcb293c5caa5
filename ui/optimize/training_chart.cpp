#include "optimize/training_chart.h"

#include <QChart>
#include <QLineSeries>
#include <QScatterSeries>
#include <QValueAxis>

#include <algorithm>

namespace tenfold::ui {

TrainingChart::TrainingChart(QWidget* parent) : QChartView(parent)
{
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(220);
    auto* chart = new QChart;
    chart->setTitle(tr("Loss as training goes on"));
    chart->legend()->setAlignment(Qt::AlignBottom);
    train_ = new QLineSeries;
    train_->setName(tr("Training loss"));
    train_->setColor(QColor(0x40, 0x80, 0xc0));
    validation_ = new QScatterSeries;
    validation_->setName(tr("Validation loss"));
    validation_->setColor(QColor(0xd0, 0x30, 0x30));
    validation_->setMarkerSize(9);
    reference_ = new QLineSeries;
    reference_->setColor(QColor(0x60, 0x60, 0x60));
    QPen pen = reference_->pen();
    pen.setStyle(Qt::DashLine);
    reference_->setPen(pen);
    x_ = new QValueAxis;
    x_->setTitleText(tr("Step"));
    x_->setLabelFormat(QStringLiteral("%d"));
    y_ = new QValueAxis;
    y_->setTitleText(tr("Loss (nats per token)"));
    y_->setLabelFormat(QStringLiteral("%.2f"));
    chart->addAxis(x_, Qt::AlignBottom);
    chart->addAxis(y_, Qt::AlignLeft);
    for (QXYSeries* s : {static_cast<QXYSeries*>(train_), static_cast<QXYSeries*>(validation_), static_cast<QXYSeries*>(reference_)}) {
        chart->addSeries(s);
        s->attachAxis(x_);
        s->attachAxis(y_);
    }
    setChart(chart);
    clear();
}

void TrainingChart::clear()
{
    train_->clear();
    validation_->clear();
    reference_->clear();
    reference_->setName(QString());
    reference_->setVisible(false);
    any_ = false;
    maxStep_ = 1;
    x_->setRange(0, 1);
    y_->setRange(0, 1);
}

void TrainingChart::rescale(double step, double loss)
{
    if (!any_) {
        minLoss_ = maxLoss_ = loss;
        any_ = true;
    }
    minLoss_ = std::min(minLoss_, loss);
    maxLoss_ = std::max(maxLoss_, loss);
    maxStep_ = std::max(maxStep_, step);
    const double pad = std::max(0.05, (maxLoss_ - minLoss_) * 0.08);
    x_->setRange(0, maxStep_);
    y_->setRange(std::max(0.0, minLoss_ - pad), maxLoss_ + pad);
    if (reference_->isVisible() && reference_->count() == 2) {
        const double y = reference_->at(0).y();
        reference_->replace({QPointF(0, y), QPointF(maxStep_, y)});
    }
}

void TrainingChart::addTrainLoss(double step, double loss)
{
    train_->append(step, loss);
    rescale(step, loss);
}

void TrainingChart::addValidationLoss(double step, double loss)
{
    validation_->append(step, loss);
    rescale(step, loss);
}

void TrainingChart::setReference(const QString& name, double loss)
{
    reference_->setName(name);
    reference_->replace({QPointF(0, loss), QPointF(maxStep_, loss)});
    reference_->setVisible(true);
    rescale(0, loss);
}

int TrainingChart::trainPoints() const { return train_->count(); }
int TrainingChart::validationPoints() const { return validation_->count(); }

} // namespace tenfold::ui
