#pragma once
// Continuous batching: many requests share one BatchedContext, and every step is one forward
// pass over a batch made of one token for each generating sequence plus chunks of the prompts
// still being prefilled, within a token budget. New requests join between steps; a finished or
// cancelled request frees its KV blocks at once.
//
// Policy, in order, each step:
//   1. admit waiting requests first-come-first-served while fewer than maxRunning run and the
//      pool has blocks for their first prefill chunk;
//   2. every generating sequence gets its next token (decode rows first: running streams never
//      wait for a long prompt);
//   3. the rest of the token budget goes to prefill chunks (at most prefillChunk tokens per
//      request per step, oldest request first), so a long prompt is spread over several steps;
//   4. when the pool runs out, the prefix cache gives back blocks no sequence uses, and then the
//      most recently admitted request is preempted: its blocks go to the prefix cache and it goes
//      back to the front of the queue to be recomputed later (prompt plus the tokens it had
//      already produced, which it does not send again; what the cache still holds is reused).
// A request's prompt first looks up the prefix cache: whole blocks another request (or an
// earlier turn) computed for the same leading tokens are shared, not recomputed.
// Requests with n > 1 prefill their prompt once; the n choices fork the prompt's blocks.
//
// The scheduler runs on its own thread. submit() and the request handles are thread-safe; events
// reach each request's handle through a queue the caller drains with next().
#include "runtime/batched_context.h"
#include "runtime/sampling.h"
#include "serve/prefix_state.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tenfold {

class Model;

// submit() refuses a request because the queue is full (HTTP 503).
class QueueFull : public Error {
public:
    using Error::Error;
};

// submit() refuses a request because nothing is left to serve it (every replica of a
// tenfold-worker serve job was lost; HTTP 503 with this message).
class ServiceUnavailable : public Error {
public:
    using Error::Error;
};

struct ServeRequestParams {
    std::vector<int32_t> prompt;          // tokenized (chat template already applied), not empty
    SamplingParams sampling;
    int maxTokens = 256;                  // > 0; also capped by the sequence length
    std::vector<std::string> stopStrings; // text never sent: generation stops before it
    bool stopAtEndOfGeneration = true;    // EOS/EOT ends a choice (finish reason "stop")
    int n = 1;                            // choices, 1..16
    int topLogprobs = -1;                 // -1: no logprobs; 0..20: the chosen token's log
                                          // probability plus this many alternatives
    bool embedding = false;               // no generation: the mean of the prompt rows' final
                                          // normed hidden states, L2-normalised
    std::string client;                   // who asked (for metrics and the ledger)
};

struct TokenLogprob {
    int32_t token = 0;
    float logprob = 0.0f;
};

struct ServeEvent {
    enum class Kind {
        Text,       // choice produced text (may be several tokens' worth)
        ChoiceDone, // choice finished: finishReason
        Done,       // the request finished: usage below; the last event
        Error,      // the request failed: error; the last event
    };
    Kind kind = Kind::Text;
    int choice = 0;
    std::string text;
    // Text: the tokens behind this text and, when asked, their log probabilities (log-softmax of
    // the raw logits) and the top alternatives per token.
    std::vector<int32_t> tokens;
    std::vector<float> logprobs;
    std::vector<std::vector<TokenLogprob>> topLogprobs;
    std::string finishReason;            // ChoiceDone: "stop" or "length"
    std::vector<float> embedding;        // Done, for embedding requests
    int promptTokens = 0;                // Done
    int completionTokens = 0;            // Done: over all choices
    double queueMs = 0;                  // Done: submit to admission
    double timeToFirstTokenMs = 0;       // Done: submit to the first generated token
    double totalMs = 0;                  // Done: submit to the end
    std::string error;                   // Error
    std::string errorCode;               // Error: a machine-readable reason ("rank_lost": the
                                         // process serving it was lost), empty otherwise
};

// A submitted request. A caller that goes away (a client that disconnects) calls cancel().
class ServeRequest {
public:
    ~ServeRequest();
    // Waits up to `timeout` for the next event; false when none came.
    bool next(ServeEvent& out, std::chrono::milliseconds timeout);
    // Stops the request; its blocks are freed at the next step, and a final Done (with the
    // tokens produced so far) follows.
    void cancel();
    uint64_t id() const { return id_; }

    // A request served by another process (tenfold-worker serve): whoever relays it delivers
    // the events that process sends, and reads cancelRequested() to pass a cancel on.
    static std::shared_ptr<ServeRequest> relayed(uint64_t id);
    void deliver(ServeEvent e) { push(std::move(e)); }
    bool cancelRequested() const { return cancelled_.load(); }

private:
    friend class Scheduler;
    friend struct SchedulerState;
    explicit ServeRequest(uint64_t id) : id_(id) {}
    void push(ServeEvent e);
    uint64_t id_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<ServeEvent> events_;
    std::atomic<bool> cancelled_{false};
};

struct SchedulerConfig {
    int maxRunning = 16;       // sequences generating at once (choices count)
    int maxQueued = 64;        // requests waiting; more are refused with QueueFull
    int stepTokenBudget = 512; // rows per forward pass
    int prefillChunk = 256;    // prompt tokens per request per step
    // Prefix KV cache (serve/prefix_cache.h): the most KV blocks it keeps; -1: half the pool,
    // 0: off.
    int prefixCacheBlocks = -1;
    // Where the prefix cache is kept between runs (serve/prefix_state.h): restored when the
    // scheduler starts, saved (up to prefixStateMaxBytes) when it stops. Empty: not kept.
    std::filesystem::path prefixStateDir;
    uint64_t prefixStateMaxBytes = uint64_t(512) << 20;
};

// A draft model for speculative decoding of greedy requests (serve/draft_runner.h): its own
// batched context (same vocabulary as the served model) and the most tokens proposed per step.
struct DraftModelConfig {
    std::unique_ptr<BatchedContext> context;
    int maxDraft = 4;
};

struct SchedulerMetrics {
    uint64_t requestsTotal = 0;       // admitted to the queue
    uint64_t requestsRejected = 0;    // QueueFull
    uint64_t requestsCancelled = 0;
    uint64_t requestsFailed = 0;
    uint64_t promptTokensTotal = 0;   // prefilled (recomputation after preemption included)
    uint64_t generatedTokensTotal = 0; // emitted (end-of-generation tokens are not)
    uint64_t preemptions = 0;
    uint64_t steps = 0;
    int running = 0;                  // sequences in the batch
    int waiting = 0;                  // requests in the queue
    int lastBatchRows = 0;
    int kvBlocksUsed = 0;
    int kvBlocksTotal = 0;
    double busySeconds = 0;           // time inside forward passes
    // Prefix cache: prompts looked up, how many reused blocks, prompt tokens not recomputed,
    // and the blocks it holds.
    uint64_t draftProposed = 0;       // speculative decoding: draft tokens proposed
    uint64_t draftAccepted = 0;       // and kept by the served model
    uint64_t prefixLookups = 0;
    uint64_t prefixHits = 0;
    uint64_t prefixTokensReused = 0;
    int prefixBlocksHeld = 0;
};

// The last forward pass's ops when the context was made with BatchedParams::profile (empty
// otherwise), its rows and how many of them were prompt rows (prefill). Apart from
// SchedulerMetrics, which travels between MPI ranks as plain bytes.
struct PassProfile {
    std::vector<OpTiming> timings;
    int rows = 0;
    int promptRows = 0;
};

// One request the scheduler holds, for a live request list.
struct RequestInfo {
    uint64_t id = 0;
    std::string client;
    std::string state;          // "queued", "prefill", "generating"
    int promptTokens = 0;
    int generatedTokens = 0;    // over all choices
    int n = 1;
    double elapsedMs = 0;       // since submit
};

struct SchedulerState;

// What the HTTP server needs of whatever generates: the Scheduler in one process, or rank 0's
// router over the replicas of an MPI job (dist/replica_router.h). Thread-safe.
class GenerationService {
public:
    virtual ~GenerationService() = default;
    // Throws InvalidArgument, QueueFull and ServiceUnavailable; the events arrive on the handle.
    virtual std::shared_ptr<ServeRequest> submit(ServeRequestParams params) = 0;
    virtual SchedulerMetrics metrics() const = 0;
    virtual std::vector<RequestInfo> activeRequests() const = 0; // queued and running, oldest first
    virtual const SchedulerConfig& config() const = 0;
    virtual int maxSequenceLength() const = 0;
    // The last pass's op timings (empty where nothing times them, e.g. replicas of an MPI job).
    virtual PassProfile lastPassProfile() const { return {}; }
};

class Scheduler final : public GenerationService {
public:
    // Takes the context; the model supplies the tokenizer (text, end-of-generation tokens).
    Scheduler(std::unique_ptr<BatchedContext> context, std::shared_ptr<const Model> model,
              const SchedulerConfig& config, DraftModelConfig draft = {});
    ~Scheduler() override; // every request still held gets an Error event ("shutting down"); joins the thread

    // Queues a request. Throws InvalidArgument (empty prompt, prompt + 1 longer than a sequence
    // may be, maxTokens <= 0, n or topLogprobs out of range, token ids outside the vocabulary)
    // and QueueFull. The first event arrives on the handle.
    std::shared_ptr<ServeRequest> submit(ServeRequestParams params) override;

    // Ends the loop (every request still held gets an Error event, "shutting down") and saves the
    // prefix cache when prefixStateDir is set; what it saved, with warnings. Idempotent; the
    // destructor calls it.
    PrefixStateReport stop();
    // What the constructor restored from prefixStateDir.
    const PrefixStateReport& restoredPrefixes() const { return restored_; }

    SchedulerMetrics metrics() const override;
    PassProfile lastPassProfile() const override;
    std::vector<RequestInfo> activeRequests() const override; // queued and running, oldest first
    const SchedulerConfig& config() const override { return config_; }
    int maxSequenceLength() const override;

private:
    void loop();
    SchedulerConfig config_;
    std::unique_ptr<SchedulerState> state_;
    std::thread thread_;
    PrefixStateReport restored_;
    bool stopped_ = false;
};

} // namespace tenfold
