// synth SHAPE --type T -o OUT.gguf: a random-weight model in a real model's shape.
#include "cli_common.h"
#include "commands.h"

#include "passes/synth_model.h"

#include <chrono>
#include <cstdio>

namespace tenfold::cli {

CommandSpec synthSpec()
{
    std::string shapes;
    for (const SynthShape& s : knownSynthShapes())
        shapes += "\n  " + s.name + ": dim " + std::to_string(s.nEmbd) + ", " +
                  std::to_string(s.nLayer) + " layers, " + std::to_string(s.nHead) + " heads, " +
                  std::to_string(s.nHeadKv) + " KV heads, FFN " + std::to_string(s.nFF) +
                  ", vocab " + std::to_string(s.nVocab) + (s.tiedOutput ? ", tied output" : "");
    return {"synth", "SHAPE -o OUT.gguf [--type T] [--seed S] [--threads N]",
            "Writes random weights (N(0, 0.02), norms 1) in the shape of a real model, with a\n"
            "synthetic SentencePiece vocabulary, streaming to disk (memory stays small however\n"
            "large the model). For speed and memory measurements: the text it generates is noise.\n"
            "2-D weights get --type, falling back as `quantize` does; norms stay F32.\nShapes:" +
                shapes,
            {"SHAPE"},
            {},
            {{"--output", "-o", "OUT.gguf", "where to write the model (required)"},
             {"--type", "", "T", "weight type: F32, F16, BF16, Q8_0, Q4_0, ..., Q6_K (default F16)"},
             {"--seed", "-s", "S", "random seed (default 1)"},
             {"--threads", "-t", "N", "threads (default: all cores)"}}};
}

int runSynth(const ParsedArgs& args)
{
    const auto shape = findSynthShape(args.positional(0));
    if (!shape)
        throw UsageError("unknown shape '" + args.positional(0) + "' (see --help for the list)");
    const auto out = args.get("--output");
    if (!out)
        throw UsageError("'synth' needs -o OUT.gguf");
    SynthOptions options;
    const std::string typeArg = args.getString("--type", "F16");
    const auto type = typeFromName(typeArg);
    if (!type || !typeTraits(*type).weightType)
        throw UsageError("--type: '" + typeArg + "' is not a weight type");
    options.type = *type;
    options.seed = uint64_t(args.getInt("--seed", 1, 0, INT64_MAX));
    options.nThreads = int(args.getInt("--threads", 0, 1, 1024));
    options.onTensor = [](size_t i, size_t n, const std::string& name) {
        std::fprintf(stderr, "\r[%zu/%zu] %-40s", i + 1, n, name.c_str());
        std::fflush(stderr);
    };
    std::fprintf(stderr, "synthesizing %s (%s parameters) as %s into %s\n", shape->name.c_str(),
                 withThousands(shape->parameterCount()).c_str(), typeName(options.type),
                 out->c_str());
    const auto t0 = std::chrono::steady_clock::now();
    const SynthReport report = synthesizeModel(*shape, filePath(*out), options);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "\n");
    std::printf("wrote %s: %s parameters, %s in %.1f s\n", out->c_str(),
                withThousands(report.parameters).c_str(), formatBytes(report.fileBytes).c_str(),
                seconds);
    return 0;
}

} // namespace tenfold::cli
