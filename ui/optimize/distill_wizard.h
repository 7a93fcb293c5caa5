#pragma once
// The Distill wizard: pick a teacher, a student size (how many of its layers, with the predicted
// size and speed), the training settings and text, then train with a live loss chart, the time
// left, Pause/Resume and Cancel, and see the student's size and quality loss against the teacher
// next to every earlier run of the same teacher. The run is a DistillJob (session/) on its own
// thread; every run, finished or not, is recorded in optimization_runs.
#include "optimize/model_shape.h"
#include "session/distill_job.h"

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

class DistillWizard : public QWizard {
    Q_OBJECT
public:
    enum PageId { TeacherPageId, StudentPageId, TextPageId, RunPageId, ResultsPageId };

    DistillWizard(AppContext& context, const QString& teacher = {}, QWidget* parent = nullptr);
    ~DistillWizard() override;

    DistillJobRequest request() const;
    uint64_t predictedBytes() const; // the student's; 0 until the teacher's shape is read

    QComboBox* teacherCombo() const { return teacher_; }
    QSpinBox* layersSpin() const { return layers_; }
    QSpinBox* stepsSpin() const { return steps_; }
    QSpinBox* batchSpin() const { return batch_; }
    QSpinBox* ctxSpin() const { return ctx_; }
    QDoubleSpinBox* alphaSpin() const { return alpha_; }
    QDoubleSpinBox* temperatureSpin() const { return temperature_; }
    QCheckBox* noTeacherCheck() const { return noTeacher_; }
    QLineEdit* outputEdit() const { return output_; }
    QLabel* predictedLabel() const { return predicted_; }
    TextChoice* textChoice() const { return text_; }
    RunView* runView() const { return run_; }
    ResultsView* resultsView() const { return results_; }
    DistillJob& job() { return *job_; }
    const std::optional<OptimizeJobResult>& result() const { return result_; }

signals:
    void shapeRead();
    void runFinished();
    void runStopped();
    void runRecordedInStore();

protected:
    void reject() override;

private:
    QWizardPage* makeTeacherPage();
    QWizardPage* makeStudentPage();
    QWizardPage* makeTextPage();
    QWizardPage* makeRunPage();
    QWizardPage* makeResultsPage();
    void teacherChanged();
    void updatePrediction();
    void suggestOutput();
    void startRun();
    void record(const QString& status, const QString& message);

    AppContext& context_;
    DistillJob* job_ = nullptr;
    QComboBox* teacher_ = nullptr;
    QLabel* teacherInfo_ = nullptr;
    QSpinBox* layers_ = nullptr;
    QSpinBox* steps_ = nullptr;
    QSpinBox* batch_ = nullptr;
    QSpinBox* ctx_ = nullptr;
    QDoubleSpinBox* lr_ = nullptr;
    QDoubleSpinBox* alpha_ = nullptr;
    QDoubleSpinBox* temperature_ = nullptr;
    QSpinBox* seed_ = nullptr;
    QCheckBox* noTeacher_ = nullptr;
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
