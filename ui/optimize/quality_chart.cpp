#include "optimize/quality_chart.h"

#include "store/store.h"

#include <QChart>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QScatterSeries>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>

namespace tenfold::ui {

std::optional<double> runMeanKld(const OptimizationRun& run)
{
    const QJsonObject report = QJsonDocument::fromJson(QByteArray::fromStdString(run.reportJson)).object();
    const QJsonValue kld = report.value(QStringLiteral("kld")).toObject().value(QStringLiteral("mean"));
    if (!kld.isDouble())
        return std::nullopt;
    return kld.toDouble();
}

std::optional<QualityPoint> qualityPointOf(const OptimizationRun& run, QualityPoint::Kind kind)
{
    const std::optional<double> kld = runMeanKld(run);
    if (run.status != "ok" || run.outputBytes <= 0 || !kld)
        return std::nullopt;
    const QJsonObject p = QJsonDocument::fromJson(QByteArray::fromStdString(run.parametersJson)).object();
    // Prune and distill runs name themselves ("wanda 50%", "4 layers, KD"); quantize runs are
    // their type and method.
    const QString label = p.contains(QStringLiteral("label"))
                              ? p.value(QStringLiteral("label")).toString()
                              : QStringLiteral("%1 %2").arg(p.value(QStringLiteral("type")).toString(),
                                                            p.value(QStringLiteral("method")).toString());
    return QualityPoint{kind, label, double(run.outputBytes) / 1e6, *kld};
}

QualityChart::QualityChart(QWidget* parent) : QChartView(parent)
{
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(260);
    setPoints({});
}

void QualityChart::setPoints(const std::vector<QualityPoint>& points)
{
    points_ = points;
    auto* chart = new QChart;
    chart->setTitle(tr("Size and quality loss (lower left is better)"));
    chart->legend()->setAlignment(Qt::AlignBottom);
    struct Style {
        QualityPoint::Kind kind;
        QString name;
        QColor color;
        qreal size;
        QScatterSeries::MarkerShape shape;
    };
    const Style styles[] = {
        {QualityPoint::Kind::Original, tr("Original"), QColor(0x60, 0x60, 0x60), 11, QScatterSeries::MarkerShapeRectangle},
        {QualityPoint::Kind::Reference, tr("Reference engine"), QColor(0xd0, 0x80, 0x20), 9, QScatterSeries::MarkerShapeRectangle},
        {QualityPoint::Kind::Earlier, tr("Earlier runs"), QColor(0x40, 0x80, 0xc0), 9, QScatterSeries::MarkerShapeCircle},
        {QualityPoint::Kind::Current, tr("This run"), QColor(0xd0, 0x30, 0x30), 14, QScatterSeries::MarkerShapeCircle},
    };
    double maxX = 1, maxY = 0.001;
    for (const QualityPoint& p : points_) {
        maxX = std::max(maxX, p.megabytes);
        maxY = std::max(maxY, p.kld);
    }
    auto* x = new QValueAxis;
    x->setTitleText(tr("File size (MB)"));
    x->setRange(0, maxX * 1.1);
    x->setLabelFormat(QStringLiteral("%.1f"));
    auto* y = new QValueAxis;
    y->setTitleText(tr("Mean KLD"));
    y->setRange(0, maxY * 1.15);
    y->setLabelFormat(QStringLiteral("%.4f"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (const Style& st : styles) {
        auto* s = new QScatterSeries;
        s->setName(st.name);
        s->setColor(st.color);
        s->setMarkerSize(st.size);
        s->setMarkerShape(st.shape);
        std::vector<QString> labels;
        for (const QualityPoint& p : points_)
            if (p.kind == st.kind) {
                s->append(p.megabytes, p.kld);
                labels.push_back(p.label);
            }
        if (s->count() == 0) {
            delete s;
            continue;
        }
        chart->addSeries(s);
        s->attachAxis(x);
        s->attachAxis(y);
        connect(s, &QScatterSeries::hovered, this, [labels, s](const QPointF& at, bool state) {
            if (!state) {
                QToolTip::hideText();
                return;
            }
            for (int i = 0; i < s->count(); ++i)
                if (s->at(i) == at) {
                    QToolTip::showText(QCursor::pos(), QStringLiteral("%1\n%2 MB, KLD %3")
                                                           .arg(labels[size_t(i)])
                                                           .arg(at.x(), 0, 'f', 2)
                                                           .arg(at.y(), 0, 'f', 5));
                    return;
                }
        });
    }
    QChart* old = this->chart();
    setChart(chart);
    delete old;
}

std::vector<QualityPoint> QualityChart::referencePointsFor(const QString& modelPath)
{
    if (!QFileInfo(modelPath).fileName().startsWith(QLatin1String("tenfold-ref-main")))
        return {};
    const QByteArray dir = qgetenv("TENFOLD_SHARED_DIR");
    if (dir.isEmpty())
        return {};
    QFile f(QString::fromLocal8Bit(dir) + QStringLiteral("/reference/quant-imatrix.json"));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QJsonObject types = QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("types")).toObject();
    std::vector<QualityPoint> out;
    for (auto it = types.begin(); it != types.end(); ++it) {
        const QJsonObject t = it.value().toObject();
        QualityPoint p;
        p.kind = QualityPoint::Kind::Reference;
        p.label = tr("Reference engine %1 (%2)").arg(it.key(), t.value(QStringLiteral("best_method")).toString());
        p.megabytes = t.value(QStringLiteral("bytes")).toDouble() / 1e6;
        p.kld = t.value(QStringLiteral("best_kld")).toDouble();
        if (p.megabytes > 0)
            out.push_back(p);
    }
    return out;
}

} // namespace tenfold::ui
