#pragma once
// Pieces the optimization wizards (Quantize, Prune, Distill) share: a page whose completeness the
// wizard decides, the time-left wording, the model picker (the library's models plus Browse), and
// "chat with it" (put the new file into the library, then open a chat on it).
#include "session/optimize_job.h"

#include <QString>
#include <QWizardPage>

#include <functional>
#include <optional>

class QComboBox;
class QFormLayout;
class QWidget;

namespace tenfold::ui {

class AppContext;

// A wizard page whose completeness and entry action the wizard supplies (a run page is complete
// once its run finished; entering it starts the run).
class GatedPage : public QWizardPage {
public:
    std::function<bool()> complete;
    std::function<void()> entered;
    bool isComplete() const override { return complete ? complete() : true; }
    void initializePage() override
    {
        if (entered)
            entered();
    }
    void refresh() { emit completeChanged(); }
};

// "about 3 minutes left", or "estimating…" for seconds < 0.
QString formatTimeLeft(double seconds);

// Fills `combo` with `first` (when not empty) and then the library's models, read on the store
// thread; each item's data is the file path.
void fillModelCombo(AppContext& context, QComboBox* combo, const QString& first, QObject* receiver);
// A "Model:" row (combo + Browse…) on `form`, with the label's buddy set for keyboard access.
void addModelRow(QFormLayout* form, QComboBox* combo, const QString& label, QWidget* dialogParent);

// Adds `path` to the model library (its GGUF facts read on the store thread) and asks the main
// window for a new chat on it.
void chatWithModel(AppContext& context, const QString& path);

// Records a Prune/Distill run in optimization_runs on the store thread (the result's hashes,
// output, report and parameters when it finished; `parametersJson` otherwise), then calls `done`
// on `receiver`'s thread.
void recordOptimizeRun(AppContext& context, const char* method, const QString& status, const QString& input,
                       const QString& parametersJson, const std::optional<OptimizeJobResult>& result,
                       QObject* receiver, std::function<void()> done);

// Closing a wizard whose run is going: cancel it (un-pausing, so the loop sees the flag) and call
// `close` once the run has stopped, however it stops.
void closeAfterRun(OptimizeJob* job, QObject* receiver, std::function<void()> close);

// `a-b-c.gguf` next to `input`, with "-f16"/"-f32" dropped from the input's stem.
QString suggestedOutputPath(const QString& input, const QString& suffix);

} // namespace tenfold::ui
