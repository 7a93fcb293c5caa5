#include "session/optimize_job.h"

#include "core/error.h"
#include "eval/evaluate.h"

#include <QFile>

#include <algorithm>
#include <filesystem>

namespace tenfold::ui {
namespace {

QString hex(uint64_t v) { return QStringLiteral("%1").arg(v, 16, 16, QLatin1Char('0')); }

} // namespace

double OptimizeJob::RunContext::elapsed() const
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

OptimizeJob::OptimizeJob(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<OptimizeJobResult>();
}

OptimizeJob::~OptimizeJob()
{
    cancel_->store(true);
    pause_->store(false);
    if (thread_) {
        thread_->wait();
        delete thread_;
    }
}

bool OptimizeJob::launch(const QString& output, std::function<OptimizeJobResult(RunContext&)> work)
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
    pause_ = std::make_shared<std::atomic<bool>>(false);
    auto cancel = cancel_;
    auto pause = pause_;
    thread_ = QThread::create([this, output, work = std::move(work), cancel, pause] {
        auto post = [this](auto fn) { QMetaObject::invokeMethod(this, std::move(fn), Qt::QueuedConnection); };
        RunContext ctx;
        ctx.cancel = cancel.get();
        ctx.pause = pause.get();
        ctx.t0 = std::chrono::steady_clock::now();
        ctx.progress = [this, post](const QString& stage, double f, double left) {
            post([this, stage, f, left] { emit progress(stage, f, left); });
        };
        ctx.step = [this, post](qint64 s, qint64 total, double loss, double val) {
            post([this, s, total, loss, val] { emit trainingStep(s, total, loss, val); });
        };
        auto removeOutput = [&output] {
            std::error_code ec;
            std::filesystem::remove(output.toStdString(), ec);
        };
        try {
            OptimizeJobResult r = work(ctx);
            r.seconds = ctx.elapsed();
            post([this, r] {
                running_ = false;
                emit finished(r);
            });
        } catch (const Cancelled&) {
            removeOutput();
            post([this] {
                running_ = false;
                emit cancelled();
            });
        } catch (const std::exception& e) {
            removeOutput();
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

QByteArray OptimizeJob::readText(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        throw IoError("cannot read the text " + path.toStdString() + ": " + f.errorString().toStdString());
    return f.readAll();
}

int OptimizeJob::windowFor(int64_t heldTokens, int contextLength, int64_t allTokens)
{
    int nCtx = std::min(512, contextLength > 0 ? contextLength : 512);
    while (nCtx > 64 && heldTokens < nCtx)
        nCtx /= 2;
    if (heldTokens < nCtx)
        throw InvalidArgument("the text has " + std::to_string(allTokens) + " tokens; a run needs at least " +
                              std::to_string(4 * 64) + " (the last quarter is kept for measuring quality)");
    return nCtx;
}

void OptimizeJob::measure(OptimizeJobResult& r, const QString& input, const QString& output,
                          std::span<const int32_t> held, int nCtx, const QString& evalCacheDir,
                          const std::atomic<bool>* cancel, const std::function<void(int, int)>& progress)
{
    EvalOptions eo;
    eo.nCtx = nCtx;
    eo.decodeTokens = 32;
    eo.cancel = cancel;
    if (!evalCacheDir.isEmpty())
        eo.cacheDir = evalCacheDir.toStdString();
    eo.progress = progress;
    const EvalReport ev = evaluateModel(output.toStdString(), input.toStdString(), held, eo);
    r.input = input;
    r.output = output;
    r.inputHash = hex(ev.baseFingerprint);
    r.outputHash = hex(ev.modelFingerprint);
    std::error_code ec;
    r.inputBytes = std::filesystem::file_size(input.toStdString(), ec);
    r.outputBytes = std::filesystem::file_size(output.toStdString(), ec);
    r.meanKld = ev.meanKld;
    r.kldMedian = ev.kldMedian;
    r.kld99 = ev.kld99;
    r.sameTopPct = ev.sameTopPct;
    r.ppl = ev.test.ppl;
    r.basePpl = ev.base.ppl;
    r.prefillTps = ev.prefillTokensPerSecond;
    r.decodeTps = ev.decodeTokensPerSecond;
    r.evalWindows = ev.chunks;
    r.reportJson = QString::fromStdString(evalReportJson(ev));
}

} // namespace tenfold::ui
