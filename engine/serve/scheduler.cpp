// The continuous-batching loop (policy in scheduler.h).
#include "serve/scheduler.h"

#include "model/model.h"
#include "serve/scheduler_state.h"
#include "serve/scheduler_step.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tenfold {

// --- ServeRequest ---

ServeRequest::~ServeRequest() = default;

bool ServeRequest::next(ServeEvent& out, std::chrono::milliseconds timeout)
{
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [this] { return !events_.empty(); }))
        return false;
    out = std::move(events_.front());
    events_.pop_front();
    return true;
}

void ServeRequest::cancel() { cancelled_.store(true); }

std::shared_ptr<ServeRequest> ServeRequest::relayed(uint64_t id)
{
    return std::shared_ptr<ServeRequest>(new ServeRequest(id));
}

void ServeRequest::push(ServeEvent e)
{
    {
        std::lock_guard lock(mutex_);
        events_.push_back(std::move(e));
    }
    cv_.notify_all();
}

// --- Scheduler ---

Scheduler::Scheduler(std::unique_ptr<BatchedContext> context, std::shared_ptr<const Model> model,
                     const SchedulerConfig& config, DraftModelConfig draft)
    : config_(config), state_(std::make_unique<SchedulerState>())
{
    if (!context || !model)
        throw InvalidArgument("the scheduler needs a batched context and its model");
    if (config_.maxRunning < 1 || config_.maxQueued < 0 || config_.stepTokenBudget < 1 ||
        config_.prefillChunk < 1)
        throw InvalidArgument("scheduler limits must be positive (maxRunning " +
                              std::to_string(config_.maxRunning) + ", stepTokenBudget " +
                              std::to_string(config_.stepTokenBudget) + ", prefillChunk " +
                              std::to_string(config_.prefillChunk) + ")");
    state_->ctx = std::move(context);
    state_->model = std::move(model);
    state_->metrics.kvBlocksTotal = state_->ctx->totalBlocks();
    const int cacheBlocks = config_.prefixCacheBlocks < 0 ? state_->ctx->totalBlocks() / 2
                                                         : config_.prefixCacheBlocks;
    if (cacheBlocks > 0)
        state_->prefix = std::make_unique<PrefixCache>(*state_->ctx, cacheBlocks);
    if (state_->prefix && !config_.prefixStateDir.empty())
        restored_ = restorePrefixState(*state_->prefix, *state_->ctx, *state_->model, config_.prefixStateDir);
    if (draft.context) {
        if (draft.context->vocabSize() != state_->ctx->vocabSize())
            throw InvalidArgument("the draft model has a vocabulary of " + std::to_string(draft.context->vocabSize()) +
                                  " tokens, the served model " + std::to_string(state_->ctx->vocabSize()));
        state_->draft = std::make_unique<DraftRunner>(std::move(draft.context), draft.maxDraft);
    }
    thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler()
{
    try {
        stop();
    } catch (...) { // a destructor never throws; stop() reports write failures as warnings
    }
}

PrefixStateReport Scheduler::stop()
{
    if (stopped_)
        return {};
    stopped_ = true;
    {
        std::lock_guard lock(state_->mutex);
        state_->stop = true;
    }
    state_->wake.notify_all();
    if (thread_.joinable())
        thread_.join();
    if (!state_->prefix || config_.prefixStateDir.empty())
        return {};
    // The loop has ended, so this thread may read the context.
    return savePrefixState(*state_->prefix, *state_->ctx, *state_->model, config_.prefixStateDir,
                           config_.prefixStateMaxBytes);
}

int Scheduler::maxSequenceLength() const { return state_->ctx->maxSequenceLength(); }

std::shared_ptr<ServeRequest> Scheduler::submit(ServeRequestParams params)
{
    const int limit = state_->ctx->maxSequenceLength();
    const int vocab = state_->ctx->vocabSize();
    if (params.prompt.empty())
        throw InvalidArgument("the prompt is empty");
    if (params.embedding ? int64_t(params.prompt.size()) > limit
                         : int64_t(params.prompt.size()) + 1 > limit)
        throw InvalidArgument("the prompt has " + std::to_string(params.prompt.size()) +
                              " tokens; the context holds " + std::to_string(limit) +
                              (params.embedding ? "" : " including at least one generated token"));
    if (!params.embedding && params.maxTokens <= 0)
        throw InvalidArgument("max_tokens must be positive, got " + std::to_string(params.maxTokens));
    if (params.n < 1 || params.n > 16 || params.n > config_.maxRunning)
        throw InvalidArgument("n must be 1.." + std::to_string(std::min(16, config_.maxRunning)) +
                              ", got " + std::to_string(params.n));
    if (params.topLogprobs < -1 || params.topLogprobs > 20)
        throw InvalidArgument("top logprobs must be 0..20, got " +
                              std::to_string(params.topLogprobs));
    for (size_t i = 0; i < params.prompt.size(); ++i)
        if (params.prompt[i] < 0 || params.prompt[i] >= vocab)
            throw InvalidArgument("prompt token " + std::to_string(i) + " (id " +
                                  std::to_string(params.prompt[i]) +
                                  ") is outside the vocabulary of " + std::to_string(vocab));
    if (params.embedding)
        params.n = 1;

    auto job = std::make_unique<Job>();
    job->submitted = ServeClock::now();
    const Tokenizer& tok = state_->model->tokenizer();
    for (int i = 0; i < params.n; ++i) {
        SamplingParams sp = params.sampling;
        sp.seed += uint64_t(i); // choices of one request differ, and stay reproducible
        job->choices.push_back(std::make_unique<Choice>(i, tok, sp, params.stopStrings));
    }
    Choice& first = *job->choices.front();
    first.state = Choice::State::Prefill;
    first.prefill = params.prompt;
    first.history = params.prompt;
    job->params = std::move(params);

    std::lock_guard lock(state_->mutex);
    if (state_->stop)
        throw QueueFull("the server is shutting down");
    if (int(state_->waiting.size()) >= config_.maxQueued) {
        ++state_->metrics.requestsRejected;
        throw QueueFull("the queue is full (" + std::to_string(config_.maxQueued) +
                        " requests waiting); try again later");
    }
    std::shared_ptr<ServeRequest> handle(new ServeRequest(state_->nextId++));
    job->handle = handle;
    state_->waiting.push_back(std::move(job));
    ++state_->metrics.requestsTotal;
    state_->metrics.waiting = int(state_->waiting.size());
    state_->wake.notify_all();
    return handle;
}

SchedulerMetrics Scheduler::metrics() const
{
    std::lock_guard lock(state_->mutex);
    return state_->metrics;
}

PassProfile Scheduler::lastPassProfile() const
{
    std::lock_guard lock(state_->mutex);
    return state_->lastPass;
}

std::vector<RequestInfo> Scheduler::activeRequests() const
{
    std::lock_guard lock(state_->mutex);
    return state_->snapshot;
}

void Scheduler::loop()
{
    SchedulerState& s = *state_;
    serve_detail::Step step(s, config_);
    for (;;) {
        {
            std::unique_lock lock(s.mutex);
            // Cancelled requests that are only queued must still be answered: wake up now and
            // then to reap them even when nothing runs.
            s.wake.wait_for(lock, std::chrono::milliseconds(50),
                            [&] { return s.stop || !s.waiting.empty() || !s.running.empty(); });
            if (s.stop)
                break;
            if (s.waiting.empty() && s.running.empty())
                continue;
        }
        step.run();
    }
    // Shutting down: every request still held gets an error.
    std::vector<std::unique_ptr<Job>> all = std::move(s.running);
    {
        std::lock_guard lock(s.mutex);
        for (auto& j : s.waiting)
            all.push_back(std::move(j));
        s.waiting.clear();
    }
    for (auto& j : all) {
        for (auto& c : j->choices)
            if (c->seq >= 0)
                s.ctx->closeSequence(c->seq);
        ServeEvent e;
        e.kind = ServeEvent::Kind::Error;
        e.error = "the server is shutting down";
        SchedulerState::deliver(*j->handle, std::move(e));
    }
}

} // namespace tenfold
