// tune-palette MODEL TEACHER OUT --tune-steps N --tune-text FILE: more palette tuning for a file
// that `compress --palette` already wrote (tuned or not), e.g. a second, longer run started from
// the first one's result. The tuning itself (train/palette_tuning.h) is the one `compress` runs
// after clustering: runPaletteTuning below serves both commands.
#include "cli_common.h"
#include "commands.h"

#include "core/error.h"
#include "train/palette_tuning.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace tenfold::cli {

std::vector<OptionSpec> paletteTuneOptions()
{
    return {{"--tune-steps", "", "N", "palette: then tune tables, scales and norms by distillation for N steps"},
            {"--tune-text", "", "FILE", "palette tuning: training text (default none: required with --tune-steps)"},
            {"--tune-lr", "", "LR", "palette tuning: peak learning rate, relative to each tensor's numbers (default 1e-3)"},
            {"--tune-batch", "", "N", "palette tuning: windows per step (default 4)"},
            {"--tune-ctx", "", "N", "palette tuning: window length in tokens (default 128)"},
            {"--tune-seed", "", "S", "palette tuning: seed of the window order (default 1)"},
            {"--tune-eval-windows", "", "N", "palette tuning: held-out windows for the before/after loss (default 16)"},
            {"--tune-codes", "", "", "palette tuning: let indices and block levels change too (straight-through)"},
            {"--tune-code-lr", "", "LR", "palette tuning with --tune-codes: peak code step, in entry spacings (default 0.02)"},
            {"--tune-code-decay", "", "D",
             "palette tuning with --tune-codes: a code switches only while its gradient's sign is steadier than about "
             "D/2 (0 to 1.999, default 1)"}};
}

PaletteTuneArgs paletteTuneArgs(const ParsedArgs& args, int nThreads)
{
    PaletteTuneArgs r;
    train::PaletteTuneOptions& t = r.options;
    const int64_t steps = args.getInt("--tune-steps", 0, 0, 1 << 24);
    if (steps > 0 && !args.get("--tune-text"))
        throw UsageError("--tune-steps needs --tune-text FILE (training text; not the evaluation text)");
    r.textFile = args.get("--tune-text").value_or("");
    t.train.steps = steps;
    t.train.batch = int(args.getInt("--tune-batch", 4, 1, 1 << 16));
    t.train.lr = args.getDouble("--tune-lr", 1e-3, 1e-9, 1.0);
    t.train.minLr = t.train.lr / 10;
    t.train.warmup = std::max<int64_t>(1, steps / 20);
    t.train.alpha = 1.0; // the KL to the uncompressed model only: the quantity evaluate reports
    t.train.temperature = 1.0;
    t.train.seed = uint64_t(args.getInt("--tune-seed", 1, 0, (1LL << 62)));
    t.train.threads = nThreads > 0 ? nThreads : int(std::max(1u, std::thread::hardware_concurrency()));
    t.train.evalEvery = 0;
    t.train.evalWindows = int(args.getInt("--tune-eval-windows", 16, 1, 1 << 20));
    t.ctx = int(args.getInt("--tune-ctx", 128, 8, 1 << 16));
    t.codes = args.has("--tune-codes");
    t.codeLr = args.getDouble("--tune-code-lr", 0.02, 1e-9, 100.0);
    t.codeDecay = args.getDouble("--tune-code-decay", 1.0, 0.0, 1.999);
    return r;
}

void runPaletteTuning(const PaletteTuneArgs& tune, const std::string& model, const std::string& teacher)
{
    const train::PaletteTuneOptions& t = tune.options;
    const auto t1 = std::chrono::steady_clock::now();
    const train::PaletteTuneReport tr = train::tunePaletteModel(
        filePath(model), filePath(teacher), readTextFile(tune.textFile), t,
        [](const train::StepReport& st) {
            std::fprintf(stderr, "\rtuning: step %lld/%lld, loss %.5f, eta %.0f s   ", (long long)st.step,
                         (long long)st.totalSteps, st.loss, st.etaSeconds);
            if (st.step % 20 == 0) // a line every 20 steps keeps the curve in a log
                std::fprintf(stderr, "\n");
        },
        installInterruptHandler());
    std::fprintf(stderr, "\n");
    const double ts = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    std::printf("tuned %zu numbers (%d palette, %d block-scale tensors; %d held) in %.1f s: held-out "
                "cross-entropy %.4f -> %.4f\n",
                tr.freeParameters, tr.paletteTensors, tr.blockTensors, tr.frozenTensors, ts, tr.valLossBefore,
                tr.valLossAfter);
    if (t.codes)
        std::printf("codes changed: %lld of %lld (%.2f%%)\n", (long long)tr.codesChanged, (long long)tr.codeCount,
                    tr.codeCount ? 100.0 * double(tr.codesChanged) / double(tr.codeCount) : 0.0);
}

CommandSpec tunePaletteSpec()
{
    CommandSpec spec{"tune-palette",
                     "MODEL TEACHER OUT --tune-steps N --tune-text FILE [--tune-codes] [--tune-lr LR] [--tune-seed S]",
                     "Tunes a palette-compressed MODEL (compress --palette, tuned before or not) further\n"
                     "towards TEACHER, the model it was compressed from, by distillation on the training\n"
                     "text, and writes OUT with the same tensors, types and size (OUT may be MODEL: it is\n"
                     "replaced atomically). The options are compress's --tune-* options; a second run\n"
                     "starts a new warm-up and cosine schedule from where the first one ended, so give it\n"
                     "another --tune-seed to see other windows first.",
                     {"MODEL", "TEACHER", "OUT"},
                     {},
                     paletteTuneOptions()};
    spec.options.push_back({"--threads", "-t", "N", "threads (default: all cores)"});
    return spec;
}

int runTunePalette(const ParsedArgs& args)
{
    const std::string model = args.positional(0), teacher = args.positional(1), out = args.positional(2);
    if (!args.has("--tune-steps"))
        throw UsageError("tune-palette needs --tune-steps N (N >= 1)");
    args.getInt("--tune-steps", 0, 1, 1 << 24); // 0 is refused here, not read as "no tuning"
    const PaletteTuneArgs tune = paletteTuneArgs(args, int(args.getInt("--threads", 0, 1, 1024)));
    std::error_code ec;
    for (const std::string& f : {model, teacher})
        if (!std::filesystem::is_regular_file(filePath(f), ec))
            throw IoError("model file not found: " + f);
    const std::filesystem::path outPath = filePath(out);
    if (std::filesystem::equivalent(filePath(model), outPath, ec)) {
        runPaletteTuning(tune, out, teacher); // replaces MODEL atomically, or leaves it as it was
        return 0;
    }
    // A copy is tuned under a temporary name and renamed at the end, so OUT is either the
    // finished file or what it was before (absent, or an earlier file).
    const std::string part = out + ".part";
    std::filesystem::copy_file(filePath(model), filePath(part), std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
        std::filesystem::remove(filePath(part), ec);
        throw IoError("cannot write " + part + ": " + ec.message());
    }
    try {
        runPaletteTuning(tune, part, teacher);
        std::filesystem::rename(filePath(part), outPath);
    } catch (const std::filesystem::filesystem_error& e) {
        std::filesystem::remove(filePath(part), ec);
        throw IoError("cannot write " + out + ": " + e.code().message());
    } catch (...) {
        std::fprintf(stderr, "\n");
        std::filesystem::remove(filePath(part), ec);
        throw;
    }
    return 0;
}

} // namespace tenfold::cli
