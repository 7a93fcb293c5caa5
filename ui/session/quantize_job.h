#pragma once
// One quantize-and-measure run for the desktop app, on a thread of its own: calibrate, quantize
// (engine/passes/quantize_recipe.h), then evaluate the new file against its input on held-out
// text (engine/eval/evaluate.h). The GUI thread gets queued progress signals with an estimate of
// the time left, and one of finished / failed / cancelled at the end. Cancel is an atomic flag the
// engine checks between windows and tensors; a cancelled or failed run leaves no output file.
#include <QObject>
#include <QString>
#include <QThread>

#include "tensor/ggml_type.h"

#include <atomic>
#include <map>
#include <string>
#include <memory>
#include <vector>

namespace tenfold::ui {

struct QuantizeJobRequest {
    QString input, output;
    QString type = QStringLiteral("Q4_0");  // GGUF type name, or a preset's (quant_presets.h)
    bool preset = false;                    // `type` names a preset: its mix, not one type
    QString outputType;                     // the output projection's type; empty: as `type`
    QString method = QStringLiteral("gptq"); // gptq, imatrix or rtn
    double targetMB = 0;                    // > 0: a budgeted mix for this size (10^6 bytes)
    QString textFile;                       // calibration + evaluation text; empty: the shipped one
    QString evalCacheDir;                   // where the input's distributions are kept
    int threads = 0;
};

struct QuantizeJobResult {
    QString input, output;
    QString inputHash, outputHash;          // Model::fingerprint, 16 hex digits
    quint64 inputBytes = 0, outputBytes = 0;
    double meanKld = 0, kldMedian = 0, kld99 = 0, sameTopPct = 0;
    double ppl = 0, basePpl = 0, bitsPerWeight = 0;
    double prefillTps = 0, decodeTps = 0;
    int evalWindows = 0, calibrationWindows = 0;
    QString mix;                            // "45 x Q4_0 (gptq), 7 x Q5_0 (gptq), ..."
    QString parametersJson, reportJson;
    double seconds = 0;
};

// The run's parameters as optimization_runs keeps them (JSON): type, method, text, and the output
// type, target size, tensor mix and error when there are any.
QString quantizeParametersJson(const QuantizeJobRequest& request, const QString& mix = {}, const QString& error = {});

// The input's tensor shapes, read once (off the GUI thread: it parses the GGUF header), so the
// wizard can predict the output's size for every choice as the user makes it.
class QuantizeSizeModel {
public:
    // Throws the engine's IoError / FormatError for a missing or malformed file.
    static QuantizeSizeModel read(const QString& path);
    // The file's bytes with `type` for every weight, or the preset `type`'s mix when `preset`
    // (and `outputType` for the output projection when not empty), after the block-size
    // fallbacks; 0 when a name is not a weight type or preset.
    uint64_t predictBytes(const QString& type, const QString& outputType, bool preset = false) const;
    // Every weight at its smallest candidate type: the least a size budget can reach.
    uint64_t smallestBytes() const { return smallest_; }
    uint64_t inputBytes() const { return inputBytes_; }
    bool empty() const { return tensors_.empty(); }

private:
    struct Tensor {
        std::string name;
        std::vector<int64_t> ne;
        int64_t rows;
        uint64_t nbytes;
        bool weight, output;
    };
    std::vector<Tensor> tensors_;
    std::map<std::string, std::pair<GGMLType, std::map<std::string, GGMLType>>> presets_; // base, rules
    uint64_t header_ = 0, alignment_ = 32, inputBytes_ = 0, smallest_ = 0;
};

class QuantizeJob : public QObject {
    Q_OBJECT
public:
    explicit QuantizeJob(QObject* parent = nullptr);
    ~QuantizeJob() override; // cancels and waits for the thread

    // Starts the run; false (and nothing started) when one is already running.
    bool start(const QuantizeJobRequest& request);
    void cancel() { cancel_->store(true); }
    bool isRunning() const { return running_; }

    // The shipped calibration text (resources/calibration/stories.txt): short, for a quick run.
    static QString defaultTextPath() { return QStringLiteral(":/calibration/stories.txt"); }

signals:
    // stage: a translated description; fraction of the whole run in [0, 1]; seconds left (< 0:
    // not known yet).
    void progress(const QString& stage, double fraction, double secondsLeft);
    void finished(const tenfold::ui::QuantizeJobResult& result);
    void failed(const QString& message);
    void cancelled();

private:
    std::shared_ptr<std::atomic<bool>> cancel_ = std::make_shared<std::atomic<bool>>(false);
    QThread* thread_ = nullptr;
    bool running_ = false;
};

} // namespace tenfold::ui

Q_DECLARE_METATYPE(tenfold::ui::QuantizeJobResult)
