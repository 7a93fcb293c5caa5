// tenfold-cli: dispatches to one command. Every failure ends here as one message on stderr and a
// non-zero exit code: 2 for a usage mistake, 1 for anything else (missing file, bad format,
// unsupported model, device failure).
#include "core/platform.h"
#include "commands.h"
#include "core/error.h"

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

using namespace tenfold::cli;

namespace {

const std::vector<Command>& allCommands()
{
    static const std::vector<Command> commands = {
        {"inspect", "show metadata, tensors, parameter count and memory needs", inspectSpec, runInspect},
        {"tokenize", "show the token ids and pieces of a text", tokenizeSpec, runTokenize},
        {"generate", "continue a prompt, streaming text to stdout", generateSpec, runGenerate},
        {"chat", "interactive conversation on stdin/stdout", chatSpec, runChat},
        {"perplexity", "perplexity (and KL divergence against a base) on a text file", perplexitySpec, runPerplexity},
        {"evaluate", "quality (PPL, KL divergence), size and speed of a model against a base", evaluateSpec,
         runEvaluate},
        {"bench", "prompt-processing and decode speed", benchSpec, runBench},
        {"quantize", "convert a GGUF model's weights to another type", quantizeSpec, runQuantize},
        {"prune", "prune weights, heads, FFN channels or layers (magnitude, Wanda, SparseGPT, N:M)", pruneSpec,
         runPrune},
        {"bench-sparse24", "2:4 sparse F16 mat-vec against dense F16 (speed)", benchSparse24Spec, runBenchSparse24},
        {"imatrix", "collect the importance matrix for calibrated quantization", imatrixSpec, runImatrix},
        {"calibrate-exits", "fit early-exit adapters for self-speculative decoding", calibrateExitsSpec,
         runCalibrateExits},
        {"synth", "write a random-weight model in a real model's shape", synthSpec, runSynth},
        {"convert", "convert a llama2.c checkpoint to GGUF", convertSpec, runConvert},
        {"compress", "compress a prompt (LLMLingua-style), or a model (--low-rank, --palette)",
         compressSpec, runCompress},
        {"tune-palette", "tune a palette-compressed model further towards the model it came from",
         tunePaletteSpec, runTunePalette},
        {"export-standard", "write the nearest standard GGUF of a compressed model (factors/palettes expanded)",
         exportStandardSpec, runExportStandard},
        {"template", "print the exact text a conversation renders to with a chat template", templateSpec,
         runTemplate},
#if TENFOLD_HAVE_STORE
        {"search", "find GGUF models on the Hugging Face Hub", searchSpec, runSearch},
        {"pull", "download a GGUF model from the Hugging Face Hub (resumable, verified)", pullSpec, runPull},
#endif
        {"train", "fine-tune a model on a text (cross-entropy; pruning recovery)", trainSpec, runTrain},
        {"distill", "train a smaller student to imitate a model (KL + cross-entropy)", distillSpec,
         runDistill},
#if TENFOLD_HAVE_VULKAN
        {"devices", "list Vulkan devices", devicesSpec, runDevices},
#endif
    };
    return commands;
}

void printUsage(std::FILE* to)
{
    std::fprintf(to, "usage: tenfold-cli COMMAND [arguments]   (tenfold-cli COMMAND --help for details)\n\ncommands:\n");
    for (const Command& c : allCommands())
        std::fprintf(to, "  %-12s %s\n", c.name, c.summary);
}

} // namespace

int main(int argc, char** argv)
{
    // UTF-8 on every OS (on Windows main()'s argv is in the ANSI code page).
    const std::vector<std::string> argvUtf8 = tenfold::platform::utf8Arguments(argc, argv);
    tenfold::platform::useBinaryUtf8Stdio();
    if (argvUtf8.size() < 2) {
        printUsage(stderr);
        return 2;
    }
    const std::string name = argvUtf8[1];
    if (name == "--help" || name == "-h" || name == "help") {
        printUsage(stdout);
        return 0;
    }
    if (name == "--version" || name == "-V") {
        std::printf("tenfold-cli %s\n", TENFOLD_VERSION);
        return 0;
    }
    const Command* command = nullptr;
    for (const Command& c : allCommands())
        if (name == c.name)
            command = &c;
    if (!command) {
        std::fprintf(stderr, "tenfold-cli: unknown command '%s'\n\n", name.c_str());
        printUsage(stderr);
        return 2;
    }
    const std::vector<std::string> args(argvUtf8.begin() + 2, argvUtf8.end());
    const CommandSpec spec = command->spec();
    if (wantsHelp(args)) {
        std::fputs(helpText(spec).c_str(), stdout);
        return 0;
    }
    try {
        return command->run(parseArgs(spec, args));
    } catch (const UsageError& e) {
        std::fprintf(stderr, "tenfold-cli %s: %s\n(see tenfold-cli %s --help)\n", name.c_str(),
                     e.what(), name.c_str());
        return 2;
    } catch (const tenfold::Cancelled&) {
        std::fprintf(stderr, "tenfold-cli %s: cancelled\n", name.c_str());
        return 130;
    } catch (const tenfold::Error& e) {
        std::fprintf(stderr, "tenfold-cli %s: error: %s\n", name.c_str(), e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "tenfold-cli %s: error: out of memory\n", name.c_str());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tenfold-cli %s: internal error: %s\n", name.c_str(), e.what());
        return 1;
    }
}
