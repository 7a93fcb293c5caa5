#include "session/compress_job.h"

#include "core/error.h"
#include "eval/evaluate.h"
#include "gguf/gguf_encode.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "passes/gptq.h"
#include "passes/imatrix.h"
#include "passes/low_rank.h"
#include "passes/palette.h"
#include "passes/quantize_model.h"
#include "tensor/ggml_type.h"
#include "train/palette_tuning.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

namespace tenfold::ui {
namespace {

QString hex(uint64_t v) { return QStringLiteral("%1").arg(v, 16, 16, QLatin1Char('0')); }

bool isLayerMatrix(const std::string& name, const std::vector<int64_t>& ne)
{
    return ne.size() == 2 && name.rfind("blk.", 0) == 0 && name.ends_with(".weight");
}

uint64_t padTo(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

constexpr int64_t kRankStep = 32; // LowRankOptions' default

} // namespace

QString compressLabel(const CompressJobRequest& r)
{
    return r.method == QLatin1String("low-rank") ? QStringLiteral("low-rank %1 MB").arg(r.targetMB, 0, 'g', 4)
           : r.tuneSteps > 0 ? QStringLiteral("palette %1-bit, tuned").arg(r.bits)
                             : QStringLiteral("palette %1-bit").arg(r.bits);
}

QString compressParametersJson(const CompressJobRequest& r, const QString& detail, const QString& error)
{
    QJsonObject params{{QStringLiteral("label"), compressLabel(r)},
                       {QStringLiteral("method"), r.method},
                       {QStringLiteral("text"), r.textFile.isEmpty() ? QStringLiteral("(shipped)") : r.textFile}};
    if (r.method == QLatin1String("low-rank"))
        params.insert(QStringLiteral("target_mb"), r.targetMB);
    else
        params.insert(QStringLiteral("bits"), r.bits);
    if (r.method != QLatin1String("low-rank") && r.tuneSteps > 0) {
        params.insert(QStringLiteral("tune_steps"), r.tuneSteps);
        params.insert(QStringLiteral("tune_codes"), r.tuneCodes);
    }
    if (!detail.isEmpty())
        params.insert(QStringLiteral("detail"), detail);
    if (!error.isEmpty())
        params.insert(QStringLiteral("error"), error);
    return QString::fromUtf8(QJsonDocument(params).toJson(QJsonDocument::Compact));
}

CompressSizeModel CompressSizeModel::read(const QString& path)
{
    const std::shared_ptr<GGUFFile> f = GGUFFile::open(path.toStdString());
    CompressSizeModel m;
    m.alignment_ = f->alignment();
    m.inputBytes_ = f->fileSize();
    // The low-rank floor, as lowRankCompress estimates it: what is not a layer matrix stays, every
    // layer matrix at the smallest rank in F16 (or dense when that is not smaller), plus ~128
    // bytes of header per matrix.
    uint64_t fixed = f->fileSize(), smallest = 0;
    int candidates = 0;
    for (const GGUFTensorInfo& t : f->tensors()) {
        const bool layer = isLayerMatrix(t.name, t.ne);
        m.tensors_.push_back({t.name, t.ne, t.nbytes, layer});
        fixed -= std::min(fixed, padTo(t.nbytes, 32));
        if (!layer) {
            fixed += padTo(t.nbytes, 32);
            continue;
        }
        ++candidates;
        const int64_t r = std::min<int64_t>(kRankStep, std::min(t.ne[0], t.ne[1]));
        const GGMLType ta = chooseTensorType({r, t.ne[1]}, GGMLType::F16);
        const GGMLType tb = chooseTensorType({t.ne[0], r}, GGMLType::F16);
        const uint64_t factors = padTo(rowBytes(ta, r) * uint64_t(t.ne[1]), 32) + padTo(rowBytes(tb, t.ne[0]) * uint64_t(r), 32);
        smallest += std::min(padTo(t.nbytes, 32), factors);
    }
    m.layerMatrices_ = candidates;
    m.lowRankSmallest_ = fixed + 128 * uint64_t(candidates) + 1024 + smallest;

    // The palette files' headers: the same metadata and tensor list paletteCompress writes.
    for (int bi = 0; bi < 3; ++bi) {
        const int bits = bi + 2, k = 1 << bits;
        auto metadata = quantizedMetadata(*f, GGMLType::F16);
        if (const GGUFValue* ft = f->find("general.file_type"))
            for (auto& kv : metadata)
                if (kv.first == "general.file_type")
                    kv.second = *ft;
        std::vector<std::string> names;
        std::vector<int32_t> bitsList, groupRows;
        std::vector<GGUFTensorLayout> layout;
        for (const GGUFTensorInfo& t : f->tensors()) {
            if (!isLayerMatrix(t.name, t.ne) || (t.ne[0] * bits) % 8 != 0) {
                layout.push_back({t.name, t.type, t.ne, t.nbytes});
                continue;
            }
            const int64_t g = defaultPaletteGroupRows(t.ne[1], t.ne[0], bits);
            names.push_back(t.name);
            bitsList.push_back(bits);
            groupRows.push_back(int32_t(g));
            layout.push_back({t.name + ".pal_idx", GGMLType::I8, {t.ne[0] * bits / 8, t.ne[1]},
                              uint64_t(t.ne[0] * bits / 8 * t.ne[1])});
            layout.push_back({t.name + ".pal_tab", GGMLType::F32, {k, t.ne[1] / g}, uint64_t(k * (t.ne[1] / g) * 4)});
            layout.push_back({t.name + ".pal_scale", GGMLType::F32, {t.ne[1]}, uint64_t(t.ne[1] * 4)});
        }
        metadata.emplace_back("tenfold.palette.version", GGUFValue::u32(1));
        metadata.emplace_back("tenfold.palette.tensors", GGUFValue::stringArray(names));
        metadata.emplace_back("tenfold.palette.bits", GGUFValue::i32Array(bitsList));
        metadata.emplace_back("tenfold.palette.group_rows", GGUFValue::i32Array(groupRows));
        m.paletteHeader_[bi] = padTo(encodeGGUFHeader(metadata, layout, m.alignment_).size(), m.alignment_);
    }
    return m;
}

uint64_t CompressSizeModel::paletteBytes(int bits) const
{
    if (bits < 2 || bits > 4)
        return 0;
    const int k = 1 << bits;
    uint64_t total = paletteHeader_[bits - 2];
    for (const Tensor& t : tensors_) {
        if (!t.layerMatrix || (t.ne[0] * bits) % 8 != 0) {
            total += padTo(t.nbytes, alignment_);
            continue;
        }
        const int64_t groups = t.ne[1] / defaultPaletteGroupRows(t.ne[1], t.ne[0], bits);
        total += padTo(uint64_t(t.ne[0] * bits / 8 * t.ne[1]), alignment_); // indices
        total += padTo(uint64_t(k * groups * 4), alignment_);               // tables
        total += padTo(uint64_t(t.ne[1] * 4), alignment_);                  // row scales
    }
    return total;
}

CompressJob::CompressJob(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<CompressJobResult>();
}

CompressJob::~CompressJob()
{
    cancel_->store(true);
    if (thread_) {
        thread_->wait();
        delete thread_;
    }
}

bool CompressJob::start(const CompressJobRequest& request)
{
    if (running_)
        return false;
    if (thread_) {
        thread_->wait();
        delete thread_;
        thread_ = nullptr;
    }
    running_ = true;
    cancel_ = std::make_shared<std::atomic<bool>>(false);
    auto cancel = cancel_;
    thread_ = QThread::create([this, request, cancel] {
        const auto t0 = std::chrono::steady_clock::now();
        const bool lowRank = request.method == QLatin1String("low-rank");
        // The share of the run each stage takes, roughly, so one bar covers the whole run.
        const bool tune = !lowRank && request.tuneSteps > 0;
        const double wCal = tune ? 0.15 : 0.35, wCompress = tune ? 0.20 : 0.40, wTune = tune ? 0.50 : 0.0,
                     wEval = tune ? 0.15 : 0.25;
        auto post = [this](auto fn) { QMetaObject::invokeMethod(this, std::move(fn), Qt::QueuedConnection); };
        auto report = [&](const QString& stage, double before, double weight, size_t done, size_t all) {
            const double f = std::min(1.0, before + weight * (all > 0 ? double(done) / double(all) : 0.0));
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            const double left = f > 0.02 ? s * (1 - f) / f : -1.0;
            post([this, stage, f, left] { emit progress(stage, f, left); });
        };
        try {
            if (!lowRank && request.method != QLatin1String("palette"))
                throw InvalidArgument("unknown compression method '" + request.method.toStdString() + "'");
            if (!lowRank && (request.bits < 2 || request.bits > 4))
                throw InvalidArgument("palettes take 2, 3 or 4 bits per index, not " + std::to_string(request.bits));
            const QString textPath = request.textFile.isEmpty() ? defaultTextPath() : request.textFile;
            QFile f(textPath);
            if (!f.open(QIODevice::ReadOnly))
                throw IoError("cannot read the text " + textPath.toStdString() + ": " + f.errorString().toStdString());
            const QByteArray text = f.readAll();
            report(tr("Reading the model"), 0, 0, 0, 1);
            const std::shared_ptr<Model> base = Model::loadGGUF(request.input.toStdString());
            const std::vector<int32_t> tokens = evaluationTokens(*base, std::string_view(text.constData(), size_t(text.size())));
            // The last quarter of the text is held out: quality is measured where calibration
            // never looked.
            const size_t split = tokens.size() * 3 / 4;
            const std::span<const int32_t> calibration(tokens.data(), split);
            const std::span<const int32_t> held(tokens.data() + split, tokens.size() - split);
            int nCtx = std::min(512, base->hparams().nCtxTrain > 0 ? base->hparams().nCtxTrain : 512);
            while (nCtx > 64 && int64_t(held.size()) < nCtx)
                nCtx /= 2;
            if (int64_t(held.size()) < nCtx)
                throw InvalidArgument("the text has " + std::to_string(tokens.size()) +
                                      " tokens; a run needs at least " + std::to_string(4 * 64) +
                                      " (the last quarter is kept for measuring quality)");

            ImatrixOptions io;
            io.nCtx = nCtx;
            io.nThreads = request.threads;
            io.cancel = cancel.get();
            io.outputHead = !lowRank; // the palette pass gives a dense head GPTQ when it has its Hessian
            io.progress = [&](int d, int all) { report(tr("Calibrating on the text"), 0, wCal, size_t(d), size_t(all)); };
            const HessianSet hessians = collectHessians(base, calibration, io);
            const int calibrationWindows = int(calibration.size() / size_t(nCtx));

            const std::filesystem::path in = request.input.toStdString(), out = request.output.toStdString();
            uint64_t before = 0, after = 0;
            QString detail;
            if (lowRank) {
                LowRankOptions o;
                o.targetBytes = uint64_t(request.targetMB * 1e6);
                o.nThreads = request.threads;
                o.hessians = &hessians;
                o.progress = [&](int stage, size_t i, size_t n, const std::string&) {
                    // Thrown between matrices: the writer's temporary file is removed on unwind.
                    if (cancel->load())
                        throw Cancelled();
                    report(stage == 0 ? tr("Analysing each matrix") : tr("Writing the factorised model"),
                           wCal + (stage == 0 ? 0.0 : wCompress / 2), wCompress / 2, i, n);
                };
                const LowRankReport r = lowRankCompress(in, out, o);
                before = r.fileBytesBefore;
                after = r.fileBytesAfter;
                int factorised = 0;
                for (const LowRankChoice& c : r.choices)
                    factorised += c.rank > 0 ? 1 : 0;
                detail = tr("%1 of %2 matrices factorised").arg(factorised).arg(r.choices.size());
            } else {
                PaletteOptions o;
                o.bits = request.bits;
                o.nThreads = request.threads;
                o.hessians = &hessians;
                o.progress = [&](size_t i, size_t n, const std::string&) {
                    if (cancel->load())
                        throw Cancelled();
                    report(tr("Clustering the weights into palettes"), wCal, wCompress, i, n);
                };
                const PaletteReport r = paletteCompress(in, out, o);
                before = r.fileBytesBefore;
                after = r.fileBytesAfter;
                detail = tr("%1 matrices with %2-bit palettes").arg(r.tensors).arg(request.bits);
            }
            if (cancel->load()) { // cancelled after the last matrix: nothing stays behind
                std::error_code ec;
                std::filesystem::remove(out, ec);
                throw Cancelled();
            }
            if (tune) {
                // On the calibration part only: the held-out quarter still measures.
                train::PaletteTuneOptions to;
                to.train.steps = request.tuneSteps;
                to.train.batch = 4;
                to.train.lr = 1e-3;
                to.train.minLr = 1e-4;
                to.train.warmup = std::max(1, request.tuneSteps / 20);
                to.train.alpha = 1.0;
                to.train.temperature = 1.0;
                to.train.threads = request.threads > 0 ? request.threads : int(std::max(1u, std::thread::hardware_concurrency()));
                to.train.evalEvery = 0;
                to.train.evalWindows = 8;
                to.ctx = std::min(128, nCtx);
                to.validFraction = 0.05;
                to.codes = request.tuneCodes;
                try {
                    const train::PaletteTuneReport tr_ = train::tunePaletteModel(
                        out, in, std::vector<int32_t>(calibration.begin(), calibration.end()), to,
                        [&](const train::StepReport& st) {
                            report(tr("Tuning the palettes to the original"), wCal + wCompress, wTune, size_t(st.step),
                                   size_t(st.totalSteps));
                        },
                        cancel.get());
                    detail += tr(", tuned for %1 steps (%2 numbers)").arg(request.tuneSteps).arg(qulonglong(tr_.freeParameters));
                    if (request.tuneCodes)
                        detail += tr(", %1 of %2 codes changed").arg(qlonglong(tr_.codesChanged)).arg(qlonglong(tr_.codeCount));
                } catch (...) {
                    // Cancelled or failed while tuning: the untuned file is not what was asked for.
                    std::error_code ec;
                    std::filesystem::remove(out, ec);
                    throw;
                }
            }

            EvalOptions eo;
            eo.nCtx = nCtx;
            eo.nThreads = request.threads;
            eo.decodeTokens = 32;
            eo.cancel = cancel.get();
            if (!request.evalCacheDir.isEmpty())
                eo.cacheDir = request.evalCacheDir.toStdString();
            eo.progress = [&](int d, int all) {
                report(tr("Measuring quality against the original"), wCal + wCompress + wTune, wEval, size_t(d), size_t(all));
            };
            EvalReport ev;
            try {
                ev = evaluateModel(out, in, held, eo);
            } catch (...) {
                // A run that cannot be measured is not kept: nothing half-done stays behind.
                std::error_code ec;
                std::filesystem::remove(out, ec);
                throw;
            }

            CompressJobResult res;
            res.input = request.input;
            res.output = request.output;
            res.inputHash = hex(ev.baseFingerprint);
            res.outputHash = hex(ev.modelFingerprint);
            res.inputBytes = before;
            res.outputBytes = after;
            res.meanKld = ev.meanKld;
            res.kldMedian = ev.kldMedian;
            res.kld99 = ev.kld99;
            res.sameTopPct = ev.sameTopPct;
            res.ppl = ev.test.ppl;
            res.basePpl = ev.base.ppl;
            res.bitsPerWeight = ev.bitsPerWeight;
            res.prefillTps = ev.prefillTokensPerSecond;
            res.decodeTps = ev.decodeTokensPerSecond;
            res.evalWindows = ev.chunks;
            res.calibrationWindows = calibrationWindows;
            res.detail = detail;
            res.parametersJson = compressParametersJson(request, detail);
            res.reportJson = QString::fromStdString(evalReportJson(ev));
            res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            post([this, res] {
                running_ = false;
                emit finished(res);
            });
        } catch (const Cancelled&) {
            post([this] {
                running_ = false;
                emit cancelled();
            });
        } catch (const std::exception& e) {
            const QString message = QString::fromUtf8(e.what());
            post([this, message] {
                running_ = false;
                emit failed(message);
            });
        }
    });
    thread_->start();
    return true;
}

} // namespace tenfold::ui
