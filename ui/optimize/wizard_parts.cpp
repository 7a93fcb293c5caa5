#include "optimize/wizard_parts.h"

#include "core/app_context.h"
#include "session/model_facts.h"
#include "store/store.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

namespace tenfold::ui {
namespace {

// The translation context of the strings here (lupdate reads tr() calls reliably).
class WizardParts {
    Q_DECLARE_TR_FUNCTIONS(tenfold::ui::WizardParts)
};

} // namespace

QString formatTimeLeft(double s)
{
    if (s < 0)
        return WizardParts::tr("estimating the time left…");
    if (s < 90)
        return WizardParts::tr("about %n second(s) left", nullptr, int(s + 0.5));
    return WizardParts::tr("about %n minute(s) left", nullptr, int(s / 60 + 0.5));
}

void fillModelCombo(AppContext& context, QComboBox* combo, const QString& first, QObject* receiver)
{
    if (!first.isEmpty())
        combo->addItem(QFileInfo(first).fileName(), first);
    context.storeWorker().call<std::vector<ModelRecord>>(
        receiver, [](Store& store) { return store.models(); },
        [combo](std::vector<ModelRecord> models) {
            for (const ModelRecord& m : models) {
                const QString path = QString::fromStdString(m.path);
                if (combo->findData(path) < 0)
                    combo->addItem(QString::fromStdString(m.name.empty() ? m.path : m.name), path);
            }
        },
        WizardParts::tr("the model library"));
}

void addModelRow(QFormLayout* form, QComboBox* combo, const QString& labelText, QWidget* dialogParent)
{
    auto* browse = new QPushButton(WizardParts::tr("&Browse…"));
    auto* row = new QHBoxLayout;
    row->addWidget(combo, 1);
    row->addWidget(browse);
    auto* label = new QLabel(labelText);
    label->setBuddy(combo);
    form->addRow(label, row);
    QObject::connect(browse, &QPushButton::clicked, combo, [combo, dialogParent] {
        const QString f = QFileDialog::getOpenFileName(
            dialogParent, WizardParts::tr("Choose a model"), {},
            WizardParts::tr("GGUF models (*.gguf)"));
        if (f.isEmpty())
            return;
        if (combo->findData(f) < 0)
            combo->addItem(QFileInfo(f).fileName(), f);
        combo->setCurrentIndex(combo->findData(f));
    });
}

void chatWithModel(AppContext& context, const QString& path)
{
    context.storeWorker().post(
        [p = path.toStdString()](Store& store) {
            // Into the library, so the chat's model list shows it.
            try {
                const ModelFacts f = inspectGguf(QString::fromStdString(p));
                ModelRecord r;
                r.path = p;
                r.name = f.name.toStdString();
                r.architecture = f.architecture.toStdString();
                r.parameterCount = f.parameterCount;
                r.weightTypes = f.weightTypes.toStdString();
                r.fileSize = f.fileSize;
                r.contextLength = f.contextLength;
                store.upsertModel(r);
            } catch (const std::exception&) {
                // Not readable any more: the chat will say so when it loads the file.
            }
        },
        WizardParts::tr("the model library"));
    emit context.modelLibraryChanged();
    context.requestNewChatWithModel(path);
}

void recordOptimizeRun(AppContext& context, const char* method, const QString& status, const QString& input,
                       const QString& parametersJson, const std::optional<OptimizeJobResult>& result,
                       QObject* receiver, std::function<void()> done)
{
    OptimizationRun run;
    run.method = method;
    run.status = status.toStdString();
    run.inputPath = input.toStdString();
    run.parametersJson = parametersJson.toStdString();
    if (result) {
        run.inputModelHash = result->inputHash.toStdString();
        run.outputPath = result->output.toStdString();
        run.outputHash = result->outputHash.toStdString();
        run.outputBytes = int64_t(result->outputBytes);
        run.reportJson = result->reportJson.toStdString();
        run.parametersJson = result->parametersJson.toStdString();
        run.seconds = result->seconds;
    }
    context.storeWorker().post([run](Store& store) { store.recordOptimizationRun(run); },
                               WizardParts::tr("the optimization history"), receiver, std::move(done));
}

void closeAfterRun(OptimizeJob* job, QObject* receiver, std::function<void()> close)
{
    job->cancel();
    job->setPaused(false);
    QObject::connect(job, &OptimizeJob::cancelled, receiver, close, Qt::SingleShotConnection);
    QObject::connect(job, &OptimizeJob::finished, receiver, close, Qt::SingleShotConnection);
    QObject::connect(job, &OptimizeJob::failed, receiver, close, Qt::SingleShotConnection);
}

QString suggestedOutputPath(const QString& input, const QString& suffix)
{
    const QFileInfo in(input);
    if (in.fileName().isEmpty())
        return {};
    QString stem = in.completeBaseName();
    stem.remove(QStringLiteral("-f16"), Qt::CaseInsensitive);
    stem.remove(QStringLiteral("-f32"), Qt::CaseInsensitive);
    return QDir(in.absolutePath()).filePath(QStringLiteral("%1-%2.gguf").arg(stem, suffix));
}

} // namespace tenfold::ui
