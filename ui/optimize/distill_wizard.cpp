#include "optimize/distill_wizard.h"

#include "core/app_context.h"
#include "core/background.h"
#include "optimize/optimize_views.h"
#include "optimize/training_chart.h"
#include "optimize/wizard_parts.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace tenfold::ui {

DistillWizard::DistillWizard(AppContext& context, const QString& teacher, QWidget* parent)
    : QWizard(parent), context_(context), job_(new DistillJob(this))
{
    setWindowTitle(tr("Distill a model"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnLastPage, true);
    setPage(TeacherPageId, makeTeacherPage());
    setPage(StudentPageId, makeStudentPage());
    setPage(TextPageId, makeTextPage());
    setPage(RunPageId, makeRunPage());
    setPage(ResultsPageId, makeResultsPage());
    resize(780, 700);

    connect(job_, &OptimizeJob::finished, this, [this](const OptimizeJobResult& r) {
        running_ = false;
        done_ = true;
        result_ = r;
        run_->stopped();
        run_->setStage(tr("Done in %1 s.").arg(r.seconds, 0, 'f', 1));
        record(QStringLiteral("ok"), {});
        results_->showResult(r, tr("Teacher"), tr("This student"),
                             {{tr("Student"), distillLabel(request())},
                              {tr("Validation loss after training"), QString::number(r.trainValLoss, 'f', 4)}});
        static_cast<GatedPage*>(page(RunPageId))->refresh();
        next();
        emit runFinished();
    });
    connect(job_, &OptimizeJob::failed, this, [this](const QString& message) {
        running_ = false;
        run_->stopped();
        run_->setStage(tr("The run failed: %1").arg(message));
        record(QStringLiteral("failed"), message);
        button(QWizard::BackButton)->setEnabled(true);
        emit runStopped();
    });
    connect(job_, &OptimizeJob::cancelled, this, [this] {
        running_ = false;
        run_->stopped();
        run_->setStage(tr("Cancelled. No file was written; go back to change the run, or close."));
        record(QStringLiteral("cancelled"), {});
        button(QWizard::BackButton)->setEnabled(true);
        emit runStopped();
    });
    fillModelCombo(context_, teacher_, teacher, this);
    teacherChanged();
}

DistillWizard::~DistillWizard() = default;

QWizardPage* DistillWizard::makeTeacherPage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("Which teacher?"));
    page->setSubTitle(tr("The model whose behaviour a smaller student learns. It stays as it is."));
    teacher_ = new QComboBox;
    teacherInfo_ = new QLabel;
    teacherInfo_->setWordWrap(true);
    auto* form = new QFormLayout(page);
    addModelRow(form, teacher_, tr("&Teacher:"), this);
    form->addRow(teacherInfo_);
    connect(teacher_, &QComboBox::currentIndexChanged, this, [this] { teacherChanged(); });
    return page;
}

QWizardPage* DistillWizard::makeStudentPage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("How small a student, trained how?"));
    page->setSubTitle(tr("The student starts from some of the teacher's layers, spread evenly, and learns from the "
                         "teacher's softened next-token distributions plus the text itself."));
    layers_ = new QSpinBox;
    layers_->setRange(1, 1);
    steps_ = new QSpinBox;
    steps_->setRange(1, 1000000);
    steps_->setValue(100);
    batch_ = new QSpinBox;
    batch_->setRange(1, 256);
    batch_->setValue(4);
    ctx_ = new QSpinBox;
    ctx_->setRange(16, 4096);
    ctx_->setValue(128);
    lr_ = new QDoubleSpinBox;
    lr_->setDecimals(5);
    lr_->setRange(0.00001, 0.01);
    lr_->setSingleStep(0.0001);
    lr_->setValue(0.0005);
    alpha_ = new QDoubleSpinBox;
    alpha_->setRange(0, 1);
    alpha_->setSingleStep(0.1);
    alpha_->setValue(0.5);
    alpha_->setToolTip(tr("Weight of matching the teacher; the rest goes to predicting the text."));
    temperature_ = new QDoubleSpinBox;
    temperature_->setRange(0.1, 20);
    temperature_->setValue(2);
    temperature_->setToolTip(tr("Softens both distributions so the student learns the teacher's second choices too."));
    seed_ = new QSpinBox;
    seed_->setRange(0, 1 << 30);
    seed_->setValue(1);
    noTeacher_ = new QCheckBox(tr("&Without the teacher (cross-entropy only: the baseline to compare with)"));
    predicted_ = new QLabel;
    predicted_->setWordWrap(true);
    output_ = new QLineEdit;
    auto* choose = new QPushButton(tr("C&hoose…"));
    auto* outRow = new QHBoxLayout;
    outRow->addWidget(output_, 1);
    outRow->addWidget(choose);

    auto* form = new QFormLayout(page);
    auto buddy = [form](const QString& text, QWidget* w) {
        auto* l = new QLabel(text);
        l->setBuddy(w);
        form->addRow(l, w);
    };
    buddy(tr("Student &layers:"), layers_);
    form->addRow(predicted_);
    buddy(tr("Training st&eps:"), steps_);
    buddy(tr("&Batch (windows per step):"), batch_);
    buddy(tr("&Window (tokens):"), ctx_);
    buddy(tr("Learning &rate:"), lr_);
    buddy(tr("&Alpha (KL weight):"), alpha_);
    buddy(tr("&Temperature:"), temperature_);
    buddy(tr("S&eed:"), seed_);
    form->addRow(QString(), noTeacher_);
    auto* saveLabel = new QLabel(tr("Save &as:"));
    saveLabel->setBuddy(output_);
    form->addRow(saveLabel, outRow);

    connect(layers_, &QSpinBox::valueChanged, this, [this] {
        updatePrediction();
        suggestOutput();
    });
    connect(steps_, &QSpinBox::valueChanged, this, [this] { suggestOutput(); });
    connect(noTeacher_, &QCheckBox::toggled, this, [this](bool on) {
        alpha_->setEnabled(!on);
        temperature_->setEnabled(!on);
        suggestOutput();
    });
    connect(output_, &QLineEdit::textEdited, this, [this] { outputEdited_ = true; });
    connect(choose, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Save the student as"), output_->text(),
                                                       tr("GGUF models (*.gguf)"));
        if (!f.isEmpty()) {
            output_->setText(f);
            outputEdited_ = true;
        }
    });
    return page;
}

QWizardPage* DistillWizard::makeTextPage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("Which training text?"));
    page->setSubTitle(tr("The student trains on the first three quarters; the last quarter measures it against "
                         "the teacher. More text of the kind the model will read gives a better student."));
    text_ = new TextChoice(tr("The &shipped short stories (about 11 KB: a quick demonstration, not a good student)"));
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(text_);
    layout->addStretch();
    return page;
}

QWizardPage* DistillWizard::makeRunPage()
{
    auto* page = new GatedPage;
    page->setTitle(tr("Training the student"));
    page->setSubTitle(tr("The app stays usable meanwhile. Pause holds the training; Cancel leaves no file."));
    run_ = new RunView(job_);
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(run_);
    page->complete = [this] { return done_; };
    page->entered = [this] { startRun(); };
    return page;
}

QWizardPage* DistillWizard::makeResultsPage()
{
    auto* page = new QWizardPage;
    page->setTitle(tr("What the student cost"));
    page->setSubTitle(tr("The student next to its teacher and every earlier run from the same teacher."));
    results_ = new ResultsView(context_);
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(results_);
    connect(results_, &ResultsView::chatRequested, this, [this] { accept(); });
    return page;
}

void DistillWizard::teacherChanged()
{
    const QString path = teacher_->currentData().toString();
    shape_.reset();
    shapeFor_ = path;
    teacherInfo_->setText(path.isEmpty() ? tr("Add a model to the library or browse for a GGUF file.")
                                         : tr("Reading %1…").arg(QDir::toNativeSeparators(path)));
    updatePrediction();
    suggestOutput();
    if (path.isEmpty())
        return;
    struct Read {
        std::shared_ptr<ModelShape> shape;
        QString error;
    };
    runInBackground<Read>(
        this,
        [path] {
            Read r;
            try {
                r.shape = std::make_shared<ModelShape>(ModelShape::read(path));
            } catch (const std::exception& e) {
                r.error = QString::fromUtf8(e.what());
            }
            return r;
        },
        [this, path](Read r) {
            if (path != shapeFor_)
                return;
            if (!r.shape) {
                teacherInfo_->setText(tr("This file cannot be a teacher: %1").arg(r.error));
                return;
            }
            shape_ = r.shape;
            teacherInfo_->setText(tr("%1: %n layer(s), %2 MB on disk.", nullptr, shape_->layers)
                                      .arg(QDir::toNativeSeparators(path))
                                      .arg(double(shape_->fileBytes) / 1e6, 0, 'f', 2));
            layers_->setRange(1, std::max(1, shape_->layers - 1));
            layers_->setValue(std::max(1, shape_->layers / 2));
            updatePrediction();
            suggestOutput();
            emit shapeRead();
        });
}

uint64_t DistillWizard::predictedBytes() const
{
    if (!shape_ || shapeFor_ != teacher_->currentData().toString())
        return 0;
    return shape_->studentBytes(layers_->value());
}

void DistillWizard::updatePrediction()
{
    if (!predicted_)
        return;
    const uint64_t bytes = predictedBytes();
    if (bytes == 0) {
        predicted_->setText(tr("Predicted size: reading the teacher…"));
        return;
    }
    const double teacherF16 = double(shape_->studentBytes(shape_->layers));
    predicted_->setText(tr("Predicted student: %1 MB in F16 (the teacher is %2 MB on disk); generation about %3× "
                           "the teacher's speed in F16 (it reads every weight once per token).")
                            .arg(double(bytes) / 1e6, 0, 'f', 2)
                            .arg(double(shape_->fileBytes) / 1e6, 0, 'f', 2)
                            .arg(teacherF16 / double(bytes), 0, 'f', 2));
}

void DistillWizard::suggestOutput()
{
    if (!output_ || outputEdited_)
        return;
    output_->setText(suggestedOutputPath(teacher_->currentData().toString(),
                                         QStringLiteral("student%1-%2%3")
                                             .arg(layers_->value())
                                             .arg(noTeacher_->isChecked() ? QStringLiteral("ce") : QStringLiteral("kd"))
                                             .arg(steps_->value())));
}

DistillJobRequest DistillWizard::request() const
{
    DistillJobRequest r;
    r.teacher = teacher_->currentData().toString();
    r.output = output_->text();
    r.layers = layers_->value();
    r.steps = steps_->value();
    r.batch = batch_->value();
    r.ctx = ctx_->value();
    r.lr = lr_->value();
    r.alpha = alpha_->value();
    r.temperature = temperature_->value();
    r.seed = quint64(seed_->value());
    r.noTeacher = noTeacher_->isChecked();
    r.textFile = text_ ? text_->path() : QString();
    r.evalCacheDir = QDir(context_.dataDir()).filePath(QStringLiteral("eval-cache"));
    return r;
}

void DistillWizard::startRun()
{
    done_ = false;
    result_.reset();
    const DistillJobRequest r = request();
    run_->reset(true);
    QString problem;
    if (r.teacher.isEmpty())
        problem = tr("Choose a teacher first.");
    else if (shape_ && r.layers >= shape_->layers)
        problem = tr("A student of %1 layers is not smaller than the teacher (%2 layers).").arg(r.layers).arg(shape_->layers);
    else if (r.output.isEmpty())
        problem = tr("Choose where to save the student.");
    else if (QFileInfo(r.output).absoluteFilePath() == QFileInfo(r.teacher).absoluteFilePath())
        problem = tr("The student cannot replace its teacher; choose another name.");
    else if (!QFileInfo(QFileInfo(r.output).absolutePath()).isWritable())
        problem = tr("The folder %1 cannot be written to.").arg(QDir::toNativeSeparators(QFileInfo(r.output).absolutePath()));
    else if (text_->fileRadio()->isChecked() && !QFileInfo(r.textFile).isReadable())
        problem = tr("The text file %1 cannot be read.").arg(QDir::toNativeSeparators(r.textFile));
    if (!problem.isEmpty()) {
        run_->stopped();
        run_->setStage(problem);
        emit runStopped();
        return;
    }
    running_ = true;
    run_->setStage(tr("Starting…"));
    job_->start(r);
    QMetaObject::invokeMethod(this, [this] { button(QWizard::BackButton)->setEnabled(!running_); }, Qt::QueuedConnection);
}

void DistillWizard::record(const QString& status, const QString& message)
{
    const auto r = request();
    recordOptimizeRun(context_, "distill", status, r.teacher, distillParametersJson(r, message), result_, this,
                      [this] { emit runRecordedInStore(); });
}

void DistillWizard::reject()
{
    if (running_) {
        closeAfterRun(job_, this, [this] { QWizard::reject(); });
        return;
    }
    QWizard::reject();
}

} // namespace tenfold::ui
