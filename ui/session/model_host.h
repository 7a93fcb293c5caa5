#pragma once
// The GUI thread's handle on the engine: owns the worker thread and the EngineSession on it,
// knows what is loaded and whether a reply is being generated, and forwards the session's signals.
// Every call returns at once; results arrive as signals.
#include "session/engine_types.h"

#include <QObject>
#include <QThread>

#include <atomic>
#include <memory>
#include <optional>

namespace tenfold {
class BackendRegistry;
}

namespace tenfold::ui {

class EngineSession;

// What this run's replies computed and what they took from caches (the Cache page shows it).
struct ReplyTotals {
    qint64 replies = 0;
    qint64 computedPromptTokens = 0;  // prompt tokens run through the model
    qint64 reusedPromptTokens = 0;    // taken from the conversation's KV cache instead
    qint64 generatedTokens = 0;
    qint64 exactHits = 0;             // replies the response cache answered
    qint64 semanticHits = 0;
};

class ModelHost : public QObject {
    Q_OBJECT
public:
    enum class State { Empty, Loading, Ready, Generating };
    Q_ENUM(State)

    // `backends`: the accelerators the app registered (null: CPU only).
    explicit ModelHost(std::shared_ptr<const BackendRegistry> backends = nullptr, QObject* parent = nullptr);
    ~ModelHost() override;

    State state() const { return state_; }
    bool isLoaded() const { return loaded_.has_value(); }
    const std::optional<LoadedModel>& loadedModel() const { return loaded_; }
    QString loadingPath() const { return loadingPath_; }

    void load(const LoadRequest& request);
    void cancelLoad();
    void unload();
    // Returns the request id, or 0 when no model is ready (nothing is started then).
    quint64 generate(ChatRequest request);
    void stop();
    // A benchmark of the loaded model (EngineSession::benchmark); the host is Generating until
    // benchmarkFinished or benchmarkFailed, and stop() cancels it. Returns the id, or 0 when no
    // model is ready.
    quint64 benchmark(BenchRequest request);
    quint64 activeRequest() const { return activeRequest_; }
    // Deterministic replies use the response cache in this database file (the app's tenfold.db).
    void setResponseCacheFile(const QString& databaseFile);
    // Where conversations' KV caches are kept across restarts (EngineSession::setConversationStateDir).
    void setConversationStateDir(const QString& dir);
    const ReplyTotals& replyTotals() const { return totals_; }

signals:
    void stateChanged(tenfold::ui::ModelHost::State state);
    void loadProgress(int percent, const QString& stage);
    void loaded(const tenfold::ui::LoadedModel& model);
    void loadFailed(const QString& path, const QString& message);
    void loadCancelled(const QString& path);
    void unloaded();
    void generationStarted(quint64 id, int droppedTurns);
    void textStreamed(quint64 id, const QString& chunk);
    void generationFinished(const tenfold::ui::GenerationResult& result);
    void generationFailed(quint64 id, const QString& message);
    // Per-op timings and speed while a reply runs on a model loaded with profiling.
    void profileSampled(const tenfold::ui::ProfileSample& sample);
    void benchmarkFinished(const tenfold::ui::BenchResult& result);
    void benchmarkFailed(quint64 id, const QString& message);

private:
    void setState(State s);
    // A reply or benchmark starts (cancel flag cleared, Generating) / the one with `id` ended.
    quint64 beginRequest();
    void endRequest(quint64 id);

    QThread thread_;
    EngineSession* session_ = nullptr; // lives on thread_
    // The current load's flag; load() raises it and makes a fresh one for the new load.
    std::shared_ptr<std::atomic<bool>> loadCancel_ = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<std::atomic<bool>> generateCancel_ = std::make_shared<std::atomic<bool>>(false);
    State state_ = State::Empty;
    std::optional<LoadedModel> loaded_;
    QString loadingPath_;
    QString unloadCancelledPath_; // the load an unload() interrupted, reported as cancelled
    quint64 nextLoad_ = 1;
    quint64 currentLoad_ = 0; // the load whose results count; 0: none
    quint64 nextRequest_ = 1;
    quint64 activeRequest_ = 0;
    ReplyTotals totals_;
};

} // namespace tenfold::ui
