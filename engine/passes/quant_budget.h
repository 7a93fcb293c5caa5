#pragma once
// A budgeted type mix: the per-tensor types that fit a file size at the lowest predicted quality
// loss. Each weight matrix's sensitivity is measured, not guessed: the KL divergence of the model
// from the unquantized one when that tensor alone is quantized to each candidate type (on a few
// windows of a calibration text, never the evaluation text). Treating the losses as additive, the
// choice is a knapsack over bytes, solved exactly by dynamic programming on 1 KiB units.
#include "passes/quantize_model.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace tenfold {

struct BudgetOptions {
    uint64_t targetBytes = 0;     // the whole file, metadata included
    std::vector<GGMLType> candidates = {GGMLType::Q4_0, GGMLType::Q4_1, GGMLType::Q5_0, GGMLType::Q5_1,
                                        GGMLType::Q8_0, GGMLType::Q2_K, GGMLType::Q3_K, GGMLType::Q4_K,
                                        GGMLType::Q5_K, GGMLType::Q6_K, GGMLType::IQ4_NL, GGMLType::IQ4_XS};
    bool keepSourceType = true;   // the unquantized type is a candidate too (no loss, most bytes)
    int nCtx = 512;
    int chunks = 4;               // calibration windows per measurement (the second half scored)
    int nThreads = 0;
    // How each candidate is quantized while measuring (method, imatrix, hessians): the same as
    // the final file's, so the measured loss is the loss that file will have.
    QuantizeOptions quantize;
    std::function<void(int done, int total, const std::string& tensor)> progress;
    const std::atomic<bool>* cancel = nullptr;
};

struct TensorSensitivity {
    std::string name;
    struct Option {
        GGMLType type;
        uint64_t bytes;
        double kld; // mean KL divergence with this tensor alone in `type`
    };
    std::vector<Option> options;
};

struct BudgetPlan {
    std::map<std::string, GGMLType> types;        // for QuantizeOptions::tensorTypes
    uint64_t predictedFileBytes = 0;
    double predictedKld = 0;                      // the sum of the chosen options' losses
    uint64_t smallestFileBytes = 0;               // every tensor at its smallest candidate
    std::vector<TensorSensitivity> sensitivities; // what the choice was made from
};

// The knapsack alone: one option index per tensor, minimising the summed kld with the summed
// bytes (each rounded up to the solver's unit, >= 1 KiB) within budgetBytes. Empty when even
// the smallest options do not fit. Exact for the additive model.
std::vector<size_t> solveBudget(const std::vector<TensorSensitivity>& tensors, uint64_t budgetBytes);

// The smallest file the candidate types make of this model (every weight at its smallest
// candidate): a target below it is refused. Cheap: reads the header only.
uint64_t smallestMixBytes(const std::filesystem::path& model, const BudgetOptions& options);
// Throws planForSize's InvalidArgument (naming the smallest size) when options.targetBytes is
// below it, before anything is measured or calibrated.
void checkTargetReachable(const std::filesystem::path& model, const BudgetOptions& options);

// Measures and solves. tokens: the calibration text tokenized with a leading BOS. Throws
// InvalidArgument when the target is below the smallest file the candidates can make (naming that
// size) or the text is shorter than the windows asked for; Cancelled on cancel.
BudgetPlan planForSize(const std::filesystem::path& model, std::span<const int32_t> tokens,
                       const BudgetOptions& options);

} // namespace tenfold
