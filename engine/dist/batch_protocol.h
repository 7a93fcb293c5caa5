#pragma once
// The messages of a pipeline-parallel `tenfold-worker serve` (dist/pipeline_batched.h): rank 0
// runs the server's scheduler on a BatchedContext whose layers are spread over the ranks.
//   Pass  0 -> 1 -> ... -> N-1 -> 0   a batch of rows: each stage appends them to its own KV
//                                     blocks and runs its layers on the residual stream
//   Stop  along the same path; each stage answers rank 0 with its figures and leaves
// A pass also carries rank 0's block-table log since the previous pass (open, fork, close,
// truncate, retain, release, adopt), which each stage replays before the rows, so every stage's
// table stays identical to rank 0's: the same block ids, the same copy-on-write copies. Each
// command that makes a sequence carries the id rank 0 got, and a stage whose id differs stops
// with an error rather than computing on the wrong blocks.
#include "core/error.h"
#include "runtime/batched_context.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tenfold::dist {

constexpr int kTagBatchWork = 11;     // passes and Stop, from rank r-1 to rank r
constexpr int kTagBatchResult = 12;   // the last stage's stream (or a stage's failure), to rank 0
constexpr int kTagBatchProgress = 13; // "stage k took / handed on pass p" (dist::Progress), to rank 0
constexpr int kTagBatchReady = 14;    // a stage's start-up answer and, on Stop, its figures

// The block-table commands, each followed by its arguments in the log:
//   Open expectedId | Fork from length expectedId | Close seq | Truncate seq length |
//   Retain block | Release block | Adopt length expectedId n block...
enum class TableOp : int32_t { Open = 1, Fork = 2, Close = 3, Truncate = 4, Retain = 5, Release = 6, Adopt = 7 };

// One stage's figures, appended by each stage a pass goes through (rank 0's first).
struct StageFigures {
    double computeUs = 0;       // this pass on this stage
    uint64_t residentBytes = 0; // the stage process's RSS after it
};

struct BatchPass {
    enum Kind : int64_t { Pass = 1, Stop = 2, Failed = 3 };
    int64_t kind = Pass;
    int64_t pass = 0; // rank 0's pass counter
    int64_t freeBlocks = -1; // rank 0's free KV blocks after the log, before the rows: a stage
                             // whose count differs after replaying the log is out of step
    std::vector<int32_t> log;
    std::vector<BatchRow> rows;
    std::vector<float> stream; // rows x nEmbd
    std::vector<StageFigures> stages;
    std::string error; // Failed: which stage and why
};

std::vector<uint8_t> encodeBatchPass(const BatchPass& m);
// Throws Error when the bytes are not one whole message (truncated, padded, a peer of another
// build), never reading past them.
void decodeBatchPass(std::span<const uint8_t> bytes, BatchPass& m);

// Replays a log on a stage's context. Throws Error naming the command when the log is malformed
// or the context gives another sequence id than rank 0's (the tables are out of step).
void replayTableLog(std::span<const int32_t> log, BatchedContext& ctx);

// A stage's start-up answer (ok, or why it could not start) and its figures on Stop.
struct StageReport {
    int64_t ok = 0;
    int64_t passes = 0;
    double computeMs = 0;
    uint64_t kvBytes = 0;
    uint64_t peakRssBytes = 0;
    std::string error;
};
std::vector<uint8_t> encodeStageReport(const StageReport& r);
void decodeStageReport(std::span<const uint8_t> bytes, StageReport& r);

} // namespace tenfold::dist
