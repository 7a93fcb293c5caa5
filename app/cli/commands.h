#pragma once
// Every tenfold-cli command: its declaration (drives parsing and --help) and its body. Each
// command lives in its own cmd_<name>.cpp; main.cpp only dispatches.
#include "cli_args.h"
#include "runtime/backend.h"

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
// specs, a check of their values before any work, and the tuning of `model` towards `teacher`.
std::vector<OptionSpec> paletteTuneOptions();
void checkPaletteTuneArgs(const ParsedArgs& args);
void runPaletteTuning(const ParsedArgs& args, const std::string& model, const std::string& teacher, int nThreads);
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
