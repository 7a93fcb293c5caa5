#include "dist/cluster.h"

#include "dist/pass_watch.h"

#include "core/platform.h"

#include "model/model.h"
#include "runtime/cpu_context.h"

#include <algorithm>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace tenfold::dist {
namespace {

using Clock = MpiLink::Clock;

unsigned threadsFor(const ContextParams& p)
{
    return p.nThreads > 0 ? unsigned(p.nThreads) : std::max(1u, std::thread::hardware_concurrency());
}

// Rank 0's view of a pipeline: its own stage locally, the others over MPI.
class PipelineContext final : public InferenceContext {
public:
    PipelineContext(Cluster& cluster, std::shared_ptr<const Model> model, const ContextParams& params)
        : cluster_(cluster), model_(std::move(model))
    {
        ContextParams p = params;
        p.firstLayer = cluster.stages()[0].firstLayer;
        p.endLayer = cluster.stages()[0].endLayer;
        own_ = std::make_unique<CpuContext>(model_, p, int(threadsFor(params)), nullptr);
        cluster_.ownReport().kvBytes = std::max(cluster_.ownReport().kvBytes, own_->bytesHeld());
    }

    int contextSize() const override { return own_->contextSize(); }
    int position() const override { return own_->position(); }
    void truncate(int nPos) override { own_->truncate(nPos); } // the next pass tells the others
    std::vector<OpTiming> lastTimings() const override { return timings_; }

    void decode(std::span<const int32_t> tokens, bool allLogits, std::vector<float>& logits,
                const std::atomic<bool>* cancel) override
    {
        run(tokens, allLogits ? 0 : int(tokens.size()) - 1, logits, cancel);
    }
    void decodeRows(std::span<const int32_t> tokens, int firstRow, std::vector<float>& logits,
                    const std::atomic<bool>* cancel) override
    {
        if (firstRow < 0 || firstRow >= int(tokens.size()))
            throw InvalidArgument("first logits row " + std::to_string(firstRow) +
                                  " is outside the batch of " + std::to_string(tokens.size()));
        run(tokens, firstRow, logits, cancel);
    }

private:
    // The batch goes through the pipeline in micro-batches (ClusterOptions::microBatch tokens;
    // all at once when 0): while rank 1 computes one, rank 0 computes the next. Each one is a
    // pass of its own at its own positions, exactly like a single process decoding the batch in
    // chunks of that size.
    void run(std::span<const int32_t> tokens, int firstRow, std::vector<float>& logits,
             const std::atomic<bool>* cancel)
    {
        const auto& stages = cluster_.stages();
        const int start = own_->position();
        const int T = int(tokens.size());
        const size_t E = size_t(model_->hparams().nEmbd);
        const int micro = cluster_.options().microBatch > 0 ? std::min(T, cluster_.options().microBatch) : T;
        const int nChunks = (T + micro - 1) / micro;
        const int ownLayers = stages[0].endLayer - stages[0].firstLayer;
        const int otherLayers = model_->hparams().nLayer - ownLayers;
        const auto t0 = Clock::now();
        stream_.resize(size_t(T) * E);
        times_.assign(stages.size(), 0.0);
        watch_.start(pass_ + 1);
        chunks_ = nChunks;
        micro_ = micro;
        received_ = 0;
        double limit = cluster_.timeoutFor(0);
        try {
            for (int c = 0; c < nChunks; ++c) {
                const int b = c * micro, e = std::min(T, b + micro);
                const auto tc = Clock::now();
                message_.h = Header{};
                message_.h.op = int64_t(Op::Layers);
                message_.h.position = start + b;
                message_.h.pass = ++pass_;
                message_.tokens.assign(tokens.begin() + b, tokens.begin() + e);
                own_->decodeLayers(message_.tokens, stages[0].firstLayer, stages[0].endLayer, message_.floats,
                                   cancel);
                const double ownS = secondsSince(tc);
                times_[0] += ownS * 1e6;
                if (stages.size() == 1) {
                    std::copy(message_.floats.begin(), message_.floats.end(), stream_.begin() + std::ptrdiff_t(size_t(b) * E));
                    ++received_;
                    continue;
                }
                // The others compute about (their layers / ours) times our time; the deadline
                // allows that four times over on top of the rank timeout.
                limit = cluster_.timeoutFor(ownS * otherLayers / std::max(1, ownLayers));
                message_.times.assign(1, ownS * 1e6);
                bytes_ = encode(message_);
                watch_.restart(limit);
                cluster_.link().send(1, kTagWork, bytes_.data(), bytes_.size(), watch_.deadline(),
                                     [&] { drain(limit); });
            }
            awaitResults(limit);
        } catch (...) {
            // This rank's cache already holds the tokens; the caller sees the pass fail.
            own_->truncate(start);
            throw;
        }
        const auto t1 = Clock::now();
        own_->outputHead(stream_, T, firstRow, logits);
        times_[0] += secondsSince(t1) * 1e6;
        timings_.clear();
        for (size_t r = 0; r < times_.size(); ++r)
            timings_.push_back({"stage_rank_" + std::to_string(r), -1, times_[r]});
        RankReport& me = cluster_.ownReport();
        me.passes += 1;
        me.computeMs += times_[0] / 1000.0;
        double computed = 0;
        for (double us : times_)
            computed += us;
        // With micro-batches the stages overlap, so the wait can be below zero: counted as none.
        const double waited = std::max(0.0, secondsSince(t0) * 1000.0 - computed / 1000.0);
        me.waitMs += waited;
        if (T == 1) {
            me.tokenPasses += 1;
            me.tokenComputeMs += times_[0] / 1000.0;
            me.tokenWaitMs += waited;
        }
        me.kvBytes = std::max(me.kvBytes, own_->bytesHeld());
    }

    // Takes whatever progress notes and answers have arrived, without waiting. Each one restarts
    // the clock, so only a stage that holds a pass too long is lost.
    void drain(double limit)
    {
        const int n = int(cluster_.stages().size());
        watch_.takeNotes(cluster_.link(), kTagProgress, n, limit, [](int) {});
        while (cluster_.link().tryReceive(MpiLink::kAnySource, kTagResult, answer_, watch_.deadline()) >= 0) {
            dist::decode(answer_, reply_);
            if (reply_.h.op != int64_t(Op::Layers))
                throw Error(std::string(reply_.tokens.begin(), reply_.tokens.end()));
            const int64_t chunk = reply_.h.pass - watch_.firstPass();
            const size_t E = size_t(model_->hparams().nEmbd);
            const size_t rows = size_t(std::min(micro_, int(stream_.size() / E) - int(chunk) * micro_));
            if (chunk < 0 || chunk >= chunks_ || reply_.floats.size() != rows * E)
                throw Error("the last pipeline stage returned " + std::to_string(reply_.floats.size()) +
                            " floats for pass " + std::to_string(reply_.h.pass) + ", expected " +
                            std::to_string(rows * E));
            std::copy(reply_.floats.begin(), reply_.floats.end(), stream_.begin() + std::ptrdiff_t(size_t(chunk) * size_t(micro_) * E));
            for (size_t k = 1; k < reply_.times.size() && k < times_.size(); ++k)
                times_[k] += reply_.times[k];
            ++received_;
            watch_.restart(limit);
        }
    }

    void awaitResults(double limit)
    {
        int spins = 0;
        for (;;) {
            drain(limit);
            if (received_ == chunks_)
                return;
            watch_.checkOrWait(limit, spins, [this](int r) { return cluster_.describeRank(r); });
        }
    }

    Cluster& cluster_;
    std::shared_ptr<const Model> model_;
    int64_t pass_ = 0;
    std::unique_ptr<CpuContext> own_;
    Message message_, reply_;
    std::vector<uint8_t> bytes_, answer_;
    std::vector<OpTiming> timings_;
    // The batch in flight: its residual stream as the answers come in, per-stage compute times.
    std::vector<float> stream_;
    std::vector<double> times_;
    int chunks_ = 0, micro_ = 0, received_ = 0;
    PassWatch watch_;
};

// Rank 0's view of one sequence on a data-parallel replica.
class ReplicaContext final : public InferenceContext {
public:
    ReplicaContext(Cluster& cluster, int replica, int nCtx, int nVocab)
        : cluster_(cluster), replica_(replica), nCtx_(nCtx), nVocab_(nVocab) {}
    ~ReplicaContext() override { cluster_.sequenceClosed(replica_); }

    int contextSize() const override { return nCtx_; }
    int position() const override { return pos_; }
    void truncate(int nPos) override
    {
        if (nPos < 0)
            throw InvalidArgument("truncate position must not be negative, got " + std::to_string(nPos));
        pos_ = std::min(pos_, nPos);
    }
    std::vector<OpTiming> lastTimings() const override { return timings_; }
    void decode(std::span<const int32_t> tokens, bool allLogits, std::vector<float>& logits,
                const std::atomic<bool>* cancel) override
    {
        run(tokens, allLogits ? 0 : int(tokens.size()) - 1, logits, cancel);
    }
    void decodeRows(std::span<const int32_t> tokens, int firstRow, std::vector<float>& logits,
                    const std::atomic<bool>* cancel) override
    {
        if (firstRow < 0 || firstRow >= int(tokens.size()))
            throw InvalidArgument("first logits row " + std::to_string(firstRow) +
                                  " is outside the batch of " + std::to_string(tokens.size()));
        run(tokens, firstRow, logits, cancel);
    }

private:
    void run(std::span<const int32_t> tokens, int firstRow, std::vector<float>& logits,
             const std::atomic<bool>* cancel)
    {
        if (cancel && cancel->load())
            throw Cancelled();
        if (tokens.empty())
            throw InvalidArgument("decode needs at least one token");
        if (pos_ + int64_t(tokens.size()) > nCtx_)
            throw InvalidArgument(std::to_string(tokens.size()) + " tokens at position " + std::to_string(pos_) +
                                  " exceed the context size of " + std::to_string(nCtx_) + " tokens");
        const auto t0 = Clock::now();
        message_.h = Header{};
        message_.h.op = int64_t(Op::Decode);
        message_.h.position = pos_;
        message_.h.firstRow = firstRow;
        message_.tokens.assign(tokens.begin(), tokens.end());
        message_.floats.clear();
        message_.times.clear();
        bytes_ = encode(message_);
        // A replica's pass is a whole-model pass of unknown length: the first one (the prompt)
        // gets the rank timeout per 64 tokens on top.
        const double limit = cluster_.timeoutFor(0) * (1.0 + double(tokens.size()) / 64.0);
        cluster_.link().send(replica_, kTagWork, bytes_.data(), bytes_.size(), deadlineAfter(limit));
        cluster_.link().receive(replica_, kTagResult, bytes_, deadlineAfter(limit));
        dist::decode(bytes_, message_);
        if (message_.h.op != int64_t(Op::Decode))
            throw Error(cluster_.describeRank(replica_) + " failed the pass: " +
                        std::string(message_.tokens.begin(), message_.tokens.end()));
        const size_t want = (tokens.size() - size_t(firstRow)) * size_t(nVocab_);
        if (message_.floats.size() != want)
            throw Error(cluster_.describeRank(replica_) + " returned " + std::to_string(message_.floats.size()) +
                        " logits, expected " + std::to_string(want));
        logits.swap(message_.floats);
        pos_ += int(tokens.size());
        RankReport& me = cluster_.ownReport();
        me.passes += 1;
        const double waited =
            std::max(0.0, secondsSince(t0) * 1000.0 - (message_.times.empty() ? 0.0 : message_.times[0] / 1000.0));
        me.waitMs += waited;
        if (tokens.size() == 1) {
            me.tokenPasses += 1;
            me.tokenWaitMs += waited;
        }
        timings_.assign(1, {"replica_rank_" + std::to_string(replica_), -1,
                            message_.times.empty() ? 0.0 : message_.times[0]});
    }

    Cluster& cluster_;
    int replica_;
    int nCtx_, nVocab_;
    int pos_ = 0;
    Message message_;
    std::vector<uint8_t> bytes_;
    std::vector<OpTiming> timings_;
};

} // namespace

Cluster::Cluster(MpiLink& link, std::shared_ptr<const Model> model, const ClusterOptions& options,
                 const ContextParams& params)
    : link_(link), model_(std::move(model)), options_(options), params_(params),
      openSequences_(size_t(link.size()), 0)
{
    if (!(options_.rankTimeoutS > 0))
        throw InvalidArgument("the rank timeout must be positive");
    if (options_.microBatch < 0)
        throw InvalidArgument("the micro-batch size must not be negative");
    if (options_.microBatch > 0 && options_.mode != Mode::Pipeline)
        throw InvalidArgument("--micro-batch is for pipeline parallelism, not data parallel replicas");
    if (options_.mode == Mode::Pipeline) {
        stages_ = planStages(*model_, link_.size(), options_.split);
    } else if (!options_.split.empty()) {
        throw InvalidArgument("--split is for pipeline parallelism, not data parallel replicas");
    }
    own_.rank = link_.rank();
    if (options_.mode == Mode::Pipeline) {
        own_.firstLayer = stages_[size_t(link_.rank())].firstLayer;
        own_.endLayer = stages_[size_t(link_.rank())].endLayer;
        own_.weightBytes = stages_[size_t(link_.rank())].weightBytes;
    } else {
        own_.endLayer = model_->hparams().nLayer;
        own_.weightBytes = headWeightBytes(*model_);
        for (int l = 0; l < model_->hparams().nLayer; ++l)
            own_.weightBytes += layerWeightBytes(*model_, l);
        if (link_.rank() == 0 && link_.size() > 1) {
            own_.endLayer = 0; // the front end computes nothing and reads no weights
            own_.weightBytes = 0;
        }
    }
}

Cluster::~Cluster() = default;

double Cluster::timeoutFor(double computeSeconds) const
{
    return options_.rankTimeoutS + 4.0 * computeSeconds;
}

std::unique_ptr<InferenceContext> Cluster::createContext()
{
    if (link_.rank() != 0)
        throw InvalidArgument("only rank 0 makes contexts over the cluster");
    if (options_.mode == Mode::Pipeline || link_.size() == 1) {
        if (options_.mode == Mode::DataParallel) {
            ContextParams p = params_;
            return std::make_unique<CpuContext>(model_, p, int(threadsFor(params_)), nullptr);
        }
        return std::make_unique<PipelineContext>(*this, model_, params_);
    }
    // The least-loaded replica: fewest open sequences, the lowest rank among equals.
    int best = 1;
    for (int r = 2; r < link_.size(); ++r)
        if (openSequences_[size_t(r)] < openSequences_[size_t(best)])
            best = r;
    ++openSequences_[size_t(best)];
    const int nCtx = params_.nCtx > 0 ? params_.nCtx : model_->hparams().nCtxTrain;
    return std::make_unique<ReplicaContext>(*this, best, nCtx, model_->hparams().nVocab);
}

void Cluster::sequenceClosed(int replica)
{
    if (replica > 0 && replica < int(openSequences_.size()) && openSequences_[size_t(replica)] > 0)
        --openSequences_[size_t(replica)];
}

void Cluster::runWorker()
{
    const int me = link_.rank();
    if (me == 0)
        throw InvalidArgument("rank 0 is the front end, not a worker");
    const bool pipeline = options_.mode == Mode::Pipeline;
    ContextParams p = params_;
    if (pipeline) {
        p.firstLayer = stages_[size_t(me)].firstLayer;
        p.endLayer = stages_[size_t(me)].endLayer;
    }
    CpuContext ctx(model_, p, int(threadsFor(params_)), nullptr);
    const int source = pipeline ? me - 1 : 0;
    const bool last = pipeline && me == link_.size() - 1;
    Message m;
    std::vector<uint8_t> bytes;
    std::vector<float> logits;
    // A send waits for the next rank to take the message: at once when it is idle, after its
    // current micro-batch when it is busy (the margin below), never when it is gone.
    const double sendLimit = options_.rankTimeoutS;
    for (;;) {
        link_.receiveForever(source, kTagWork, bytes);
        dist::decode(bytes, m);
        if (m.h.op == int64_t(Op::Stop)) {
            own_.kvBytes = std::max(own_.kvBytes, ctx.bytesHeld());
            own_.peakRssBytes = platform::peakResidentBytes();
            if (pipeline && !last)
                link_.send(me + 1, kTagWork, bytes.data(), bytes.size(), deadlineAfter(sendLimit));
            link_.send(0, kTagReport, &own_, sizeof own_, deadlineAfter(sendLimit));
            return;
        }
        // Rank 0 truncated the sequence since the last pass (regenerate, speculative undo).
        if (m.h.position < ctx.position())
            ctx.truncate(int(m.h.position));
        const auto t0 = Clock::now();
        int dest = 0, tag = kTagResult;
        if (pipeline) {
            const Progress taken{m.h.pass, me, 0};
            link_.post(0, kTagProgress, &taken, sizeof taken);
        }
        try {
            if (m.h.position != ctx.position())
                throw Error("a pass at position " + std::to_string(m.h.position) + " but rank " +
                            std::to_string(me) + " holds " + std::to_string(ctx.position()));
            if (m.h.op == int64_t(Op::Layers) && pipeline) {
                ctx.decodeLayers(m.tokens, p.firstLayer, p.endLayer, m.floats);
                if (!last) {
                    dest = me + 1;
                    tag = kTagWork;
                }
            } else if (m.h.op == int64_t(Op::Decode) && !pipeline) {
                ctx.decodeRows(m.tokens, int(m.h.firstRow), logits);
                m.floats.swap(logits);
                m.tokens.clear();
            } else {
                throw Error("unexpected command " + std::to_string(m.h.op) + " for rank " + std::to_string(me));
            }
        } catch (const Error& e) {
            // Rank 0 gets the failure as the answer (op 0, the text in place of tokens) and reports it.
            const std::string text = describeRank(me) + ": " + e.what();
            m.h.op = 0;
            m.tokens.assign(text.begin(), text.end());
            m.floats.clear();
            dest = 0;
            tag = kTagResult;
        }
        const double us = secondsSince(t0) * 1e6;
        m.times.push_back(us);
        own_.passes += 1;
        own_.computeMs += us / 1000.0;
        if (m.h.nTokens == 1) {
            own_.tokenPasses += 1;
            own_.tokenComputeMs += us / 1000.0;
        }
        bytes = encode(m);
        // The next stage may still be computing the previous micro-batch: allow four times this
        // one's compute, scaled to the whole model, on top of the timeout.
        const int held = std::max(1, p.endLayer - p.firstLayer);
        const double waitFor =
            sendLimit + 4.0 * (us / 1e6) * double(model_->hparams().nLayer) / (pipeline ? held : model_->hparams().nLayer);
        link_.send(dest, tag, bytes.data(), bytes.size(), deadlineAfter(waitFor));
        if (pipeline && dest != 0) {
            const Progress handed{m.h.pass, me, 1};
            link_.post(0, kTagProgress, &handed, sizeof handed);
        }
    }
}

std::vector<RankReport> Cluster::stopWorkers()
{
    std::vector<RankReport> reports;
    own_.peakRssBytes = platform::peakResidentBytes();
    reports.push_back(own_);
    if (link_.size() == 1)
        return reports;
    Message m;
    m.h.op = int64_t(Op::Stop);
    const std::vector<uint8_t> bytes = encode(m);
    const auto deadline = deadlineAfter(options_.rankTimeoutS);
    if (options_.mode == Mode::Pipeline) {
        link_.send(1, kTagWork, bytes.data(), bytes.size(), deadline);
    } else {
        for (int r = 1; r < link_.size(); ++r)
            link_.send(r, kTagWork, bytes.data(), bytes.size(), deadline);
    }
    std::vector<uint8_t> in;
    for (int r = 1; r < link_.size(); ++r) {
        link_.receive(r, kTagReport, in, deadlineAfter(options_.rankTimeoutS));
        RankReport rep;
        if (in.size() != sizeof rep)
            throw Error(describeRank(r) + " sent a report of " + std::to_string(in.size()) + " bytes");
        std::memcpy(&rep, in.data(), sizeof rep);
        reports.push_back(rep);
    }
    return reports;
}

std::string Cluster::describeRank(int rank) const
{
    std::string s = "rank " + std::to_string(rank);
    if (rank >= 0 && rank < int(link_.ranks().size()))
        s += " (host " + link_.ranks()[size_t(rank)].host + ", pid " +
             std::to_string(link_.ranks()[size_t(rank)].pid);
    else
        s += " (";
    if (options_.mode == Mode::Pipeline && rank >= 0 && rank < int(stages_.size()))
        s += ", layers " + std::to_string(stages_[size_t(rank)].firstLayer) + ".." +
             std::to_string(stages_[size_t(rank)].endLayer - 1);
    else if (options_.mode == Mode::DataParallel)
        s += rank == 0 && link_.size() > 1 ? ", front end" : ", whole-model replica";
    return s + ")";
}

std::string Cluster::describe(const std::vector<RankReport>& reports) const
{
    std::ostringstream out;
    char line[512];
    for (const RankReport& r : reports) {
        const std::string host = r.rank < int64_t(link_.ranks().size()) ? link_.ranks()[size_t(r.rank)].host : "?";
        std::string layers = r.endLayer > r.firstLayer
                                 ? "layers " + std::to_string(r.firstLayer) + ".." + std::to_string(r.endLayer - 1)
                                 : std::string("front end only");
        std::snprintf(line, sizeof line,
                      "[mpi] rank %lld on %s: %s, weights %.1f MB, KV+buffers %.1f MB, peak RSS %.1f MB, "
                      "%lld passes, %.1f ms computing (%.3f ms/pass; %.3f ms per one-token pass)\n",
                      (long long)r.rank, host.c_str(), layers.c_str(), double(r.weightBytes) / 1e6,
                      double(r.kvBytes) / 1e6, double(r.peakRssBytes) / 1e6, (long long)r.passes, r.computeMs,
                      r.passes > 0 ? r.computeMs / double(r.passes) : 0.0,
                      r.tokenPasses > 0 ? r.tokenComputeMs / double(r.tokenPasses) : 0.0);
        out << line;
        if (r.rank == 0 && r.passes > 0 && link_.size() > 1) {
            std::snprintf(line, sizeof line,
                          "[mpi] rank 0 waited %.1f ms beyond the ranks' compute (%.3f ms/pass; %.3f ms per "
                          "one-token pass: messages and polling)\n",
                          r.waitMs, r.waitMs / double(r.passes),
                          r.tokenPasses > 0 ? r.tokenWaitMs / double(r.tokenPasses) : 0.0);
            out << line;
        }
    }
    return out.str();
}

} // namespace tenfold::dist
