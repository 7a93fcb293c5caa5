#pragma once
// The Prune wizard: pick a model, a method (Wanda, SparseGPT, magnitude, 2:4; or remove KV head
// groups, FFN channels or whole layers) and how much, with the predicted size and speed; a
// calibration text; optional recovery fine-tuning; then the run (progress, time left, the live
// loss of the recovery, Pause and Cancel) and what it cost in quality next to every earlier run
// of the same model. The run happens in a PruneJob (session/) on its own thread; every run,
// finished or not, is recorded in optimization_runs.
#include "optimize/model_shape.h"
#include "session/prune_job.h"

#include <QWizard>

#include <memory>
#include <optional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace tenfold::ui {

class AppContext;
class ResultsView;
class RunView;
class TextChoice;

class PruneWizard : public QWizard {
    Q_OBJECT
public:
    enum PageId { ModelPageId, MethodPageId, TextPageId, RunPageId, ResultsPageId };

    PruneWizard(AppContext& context, const QString& inputModel = {}, QWidget* parent = nullptr);
    ~PruneWizard() override;

    PruneJobRequest request() const;
    // The output's predicted bytes for the choices made now; 0 until the model's shape is read.
    uint64_t predictedBytes() const;

    // For tests: the widgets a user operates, and what the run produced.
    QComboBox* modelCombo() const { return model_; }
    QComboBox* methodCombo() const { return method_; }
    QCheckBox* nmCheck() const { return nm_; }
    QDoubleSpinBox* sparsitySpin() const { return sparsity_; }
    QSpinBox* layersKeepSpin() const { return layersKeep_; }
    QSpinBox* recoverStepsSpin() const { return recoverSteps_; }
    QLineEdit* outputEdit() const { return output_; }
    QLabel* predictedLabel() const { return predicted_; }
    TextChoice* textChoice() const { return text_; }
    RunView* runView() const { return run_; }
    ResultsView* resultsView() const { return results_; }
    PruneJob& job() { return *job_; }
    const std::optional<OptimizeJobResult>& result() const { return result_; }

signals:
    void shapeRead();
    void runFinished();
    void runStopped();
    void runRecordedInStore();

protected:
    void reject() override; // closing while running cancels the run first

private:
    QWizardPage* makeModelPage();
    QWizardPage* makeMethodPage();
    QWizardPage* makeTextPage();
    QWizardPage* makeRunPage();
    QWizardPage* makeResultsPage();
    void inputChanged();
    void methodChanged();
    void updatePrediction();
    void suggestOutput();
    void startRun();
    void record(const QString& status, const QString& message);

    AppContext& context_;
    PruneJob* job_ = nullptr;
    QComboBox* model_ = nullptr;
    QLabel* modelInfo_ = nullptr;
    QComboBox* method_ = nullptr;
    QCheckBox* nm_ = nullptr;
    QDoubleSpinBox* sparsity_ = nullptr;
    QSpinBox* layersKeep_ = nullptr;
    QSpinBox* recoverSteps_ = nullptr;
    QDoubleSpinBox* recoverLr_ = nullptr;
    QLabel* methodInfo_ = nullptr;
    QLabel* predicted_ = nullptr;
    QLineEdit* output_ = nullptr;
    bool outputEdited_ = false;
    TextChoice* text_ = nullptr;
    RunView* run_ = nullptr;
    ResultsView* results_ = nullptr;

    std::shared_ptr<ModelShape> shape_;
    QString shapeFor_;
    bool running_ = false, done_ = false;
    std::optional<OptimizeJobResult> result_;
};

} // namespace tenfold::ui
