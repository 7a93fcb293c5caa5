#pragma once
// One quantization run as the desktop wizard starts it: calibrate (importance matrix or GPTQ
// Hessians) on a text, optionally plan a budgeted mix, and write the file; each stage reports its
// progress and every stage can be cancelled. A cancelled or failed run leaves no output file
// (the writer renames a finished temporary file into place only at the end).
#include "passes/quant_budget.h"
#include "passes/quantize_model.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>

namespace tenfold {

struct QuantizeRecipe {
    std::filesystem::path input, output;
    GGMLType type = GGMLType::Q4_0;
    std::string preset; // a preset's name (quant_presets.h): its base type and rules replace `type`
    std::optional<GGMLType> outputType; // overrides a preset's rule for the output projection
    QuantMethod method = QuantMethod::Gptq;
    std::filesystem::path imatrixFile; // Imatrix: read this matrix instead of collecting one
    uint64_t targetBytes = 0;   // > 0: a budgeted mix for this file size
    int calibrationWindows = 0; // 0: every full window of the calibration text
    int probeWindows = 2;       // windows per sensitivity measurement of a budgeted mix
    int nCtx = 512;
    int nThreads = 0;
};

enum class RecipeStage { Calibrate, Measure, Quantize };

struct RecipeResult {
    QuantizeReport report;
    std::optional<BudgetPlan> plan;
    int calibrationWindows = 0;
    double seconds = 0;
};

// calibration: the text tokenized with the input model's tokenizer and a leading BOS (unused by
// round to nearest and by an importance matrix read from a file, unless a size budget is asked). progress(stage, done, total) after each window / measurement / tensor.
// Throws InvalidArgument for an unknown preset, a preset with a size budget, a text too short for the method (naming the tokens needed), the
// errors of quantizeModel and planForSize, and Cancelled.
RecipeResult runQuantizeRecipe(const QuantizeRecipe& recipe, std::span<const int32_t> calibration,
                               const std::function<void(RecipeStage, int done, int total)>& progress,
                               const std::atomic<bool>* cancel);

} // namespace tenfold
