#pragma once
// The Compress wizard: pick a model, a method (low-rank factorisation to a target size, or
// palettes with 2-, 3- or 4-bit indices, optionally tuned) with its predicted size, a calibration
// text, then run it with progress, an estimate of the time left and Cancel, and see what the
// smaller file cost in quality next to every earlier run of the same model. The run happens in a
// CompressJob (session/) on its own thread; the wizard only shows it. Every run, finished or not, is recorded in the store's
// optimization_runs (method "compress"). The results page can also export the nearest standard
// GGUF (engine/passes/export_standard.h) for other engines, in the background.
#include "session/compress_job.h"

#include <QWizard>

#include <cstdint>
#include <memory>
#include <optional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QSpinBox;
class QTableWidget;

namespace tenfold::ui {

class AppContext;
class QualityChart;

class CompressWizard : public QWizard {
    Q_OBJECT
public:
    enum PageId { ModelPageId, MethodPageId, TextPageId, RunPageId, ResultsPageId };

    CompressWizard(AppContext& context, const QString& inputModel = {}, QWidget* parent = nullptr);
    ~CompressWizard() override;

    // The run as the pages describe it now.
    CompressJobRequest request() const;
    // The output's predicted bytes for the chosen method (palettes: from the tensor shapes;
    // low-rank: the target); 0 until the shapes are read.
    uint64_t predictedBytes() const;
    // The smallest file low-rank can reach for this model; 0 until the shapes are read.
    uint64_t smallestLowRankBytes() const;

    // For tests: the widgets a user operates, and what the run produced.
    QComboBox* modelCombo() const { return model_; }
    QRadioButton* lowRankRadio() const { return lowRank_; }
    QRadioButton* paletteRadio() const { return palette_; }
    QDoubleSpinBox* targetSizeSpin() const { return targetMB_; }
    QComboBox* bitsCombo() const { return bits_; }
    QSpinBox* tuneStepsSpin() const { return tuneSteps_; }
    QCheckBox* tuneCodesCheck() const { return tuneCodes_; }
    QLineEdit* outputEdit() const { return output_; }
    QRadioButton* textFileRadio() const { return textFileRadio_; }
    QLineEdit* textFileEdit() const { return textFile_; }
    QLabel* predictedLabel() const { return predicted_; }
    QProgressBar* progressBar() const { return progress_; }
    QLabel* stageLabel() const { return stage_; }
    QLabel* etaLabel() const { return eta_; }
    QPushButton* cancelRunButton() const { return cancelRun_; }
    CompressJob& job() { return *job_; }
    const std::optional<CompressJobResult>& result() const { return result_; }
    QualityChart* chart() const { return chart_; }
    QTableWidget* reportTable() const { return table_; }
    QPushButton* chatButton() const { return chat_; }
    QComboBox* exportTypeCombo() const { return exportType_; }
    QPushButton* exportButton() const { return export_; }
    QLabel* exportStatusLabel() const { return exportStatus_; }
    QString lastExportPath() const { return exportPath_; }
    bool runRecorded() const { return recorded_; }

signals:
    void shapesRead();       // the input's tensor shapes are known (predicted sizes work)
    void runFinished();      // the results page is filled
    void runStopped();       // failed or cancelled (the run page says which)
    void runRecordedInStore();
    void historyShown();     // the chart shows the earlier runs
    void exportDone(bool ok); // the standard GGUF export ended (the label says how)

protected:
    void reject() override; // closing while running cancels the run first

private:
    QWizardPage* makeModelPage();
    QWizardPage* makeMethodPage();
    QWizardPage* makeTextPage();
    QWizardPage* makeRunPage();
    QWizardPage* makeResultsPage();
    void inputChanged();
    void updatePrediction();
    void suggestOutput();
    void startRun();
    void showResult(const CompressJobResult& r);
    void record(const QString& status, const QString& message);
    void loadHistory();
    void exportStandardFile();

    AppContext& context_;
    CompressJob* job_ = nullptr;
    QComboBox* model_ = nullptr;
    QLabel* modelInfo_ = nullptr;
    QRadioButton* lowRank_ = nullptr;
    QRadioButton* palette_ = nullptr;
    QDoubleSpinBox* targetMB_ = nullptr;
    QComboBox* bits_ = nullptr;
    QSpinBox* tuneSteps_ = nullptr;
    QCheckBox* tuneCodes_ = nullptr;
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
    QComboBox* exportType_ = nullptr;
    QPushButton* export_ = nullptr;
    QLabel* exportStatus_ = nullptr;
    QPushButton* openFolder_ = nullptr;

    std::shared_ptr<CompressSizeModel> sizes_; // of shapesFor_
    QString shapesFor_, exportPath_;
    bool running_ = false, done_ = false, recorded_ = false;
    std::optional<CompressJobResult> result_;
};

} // namespace tenfold::ui
