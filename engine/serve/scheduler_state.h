#pragma once
// Internal to the scheduler: the requests it holds and their choices.
#include "runtime/stop_filter.h"
#include "serve/draft_runner.h"
#include "serve/prefix_cache.h"
#include "serve/scheduler.h"
#include "tokenizer/tokenizer.h"

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace tenfold {

using ServeClock = std::chrono::steady_clock;

// One of a request's n completions.
struct Choice {
    enum class State { Idle, Prefill, Generate, Done };
    Choice(int index, const Tokenizer& tok, const SamplingParams& sampling,
           const std::vector<std::string>& stops)
        : index(index), sampler(sampling), decoder(tok), stops(stops)
    {
    }
    int index;
    State state = State::Idle;   // Idle: waiting to fork from choice 0's prompt
    SeqId seq = -1;
    Sampler sampler;
    StreamingDecoder decoder;
    StopFilter stops;
    std::vector<int32_t> history; // prompt + sampled tokens; the last is in the cache once fed
    int generated = 0;
    int32_t pending = -1;         // Generate: the token to feed next step
    // Prefill: tokens to put in the cache before generating (the prompt; after a preemption the
    // history but its last token), how many are in, and whether the last one's logits pick the
    // next token (false when resuming: that token was already picked).
    std::vector<int32_t> prefill;
    size_t prefilled = 0;
    bool sampleAfterPrefill = true;
    // Speculative decoding (draft_runner.h): the draft model's sequence, how many of this
    // choice's history tokens it holds, this step's proposals and the adaptive draft length.
    SeqId draftSeq = -1;
    int draftLength = 0;
    std::vector<int32_t> proposals;
    std::vector<TokenDistribution> proposalDists; // sampled choices: the draft's q per proposal
    std::unique_ptr<Sampler> draftSampler;        // sampled choices: the draft's own draws
    int draftK = 0;
    // Tokens whose text the stop filter or the UTF-8 decoder still holds.
    std::vector<int32_t> heldTokens;
    std::vector<float> heldLogprobs;
    std::vector<std::vector<TokenLogprob>> heldTop;
};

struct Job {
    std::shared_ptr<ServeRequest> handle;
    ServeRequestParams params;
    ServeClock::time_point submitted;
    std::optional<ServeClock::time_point> admitted, firstToken;
    uint64_t admissionOrder = 0;
    std::vector<std::unique_ptr<Choice>> choices;
    bool forked = false;          // choices 1..n-1 have sequences
    std::vector<double> embeddingSum;
    int choicesLeft() const
    {
        int n = 0;
        for (const auto& c : choices)
            n += c->state != Choice::State::Done;
        return n;
    }
    int completionTokens() const
    {
        int n = 0;
        for (const auto& c : choices)
            n += c->generated;
        return n;
    }
};

struct SchedulerState {
    // The loop's access to a handle's private queue and flag.
    static void deliver(ServeRequest& r, ServeEvent e) { r.push(std::move(e)); }
    static bool cancelled(const ServeRequest& r) { return r.cancelled_.load(); }

    std::shared_ptr<const Model> model;
    std::unique_ptr<BatchedContext> ctx;
    std::unique_ptr<PrefixCache> prefix; // after ctx: goes first, giving its blocks back
    std::unique_ptr<DraftRunner> draft;  // speculative decoding of greedy choices; may be null
    mutable std::mutex mutex;     // guards waiting, metrics, snapshot, stop
    std::condition_variable wake;
    bool stop = false;
    std::deque<std::unique_ptr<Job>> waiting;
    std::vector<std::unique_ptr<Job>> running; // the loop thread's alone
    SchedulerMetrics metrics;
    PassProfile lastPass; // with BatchedParams::profile: the last forward pass's ops
    std::vector<RequestInfo> snapshot;
    uint64_t nextId = 1;
    uint64_t nextAdmission = 1;
};

} // namespace tenfold
