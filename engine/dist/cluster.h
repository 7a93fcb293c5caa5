#pragma once
// A model spread over the ranks of one mpirun job, seen from rank 0 as an ordinary
// InferenceContext, so the single-process generation loop (runtime/generator.h) drives it
// unchanged and prints the same text.
//
// Pipeline parallel: rank r computes layers [stages[r].firstLayer, stages[r].endLayer) with
// CpuContext::decodeLayers, the very code of a single-process decode; the residual stream goes
// from rank to rank as one MPI message per hop and back to rank 0, which applies the output head.
// Each rank holds the KV cache of its own layers only, and its weights are memory-mapped, so it
// reads only its layers' tensors.
//
// Data parallel: every replica rank (1..N-1) holds the whole model; rank 0 gives each new
// sequence to the replica with the fewest open sequences and forwards its passes there.
//
// Every wait has a deadline (MpiLink): a stage that does not answer within the rank timeout plus
// a margin proportional to the compute it was given is reported as RankLost.
#include "dist/mpi_link.h"
#include "dist/protocol.h"
#include "dist/stage_plan.h"
#include "runtime/backend.h"

#include <memory>
#include <string>
#include <vector>

namespace tenfold {
class CpuContext;
class Model;
}

namespace tenfold::dist {

enum class Mode { Pipeline, DataParallel };

struct ClusterOptions {
    Mode mode = Mode::Pipeline;
    std::vector<int> split;     // pipeline layer counts per rank; empty: by memory
    double rankTimeoutS = 8.0;  // no answer for this long (plus the compute margin): rank lost
    int microBatch = 0;         // pipeline: tokens per micro-batch of a pass; 0: the whole pass
};

// Everything a rank needs, built identically on every rank from the same arguments.
class Cluster {
public:
    Cluster(MpiLink& link, std::shared_ptr<const Model> model, const ClusterOptions& options,
            const ContextParams& params);
    ~Cluster();

    const ClusterOptions& options() const { return options_; }
    const std::vector<Stage>& stages() const { return stages_; } // pipeline only
    MpiLink& link() { return link_; }

    // Rank 0: a context over the cluster (pipeline: the whole chain; data parallel: the least
    // loaded replica, or rank 0 itself when it is alone).
    std::unique_ptr<InferenceContext> createContext();
    // Ranks > 0: serve passes until rank 0 says stop; then report to rank 0 and return.
    void runWorker();
    // Rank 0: tells every worker to stop and collects their reports (rank 0's own first).
    std::vector<RankReport> stopWorkers();
    // "rank 1 on host (pid 42): layers 6..11, ..." lines for stderr, and the JSON of the server
    // status.
    std::string describe(const std::vector<RankReport>& reports) const;
    std::string describeRank(int rank) const; // "rank 1 (host vm, pid 42, layers 6..11)"

    // Rank 0's bookkeeping for the contexts it made.
    RankReport& ownReport() { return own_; }
    void sequenceClosed(int replica);
    double timeoutFor(double computeSeconds) const;

private:
    MpiLink& link_;
    std::shared_ptr<const Model> model_;
    ClusterOptions options_;
    ContextParams params_;
    std::vector<Stage> stages_;
    std::vector<int> openSequences_; // data parallel: per rank
    RankReport own_;
};

} // namespace tenfold::dist
