#include "session/distill_job.h"

#include "core/error.h"
#include "eval/evaluate.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "train/model_io.h"
#include "train/trainer.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

namespace tenfold::ui {

QString distillLabel(const DistillJobRequest& r)
{
    return QStringLiteral("%1 layers, %2 %3 steps")
        .arg(r.layers)
        .arg(r.noTeacher ? QStringLiteral("CE only") : QStringLiteral("KD"))
        .arg(r.steps);
}

QString distillParametersJson(const DistillJobRequest& r, const QString& error)
{
    QJsonObject p{{QStringLiteral("label"), distillLabel(r)},
                  {QStringLiteral("layers"), r.layers},
                  {QStringLiteral("steps"), r.steps},
                  {QStringLiteral("batch"), r.batch},
                  {QStringLiteral("ctx"), r.ctx},
                  {QStringLiteral("lr"), r.lr},
                  {QStringLiteral("alpha"), r.noTeacher ? 0.0 : r.alpha},
                  {QStringLiteral("temperature"), r.temperature},
                  {QStringLiteral("seed"), double(r.seed)},
                  {QStringLiteral("no_teacher"), r.noTeacher},
                  {QStringLiteral("text"), r.textFile.isEmpty() ? QStringLiteral("(shipped)") : r.textFile}};
    if (!error.isEmpty())
        p.insert(QStringLiteral("error"), error);
    return QString::fromUtf8(QJsonDocument(p).toJson(QJsonDocument::Compact));
}

bool DistillJob::start(const DistillJobRequest& request)
{
    return launch(request.output, [this, request](RunContext& ctx) {
        const double wTrain = 0.85, wEval = 0.15;
        auto report = [&](const QString& stage, double before, double weight, double done) {
            const double f = std::min(1.0, before + weight * done);
            const double s = ctx.elapsed();
            ctx.progress(stage, f, f > 0.02 ? s * (1 - f) / f : -1.0);
        };
        const QByteArray text = readText(request.textFile.isEmpty() ? defaultTextPath() : request.textFile);
        report(tr("Reading the teacher"), 0, 0, 0);
        const std::shared_ptr<Model> teacherModel = Model::loadGGUF(request.teacher.toStdString());
        const std::vector<int32_t> tokens =
            evaluationTokens(*teacherModel, std::string_view(text.constData(), size_t(text.size())));
        const size_t split = tokens.size() * 3 / 4;
        const std::span<const int32_t> held(tokens.data() + split, tokens.size() - split);
        const int nCtx = windowFor(int64_t(held.size()), teacherModel->hparams().nCtxTrain, int64_t(tokens.size()));

        train::TrainableModel teacher = train::loadTrainable(teacherModel);
        const int L = teacher.config.nLayers;
        if (request.layers >= L)
            throw InvalidArgument("a student of " + std::to_string(request.layers) + " layers is not smaller than the teacher (" +
                                  std::to_string(L) + " layers)");
        train::TrainableModel student = train::loadTrainable(teacherModel, train::spacedLayers(L, request.layers));

        train::TrainOptions t;
        t.steps = request.steps;
        t.batch = request.batch;
        t.lr = request.lr;
        t.minLr = request.lr / 10;
        t.warmup = std::max<int64_t>(1, request.steps / 20);
        t.seed = request.seed;
        t.threads = request.threads > 0 ? request.threads : std::max(1, QThread::idealThreadCount());
        t.alpha = request.alpha;
        t.temperature = request.temperature;
        t.evalEvery = std::max<int64_t>(1, request.steps / 10);
        t.cancel = ctx.cancel;
        t.pause = ctx.pause;
        // Training sees the first three quarters (its own last tenth for validation loss); the
        // last quarter measures the result against the teacher.
        const train::TokenDataset data(std::vector<int32_t>(tokens.begin(), tokens.begin() + std::ptrdiff_t(split)),
                                       request.ctx, 0.1, teacherModel->tokenizer().bos());
        train::Trainer trainer(student.config, std::move(student.params), data, t);
        if (!request.noTeacher)
            trainer.setTeacher(teacher.config, std::move(teacher.params));
        report(tr("Training the student"), 0, 0, 0);
        const train::TrainResult trained = trainer.run([&](const train::StepReport& s) {
            ctx.step(s.step, s.totalSteps, s.loss, s.valLoss);
            report(tr("Training the student, step %1 of %2").arg(s.step).arg(s.totalSteps), 0, wTrain,
                   double(s.step) / double(s.totalSteps));
        });
        train::saveTrainableGGUF(request.output.toStdString(), *teacherModel, trainer.config(), trainer.params(),
                                 GGMLType::F16);
        OptimizeJobResult res;
        res.trainSteps = trained.steps;
        res.trainValLoss = trained.valLoss;
        res.summary = tr("Student: %1 of the teacher's %2 layers, %3 parameters; %4 steps, validation loss %5.")
                          .arg(request.layers)
                          .arg(L)
                          .arg(qulonglong(train::ParamLayout(trainer.config()).count()))
                          .arg(trained.steps)
                          .arg(trained.valLoss, 0, 'f', 4);
        measure(res, request.teacher, request.output, held, nCtx, request.evalCacheDir, ctx.cancel,
                [&](int d, int all) {
                    report(tr("Measuring the student against the teacher"), wTrain, wEval, all > 0 ? double(d) / all : 0.0);
                });
        res.parametersJson = distillParametersJson(request);
        return res;
    });
}

} // namespace tenfold::ui
