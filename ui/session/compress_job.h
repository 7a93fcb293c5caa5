#pragma once
// One compress-and-measure run for the desktop app, on a thread of its own: collect the
// calibration Hessians, compress by low-rank factorisation (engine/passes/low_rank.h) or by
// palettes (engine/passes/palette.h), then evaluate the new file against its input on held-out
// text (engine/eval/evaluate.h), as QuantizeJob does. The GUI thread gets queued progress signals
// with an estimate of the time left, and one of finished / failed / cancelled at the end. Cancel
// is an atomic flag checked between calibration windows and between matrices; a cancelled or
// failed run leaves no output file (the engine writes through a temporary file).
#include <QObject>
#include <QString>
#include <QThread>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tenfold::ui {

struct CompressJobRequest {
    QString input, output;
    QString method = QStringLiteral("palette"); // "low-rank" or "palette"
    double targetMB = 0;                        // low-rank: the output's size (10^6 bytes)
    int bits = 4;                               // palette: 2, 3 or 4 bits per index
    int tuneSteps = 0;                          // palette: then tune tables/scales by distillation (0: off)
    bool tuneCodes = false;                     // palette tuning: the indices and block levels may change too
    QString textFile;                           // calibration + evaluation text; empty: the shipped one
    QString evalCacheDir;                       // where the input's distributions are kept
    int threads = 0;
};

struct CompressJobResult {
    QString input, output;
    QString inputHash, outputHash;              // Model::fingerprint, 16 hex digits
    quint64 inputBytes = 0, outputBytes = 0;
    double meanKld = 0, kldMedian = 0, kld99 = 0, sameTopPct = 0;
    double ppl = 0, basePpl = 0, bitsPerWeight = 0;
    double prefillTps = 0, decodeTps = 0;
    int evalWindows = 0, calibrationWindows = 0;
    QString detail;                             // "12 of 14 matrices factorised", "14 matrices with palettes"
    QString parametersJson, reportJson;
    double seconds = 0;
};

// The chart's and history's name for a run: "low-rank 8 MB", "palette 4-bit".
QString compressLabel(const CompressJobRequest& request);
// The run's parameters as optimization_runs keeps them (JSON): label, method, target or bits,
// text, and the detail and error when there are any.
QString compressParametersJson(const CompressJobRequest& request, const QString& detail = {}, const QString& error = {});

// The input's tensor shapes, read once (off the GUI thread), so the wizard can predict the
// output's size as the user chooses.
class CompressSizeModel {
public:
    // Throws the engine's IoError / FormatError for a missing or malformed file.
    static CompressSizeModel read(const QString& path);
    // The file paletteCompress writes with `bits`-bit indices and the default options (header
    // included); 0 for bits other than 2, 3 and 4.
    uint64_t paletteBytes(int bits) const;
    // The least lowRankCompress can reach (every layer matrix at rank 32, F16 factors), as the
    // engine estimates it.
    uint64_t lowRankSmallestBytes() const { return lowRankSmallest_; }
    uint64_t inputBytes() const { return inputBytes_; }
    int layerMatrices() const { return layerMatrices_; }

private:
    struct Tensor {
        std::string name;
        std::vector<int64_t> ne;
        uint64_t nbytes;
        bool layerMatrix;
    };
    std::vector<Tensor> tensors_;
    uint64_t alignment_ = 32, inputBytes_ = 0, lowRankSmallest_ = 0;
    uint64_t paletteHeader_[3] = {0, 0, 0}; // for 2, 3 and 4 bits
    int layerMatrices_ = 0;
};

class CompressJob : public QObject {
    Q_OBJECT
public:
    explicit CompressJob(QObject* parent = nullptr);
    ~CompressJob() override; // cancels and waits for the thread

    // Starts the run; false (and nothing started) when one is already running.
    bool start(const CompressJobRequest& request);
    void cancel() { cancel_->store(true); }
    bool isRunning() const { return running_; }

    static QString defaultTextPath() { return QStringLiteral(":/calibration/stories.txt"); }

signals:
    // stage: a translated description; fraction of the whole run in [0, 1]; seconds left (< 0:
    // not known yet).
    void progress(const QString& stage, double fraction, double secondsLeft);
    void finished(const tenfold::ui::CompressJobResult& result);
    void failed(const QString& message);
    void cancelled();

private:
    std::shared_ptr<std::atomic<bool>> cancel_ = std::make_shared<std::atomic<bool>>(false);
    QThread* thread_ = nullptr;
    bool running_ = false;
};

} // namespace tenfold::ui

Q_DECLARE_METATYPE(tenfold::ui::CompressJobResult)
