#pragma once
// The Optimize page: where a model is made cheaper and what each attempt cost. It starts the
// Quantize, Prune and Distill wizards and lists every optimization run the store recorded (the wizard's and
// `tenfold-cli evaluate --db`'s), with a chart of size against quality loss for the selected
// run's model. Reads run on the store thread.
#include "core/page.h"

#include <string>
#include <vector>

class QLabel;
class QPushButton;
class QTableWidget;

namespace tenfold {
struct OptimizationRun;
}

namespace tenfold::ui {

class DistillWizard;
class PruneWizard;
class QualityChart;
class CompressWizard;
class QuantizeWizard;

class OptimizePage : public Page {
    Q_OBJECT
public:
    OptimizePage(AppContext& context, QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("optimize"); }
    QString title() const override { return tr("Optimize"); }
    IconKind icon() const override { return IconKind::Optimize; }
    void pageShown() override { refresh(); }

    // Opens the wizard (on the model given, else the library's first).
    QuantizeWizard* openQuantizeWizard(const QString& model = {});
    CompressWizard* openCompressWizard(const QString& model = {});
    PruneWizard* openPruneWizard(const QString& model = {});
    DistillWizard* openDistillWizard(const QString& teacher = {});
    void refresh();

    QTableWidget* runsTable() const { return table_; }
    QualityChart* chart() const { return chart_; }
    QPushButton* quantizeButton() const { return quantize_; }
    QPushButton* compressButton() const { return compress_; }
    QPushButton* pruneButton() const { return prune_; }
    QPushButton* distillButton() const { return distill_; }

signals:
    void runsShown();

private:
    void showRuns(std::vector<OptimizationRun> runs);
    void selectionChanged();

    AppContext& context_;
    QPushButton* quantize_ = nullptr;
    QPushButton* compress_ = nullptr;
    QPushButton* prune_ = nullptr;
    QPushButton* distill_ = nullptr;
    QTableWidget* table_ = nullptr;
    QualityChart* chart_ = nullptr;
    QLabel* empty_ = nullptr;
    std::vector<OptimizationRun> runs_;
};

} // namespace tenfold::ui
