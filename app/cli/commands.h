#pragma once
// Every tenfold-cli command: its declaration (drives parsing and --help) and its body. Each
// command lives in its own cmd_<name>.cpp; main.cpp only dispatches.
#include "cli_args.h"
#include "runtime/backend.h"
#include "train/palette_tuning.h"

#include <functional>
#include <memory>
#include <string>

namespace tenfold::cli {

struct Command {
    const char* name;
    const char* summary;
    CommandSpec (*spec)();
    int (*run)(const ParsedArgs& args); // returns the exit code
};

CommandSpec inspectSpec();
int runInspect(const ParsedArgs& args);
CommandSpec tokenizeSpec();
int runTokenize(const ParsedArgs& args);
CommandSpec generateSpec();
int runGenerate(const ParsedArgs& args);
// generate's body with the model's context made by makeContext instead of the backend
// (tenfold-worker: a context over MPI ranks); backendName labels the timing line.
struct GenerateHooks {
    std::function<std::unique_ptr<InferenceContext>(std::shared_ptr<const Model>, const ContextParams&)> makeContext;
    std::string backendName;
};
int runGenerateWith(const ParsedArgs& args, const GenerateHooks& hooks);
CommandSpec chatSpec();
int runChat(const ParsedArgs& args);
CommandSpec perplexitySpec();
int runPerplexity(const ParsedArgs& args);
CommandSpec evaluateSpec();
int runEvaluate(const ParsedArgs& args);
CommandSpec benchSpec();
int runBench(const ParsedArgs& args);
CommandSpec synthSpec();
int runSynth(const ParsedArgs& args);
CommandSpec convertSpec();
int runConvert(const ParsedArgs& args);
CommandSpec quantizeSpec();
int runQuantize(const ParsedArgs& args);
CommandSpec pruneSpec();
int runPrune(const ParsedArgs& args);
CommandSpec benchSparse24Spec();
int runBenchSparse24(const ParsedArgs& args);
CommandSpec imatrixSpec();
int runImatrix(const ParsedArgs& args);
CommandSpec calibrateExitsSpec();
int runCalibrateExits(const ParsedArgs& args);
CommandSpec compressSpec();
int runCompressModel(const ParsedArgs& args); // compress IN OUT --low-rank|--palette (cmd_compress_model.cpp)
int runCompress(const ParsedArgs& args);
// The --tune-* options of compress --palette and tune-palette (cmd_tune_palette.cpp): their
// specs, their values read and checked once before any work (UsageError on a bad one; steps 0
// without --tune-steps), and the tuning of `model` towards `teacher` with them.
struct PaletteTuneArgs {
    train::PaletteTuneOptions options;
    std::string textFile; // --tune-text; empty when absent
};
std::vector<OptionSpec> paletteTuneOptions();
PaletteTuneArgs paletteTuneArgs(const ParsedArgs& args, int nThreads);
void runPaletteTuning(const PaletteTuneArgs& tune, const std::string& model, const std::string& teacher);
CommandSpec tunePaletteSpec();
int runTunePalette(const ParsedArgs& args);
CommandSpec exportStandardSpec();
int runExportStandard(const ParsedArgs& args);
CommandSpec templateSpec();
int runTemplate(const ParsedArgs& args);
CommandSpec searchSpec();
int runSearch(const ParsedArgs& args);
CommandSpec pullSpec();
int runPull(const ParsedArgs& args);
CommandSpec trainSpec();
int runTrain(const ParsedArgs& args);
CommandSpec distillSpec();
int runDistill(const ParsedArgs& args);
#if TENFOLD_HAVE_VULKAN
CommandSpec devicesSpec();
int runDevices(const ParsedArgs& args);
#endif

} // namespace tenfold::cli
