#include "session/prune_job.h"

#include "core/error.h"
#include "eval/evaluate.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "passes/prune.h"
#include "train/data.h"
#include "train/model_io.h"
#include "train/recovery.h"
#include "train/trainer.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

namespace tenfold::ui {

QString pruneLabel(const PruneJobRequest& r)
{
    QString what;
    if (r.method == QLatin1String("layers"))
        what = QStringLiteral("layers, %1 kept").arg(r.layersKeep);
    else if (r.nmGroup > 0)
        what = QStringLiteral("%1 %2:%3").arg(r.method).arg(r.nmKeep).arg(r.nmGroup);
    else
        what = QStringLiteral("%1 %2%").arg(r.method).arg(r.sparsity * 100, 0, 'f', 0);
    if (r.recoverSteps > 0)
        what += QStringLiteral(" + %1 recovery steps").arg(r.recoverSteps);
    return what;
}

QString pruneParametersJson(const PruneJobRequest& r, const QString& error)
{
    QJsonObject p{{QStringLiteral("method"), r.method},
                  {QStringLiteral("label"), pruneLabel(r)},
                  {QStringLiteral("text"), r.textFile.isEmpty() ? QStringLiteral("(shipped)") : r.textFile}};
    if (r.method == QLatin1String("layers"))
        p.insert(QStringLiteral("layers_keep"), r.layersKeep);
    else if (r.nmGroup > 0)
        p.insert(QStringLiteral("nm"), QStringLiteral("%1:%2").arg(r.nmKeep).arg(r.nmGroup));
    else
        p.insert(QStringLiteral("sparsity"), r.sparsity);
    if (r.recoverSteps > 0) {
        p.insert(QStringLiteral("recover_steps"), r.recoverSteps);
        p.insert(QStringLiteral("recover_lr"), r.recoverLr);
    }
    if (!error.isEmpty())
        p.insert(QStringLiteral("error"), error);
    return QString::fromUtf8(QJsonDocument(p).toJson(QJsonDocument::Compact));
}

bool PruneJob::start(const PruneJobRequest& request)
{
    return launch(request.output, [this, request](RunContext& ctx) {
        const PruneMethod method = parsePruneMethod(request.method.toStdString());
        const bool recover = request.recoverSteps > 0;
        // The share of the run each stage takes, roughly, so one bar covers the whole run.
        const double wPrune = 0.35, wRecover = recover ? 0.45 : 0, wEval = 0.20;
        const double total = wPrune + wRecover + wEval;
        auto report = [&](const QString& stage, double before, double weight, double done) {
            const double f = std::min(1.0, (before + weight * done) / total);
            const double s = ctx.elapsed();
            ctx.progress(stage, f, f > 0.02 ? s * (1 - f) / f : -1.0);
        };
        const QByteArray text = readText(request.textFile.isEmpty() ? defaultTextPath() : request.textFile);
        report(tr("Reading the model"), 0, 0, 0);
        const std::shared_ptr<Model> base = Model::loadGGUF(request.input.toStdString());
        const std::vector<int32_t> tokens = evaluationTokens(*base, std::string_view(text.constData(), size_t(text.size())));
        // The last quarter is held out: quality is measured where calibration and recovery never looked.
        const size_t split = tokens.size() * 3 / 4;
        const std::span<const int32_t> calibration(tokens.data(), split);
        const std::span<const int32_t> held(tokens.data() + split, tokens.size() - split);
        const int nCtx = windowFor(int64_t(held.size()), base->hparams().nCtxTrain, int64_t(tokens.size()));

        PruneOptions o;
        o.method = method;
        o.sparsity = request.sparsity;
        o.nmKeep = request.nmKeep;
        o.nmGroup = request.nmGroup;
        o.layersKeep = request.layersKeep;
        o.calibCtx = nCtx;
        o.calibWindows = 16;
        o.nThreads = request.threads;
        o.cancel = ctx.cancel;
        o.progress = [&](const std::string& stage, int done, int all) {
            const double d = all > 0 ? double(done) / all : 0.0;
            if (stage == "calibration")
                report(tr("Reading activations on the calibration text"), 0, wPrune * 0.4, d);
            else if (stage == "pruning")
                report(tr("Pruning the weights"), wPrune * 0.4, wPrune * 0.5, d);
            else
                report(tr("Writing the pruned model"), wPrune * 0.9, wPrune * 0.1, d);
        };
        const PruneReport pr = pruneModel(request.input.toStdString(), request.output.toStdString(),
                                          pruneMethodNeedsCalibration(method) ? calibration : std::span<const int32_t>(), o);
        OptimizeJobResult res;
        res.summary = QString::fromStdString(pr.summary());

        if (recover) {
            // Fine-tune the pruned file on the calibration part with cross-entropy; the pruned
            // (zero) weights of the pruned matrices stay exactly zero.
            report(tr("Preparing recovery training"), wPrune, 0, 0);
            const std::shared_ptr<Model> pruned = Model::loadGGUF(request.output.toStdString());
            train::TrainableModel m = train::loadTrainable(pruned);
            train::TrainOptions t;
            t.steps = request.recoverSteps;
            t.batch = request.recoverBatch;
            t.lr = request.recoverLr;
            t.minLr = request.recoverLr / 10;
            t.warmup = std::max<int64_t>(1, request.recoverSteps / 20);
            t.threads = request.threads > 0 ? request.threads : std::max(1, QThread::idealThreadCount());
            t.evalEvery = std::max<int64_t>(1, request.recoverSteps / 10);
            t.cancel = ctx.cancel;
            t.pause = ctx.pause;
            if (!pruneMethodIsStructured(method)) // the zeros of the pruned projections stay zero
                t.mask = train::zeroWeightMask(train::ParamLayout(m.config), m.params, /*prunableOnly=*/true);
            int ctxLen = std::min(request.recoverCtx, nCtx);
            const train::TokenDataset data(std::vector<int32_t>(calibration.begin(), calibration.end()), ctxLen, 0.1,
                                           pruned->tokenizer().bos());
            train::Trainer trainer(m.config, std::move(m.params), data, t);
            const train::TrainResult trained = trainer.run([&](const train::StepReport& s) {
                ctx.step(s.step, s.totalSteps, s.loss, s.valLoss);
                report(tr("Recovery training, step %1 of %2").arg(s.step).arg(s.totalSteps), wPrune, wRecover,
                       double(s.step) / double(s.totalSteps));
            });
            res.trainSteps = trained.steps;
            res.trainValLoss = trained.valLoss;
            train::saveTrainableGGUF(request.output.toStdString(), *pruned, trainer.config(), trainer.params(),
                                     GGMLType::F16);
            res.summary += tr("\nRecovery: %n step(s), validation loss %1 (saved as F16).", nullptr, int(trained.steps))
                               .arg(trained.valLoss, 0, 'f', 4);
        }
        measure(res, request.input, request.output, held, nCtx, request.evalCacheDir, ctx.cancel,
                [&](int d, int all) {
                    report(tr("Measuring quality against the original"), wPrune + wRecover, wEval,
                           all > 0 ? double(d) / all : 0.0);
                });
        res.parametersJson = pruneParametersJson(request);
        return res;
    });
}

} // namespace tenfold::ui
