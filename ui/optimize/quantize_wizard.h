#pragma once
// The Quantize wizard: pick a model, a type (or a target size) and a method, a calibration text,
// then run it with progress, an estimate of the time left and Cancel, and see what the smaller
// file cost in quality next to every earlier run of the same model. The run itself happens in a
// QuantizeJob (session/) on its own thread; the wizard only shows it. Every run, finished or not,
// is recorded in the store's optimization_runs.
#include "session/quantize_job.h"

#include <QWizard>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

class QButtonGroup;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QTableWidget;

namespace tenfold::ui {

class AppContext;
class QualityChart;

class QuantizeWizard : public QWizard {
    Q_OBJECT
public:
    enum PageId { ModelPageId, RecipePageId, TextPageId, RunPageId, ResultsPageId };

    QuantizeWizard(AppContext& context, const QString& inputModel = {}, QWidget* parent = nullptr);
    ~QuantizeWizard() override;

    // The run as the pages describe it now.
    QuantizeJobRequest request() const;
    // Bytes the file will have with one type for every tensor (header included), from the input's
    // tensor shapes; 0 until they are read.
    uint64_t predictedBytes() const;

    // For tests: the widgets a user operates, and what the run produced.
    QComboBox* modelCombo() const { return model_; }
    QComboBox* typeCombo() const { return type_; }
    QComboBox* outputTypeCombo() const { return outputType_; }
    QComboBox* methodCombo() const { return method_; }
    QRadioButton* targetSizeRadio() const { return bySize_; }
    QDoubleSpinBox* targetSizeSpin() const { return targetMB_; }
    QLineEdit* outputEdit() const { return output_; }
    QRadioButton* textFileRadio() const { return textFileRadio_; }
    QLineEdit* textFileEdit() const { return textFile_; }
    QLabel* predictedLabel() const { return predicted_; }
    QProgressBar* progressBar() const { return progress_; }
    QLabel* stageLabel() const { return stage_; }
    QLabel* etaLabel() const { return eta_; }
    QPushButton* cancelRunButton() const { return cancelRun_; }
    QuantizeJob& job() { return *job_; }
    const std::optional<QuantizeJobResult>& result() const { return result_; }
    QualityChart* chart() const { return chart_; }
    QTableWidget* reportTable() const { return table_; }
    QPushButton* chatButton() const { return chat_; }
    bool runRecorded() const { return recorded_; }

signals:
    void shapesRead();       // the input's tensor shapes are known (predicted sizes work)
    void runFinished();      // the results page is filled
    void runStopped();       // failed or cancelled (the run page says which)
    void runRecordedInStore();
    void historyShown();     // the chart shows the earlier runs

protected:
    void reject() override; // closing while running cancels the run first

private:
    QWizardPage* makeModelPage();
    QWizardPage* makeRecipePage();
    QWizardPage* makeTextPage();
    QWizardPage* makeRunPage();
    QWizardPage* makeResultsPage();
    void inputChanged();
    void updatePrediction();
    void suggestOutput();
    void startRun();
    void showResult(const QuantizeJobResult& r);
    void record(const QString& status, const QString& message);
    void loadHistory();

    AppContext& context_;
    QuantizeJob* job_ = nullptr;
    QComboBox* model_ = nullptr;
    QLabel* modelInfo_ = nullptr;
    QRadioButton* byType_ = nullptr;
    QRadioButton* bySize_ = nullptr;
    QComboBox* type_ = nullptr;
    QComboBox* outputType_ = nullptr;
    QDoubleSpinBox* targetMB_ = nullptr;
    QComboBox* method_ = nullptr;
    QLabel* predicted_ = nullptr;
    QLineEdit* output_ = nullptr;
    bool outputEdited_ = false;
    QRadioButton* shippedText_ = nullptr;
    QRadioButton* textFileRadio_ = nullptr;
    QLineEdit* textFile_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* stage_ = nullptr;
    QLabel* eta_ = nullptr;
    QPushButton* cancelRun_ = nullptr;
    QualityChart* chart_ = nullptr;
    QTableWidget* table_ = nullptr;
    QPushButton* chat_ = nullptr;
    QPushButton* openFolder_ = nullptr;

    std::shared_ptr<QuantizeSizeModel> sizes_; // of shapesFor_
    QString shapesFor_;
    bool running_ = false, done_ = false, recorded_ = false;
    std::optional<QuantizeJobResult> result_;
};

} // namespace tenfold::ui
