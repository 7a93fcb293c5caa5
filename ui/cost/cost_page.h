#pragma once
// Cost history: what the generations in the usage ledger cost, per local-time day or week, by
// model and device (a stacked bar chart of cost, tokens or energy), $ and J per 1M tokens, the
// savings each optimisation brought (engine/cost/cost_report.h), the rows themselves with filters
// and CSV export, and the editable price table. Energy that was estimated from configured
// wattage rather than measured (RAPL) is marked as such. Reads run on the store thread; the CSV
// is written on a background thread, atomically.
#include "core/page.h"
#include "cost/price_table.h"
#include "store/store.h"

#include <vector>

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

QT_BEGIN_NAMESPACE
class QChartView;
QT_END_NAMESPACE

namespace tenfold::ui {

class CostPage : public Page {
    Q_OBJECT
public:
    CostPage(AppContext& context, QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("costs"); }
    QString title() const override { return tr("Cost history"); }
    IconKind icon() const override { return IconKind::Info; }
    void pageShown() override { refresh(); }

    // Reads the ledger and the optimization runs on the store thread; dataShown() follows.
    void refresh();
    // Writes the filtered rows as CSV to `path` (temp file + rename) on a background thread;
    // csvWritten(path, error) follows (error empty on success).
    void exportCsv(const QString& path);

    // For tests.
    QComboBox* periodBox() const { return period_; }
    QComboBox* modelFilter() const { return model_; }
    QComboBox* sourceFilter() const { return source_; }
    QComboBox* measureBox() const { return measure_; }
    QTableWidget* rowsTable() const { return rows_; }
    QTableWidget* savingsTable() const { return savings_; }
    QLabel* summaryLabel() const { return summary_; }
    QPlainTextEdit* priceEditor() const { return prices_; }
    QPushButton* savePricesButton() const { return savePrices_; }
    QLabel* priceStatus() const { return priceStatus_; }
    QChartView* chartView() const { return chart_; }
    const std::vector<LedgerEntry>& filteredRows() const { return filtered_; }

signals:
    void dataShown();
    void csvWritten(const QString& path, const QString& error);

private:
    void showData();
    void fillFilters();
    void showChart();
    void showSummary();
    void showSavings();
    void showRows();
    void savePrices();
    void chooseCsvFile();

    AppContext& context_;
    cost::PriceTable priceTable_;
    std::vector<LedgerEntry> all_;
    std::vector<OptimizationRun> runs_;
    std::vector<LedgerEntry> filtered_;

    QComboBox* period_ = nullptr;
    QComboBox* model_ = nullptr;
    QComboBox* device_ = nullptr;
    QComboBox* source_ = nullptr;
    QComboBox* measure_ = nullptr;
    QComboBox* cloud_ = nullptr;
    QChartView* chart_ = nullptr;
    QLabel* summary_ = nullptr;
    QTableWidget* savings_ = nullptr;
    QTableWidget* rows_ = nullptr;
    QPlainTextEdit* prices_ = nullptr;
    QPushButton* savePrices_ = nullptr;
    QPushButton* resetPrices_ = nullptr;
    QLabel* priceStatus_ = nullptr;
    QPushButton* refresh_ = nullptr;
    QPushButton* export_ = nullptr;
    QLabel* status_ = nullptr;
};

} // namespace tenfold::ui
