#include "dist/pipeline_batched.h"

#include "core/platform.h"
#include "dist/protocol.h"
#include "model/model.h"
#include "runtime/cpu_batched_context.h"

#include <algorithm>
#include <cstring>
#include <thread>

namespace tenfold::dist {
namespace {

using Clock = MpiLink::Clock;

int threadsOf(const PipelineServeOptions& o)
{
    return o.nThreads > 0 ? o.nThreads : int(std::max(1u, std::thread::hardware_concurrency()));
}

std::string describeStage(const MpiLink& link, const std::vector<Stage>& stages, int rank)
{
    std::string s = "rank " + std::to_string(rank) + " (";
    if (rank >= 0 && rank < int(link.ranks().size()))
        s += "host " + link.ranks()[size_t(rank)].host + ", pid " + std::to_string(link.ranks()[size_t(rank)].pid) +
             ", ";
    if (rank >= 0 && rank < int(stages.size()))
        s += "layers " + std::to_string(stages[size_t(rank)].firstLayer) + ".." +
             std::to_string(stages[size_t(rank)].endLayer - 1);
    return s + ")";
}

BatchedParams stageParams(const BatchedParams& params, const Stage& stage)
{
    BatchedParams p = params;
    p.firstLayer = stage.firstLayer;
    p.endLayer = stage.endLayer;
    return p;
}

} // namespace

PipelineBatchedContext::PipelineBatchedContext(MpiLink& link, std::shared_ptr<const Model> model,
                                               const BatchedParams& params, PipelineServeOptions options,
                                               double startupS)
    : link_(link), model_(std::move(model)), options_(std::move(options))
{
    if (link_.rank() != 0)
        throw InvalidArgument("only rank 0 drives a pipeline");
    if (int(options_.stages.size()) != link_.size())
        throw InvalidArgument("a pipeline of " + std::to_string(options_.stages.size()) + " stages over " +
                              std::to_string(link_.size()) + " ranks");
    if (!(options_.rankTimeoutS > 0) || options_.microBatch < 0)
        throw InvalidArgument("the rank timeout must be positive and the micro-batch not negative");
    own_ = std::make_unique<CpuBatchedContext>(model_, stageParams(params, options_.stages[0]),
                                               threadsOf(options_), nullptr);
    for (int r = 0; r < link_.size(); ++r) {
        StageStatus s;
        s.rank = r;
        s.host = link_.ranks()[size_t(r)].host;
        s.pid = link_.ranks()[size_t(r)].pid;
        s.firstLayer = options_.stages[size_t(r)].firstLayer;
        s.endLayer = options_.stages[size_t(r)].endLayer;
        status_.push_back(s);
    }
    lastHeard_.assign(status_.size(), Clock::now());
    // Every stage says it has loaded its layers (or why it could not).
    std::vector<uint8_t> bytes;
    for (int r = 1; r < link_.size(); ++r) {
        link_.receive(r, kTagBatchReady, bytes, deadlineAfter(startupS));
        StageReport report;
        decodeStageReport(bytes, report);
        if (!report.ok)
            throw Error(describeRank(r) + " could not start: " + report.error);
        lastHeard_[size_t(r)] = Clock::now();
    }
}

PipelineBatchedContext::~PipelineBatchedContext() = default;

int PipelineBatchedContext::blockSize() const { return own_->blockSize(); }
int PipelineBatchedContext::totalBlocks() const { return own_->totalBlocks(); }
int PipelineBatchedContext::freeBlocks() const { return own_->freeBlocks(); }
int PipelineBatchedContext::maxSequenceLength() const { return own_->maxSequenceLength(); }
int PipelineBatchedContext::vocabSize() const { return own_->vocabSize(); }
int PipelineBatchedContext::embeddingSize() const { return own_->embeddingSize(); }
int PipelineBatchedContext::sequenceLength(SeqId seq) const { return own_->sequenceLength(seq); }
int PipelineBatchedContext::blocksNeeded(SeqId seq, int nNew) const { return own_->blocksNeeded(seq, nNew); }
std::vector<int> PipelineBatchedContext::sequenceBlocks(SeqId seq) const { return own_->sequenceBlocks(seq); }
int PipelineBatchedContext::blockReferences(int block) const { return own_->blockReferences(block); }
uint64_t PipelineBatchedContext::bytesHeld() const { return own_->bytesHeld(); }

// Each command is applied here first (it throws here, before it is logged, when it is wrong) and
// logged for the stages with the id it gave.
SeqId PipelineBatchedContext::openSequence()
{
    const SeqId id = own_->openSequence();
    log({int32_t(TableOp::Open), id});
    return id;
}

SeqId PipelineBatchedContext::forkSequence(SeqId from, int length)
{
    const SeqId id = own_->forkSequence(from, length);
    log({int32_t(TableOp::Fork), from, length, id});
    return id;
}

void PipelineBatchedContext::closeSequence(SeqId seq)
{
    own_->closeSequence(seq);
    log({int32_t(TableOp::Close), seq});
}

void PipelineBatchedContext::truncateSequence(SeqId seq, int length)
{
    own_->truncateSequence(seq, length);
    log({int32_t(TableOp::Truncate), seq, length});
}

void PipelineBatchedContext::retainBlock(int block)
{
    own_->retainBlock(block);
    log({int32_t(TableOp::Retain), block});
}

void PipelineBatchedContext::releaseBlock(int block)
{
    own_->releaseBlock(block);
    log({int32_t(TableOp::Release), block});
}

SeqId PipelineBatchedContext::openSequenceWithBlocks(std::span<const int> blocks, int length)
{
    const SeqId id = own_->openSequenceWithBlocks(blocks, length);
    log({int32_t(TableOp::Adopt), length, id, int32_t(blocks.size())});
    log_.insert(log_.end(), blocks.begin(), blocks.end());
    return id;
}

std::vector<uint8_t> PipelineBatchedContext::exportSequence(SeqId, int) const
{
    throw InvalidArgument("a pipeline's KV cache is spread over its ranks; a sequence cannot be exported whole");
}

SeqId PipelineBatchedContext::importSequence(int, std::span<const uint8_t>)
{
    throw InvalidArgument("a pipeline's KV cache is spread over its ranks; a sequence cannot be imported whole");
}

bool PipelineBatchedContext::lost() const
{
    std::lock_guard lock(mutex_);
    return lost_;
}

std::string PipelineBatchedContext::lostReason() const
{
    std::lock_guard lock(mutex_);
    return lostReason_;
}

std::vector<StageStatus> PipelineBatchedContext::stageStatus() const
{
    std::lock_guard lock(mutex_);
    std::vector<StageStatus> out = status_;
    const auto now = Clock::now();
    for (size_t r = 0; r < out.size(); ++r)
        out[r].lastHeardS = r == 0 ? 0.0 : std::chrono::duration<double>(now - lastHeard_[r]).count();
    out[0].residentBytes = platform::residentBytes();
    return out;
}

std::string PipelineBatchedContext::describeRank(int rank) const
{
    return describeStage(link_, options_.stages, rank);
}

void PipelineBatchedContext::markLost(int rank, const std::string& why)
{
    std::lock_guard lock(mutex_);
    if (lost_)
        return;
    lost_ = true;
    lostRank_ = rank;
    lostReason_ = why;
    if (rank >= 0 && rank < int(status_.size())) {
        status_[size_t(rank)].lost = true;
        status_[size_t(rank)].lostReason = why;
    }
}

void PipelineBatchedContext::decode(std::span<const BatchRow> rows, std::vector<float>& logits,
                                    std::vector<float>* embeddings, const std::atomic<bool>* cancel)
{
    {
        std::lock_guard lock(mutex_);
        if (lost_)
            throw RankLost(lostRank_, "the pipeline lost it earlier: " + lostReason_);
    }
    // Everything decode() could refuse is refused here, before any stage sees the batch.
    own_->checkRows(rows, embeddings != nullptr);
    if (cancel && cancel->load())
        throw Cancelled();
    logits.clear();
    if (embeddings)
        embeddings->clear();
    if (rows.empty())
        return;
    const size_t nStages = options_.stages.size();
    const size_t T = rows.size();
    const size_t per = options_.microBatch > 0 ? size_t(options_.microBatch) : (T + nStages - 1) / nStages;
    std::lock_guard mpi(mpiMutex_);
    pieces_.clear();
    for (size_t b = 0; b < T; b += per)
        pieces_.push_back({b, std::min(per, T - b)});
    rows_ = rows;
    logits_ = &logits;
    embeddings_ = embeddings;
    runPieces(false);
    timings_.clear();
    for (size_t r = 0; r < passUs_.size(); ++r)
        timings_.push_back({"stage_rank_" + std::to_string(r), -1, passUs_[r]});
}

bool PipelineBatchedContext::ping()
{
    {
        std::lock_guard lock(mutex_);
        if (lost_)
            return false;
    }
    std::unique_lock mpi(mpiMutex_, std::try_to_lock);
    if (!mpi.owns_lock())
        return false; // a pass is under way, with its own deadlines
    pieces_.assign(1, Piece{0, 0});
    rows_ = {};
    logits_ = nullptr;
    embeddings_ = nullptr;
    runPieces(true);
    return true;
}

void PipelineBatchedContext::runPieces(bool ping)
{
    const size_t nStages = options_.stages.size();
    passUs_.assign(nStages, 0.0);
    watch_.start(pass_ + 1);
    received_ = 0;
    const int ownLayers = options_.stages[0].endLayer - options_.stages[0].firstLayer;
    const int otherLayers = model_->hparams().nLayer - ownLayers;
    double limit = options_.rankTimeoutS;
    size_t sent = 0;
    try {
        for (const Piece& piece : pieces_) {
            const auto t0 = Clock::now();
            message_.kind = BatchPass::Pass;
            message_.pass = ++pass_;
            message_.rows.assign(rows_.begin() + std::ptrdiff_t(piece.first),
                                 rows_.begin() + std::ptrdiff_t(piece.first + piece.count));
            if (ping) {
                // The scheduler's thread may be changing the table meanwhile: a ping carries no
                // commands and no count to check.
                message_.log.clear();
                message_.freeBlocks = -1;
                message_.stream.clear();
            } else {
                message_.log.swap(log_);
                log_.clear();
                message_.freeBlocks = own_->freeBlocks();
                own_->decodeLayers(message_.rows, message_.stream, nullptr);
            }
            const double ownS = secondsSince(t0);
            passUs_[0] += ownS * 1e6;
            if (!ping) {
                std::lock_guard lock(mutex_);
                status_[0].passes += 1;
                status_[0].busySeconds += ownS;
            }
            // The others compute about (their layers / ours) times our time; the deadline allows
            // that four times over on top of the rank timeout.
            limit = options_.rankTimeoutS + 4.0 * ownS * otherLayers / std::max(1, ownLayers);
            message_.stages.assign(1, StageFigures{ownS * 1e6, 0});
            message_.error.clear();
            bytes_ = encodeBatchPass(message_);
            watch_.restart(limit);
            ++sent;
            link_.send(1, kTagBatchWork, bytes_.data(), bytes_.size(), watch_.deadline(), [&] { drain(limit); });
        }
        awaitResults(limit);
    } catch (const RankLost& e) {
        // A send's own timeout names only the rank: add where it runs and its layers.
        std::string why = e.what();
        if (why.find("(host ") == std::string::npos) {
            const std::string prefix = "rank " + std::to_string(e.rank()) + " lost: ";
            if (why.rfind(prefix, 0) == 0)
                why.erase(0, prefix.size());
            const RankLost named(e.rank(), describeRank(e.rank()) + ": " + why);
            markLost(e.rank(), named.what());
            throw named;
        }
        markLost(e.rank(), why);
        throw;
    } catch (const Error& e) {
        if (sent == 0)
            throw; // refused before any stage saw it: nothing changed anywhere
        // Rank 0 holds rows the stages may not: the tables are out of step for good.
        markLost(0, e.what());
        throw RankLost(0, std::string("rank 0 failed a pass the other stages had begun: ") + e.what());
    }
}

// Takes whatever progress notes and answers have arrived, without waiting. Each one restarts the
// clock, so only a stage that holds a pass too long is lost.
void PipelineBatchedContext::drain(double limit)
{
    const int n = int(options_.stages.size());
    watch_.takeNotes(link_, kTagBatchProgress, n, limit, [&](int stage) {
        if (stage > 0 && stage < n) {
            std::lock_guard lock(mutex_);
            lastHeard_[size_t(stage)] = Clock::now();
        }
    });
    while (link_.tryReceive(MpiLink::kAnySource, kTagBatchResult, answer_, watch_.deadline()) >= 0) {
        decodeBatchPass(answer_, reply_);
        if (reply_.kind == BatchPass::Failed)
            throw RankLost(std::min(n - 1, int(reply_.stages.size())), reply_.error);
        takeResult(reply_);
        watch_.restart(limit);
    }
}

void PipelineBatchedContext::takeResult(BatchPass& reply)
{
    const size_t E = size_t(model_->hparams().nEmbd);
    const int64_t index = reply.pass - watch_.firstPass();
    if (index != int64_t(received_) || received_ >= pieces_.size())
        throw Error("the last pipeline stage returned pass " + std::to_string(reply.pass) + ", expected " +
                    std::to_string(watch_.firstPass() + int64_t(received_)));
    const Piece& piece = pieces_[received_];
    if (reply.stream.size() != piece.count * E || reply.stages.size() != options_.stages.size())
        throw Error("the last pipeline stage returned " + std::to_string(reply.stream.size()) + " floats from " +
                    std::to_string(reply.stages.size()) + " stages for pass " + std::to_string(reply.pass));
    if (piece.count == 0) { // a ping: every stage answered
        std::lock_guard lock(mutex_);
        for (size_t k = 1; k < reply.stages.size(); ++k)
            lastHeard_[k] = Clock::now();
        ++received_;
        return;
    }
    const auto t0 = Clock::now();
    own_->outputHead(rows_.subspan(piece.first, piece.count), reply.stream, pieceLogits_,
                     embeddings_ ? &pieceEmbeddings_ : nullptr);
    logits_->insert(logits_->end(), pieceLogits_.begin(), pieceLogits_.end());
    if (embeddings_)
        embeddings_->insert(embeddings_->end(), pieceEmbeddings_.begin(), pieceEmbeddings_.end());
    const double headS = secondsSince(t0);
    passUs_[0] += headS * 1e6;
    std::lock_guard lock(mutex_);
    status_[0].busySeconds += headS;
    const auto now = Clock::now();
    for (size_t k = 1; k < reply.stages.size(); ++k) {
        passUs_[k] += reply.stages[k].computeUs;
        status_[k].passes += 1;
        status_[k].busySeconds += reply.stages[k].computeUs / 1e6;
        status_[k].residentBytes = reply.stages[k].residentBytes;
        lastHeard_[k] = now;
    }
    ++received_;
}

void PipelineBatchedContext::awaitResults(double limit)
{
    int spins = 0;
    for (;;) {
        drain(limit);
        if (received_ == pieces_.size())
            return;
        watch_.checkOrWait(limit, spins, [this](int r) { return describeRank(r); });
    }
}

std::string PipelineBatchedContext::stopStages()
{
    BatchPass stop;
    stop.kind = BatchPass::Stop;
    stop.pass = ++pass_;
    const std::vector<uint8_t> bytes = encodeBatchPass(stop);
    link_.send(1, kTagBatchWork, bytes.data(), bytes.size(), deadlineAfter(options_.rankTimeoutS));
    std::string out;
    char line[512];
    auto add = [&](int rank, const StageReport& r) {
        const Stage& s = options_.stages[size_t(rank)];
        std::snprintf(line, sizeof line,
                      "[mpi] rank %d on %s: layers %d..%d%s, weights %.1f MB, KV+buffers %.1f MB, peak RSS %.1f MB, "
                      "%lld passes, %.1f ms computing\n",
                      rank, link_.ranks()[size_t(rank)].host.c_str(), s.firstLayer, s.endLayer - 1,
                      rank == 0 ? " + embedding and head" : "", double(s.weightBytes) / 1e6, double(r.kvBytes) / 1e6,
                      double(r.peakRssBytes) / 1e6, (long long)r.passes, r.computeMs);
        out += line;
    };
    {
        StageReport own;
        std::lock_guard lock(mutex_);
        own.passes = status_[0].passes;
        own.computeMs = status_[0].busySeconds * 1000.0;
        own.kvBytes = own_->bytesHeld();
        own.peakRssBytes = platform::peakResidentBytes();
        add(0, own);
    }
    std::vector<uint8_t> in;
    for (int r = 1; r < link_.size(); ++r) {
        link_.receive(r, kTagBatchReady, in, deadlineAfter(options_.rankTimeoutS));
        StageReport report;
        decodeStageReport(in, report);
        add(r, report);
    }
    return out;
}

void runPipelineStage(MpiLink& link, std::shared_ptr<const Model> model, const BatchedParams& params,
                      const PipelineServeOptions& options)
{
    const int me = link.rank();
    if (me <= 0 || me >= int(options.stages.size()))
        throw InvalidArgument("rank " + std::to_string(me) + " is not a pipeline stage after rank 0");
    const Stage& stage = options.stages[size_t(me)];
    const double sendLimit = options.rankTimeoutS;
    std::unique_ptr<CpuBatchedContext> ctx;
    StageReport report;
    try {
        ctx = std::make_unique<CpuBatchedContext>(model, stageParams(params, stage), threadsOf(options), nullptr);
    } catch (const std::exception& e) {
        report.error = e.what();
        const std::vector<uint8_t> bytes = encodeStageReport(report);
        link.send(0, kTagBatchReady, bytes.data(), bytes.size(), deadlineAfter(sendLimit));
        throw;
    }
    report.ok = 1;
    std::vector<uint8_t> bytes = encodeStageReport(report);
    link.send(0, kTagBatchReady, bytes.data(), bytes.size(), deadlineAfter(sendLimit));

    const bool last = me == link.size() - 1;
    const int held = stage.endLayer - stage.firstLayer;
    BatchPass m;
    // The RSS each answer carries for the status page, read from /proc at most twice a second
    // rather than on every pass (a pass of a small model takes a fraction of a millisecond).
    uint64_t rss = platform::residentBytes();
    auto rssReadAt = Clock::now();
    for (;;) {
        link.receiveForever(me - 1, kTagBatchWork, bytes);
        int dest = last ? 0 : me + 1;
        int tag = last ? kTagBatchResult : kTagBatchWork;
        const auto t0 = Clock::now();
        try {
            decodeBatchPass(bytes, m);
            if (m.kind == BatchPass::Stop) {
                if (!last)
                    link.send(me + 1, kTagBatchWork, bytes.data(), bytes.size(), deadlineAfter(sendLimit));
                report.kvBytes = ctx->bytesHeld();
                report.peakRssBytes = platform::peakResidentBytes();
                bytes = encodeStageReport(report);
                link.send(0, kTagBatchReady, bytes.data(), bytes.size(), deadlineAfter(sendLimit));
                return;
            }
            const Progress taken{m.pass, me, 0};
            link.post(0, kTagBatchProgress, &taken, sizeof taken);
            if (m.kind != BatchPass::Pass)
                throw Error("unexpected message kind " + std::to_string(m.kind));
            replayTableLog(m.log, *ctx);
            if (m.freeBlocks >= 0 && ctx->freeBlocks() != m.freeBlocks)
                throw Error("the block tables are out of step: " + std::to_string(ctx->freeBlocks()) +
                            " free KV blocks here, " + std::to_string(m.freeBlocks) + " on rank 0");
            if (!m.rows.empty())
                ctx->decodeLayers(m.rows, m.stream);
        } catch (const Error& e) {
            // Rank 0 gets the failure as the answer and ends the job; this stage's table may
            // no longer match, so it computes nothing more that anyone reads.
            m.kind = BatchPass::Failed;
            m.error = describeStage(link, options.stages, me) + ": " + e.what();
            m.stream.clear();
            m.rows.clear();
            m.log.clear();
            m.stages.resize(size_t(me)); // tells rank 0 which stage failed
            dest = 0;
            tag = kTagBatchResult;
        }
        const double us = secondsSince(t0) * 1e6;
        if (!m.rows.empty()) { // pings (no rows) are not passes
            report.passes += 1;
            report.computeMs += us / 1000.0;
        }
        if (m.kind == BatchPass::Pass) {
            if (secondsSince(rssReadAt) >= 0.5) {
                rss = platform::residentBytes();
                rssReadAt = Clock::now();
            }
            m.stages.push_back(StageFigures{us, rss});
        }
        bytes = encodeBatchPass(m);
        // The next stage may still be computing the previous piece: allow four times this one's
        // compute, scaled to the whole model, on top of the timeout.
        const double waitFor =
            sendLimit + 4.0 * (us / 1e6) * double(model->hparams().nLayer) / double(std::max(1, held));
        link.send(dest, tag, bytes.data(), bytes.size(), deadlineAfter(waitFor));
        if (dest != 0) {
            const Progress handed{m.pass, me, 1};
            link.post(0, kTagBatchProgress, &handed, sizeof handed);
        }
    }
}

} // namespace tenfold::dist
