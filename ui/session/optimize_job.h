#pragma once
// What the Prune and Distill wizards share on the engine side of the session boundary: a run on
// a QThread of its own, queued signals for progress (with an estimate of the time left) and for
// each training step (the live loss chart), atomic cancel and pause flags the engine checks
// between steps, and the measurement every optimization ends with: the new file against its
// input on held-out text (engine/eval/evaluate.h), as the Quantize wizard measures. A failed or
// cancelled run leaves no output file.
#include <QObject>
#include <QString>
#include <QThread>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace tenfold::ui {

struct OptimizeJobResult {
    QString input, output;
    QString inputHash, outputHash;  // Model::fingerprint, 16 hex digits
    quint64 inputBytes = 0, outputBytes = 0;
    double meanKld = 0, kldMedian = 0, kld99 = 0, sameTopPct = 0;
    double ppl = 0, basePpl = 0;
    double prefillTps = 0, decodeTps = 0;
    int evalWindows = 0;
    QString summary;                // what was done, a few lines (removed heads, layers kept, ...)
    qint64 trainSteps = 0;          // recovery / distillation steps; 0: none
    double trainValLoss = 0;        // the trainer's final validation loss (nats per token)
    QString parametersJson, reportJson;
    double seconds = 0;
};

class OptimizeJob : public QObject {
    Q_OBJECT
public:
    explicit OptimizeJob(QObject* parent = nullptr);
    ~OptimizeJob() override; // cancels and waits for the thread

    void cancel() { cancel_->store(true); }
    // Pausing holds a training loop between steps; other stages finish their current step first.
    void setPaused(bool paused) { pause_->store(paused); }
    bool isPaused() const { return pause_->load(); }
    bool isRunning() const { return running_; }

    // The shipped calibration text (resources/calibration/stories.txt).
    static QString defaultTextPath() { return QStringLiteral(":/calibration/stories.txt"); }

signals:
    void progress(const QString& stage, double fraction, double secondsLeft);
    // One training step done; valLoss is NaN on steps without validation.
    void trainingStep(qint64 step, qint64 totalSteps, double loss, double valLoss);
    void finished(const tenfold::ui::OptimizeJobResult& result);
    void failed(const QString& message);
    void cancelled();

protected:
    // What a run's body gets: the flags, and progress reporting for the single bar.
    struct RunContext {
        const std::atomic<bool>* cancel = nullptr;
        const std::atomic<bool>* pause = nullptr;
        // stage text; the share of the whole run done (0..1); seconds left (< 0: unknown)
        std::function<void(const QString&, double, double)> progress;
        std::function<void(qint64, qint64, double, double)> step;
        double elapsed() const;
        std::chrono::steady_clock::time_point t0;
    };
    // Starts `work` on the job's thread; false when a run is going. Exceptions become failed()
    // (Cancelled: cancelled()); `output` is removed then, so nothing half-done stays behind.
    bool launch(const QString& output, std::function<OptimizeJobResult(RunContext&)> work);

public:
    // The text at `path` (a resource or a file); throws IoError naming it.
    static QByteArray readText(const QString& path);
    // Measures `output` against `input` on `held` tokens (windows of at most 512, fewer when the
    // text is short) and fills the result's measured fields. progress(done, all) per window.
    static void measure(OptimizeJobResult& r, const QString& input, const QString& output,
                        std::span<const int32_t> held, int nCtx, const QString& evalCacheDir,
                        const std::atomic<bool>* cancel, const std::function<void(int, int)>& progress);
    // The longest power-of-two window (64..512, at most the model's training context) that the
    // held-out tokens fill at least once; throws InvalidArgument when even 64 is too long.
    static int windowFor(int64_t heldTokens, int contextLength, int64_t allTokens);

private:
    std::shared_ptr<std::atomic<bool>> cancel_ = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<std::atomic<bool>> pause_ = std::make_shared<std::atomic<bool>>(false);
    QThread* thread_ = nullptr;
    bool running_ = false;
};

} // namespace tenfold::ui

Q_DECLARE_METATYPE(tenfold::ui::OptimizeJobResult)
