#pragma once
// Pipeline-parallel serving: `mpirun -np N tenfold-worker serve MODEL --pipeline`. Rank 0 runs
// tenfold-server's scheduler (continuous batching, prefix cache, draft) unchanged, on a
// BatchedContext whose layers are spread over the ranks:
//   rank 0 embeds a batch's rows and runs its layers, rank 1 its layers, ..., the last rank sends
//   the residual stream back, and rank 0 applies the output head.
// Each rank holds the KV blocks of its own layers only and reads only its layers' weights (the
// file is memory-mapped). The block tables are kept identical on every rank by replaying rank
// 0's table commands (dist/batch_protocol.h), so a sequence's position p lives in the same block
// everywhere; copy-on-write and the prefix cache's shared blocks work as in one process.
//
// Micro-batches: a batch goes through in pieces of rows (--micro-batch N; by default as many
// pieces as stages), so while rank 1 computes one piece rank 0 computes the next, and rank 0
// applies the head to each piece as it returns. Each piece is a pass of its own, like a single
// process's scheduler taking the rows in that many steps.
//
// Failures: every wait has a deadline (the rank timeout plus four times the compute rank 0
// expects of the stage), and the stages say when they take and hand on each pass, so when the
// chain stalls rank 0 names the rank that holds it. A lost stage takes its layers with it: the
// pass fails with RankLost, so do all later ones (lost()), and the front end ends the job.
//
// Thread use: after start-up the scheduler's thread (decode) and the front end's (ping) make the
// MPI calls, one at a time under a mutex (MPI is initialised SERIALIZED); stageStatus() may be
// read from any thread.
#include "dist/batch_protocol.h"
#include "dist/mpi_link.h"
#include "dist/pass_watch.h"
#include "dist/stage_plan.h"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tenfold {
class CpuBatchedContext;
class Model;
}

namespace tenfold::dist {

struct PipelineServeOptions {
    std::vector<Stage> stages;
    double rankTimeoutS = 8.0;
    int microBatch = 0; // rows per piece; 0: the batch in as many pieces as stages
    int nThreads = 0;   // each rank's compute threads; 0: every core
};

// What /tenfold/status shows of each stage.
struct StageStatus {
    int rank = 0;
    std::string host;
    int64_t pid = 0;
    int firstLayer = 0, endLayer = 0;
    int64_t passes = 0;
    double busySeconds = 0;     // its compute in those passes
    uint64_t residentBytes = 0; // its RSS after the latest pass (rank 0: now)
    double lastHeardS = -1;     // seconds since it last answered; -1: never
    bool lost = false;
    std::string lostReason;
};

class PipelineBatchedContext final : public BatchedContext {
public:
    // Rank 0. Builds its own stage (layers stages[0]) and waits, at most startupS seconds, for
    // every other stage to say it has loaded its layers; throws Error naming a stage that could
    // not start or RankLost for one that did not answer.
    PipelineBatchedContext(MpiLink& link, std::shared_ptr<const Model> model, const BatchedParams& params,
                           PipelineServeOptions options, double startupS);
    ~PipelineBatchedContext() override;

    int blockSize() const override;
    int totalBlocks() const override;
    int freeBlocks() const override;
    int maxSequenceLength() const override;
    int vocabSize() const override;
    int embeddingSize() const override;
    SeqId openSequence() override;
    SeqId forkSequence(SeqId from, int length) override;
    void closeSequence(SeqId seq) override;
    int sequenceLength(SeqId seq) const override;
    void truncateSequence(SeqId seq, int length) override;
    int blocksNeeded(SeqId seq, int nNew) const override;
    std::vector<int> sequenceBlocks(SeqId seq) const override;
    void retainBlock(int block) override;
    void releaseBlock(int block) override;
    int blockReferences(int block) const override;
    SeqId openSequenceWithBlocks(std::span<const int> blocks, int length) override;
    // A stage's KV is on its own rank: a sequence is not exported or imported whole (the
    // front end refuses --prefix-cache-dir in this mode). Both throw InvalidArgument.
    std::vector<uint8_t> exportSequence(SeqId seq, int length) const override;
    SeqId importSequence(int length, std::span<const uint8_t> data) override;
    void decode(std::span<const BatchRow> rows, std::vector<float>& logits, std::vector<float>* embeddings,
                const std::atomic<bool>* cancel) override;
    uint64_t bytesHeld() const override;
    std::vector<OpTiming> lastTimings() const override { return timings_; }

    // A pass of no rows through every stage, so a stage that stops answering while no request is
    // in flight is noticed too (the front end calls it every second from its own thread). Skipped
    // (false) while the scheduler's thread is in a pass, which has deadlines of its own; throws
    // RankLost naming the stage that holds it past the rank timeout.
    bool ping();

    // Once a stage is lost every pass fails; the front end polls this to end the job.
    bool lost() const;
    std::string lostReason() const;
    std::vector<StageStatus> stageStatus() const;
    std::string describeRank(int rank) const; // "rank 1 (host vm, pid 42, layers 4..7)"

    // After the scheduler has stopped (its thread joined): tells every stage to stop and
    // collects their figures, one "[mpi] rank ..." line each. Throws RankLost for a stage that
    // does not answer.
    std::string stopStages();

private:
    void log(std::initializer_list<int32_t> words) { log_.insert(log_.end(), words); }
    void drain(double limit);
    void awaitResults(double limit);
    void markLost(int rank, const std::string& why);
    void takeResult(BatchPass& reply);
    // Sends the pieces_ (rows of rows_; none for a ping) through the chain and takes the answers.
    void runPieces(bool ping);

    MpiLink& link_;
    std::shared_ptr<const Model> model_;
    PipelineServeOptions options_;
    std::unique_ptr<CpuBatchedContext> own_;
    std::vector<int32_t> log_; // table commands since the last pass
    int64_t pass_ = 0;

    // The batch in flight.
    struct Piece {
        size_t first = 0, count = 0; // rows
    };
    std::span<const BatchRow> rows_;
    std::vector<Piece> pieces_;
    std::vector<float>* logits_ = nullptr;
    std::vector<float>* embeddings_ = nullptr;
    std::vector<float> pieceLogits_, pieceEmbeddings_;
    std::vector<double> passUs_; // per stage, this batch
    size_t received_ = 0;
    PassWatch watch_;
    BatchPass message_, reply_;
    std::vector<uint8_t> bytes_, answer_;
    std::vector<OpTiming> timings_;

    std::mutex mpiMutex_;      // one thread in MPI at a time: a pass or a ping
    mutable std::mutex mutex_; // the figures and the lost state, read by the status endpoints
    std::vector<StageStatus> status_;
    std::vector<MpiLink::Clock::time_point> lastHeard_;
    bool lost_ = false;
    int lostRank_ = -1;
    std::string lostReason_;
};

// Ranks > 0: loads layers stages[rank], tells rank 0 it is ready (or why not, then throws), and
// runs passes until rank 0 says stop.
void runPipelineStage(MpiLink& link, std::shared_ptr<const Model> model, const BatchedParams& params,
                      const PipelineServeOptions& options);

} // namespace tenfold::dist
