#pragma once
// Widgets the Prune and Distill wizards share: the text choice (the shipped short stories or a
// file), the run view (stage, progress bar, time left, the live loss chart, Pause and Cancel,
// driven by an OptimizeJob's signals) and the results view (size against quality loss next to
// the original and every earlier run of the same model, the report table, Chat with it and Open
// folder).
#include "session/optimize_job.h"

#include <QWidget>

#include <optional>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QTableWidget;

namespace tenfold::ui {

class AppContext;
class QualityChart;
class TrainingChart;

class TextChoice : public QWidget {
    Q_OBJECT
public:
    explicit TextChoice(const QString& shippedLabel, QWidget* parent = nullptr);
    // The chosen file; empty for the shipped text.
    QString path() const;
    QRadioButton* fileRadio() const { return fileRadio_; }
    QLineEdit* fileEdit() const { return file_; }

private:
    QRadioButton* shipped_ = nullptr;
    QRadioButton* fileRadio_ = nullptr;
    QLineEdit* file_ = nullptr;
};

class RunView : public QWidget {
    Q_OBJECT
public:
    // showChart: training runs show the live loss; others only the bar.
    RunView(OptimizeJob* job, QWidget* parent = nullptr);
    void reset(bool training);
    void setStage(const QString& text);
    void stopped(); // the run ended: buttons off

    QProgressBar* progressBar() const { return progress_; }
    QLabel* stageLabel() const { return stage_; }
    QLabel* etaLabel() const { return eta_; }
    QPushButton* pauseButton() const { return pause_; }
    QPushButton* cancelButton() const { return cancel_; }
    TrainingChart* chart() const { return chart_; }

private:
    OptimizeJob* job_;
    QLabel* stage_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* eta_ = nullptr;
    TrainingChart* chart_ = nullptr;
    QPushButton* pause_ = nullptr;
    QPushButton* cancel_ = nullptr;
};

class ResultsView : public QWidget {
    Q_OBJECT
public:
    ResultsView(AppContext& context, QWidget* parent = nullptr);
    // Fills the table from `r` (extra rows first) and loads this model's earlier runs for the
    // chart; historyShown() when the chart has them. originalLabel names the input ("Teacher").
    void showResult(const OptimizeJobResult& r, const QString& originalLabel, const QString& thisLabel,
              const std::vector<std::pair<QString, QString>>& extraRows);

    QualityChart* chart() const { return chart_; }
    QTableWidget* table() const { return table_; }
    QPushButton* chatButton() const { return chat_; }

signals:
    void historyShown();
    void chatRequested(); // the wizard closes after the chat opened

private:
    AppContext& context_;
    QualityChart* chart_ = nullptr;
    QTableWidget* table_ = nullptr;
    QPushButton* chat_ = nullptr;
    QPushButton* openFolder_ = nullptr;
    std::optional<OptimizeJobResult> result_;
};

} // namespace tenfold::ui
