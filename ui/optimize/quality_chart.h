#pragma once
// Size against quality loss: every quantized file of one model as a point (file size in MB on x,
// mean KL divergence from the original on y), the original at zero, this run highlighted, and
// the reference engine's published figures for the same model when they are known. Lower left is
// better; a point up and to the right of another is never worth keeping.
#include <QChartView>
#include <QString>

#include <optional>
#include <vector>

namespace tenfold {
struct OptimizationRun;
}

namespace tenfold::ui {

struct QualityPoint {
    enum class Kind { Original, Earlier, Current, Reference };
    Kind kind = Kind::Earlier;
    QString label;      // shown in the tooltip
    double megabytes = 0;
    double kld = 0;
};

// The mean KL divergence an optimization run measured (its report's kld.mean), if it has one.
std::optional<double> runMeanKld(const OptimizationRun& run);
// A finished, measured run as a chart point labelled with its parameters' "label" (prune, distill)
// or its type and method (quantize); none otherwise.
std::optional<QualityPoint> qualityPointOf(const OptimizationRun& run, QualityPoint::Kind kind);

class QualityChart : public QChartView {
    Q_OBJECT
public:
    explicit QualityChart(QWidget* parent = nullptr);
    void setPoints(const std::vector<QualityPoint>& points);
    const std::vector<QualityPoint>& points() const { return points_; }

    // The reference engine's figures for ref-main (reference/quant-imatrix.json under
    // TENFOLD_SHARED_DIR) when `modelPath` is that model and the file is there; else none.
    static std::vector<QualityPoint> referencePointsFor(const QString& modelPath);

private:
    std::vector<QualityPoint> points_;
};

} // namespace tenfold::ui
