// compress MODEL (-p PROMPT | -f FILE): LLMLingua-style prompt compression (eval/prompt_compression.h).
// The compressed prompt goes to stdout; with --continue N, MODEL continues both prompts and the
// KL divergence of the answer is reported. --json prints one object instead (for
// tools/bench_prompt_compression.py).
#include "cli_common.h"
#include "commands.h"

#include "core/error.h"
#include "core/json_writer.h"
#include "eval/prompt_compression.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

#include <chrono>
#include <cstdio>

namespace tenfold::cli {

CommandSpec compressSpec()
{
    CommandSpec spec{"compress",
                     "MODEL (-p PROMPT | -f FILE) [--ratio R] [--scorer SMALL] [--continue N] [--json]\n"
                     "       compress IN OUT (--low-rank --target-size MB | --palette BITS) [-f CALIB] [--type T]",
                     "Model compression (with --low-rank or --palette): writes IN compressed into OUT, a\n"
                     "Tenfold GGUF extension (docs/COMPRESSION.md; export-standard turns it back into a\n"
                     "standard file). --low-rank factorises the layer matrices (SVD, activation-aware\n"
                     "with -f CALIB) with per-matrix ranks chosen to meet --target-size; --factor-type\n"
                     "sets the factors' type (default F16), --type the other matrices' type.\n\n"
                     "Prompt compression (otherwise): drops the words of the prompt that a small model (--scorer, default MODEL)\n"
                     "finds least surprising until R of its tokens are left (LLMLingua-style);\n"
                     "question and instruction sentences are kept whole. Prints the compressed\n"
                     "prompt. --continue N: MODEL continues the original prompt greedily for N tokens;\n"
                     "the same tokens are fed after the compressed prompt and the mean KL divergence\n"
                     "of its next-token distributions from the original's is printed, with both\n"
                     "greedy continuations. --random-baseline SEED drops random words instead (same\n"
                     "budget), to compare.",
                     {"MODEL"},
                     {"OUT"},
                     {{"--prompt", "-p", "PROMPT", "the prompt to compress"},
                      {"--prompt-file", "-f", "FILE", "read the prompt from FILE"},
                      {"--ratio", "", "R", "share of the tokens to keep, in (0, 1] (default 0.5)"},
                      {"--scorer", "", "SMALL", "score surprisal with this model (same vocabulary)"},
                      {"--continue", "", "N", "compare N-token continuations of both prompts"},
                      {"--keep-all-sentences", "", "", "do not protect questions and instructions"},
                      {"--tail", "", "S", "keep the last words, up to S of the budget, as they are (default 0.25)"},
                      {"--random-baseline", "", "SEED", "drop random words instead of predictable ones"},
                      {"--json", "", "", "print one JSON object with the results"},
                      {"--low-rank", "", "", "model compression: low-rank factorisation of the layer matrices"},
                      {"--palette", "", "BITS", "model compression: k-means palettes with 2-, 3- or 4-bit indices"},
                      {"--target-size", "", "MB", "model compression: the output file's size in MB (10^6 bytes)"},
                      {"--factor-type", "", "T", "low-rank: the factors' type (default F16; Q8_0, Q4_0, IQ4_NL, ...)"},
                      {"--type", "", "T", "model compression: type of the matrices left dense (default: as in IN)"},
                      {"--rank-step", "", "N", "low-rank: ranks are multiples of N (default 32)"},
                      {"--chunks", "", "N", "model compression: calibration windows to use (default: all)"},
                      {"--calib-ctx", "", "N", "model compression: calibration window length (default 512)"},
                      {"--palette-rows", "", "N", "palette: rows sharing one palette (default: table <= 1/16 bit per weight)"},
                      {"--palette-bits", "", "NAME=B,...", "palette: other index widths for tensors whose name contains NAME"},
                      {"--no-row-scale", "", "", "palette: no per-row scales (rows share palettes as they are)"},
                      {"--palette-embedding", "", "", "palette: the token embedding and output get palettes too"},
                      {"--no-gptq", "", "", "palette: each element takes its nearest entry (no GPTQ error feedback)"},
                      {"--verbose", "", "", "model compression: print every matrix's choice"}}};
    for (auto& o : paletteTuneOptions())
        spec.options.push_back(o);
    for (auto& o : backendOptions())
        spec.options.push_back(o);
    return spec;
}

int runCompress(const ParsedArgs& args)
{
    if (args.has("--low-rank") || args.has("--palette"))
        return runCompressModel(args);
    if (args.positionals().size() > 1)
        throw UsageError("prompt compression takes one MODEL; for model compression add --low-rank or --palette");
    std::string prompt;
    if (const auto p = args.get("--prompt"))
        prompt = *p;
    else if (const auto f = args.get("--prompt-file"))
        prompt = readTextFile(*f);
    else
        throw UsageError("'compress' needs -p PROMPT or -f FILE");
    if (args.has("--prompt") && args.has("--prompt-file"))
        throw UsageError("give either -p or -f, not both");
    CompressionOptions options;
    options.keepRatio = args.getDouble("--ratio", 0.5, 1e-6, 1.0);
    options.keepInstructions = !args.has("--keep-all-sentences");
    options.tailShare = args.getDouble("--tail", 0.25, 0.0, 1.0);
    options.randomBaselineSeed = uint64_t(args.getInt("--random-baseline", 0, 0, (1LL << 62)));
    const int continueTokens = int(args.getInt("--continue", 0, 0, 4096));

    const std::shared_ptr<Model> model = loadModel(args.positional(0));
    std::shared_ptr<Model> scorer = model;
    if (const auto s = args.get("--scorer")) {
        scorer = loadModel(*s);
        if (scorer->hparams().nVocab != model->hparams().nVocab)
            throw InvalidArgument("--scorer has a vocabulary of " + std::to_string(scorer->hparams().nVocab) +
                                  " tokens, MODEL has " + std::to_string(model->hparams().nVocab));
    }
    std::unique_ptr<Backend> backend = createBackend(args);
    ContextParams cp;
    cp.nCtx = contextFromArgs(args, *model);
    cp.nThreads = threadCount(args);
    const std::atomic<bool>* cancel = installInterruptHandler();

    const auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<InferenceContext> scorerCtx = backend->createContext(scorer, cp);
    const CompressionResult result = compressPrompt(*scorerCtx, scorer->tokenizer(), prompt, options, cancel);
    const double compressSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    ContinuationComparison cmp;
    if (continueTokens > 0) {
        std::unique_ptr<InferenceContext> ctx =
            scorer == model ? std::move(scorerCtx) : backend->createContext(model, cp);
        cmp = compareContinuations(*ctx, model->tokenizer(), prompt, result.text, continueTokens, cancel);
    }

    if (args.has("--json")) {
        JsonObject w;
        w.integer("original_tokens", result.originalTokens)
            .integer("compressed_tokens", result.compressedTokens)
            .integer("token_budget", result.tokenBudget)
            .number("ratio", result.achievedRatio())
            .number("compress_seconds", compressSeconds)
            .text("compressed", result.text);
        if (continueTokens > 0)
            w.integer("positions", cmp.positions)
                .number("mean_kld", cmp.meanKld)
                .number("max_kld", cmp.maxKld)
                .number("same_top_token", cmp.sameTopToken)
                .text("original_continuation", cmp.originalContinuation)
                .text("compressed_continuation", cmp.compressedContinuation);
        std::printf("%s\n", w.str().c_str());
        return 0;
    }
    std::printf("%s\n", result.text.c_str());
    std::fprintf(stderr, "tokens: %d -> %d (%.1f%%, budget %d), %d saved, %.2f s on %s\n", result.originalTokens,
                 result.compressedTokens, 100.0 * result.achievedRatio(), result.tokenBudget,
                 result.originalTokens - result.compressedTokens, compressSeconds, backend->name().c_str());
    if (continueTokens > 0) {
        std::fprintf(stderr, "continuation KL divergence over %d tokens: mean %.6f, max %.6f, same top token %.1f%%\n",
                     cmp.positions, cmp.meanKld, cmp.maxKld, 100.0 * cmp.sameTopToken);
        std::fprintf(stderr, "original:   %s\ncompressed: %s\n", cmp.originalContinuation.c_str(),
                     cmp.compressedContinuation.c_str());
    }
    return 0;
}

} // namespace tenfold::cli
