#pragma once
// The training loop shared by `tenfold-cli train`, `tenfold-cli distill` and the desktop's Prune
// (recovery) and Distill wizards. Each step draws `batch` windows from the dataset, runs the
// student forward and backward on each (gradients accumulate, averaged over the batch), clips
// the global gradient norm, and takes an AdamW step at the warm-up + cosine learning rate.
// Loss: cross-entropy, or with a teacher the distillation mix
//   alpha * T^2 * KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) * CE,
// the teacher's logits computed on the fly by a TinyLlama forward of the teacher's parameters
// (exactly the student's arithmetic, no second implementation to disagree with).
//
// Determinism: everything (sampling, the kernels' partition of work) depends only on the seed
// and the thread count, so two runs with the same options give the same bits, and a run resumed
// from a checkpoint continues with the same loss curve as one that was never interrupted.
//
// Errors: a NaN or infinite loss or gradient stops the run with TrainingDiverged, before the bad
// step touches the parameters; the last checkpoint on disk is the last good one. Cancel raises
// Cancelled (after writing a checkpoint when a directory is set). Bad options: InvalidArgument.
#include "core/error.h"
#include "train/data.h"
#include "train/model.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tenfold::train {

struct TrainOptions {
    int64_t steps = 100;
    int batch = 4;              // windows per step (gradients averaged)
    double lr = 1e-3;           // peak learning rate
    double minLr = 1e-4;        // floor of the cosine
    int64_t warmup = 10;        // linear warm-up steps
    double weightDecay = 0.0;   // AdamW, decoupled; matrices only, not norm gains
    double clip = 1.0;          // global gradient norm; 0: no clipping
    uint64_t seed = 1;          // data order
    int threads = 1;            // kernel threads (the result depends on it; bit-exact for a fixed count)

    // distillation (used when the Trainer has a teacher)
    double alpha = 0.5;         // weight of the KL term; 1 - alpha goes to cross-entropy
    double temperature = 2.0;

    int64_t evalEvery = 50;     // validation loss every N steps (and after the last); 0: only at the end
    int evalWindows = 0;        // 0: every validation window of the dataset

    std::filesystem::path checkpointDir; // empty: no checkpoints
    int64_t checkpointEvery = 50;

    // Pruning recovery: one flag per parameter (ParamLayout order), 0 = this weight is pruned and
    // stays exactly 0 after every step. Empty: no mask.
    std::vector<uint8_t> mask;

    // Training other parameters than the model's (palette tuning, train/palette_tuning.h): when
    // set, replaces the AdamW step. Called after masking and clipping with the dense parameters,
    // their gradients (ParamLayout order) and the step's learning rate; it updates its own
    // parameters and writes the dense values the model computes with. Its state is not in
    // checkpoints, so a run with it takes no checkpointDir (InvalidArgument). Must be deterministic.
    std::function<void(float* params, const float* grads, double lr)> step;

    const std::atomic<bool>* cancel = nullptr; // set by the caller: stop after the current step
    const std::atomic<bool>* pause = nullptr;  // while set, the loop sleeps between steps
};

// What the UI shows after each step. valLoss is NaN on steps without validation.
struct StepReport {
    int64_t step = 0;           // 1-based count of steps done
    int64_t totalSteps = 0;
    double loss = 0;            // the training loss of this step (batch mean)
    double ce = 0;              // its cross-entropy part
    double kl = 0;              // its T^2 KL part (0 without a teacher)
    double valLoss = 0;         // validation cross-entropy (NaN when not measured at this step)
    double lr = 0;
    double gradNorm = 0;        // before clipping
    double tokensPerSecond = 0; // trained tokens over the wall time of this run so far
    double etaSeconds = 0;
    bool checkpointed = false;  // a checkpoint was written after this step
};

struct TrainResult {
    int64_t steps = 0;          // steps done in total (including those before a resume)
    double lastLoss = 0;
    double valLoss = 0;         // the final validation cross-entropy
    double valPerplexity = 0;   // exp(valLoss)
    double seconds = 0;         // wall time of this run
    std::vector<double> losses; // training loss of every step this run took
};

// The loss became NaN or infinite: names the step. The parameters are those before it.
class TrainingDiverged : public Error {
public:
    TrainingDiverged(int64_t step, const std::string& what)
        : Error("training diverged at step " + std::to_string(step) + ": " + what +
                "; the parameters before that step are kept (and the last checkpoint on disk)"),
          step_(step) {}
    int64_t step() const { return step_; }

private:
    int64_t step_;
};

class Trainer {
public:
    // params: ParamLayout(config) order, taken over. `data` is referenced, not copied: it must
    // outlive the Trainer. Throws InvalidArgument for bad options (a mask or params of the wrong
    // size, batch < 1, alpha outside [0, 1], temperature <= 0, ...).
    Trainer(const TrainConfig& config, std::vector<float> params, const TokenDataset& data,
            TrainOptions options);
    ~Trainer();

    // Distillation: the teacher must share the vocabulary (InvalidArgument otherwise).
    void setTeacher(const TrainConfig& config, std::vector<float> params);

    // Continues from the checkpoint in options.checkpointDir when one is there (same model
    // shape and options required: InvalidArgument naming the difference). Returns false when
    // there is none.
    bool resume();

    // Runs until options.steps steps are done in total (blocking: a UI runs it on a worker
    // thread). onStep is called after every step on the thread that called run(), so a UI
    // forwards it to its own thread (a queued signal). Throws TrainingDiverged, Cancelled,
    // IoError (checkpoint writes).
    TrainResult run(const std::function<void(const StepReport&)>& onStep = {});

    // Mean validation cross-entropy over the dataset's validation windows (evalWindows of them).
    double validationLoss();

    const TrainConfig& config() const;
    const std::vector<float>& params() const;
    int64_t stepsDone() const;

    // The checkpoint file inside a directory.
    static std::filesystem::path checkpointPath(const std::filesystem::path& dir);

private:
    struct Impl;
    std::unique_ptr<Impl> d_;
};

} // namespace tenfold::train
