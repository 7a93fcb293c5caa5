#pragma once
// The Prompt lab's A/B comparison: two prompt variants run on the loaded model with the same
// settings (greedy, the same number of tokens), compared side by side: tokens, time, cost and the
// outputs, with a chart of where the time went. Costs come from the price table of the Cost
// history page: on this machine, the run's time at the hardware amortisation plus its energy
// (RAPL, or the wattage estimate, marked) at the electricity price; and, for comparison, the same
// prompt and output tokens at a cloud API's prices, chosen in "Compare with". With a list of
// inputs (one per line), both variants run once per input ("{input}" in a variant is replaced
// by it) and a second table shows each input's figures and outputs, then the totals; progress
// counts the runs, and Cancel stops between tokens.
#include "cost/price_table.h"
#include "session/prompt_lab_worker.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

QT_BEGIN_NAMESPACE
class QBarSet;
class QChartView;
class QValueAxis;
QT_END_NAMESPACE

namespace tenfold::ui {

class AppSettings;

class AbTab : public QWidget {
    Q_OBJECT
public:
    AbTab(PromptLabHost& host, AppSettings& settings, QWidget* parent = nullptr);
    void setModelReady(bool ready);

    QPlainTextEdit* promptA() const { return promptA_; }
    QPlainTextEdit* promptB() const { return promptB_; }
    QPlainTextEdit* inputs() const { return inputs_; }
    QTableWidget* perInputTable() const { return perInput_; }
    QPushButton* cancelButton() const { return cancel_; }
    QProgressBar* progressBar() const { return busy_; }
    QLabel* stage() const { return stage_; }
    // The inputs box's non-empty lines.
    QStringList inputList() const;
    QSpinBox* tokens() const { return tokens_; }
    QPushButton* runButton() const { return run_; }
    QTableWidget* table() const { return table_; }
    QPlainTextEdit* outputA() const { return outputA_; }
    QPlainTextEdit* outputB() const { return outputB_; }
    const AbReport& lastReport() const { return report_; }
    QComboBox* cloudChoice() const { return cloud_; }
    // One side on this machine: its wall time at the hardware amortisation plus its energy.
    static double localCost(const AbSide& side, const cost::PriceTable& prices);
    // The same prompt and output tokens at a cloud API's prices per 1M tokens.
    static double cloudCost(const AbSide& side, const cost::CloudPrice& price);
    // Rereads the price table (it may have been edited on the Cost history page) and the cloud list.
    void reloadPrices();
    void start();

signals:
    void finished(bool ok);

private:
    void show(const AbReport& report);
    void showPerInput(const AbReport& report);
    QString localCostText(const AbSide& side) const;
    QString cloudCostText(const AbSide& side) const;
    void setBusy(bool busy);

    PromptLabHost& host_;
    AppSettings& settings_;
    QPlainTextEdit* promptA_ = nullptr;
    QPlainTextEdit* promptB_ = nullptr;
    QPlainTextEdit* inputs_ = nullptr;
    QTableWidget* perInput_ = nullptr;
    QSpinBox* tokens_ = nullptr;
    QComboBox* cloud_ = nullptr;
    cost::PriceTable prices_;
    QPushButton* run_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QProgressBar* busy_ = nullptr;
    QLabel* stage_ = nullptr;
    QTableWidget* table_ = nullptr;
    QPlainTextEdit* outputA_ = nullptr;
    QPlainTextEdit* outputB_ = nullptr;
    QWidget* outputsBox_ = nullptr;
    QBarSet* prefill_ = nullptr;
    QBarSet* decode_ = nullptr;
    QValueAxis* timeAxis_ = nullptr;
    QChartView* chart_ = nullptr;
    quint64 lastId_ = 0;
    int steps_ = 0; // progress messages seen in this run
    bool ready_ = false;
    AbReport report_;
};

} // namespace tenfold::ui
