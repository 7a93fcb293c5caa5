#include "train/trainer.h"

#include "runtime/thread_pool.h"
#include "train/checkpoint.h"
#include "train/ops.h"
#include "train/optim.h"

#include <chrono>
#include <cstdio>
#include <cmath>
#include <limits>
#include <thread>

namespace tenfold::train {

namespace {
using Clock = std::chrono::steady_clock;
std::string num(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}
double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}
} // namespace

struct Trainer::Impl {
    TrainConfig cfg;
    std::vector<float> params, grads;
    const TokenDataset* data = nullptr;
    TrainOptions o;
    std::unique_ptr<ThreadPool> pool;
    std::unique_ptr<TinyLlama<float>> model;
    std::vector<uint8_t> decay;
    std::unique_ptr<AdamW> opt;
    // distillation
    std::unique_ptr<TinyLlama<float>> teacher;
    std::vector<float> teacherParams, teacherLogits;
    uint64_t rng = 0;
    int64_t step = 0; // steps done
    // per-step scratch
    std::vector<int32_t> window;
    std::vector<float> dlogits, probs, pTeacher, pStudent;
    std::vector<double> rowCe, rowKl;

    std::vector<std::pair<std::string, double>> settings() const;
    void checkpoint();
    // Loss of one window at the current parameters; adds its gradient (scaled by `weight`) into
    // grads when weight > 0. Returns {ce, kl}.
    std::pair<double, double> window_(const int32_t* win, double weight);
};

std::vector<std::pair<std::string, double>> Trainer::Impl::settings() const
{
    // What the loss curve depends on (the thread count is not among them: the kernels give the
    // same bits for any count).
    return {{"vocab", cfg.vocab},
            {"dim", cfg.dim},
            {"layers", cfg.nLayers},
            {"heads", cfg.nHead},
            {"kv_heads", cfg.nHeadKv},
            {"ffn", cfg.ffnDim},
            {"steps", double(o.steps)},
            {"batch", o.batch},
            {"ctx", data->ctx()},
            {"data_tokens", double(data->tokenCount())},
            {"seed", double(o.seed)},
            {"lr", o.lr},
            {"min_lr", o.minLr},
            {"warmup", double(o.warmup)},
            {"weight_decay", o.weightDecay},
            {"clip", o.clip},
            {"teacher", teacher ? 1.0 : 0.0},
            {"alpha", teacher ? o.alpha : 0.0},
            {"temperature", teacher ? o.temperature : 0.0},
            {"mask", o.mask.empty() ? 0.0 : 1.0}};
}

Trainer::Trainer(const TrainConfig& config, std::vector<float> params, const TokenDataset& data,
                 TrainOptions options)
    : d_(std::make_unique<Impl>())
{
    Impl& d = *d_;
    d.cfg = config;
    d.o = std::move(options);
    d.data = &data;
    d.model = std::make_unique<TinyLlama<float>>(config); // validates the configuration
    const size_t n = d.model->layout().count();
    if (params.size() != n)
        throw InvalidArgument("trainer: " + std::to_string(params.size()) +
                              " parameters for a model of " + std::to_string(n));
    const TrainOptions& o = d.o;
    if (o.steps < 1)
        throw InvalidArgument("trainer: the number of steps must be at least 1");
    if (o.batch < 1)
        throw InvalidArgument("trainer: the batch must hold at least one window");
    if (!(o.lr > 0) || !(o.minLr >= 0) || o.minLr > o.lr)
        throw InvalidArgument("trainer: the learning rate must be positive and the floor in [0, lr]");
    if (o.warmup < 0 || !(o.clip >= 0) || !(o.weightDecay >= 0))
        throw InvalidArgument("trainer: warm-up, clipping and weight decay must not be negative");
    if (!(o.alpha >= 0 && o.alpha <= 1))
        throw InvalidArgument("trainer: alpha must lie in [0, 1], not " + std::to_string(o.alpha));
    if (!(o.temperature > 0))
        throw InvalidArgument("trainer: the temperature must be positive");
    if (!o.mask.empty() && o.mask.size() != n)
        throw InvalidArgument("trainer: the mask has " + std::to_string(o.mask.size()) +
                              " flags for " + std::to_string(n) + " parameters");
    if (o.step && !o.checkpointDir.empty())
        throw InvalidArgument("trainer: a custom optimizer step keeps state outside checkpoints; run it without a checkpoint directory");
    if (!o.checkpointDir.empty() && o.checkpointEvery < 1)
        throw InvalidArgument("trainer: checkpoints need an interval of at least 1 step");
    d.params = std::move(params);
    if (!o.mask.empty())
        for (size_t i = 0; i < n; ++i)
            if (!o.mask[i])
                d.params[i] = 0.0f;
    d.grads.assign(n, 0.0f);
    d.decay = d.model->layout().decayMask();
    AdamWOptions ao;
    ao.weightDecay = o.weightDecay;
    if (!o.step) // a custom step keeps its own state (and runs without checkpoints)
        d.opt = std::make_unique<AdamW>(n, ao);
    d.pool = std::make_unique<ThreadPool>(o.threads);
    d.model->useFastPaths(true, d.pool.get());
    d.rng = o.seed;
    d.window.resize(size_t(data.ctx()) + 1);
}

Trainer::~Trainer() = default;

void Trainer::setTeacher(const TrainConfig& config, std::vector<float> params)
{
    Impl& d = *d_;
    if (config.vocab != d.cfg.vocab)
        throw InvalidArgument("the teacher's vocabulary (" + std::to_string(config.vocab) +
                              " tokens) differs from the student's (" +
                              std::to_string(d.cfg.vocab) + ")");
    if (d.step > 0)
        throw InvalidArgument("the teacher must be set before training starts");
    d.teacher = std::make_unique<TinyLlama<float>>(config);
    if (params.size() != d.teacher->layout().count())
        throw InvalidArgument("teacher: parameter count does not match its configuration");
    d.teacherParams = std::move(params);
    d.teacher->useFastPaths(true, d.pool.get());
}

std::filesystem::path Trainer::checkpointPath(const std::filesystem::path& dir)
{
    return dir / "checkpoint.tftrain";
}

void Trainer::Impl::checkpoint()
{
    CheckpointState s;
    s.settings = settings();
    s.step = step;
    s.rng = rng;
    s.adamSteps = opt->steps();
    s.params = params;
    s.m = opt->m();
    s.v = opt->v();
    writeCheckpoint(checkpointPath(o.checkpointDir), s);
}

bool Trainer::resume()
{
    Impl& d = *d_;
    if (d.o.checkpointDir.empty())
        return false;
    const auto path = checkpointPath(d.o.checkpointDir);
    if (!std::filesystem::exists(path))
        return false;
    CheckpointState s = readCheckpoint(path);
    const auto mine = d.settings();
    for (const auto& [name, value] : mine) {
        bool found = false;
        for (const auto& [n2, v2] : s.settings)
            if (n2 == name) {
                found = true;
                if (v2 != value)
                    throw InvalidArgument(path.string() + " was written with " + name + " = " +
                                          num(v2) + ", this run has " + name + " = " + num(value) +
                                          ": it would not continue the same run");
            }
        if (!found)
            throw InvalidArgument(path.string() + " does not record " + name);
    }
    if (s.params.size() != d.params.size())
        throw InvalidArgument(path.string() + ": parameter count differs from the model");
    d.params = std::move(s.params);
    d.opt->m() = std::move(s.m);
    d.opt->v() = std::move(s.v);
    d.opt->setSteps(s.adamSteps);
    d.step = s.step;
    d.rng = s.rng;
    return true;
}

std::pair<double, double> Trainer::Impl::window_(const int32_t* win, double weight)
{
    const int T = data->ctx(), V = cfg.vocab;
    const float* logits = model->forward(params.data(), win, T);
    const int32_t* targets = win + 1;
    for (int t = 0; t < T; ++t)
        if (targets[t] < 0 || targets[t] >= V)
            throw InvalidArgument("train: target token outside the vocabulary");
    const bool kd = teacher && weight > 0 && o.alpha > 0;
    if (kd) {
        const float* tl = teacher->forward(teacherParams.data(), win, T);
        teacherLogits.assign(tl, tl + size_t(T) * V);
    }
    const size_t NV = size_t(T) * V;
    probs.resize(NV);
    rowCe.assign(T, 0.0);
    rowKl.assign(T, 0.0);
    if (weight > 0)
        dlogits.assign(NV, 0.0f);
    if (kd) {
        pTeacher.resize(NV);
        pStudent.resize(NV);
    }
    const float ceW = float(weight * (kd ? 1.0 - o.alpha : 1.0) / T);
    const float klW = float(weight * o.alpha / T);
    const float tau = float(o.temperature);
    // Row by row with the reference ops (each row is a T = 1 problem), rows shared between
    // threads; the sums below run in row order, so the result does not depend on the threads.
    pool->parallelFor(T, 8, [&](int64_t b, int64_t e, int) {
        for (int64_t t = b; t < e; ++t) {
            const size_t off = size_t(t) * V;
            rowCe[t] = crossEntropyForward(probs.data() + off, logits + off, targets + t, 1, V);
            if (weight > 0)
                crossEntropyBackward(dlogits.data() + off, probs.data() + off, targets + t, 1, V,
                                     ceW);
            if (kd) {
                rowKl[t] = klDistillForward(pTeacher.data() + off, pStudent.data() + off,
                                            teacherLogits.data() + off, logits + off, 1, V, tau);
                klDistillBackward(dlogits.data() + off, pTeacher.data() + off,
                                  pStudent.data() + off, 1, V, tau, klW);
            }
        }
    });
    double ce = 0, kl = 0;
    for (int t = 0; t < T; ++t) {
        ce += rowCe[t];
        kl += rowKl[t];
    }
    ce /= T;
    kl /= T;
    if (weight > 0 && std::isfinite(ce) && std::isfinite(kl))
        model->backwardFromLogits(params.data(), dlogits.data(), grads.data());
    return {ce, kl};
}

double Trainer::validationLoss()
{
    Impl& d = *d_;
    int n = d.data->validWindows();
    if (d.o.evalWindows > 0)
        n = std::min(n, d.o.evalWindows);
    if (n < 1)
        return std::numeric_limits<double>::quiet_NaN();
    std::vector<int32_t> win(size_t(d.data->ctx()) + 1);
    double total = 0;
    for (int i = 0; i < n; ++i) {
        d.data->validWindow(i, win.data());
        total += d.window_(win.data(), 0.0).first;
    }
    return total / n;
}

TrainResult Trainer::run(const std::function<void(const StepReport&)>& onStep)
{
    Impl& d = *d_;
    const TrainOptions& o = d.o;
    TrainResult result;
    const auto t0 = Clock::now();
    double paused = 0;
    const int64_t firstStep = d.step;
    const double alpha = d.teacher ? o.alpha : 0.0;
    while (d.step < o.steps) {
        if (o.cancel && o.cancel->load()) {
            if (!o.checkpointDir.empty())
                d.checkpoint();
            throw Cancelled();
        }
        if (o.pause && o.pause->load()) {
            const auto p0 = Clock::now();
            while (o.pause->load() && !(o.cancel && o.cancel->load()))
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            paused += secondsSince(p0);
            continue;
        }
        const int64_t stepNo = d.step + 1;
        std::fill(d.grads.begin(), d.grads.end(), 0.0f);
        double ce = 0, kl = 0;
        const double weight = 1.0 / o.batch;
        for (int b = 0; b < o.batch; ++b) {
            d.data->sampleTrain(d.rng, d.window.data());
            const auto [c, k] = d.window_(d.window.data(), weight);
            ce += c / o.batch;
            kl += k / o.batch;
            if (!std::isfinite(c) || !std::isfinite(k))
                break;
        }
        const double loss = (d.teacher ? (1.0 - alpha) * ce + alpha * kl : ce);
        if (!std::isfinite(loss))
            throw TrainingDiverged(stepNo, std::string("the loss is ") +
                                               (std::isnan(loss) ? "NaN" : "infinite"));
        if (!o.mask.empty())
            for (size_t i = 0; i < d.grads.size(); ++i)
                if (!o.mask[i])
                    d.grads[i] = 0.0f;
        const double norm = clipGradNorm(d.grads.data(), d.grads.size(), o.clip);
        if (!std::isfinite(norm))
            throw TrainingDiverged(stepNo, "the gradient is not finite");
        const double lr = cosineLr(d.step, o.warmup, o.steps, o.lr, o.minLr);
        if (o.step)
            o.step(d.params.data(), d.grads.data(), lr);
        else
            d.opt->step(d.params.data(), d.grads.data(), lr, d.decay.data());
        if (!o.mask.empty())
            for (size_t i = 0; i < d.params.size(); ++i)
                if (!o.mask[i])
                    d.params[i] = 0.0f;
        d.step = stepNo;

        StepReport r;
        r.step = stepNo;
        r.totalSteps = o.steps;
        r.loss = loss;
        r.ce = ce;
        r.kl = d.teacher ? kl : 0.0;
        r.lr = lr;
        r.gradNorm = norm;
        r.valLoss = std::numeric_limits<double>::quiet_NaN();
        if ((o.evalEvery > 0 && stepNo % o.evalEvery == 0) || stepNo == o.steps)
            r.valLoss = validationLoss();
        if (!o.checkpointDir.empty() && (stepNo % o.checkpointEvery == 0 || stepNo == o.steps)) {
            d.checkpoint();
            r.checkpointed = true;
        }
        const double busy = std::max(1e-9, secondsSince(t0) - paused);
        const int64_t doneHere = stepNo - firstStep;
        r.tokensPerSecond = double(doneHere) * o.batch * d.data->ctx() / busy;
        r.etaSeconds = busy / double(doneHere) * double(o.steps - stepNo);
        result.losses.push_back(loss);
        result.lastLoss = loss;
        if (!std::isnan(r.valLoss))
            result.valLoss = r.valLoss;
        if (onStep)
            onStep(r);
    }
    if (result.losses.empty()) // resumed a finished run: measure what it left
        result.valLoss = validationLoss();
    result.steps = d.step;
    result.valPerplexity = std::exp(result.valLoss);
    result.seconds = secondsSince(t0);
    return result;
}

const TrainConfig& Trainer::config() const { return d_->cfg; }
const std::vector<float>& Trainer::params() const { return d_->params; }
int64_t Trainer::stepsDone() const { return d_->step; }

} // namespace tenfold::train
