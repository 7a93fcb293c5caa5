#pragma once
// One loaded model and its inference context, living on a worker thread. Requests arrive as queued
// calls (load, generate, unload); progress, streamed text and errors leave as signals. The GUI
// stops work through atomic flags it shares with the session, never by waiting on it.
#include "runtime/conversation_cache.h"
#include "session/engine_types.h"
#include "session/reply_cache.h"

#include <QObject>

#include <atomic>
#include <memory>
#include <optional>

namespace tenfold {
class Backend;
class BackendRegistry;
class ChatTemplate;
class InferenceContext;
class Model;
namespace cost {
class EnergyMeter;
}
}

namespace tenfold::ui {

class EngineSession : public QObject {
    Q_OBJECT
public:
    EngineSession(std::shared_ptr<std::atomic<bool>> loadCancel,
                  std::shared_ptr<std::atomic<bool>> generateCancel,
                  std::shared_ptr<const BackendRegistry> backends = nullptr, QObject* parent = nullptr);
    ~EngineSession() override;

    // How often streamed text is handed to the GUI at most; tokens in between are merged so a
    // fast model cannot flood the event loop.
    static constexpr int kStreamIntervalMs = 25;
    // The most the conversations' saved caches take on disk.
    static constexpr uint64_t kConversationStateBytes = uint64_t(256) << 20;

public slots:
    // Deterministic replies are answered from, and stored in, the response cache in this
    // database file (the app's tenfold.db). Empty, or a file that cannot be opened: no cache.
    void setResponseCacheFile(const QString& databaseFile);
    // Conversations' KV caches are kept in this folder across restarts (saved when the model is
    // unloaded or the app quits, read back when the model loads). Empty: not kept.
    void setConversationStateDir(const QString& dir) { stateDir_ = dir; }
    void load(const tenfold::ui::LoadRequest& request);
    void generate(const tenfold::ui::ChatRequest& request);
    // Runs on the loaded context (a conversation's cached positions are dropped first); stops at
    // the generate cancel flag, reporting what it measured so far.
    void benchmark(const tenfold::ui::BenchRequest& request);
    void unload();

signals:
    // Every load signal carries the LoadRequest::loadId it answers.
    void loadProgress(quint64 loadId, int percent, const QString& stage);
    void loaded(quint64 loadId, const tenfold::ui::LoadedModel& model);
    void loadFailed(quint64 loadId, const QString& path, const QString& message);
    void loadCancelled(quint64 loadId, const QString& path);
    void unloaded();

    void generationStarted(quint64 id, int droppedTurns);
    void textStreamed(quint64 id, const QString& chunk);
    void generationFinished(const tenfold::ui::GenerationResult& result);
    void generationFailed(quint64 id, const QString& message);
    void profileSampled(const tenfold::ui::ProfileSample& sample);
    void benchmarkFinished(const tenfold::ui::BenchResult& result);
    void benchmarkFailed(quint64 id, const QString& message);

private:
    void release();
    // The draft model's context for speculative decoding, loaded once per path and kept while
    // the same model stays loaded. Throws with the reason when the file cannot serve as a draft.
    InferenceContext& draftContext(const QString& path);

    std::shared_ptr<std::atomic<bool>> loadCancel_;
    std::shared_ptr<std::atomic<bool>> generateCancel_;
    std::shared_ptr<const BackendRegistry> backends_; // read-only once the app started
    std::shared_ptr<Model> model_;
    std::unique_ptr<Backend> backend_;
    std::unique_ptr<InferenceContext> context_;
    // Conversations' KV caches between replies: the next reply computes only the new turn.
    ConversationCache conversations_;
    std::unique_ptr<ChatTemplate> template_;
    QString draftPath_;
    std::shared_ptr<Model> draftModel_;
    std::unique_ptr<InferenceContext> draftContext_;
    LoadedModel info_;
    std::unique_ptr<ReplyCache> replyCache_;
    QString stateDir_;
    std::unique_ptr<cost::EnergyMeter> energyMeter_; // made on the session's thread at first use
};

} // namespace tenfold::ui
