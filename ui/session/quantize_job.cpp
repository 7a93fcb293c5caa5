#include "session/quantize_job.h"

#include "core/error.h"
#include "eval/evaluate.h"
#include "gguf/gguf_encode.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "passes/quant_presets.h"
#include "passes/quantize_recipe.h"
#include "tokenizer/tokenizer.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <chrono>
#include <map>

namespace tenfold::ui {
namespace {

QString hex(uint64_t v) { return QStringLiteral("%1").arg(v, 16, 16, QLatin1Char('0')); }

GGMLType parseType(const QString& name, const char* what)
{
    const auto t = typeFromName(name.toStdString());
    if (!t || !typeTraits(*t).weightType)
        throw InvalidArgument(std::string(what) + " '" + name.toStdString() + "' is not a weight type");
    return *t;
}

QuantMethod parseMethod(const QString& m)
{
    if (m == QLatin1String("gptq"))
        return QuantMethod::Gptq;
    if (m == QLatin1String("imatrix"))
        return QuantMethod::Imatrix;
    if (m == QLatin1String("rtn"))
        return QuantMethod::Rtn;
    throw InvalidArgument("unknown quantization method '" + m.toStdString() + "'");
}

} // namespace

QString quantizeParametersJson(const QuantizeJobRequest& r, const QString& mix, const QString& error)
{
    QJsonObject params{{r.preset ? QStringLiteral("preset") : QStringLiteral("type"), r.type},
                       {QStringLiteral("method"), r.method},
                       {QStringLiteral("text"), r.textFile.isEmpty() ? QStringLiteral("(shipped)") : r.textFile}};
    if (!r.outputType.isEmpty())
        params.insert(QStringLiteral("output_type"), r.outputType);
    if (r.targetMB > 0)
        params.insert(QStringLiteral("target_mb"), r.targetMB);
    if (!mix.isEmpty())
        params.insert(QStringLiteral("mix"), mix);
    if (!error.isEmpty())
        params.insert(QStringLiteral("error"), error);
    return QString::fromUtf8(QJsonDocument(params).toJson(QJsonDocument::Compact));
}

QuantizeSizeModel QuantizeSizeModel::read(const QString& path)
{
    const std::shared_ptr<GGUFFile> f = GGUFFile::open(path.toStdString());
    QuantizeSizeModel m;
    m.alignment_ = f->alignment();
    m.inputBytes_ = f->fileSize();
    const std::string outputName = f->findTensor("output.weight") ? "output.weight" : "token_embd.weight";
    std::vector<GGUFTensorLayout> layout;
    for (const GGUFTensorInfo& t : f->tensors()) {
        m.tensors_.push_back({t.name, t.ne, t.rows(), t.nbytes, t.ne.size() >= 2, t.name == outputName});
        layout.push_back({t.name, t.type, t.ne, t.nbytes});
    }
    const uint64_t a = m.alignment_;
    m.header_ = (encodeGGUFHeader(quantizedMetadata(*f, GGMLType::Q4_0), layout, a).size() + a - 1) / a * a;
    BudgetOptions budget;
    budget.quantize.target = GGMLType::Q4_0;
    m.smallest_ = smallestMixBytes(path.toStdString(), budget);
    for (const QuantPreset& p : quantPresets())
        m.presets_[p.name] = {p.base, presetTensorTypes(p, *f)};
    return m;
}

uint64_t QuantizeSizeModel::predictBytes(const QString& type, const QString& outputType, bool preset) const
{
    std::optional<GGMLType> t;
    const std::map<std::string, GGMLType>* rules = nullptr;
    if (preset) {
        const auto it = presets_.find(type.toStdString());
        if (it == presets_.end())
            return 0;
        t = it->second.first;
        rules = &it->second.second;
    } else {
        t = typeFromName(type.toStdString());
    }
    GGMLType out = GGMLType::F32;
    const bool overrideOutput = !outputType.isEmpty();
    if (overrideOutput) {
        const auto o = typeFromName(outputType.toStdString());
        if (!o || !typeTraits(*o).weightType)
            return 0;
        out = *o;
    }
    if (!t || !typeTraits(*t).weightType)
        return 0;
    uint64_t total = header_;
    for (const Tensor& x : tensors_) {
        uint64_t bytes = x.nbytes;
        if (x.weight) {
            GGMLType want = *t;
            if (rules)
                if (const auto r = rules->find(x.name); r != rules->end())
                    want = r->second;
            if (x.output && overrideOutput) // the caller's output type wins over a preset's rule
                want = out;
            const GGMLType to = chooseTensorType(x.ne, want);
            bytes = uint64_t(x.rows) * rowBytes(to, x.ne[0]);
        }
        total += (bytes + alignment_ - 1) / alignment_ * alignment_;
    }
    return total;
}

QuantizeJob::QuantizeJob(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<QuantizeJobResult>();
}

QuantizeJob::~QuantizeJob()
{
    cancel_->store(true);
    if (thread_) {
        thread_->wait();
        delete thread_;
    }
}

bool QuantizeJob::start(const QuantizeJobRequest& request)
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
        const bool calibrated = request.method != QLatin1String("rtn");
        const bool budget = request.targetMB > 0;
        // The share of the run each stage takes, roughly, so one bar covers the whole run.
        const double wCal = calibrated ? 0.40 : 0, wMeasure = budget ? 0.30 : 0, wQuant = 0.10, wEval = 0.20;
        const double total = wCal + wMeasure + wQuant + wEval;
        auto post = [this](auto fn) { QMetaObject::invokeMethod(this, std::move(fn), Qt::QueuedConnection); };
        auto report = [&](const QString& stage, double before, double weight, int done, int all) {
            const double f = std::min(1.0, (before + weight * (all > 0 ? double(done) / all : 0.0)) / total);
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            const double left = f > 0.02 ? s * (1 - f) / f : -1.0;
            post([this, stage, f, left] { emit progress(stage, f, left); });
        };
        try {
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

            QuantizeRecipe r;
            r.input = request.input.toStdString();
            r.output = request.output.toStdString();
            if (request.preset) {
                const QuantPreset* p = findQuantPreset(request.type.toStdString());
                if (!p)
                    throw InvalidArgument("'" + request.type.toStdString() + "' is not a quantization preset");
                r.preset = p->name;
                r.type = p->base;
            } else if (const QuantPreset* p = findQuantPreset(request.type.toStdString())) {
                r.type = p->base; // a size budget chooses the types; the preset's base only labels the file
            } else {
                r.type = parseType(request.type, "type");
            }
            if (!request.outputType.isEmpty())
                r.outputType = parseType(request.outputType, "output type");
            r.method = parseMethod(request.method);
            r.targetBytes = budget ? uint64_t(request.targetMB * 1e6) : 0;
            r.nCtx = nCtx;
            r.nThreads = request.threads;
            const RecipeResult done = runQuantizeRecipe(
                r, calibration,
                [&](RecipeStage s, int d, int all) {
                    switch (s) {
                    case RecipeStage::Calibrate:
                        report(tr("Calibrating on the text"), 0, wCal, d, all);
                        break;
                    case RecipeStage::Measure:
                        report(tr("Measuring each tensor's sensitivity"), wCal, wMeasure, d, all);
                        break;
                    case RecipeStage::Quantize:
                        report(tr("Writing the quantized model"), wCal + wMeasure, wQuant, d, all);
                        break;
                    }
                },
                cancel.get());

            EvalOptions eo;
            eo.nCtx = nCtx;
            eo.nThreads = request.threads;
            eo.decodeTokens = 32;
            eo.cancel = cancel.get();
            if (!request.evalCacheDir.isEmpty())
                eo.cacheDir = request.evalCacheDir.toStdString();
            eo.progress = [&](int d, int all) {
                report(tr("Measuring quality against the original"), wCal + wMeasure + wQuant, wEval, d, all);
            };
            EvalReport ev;
            try {
                ev = evaluateModel(r.output, r.input, held, eo);
            } catch (...) {
                // A run that cannot be measured is not kept: nothing half-done stays behind.
                std::error_code ec;
                std::filesystem::remove(r.output, ec);
                throw;
            }

            QuantizeJobResult res;
            res.input = request.input;
            res.output = request.output;
            res.inputHash = hex(ev.baseFingerprint);
            res.outputHash = hex(ev.modelFingerprint);
            res.inputBytes = done.report.fileBytesBefore;
            res.outputBytes = done.report.fileBytesAfter;
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
            res.calibrationWindows = done.calibrationWindows;
            std::map<std::string, int> mix;
            for (const QuantizedTensor& t : done.report.tensors)
                if (t.to != t.from || t.method != QuantMethod::Rtn)
                    ++mix[std::string(typeName(t.to)) + (t.method == QuantMethod::Rtn ? "" : std::string(" (") + methodName(t.method) + ")")];
            for (const auto& [name, n] : mix)
                res.mix += (res.mix.isEmpty() ? QString() : QStringLiteral(", ")) +
                           QStringLiteral("%1 x %2").arg(n).arg(QString::fromStdString(name));
            res.parametersJson = quantizeParametersJson(request, res.mix);
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
