// generate MODEL -p PROMPT: text to stdout as it is produced, statistics to stderr.
#include "cli_common.h"
#include "cli_ledger.h"
#include "commands.h"
#include "sampling_options.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "runtime/generator.h"
#include "runtime/prompt_state.h"
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace tenfold::cli {

CommandSpec generateSpec()
{
    CommandSpec spec{"generate", "MODEL (-p PROMPT | -f FILE) [options]",
                     "Evaluates BOS + the prompt and samples up to N tokens, printing the text to\n"
                     "stdout as it is produced and timings to stderr. --temp 0 is greedy decoding.\n"
                     "A prompt longer than the context is an error (exit code 1).\n"
                     "With --draft, a smaller model with the same vocabulary proposes tokens that\n"
                     "MODEL checks several at a time (speculative decoding). Greedy output is the\n"
                     "same as without it, sampled output has the same distribution (the rejection\n"
                     "rule); the acceptance rate is printed with the timings. --self-speculative\n"
                     "drafts with the model's own first layers instead (--exit-layer K, default\n"
                     "half of them; CPU only).\n"
                     "--prompt-cache FILE restores the prompt's longest cached prefix from FILE (when\n"
                     "it was saved for this model) and saves the prompt's state there afterwards, so\n"
                     "a long shared prompt is computed once across runs.\n"
                     "--early-exit P|auto (lossy, CPU only) ends each token's pass at the first exit head\n"
                     "(the file's fitted exits from calibrate-exits, else --exit-layer K or half the\n"
                     "layers) whose top probability is at least P; the skipped layers' keys and\n"
                     "values come from the exited state; auto takes the threshold calibrate-exits\n"
                     "chose for the file. The average layers run is printed.\n"
                     "Each run adds a row to the usage ledger (source \"cli\") that the desktop\n"
                     "app's Cost history page shows: tokens, times, energy, model and device.",
                     {"MODEL"},
                     {},
                     {{"--prompt", "-p", "PROMPT", "the text to continue"},
                      {"--prompt-file", "-f", "FILE", "read the prompt from FILE"},
                      {"--n-predict", "-n", "N", "tokens to generate (default 128)"},
                      {"--ctx", "-c", "N", "context length (default: the model's, at most 4096)"},
                      {"--ignore-eos", "", "", "keep generating past end-of-sequence"},
                      {"--no-echo", "", "", "do not print the prompt before the continuation"},
                      {"--draft", "", "DRAFT", "speculative decoding with this draft model"},
                      {"--draft-max", "", "N", "at most N draft tokens per step (default 8)"},
                      {"--self-speculative", "", "", "draft with the model's own first layers"},
                      {"--exit-layer", "", "K", "layers the self-draft runs (default: half)"},
                      {"--prompt-cache", "", "FILE", "restore/save the prompt's KV state in FILE"},
                      {"--early-exit", "", "P", "lossy: stop a token's pass at the first exit whose top probability >= P"}}};
    for (auto& o : samplingOptions())
        spec.options.push_back(o);
    for (auto& o : backendOptions())
        spec.options.push_back(o);
    for (auto& o : ledgerOptions())
        spec.options.push_back(o);
    return spec;
}

int runGenerate(const ParsedArgs& args)
{
    return runGenerateWith(args, {});
}

int runGenerateWith(const ParsedArgs& args, const GenerateHooks& hooks)
{
    std::string prompt;
    if (args.has("--prompt") && args.has("--prompt-file"))
        throw UsageError("give either -p or -f, not both");
    if (args.has("--prompt"))
        prompt = *args.get("--prompt");
    else if (args.has("--prompt-file"))
        prompt = readTextFile(*args.get("--prompt-file"));
    else
        throw UsageError("'generate' needs a prompt: -p PROMPT or -f FILE");

    GenerateOptions options;
    options.maxTokens = int(args.getInt("--n-predict", 128, 0, 1 << 24));
    options.sampling = samplingFromArgs(args);
    options.stopAtEndOfGeneration = !args.has("--ignore-eos");
    ContextParams cp;
    cp.nThreads = threadCount(args);

    // Opened first: a ledger that cannot be written fails before the model is loaded.
    std::unique_ptr<CliLedger> ledger = CliLedger::open(args, "cli");
    const std::shared_ptr<Model> model = loadModel(args.positional(0));
    cp.nCtx = contextFromArgs(args, *model);
    std::unique_ptr<Backend> backend = createBackend(args);
    std::unique_ptr<InferenceContext> ctx =
        hooks.makeContext ? hooks.makeContext(model, cp) : backend->createContext(model, cp);
    const std::string backendName = hooks.makeContext ? hooks.backendName : backend->name();
    std::unique_ptr<InferenceContext> draftCtx;
    if (const auto draftPath = args.get("--draft")) {
        const std::shared_ptr<Model> draftModel = loadModel(*draftPath);
        if (draftModel->hparams().nVocab != model->hparams().nVocab)
            throw InvalidArgument("the draft model " + *draftPath + " has a vocabulary of " +
                                  std::to_string(draftModel->hparams().nVocab) + " tokens, MODEL has " +
                                  std::to_string(model->hparams().nVocab));
        ContextParams dp = cp;
        dp.nCtx = ctx->contextSize();
        draftCtx = backend->createContext(draftModel, dp);
        options.draft.ctx = draftCtx.get();
        options.draft.maxDraft = int(args.getInt("--draft-max", 8, 1, 64));
    } else if (args.has("--self-speculative")) {
        const int layers = model->hparams().nLayer;
        // A calibrated file names its best exit (calibrate-exits); otherwise half the layers.
        int defaultExit = std::max(1, layers / 2);
        if (const GGUFFile* f = model->gguf())
            if (const auto v = f->getInt("tenfold.exit.default_layer"); v && *v >= 1 && int(*v) < layers)
                defaultExit = int(*v);
        options.draft.selfExitLayer = int(args.getInt("--exit-layer", defaultExit, 1, layers));
        options.draft.maxDraft = int(args.getInt("--draft-max", 8, 1, 64));
    } else if (args.has("--draft-max")) {
        throw UsageError("--draft-max needs --draft or --self-speculative");
    }
    if (args.has("--draft") && args.has("--self-speculative"))
        throw UsageError("give either --draft or --self-speculative, not both");
    if (args.has("--exit-layer") && !args.has("--self-speculative") && !args.has("--early-exit"))
        throw UsageError("--exit-layer needs --self-speculative or --early-exit");
    if (args.has("--early-exit")) {
        if (args.has("--draft") || args.has("--self-speculative"))
            throw UsageError("--early-exit cannot be combined with --draft or --self-speculative");
        const auto p = args.get("--early-exit");
        float threshold = 0;
        if (*p == "auto") {
            // The threshold calibrate-exits chose for this file.
            const GGUFFile* f = model->gguf();
            const auto chosen = f ? f->getFloat("tenfold.exit.default_threshold") : std::nullopt;
            if (!chosen)
                throw UsageError("--early-exit auto needs a file from calibrate-exits with a default threshold; "
                                 "give a probability instead");
            threshold = float(*chosen);
        } else {
            try {
                threshold = std::stof(*p);
            } catch (const std::exception&) {
                throw UsageError("--early-exit: '" + *p + "' is not a probability (or auto)");
            }
        }
        if (!(threshold > 0.0f && threshold <= 1.0f))
            throw UsageError("--early-exit: the threshold must be in (0, 1], got " + *p);
        const int layers = model->hparams().nLayer;
        options.earlyExit.threshold = threshold;
        if (args.has("--exit-layer")) {
            options.earlyExit.exits = {int(args.getInt("--exit-layer", layers / 2, 1, layers - 1))};
        } else {
            for (const ExitAdapter& a : model->exitAdapters())
                options.earlyExit.exits.push_back(a.layer);
            std::sort(options.earlyExit.exits.begin(), options.earlyExit.exits.end());
            if (options.earlyExit.exits.empty())
                options.earlyExit.exits = {std::max(1, layers / 2)};
        }
    }
    const std::vector<int32_t> tokens = model->tokenizer().encode(prompt, true);
    if (int(tokens.size()) > ctx->contextSize())
        throw InvalidArgument("the prompt is " + std::to_string(tokens.size()) +
                              " tokens but the context holds only " +
                              std::to_string(ctx->contextSize()) + " (use a larger --ctx)");

    // The prompt cache: the longest matching prefix comes from the file; only the rest is
    // computed. A draft model needs both caches empty at the start, so it goes without.
    int restored = 0;
    const auto cacheFile = args.get("--prompt-cache");
    if (cacheFile && (draftCtx || options.draft.selfExitLayer > 0))
        throw UsageError("--prompt-cache cannot be combined with --draft or --self-speculative");
    if (cacheFile) {
        std::string why;
        if (auto state = loadPromptState(*cacheFile, *model, cp.kvType, &why))
            restored = restorePromptState(*ctx, *state, tokens);
        else
            std::fprintf(stderr, "[prompt cache] not used: %s\n", why.c_str());
    }

    options.cancel = installInterruptHandler();
    if (!args.has("--no-echo")) {
        std::fwrite(prompt.data(), 1, prompt.size(), stdout);
        std::fflush(stdout);
    }
    if (ledger)
        ledger->describe(*model, args.positional(0), args, backendName, *ctx);
    const cost::EnergyMeter::Mark energyMark = ledger ? ledger->meter().start() : cost::EnergyMeter::Mark{};
    const auto started = std::chrono::steady_clock::now();
    const GenerationStats stats = generate(
        *ctx, *model, std::span<const int32_t>(tokens).subspan(size_t(restored)), options,
        [](int32_t, std::string_view text) {
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
            return true;
        });
    const double totalMs =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    std::printf("\n");
    std::fflush(stdout);
    if (ledger) {
        // Recorded even when interrupted: the tokens computed were paid for.
        LedgerEntry e = ledger->entry();
        e.tokensIn = stats.promptTokens + restored;
        e.tokensOut = stats.generatedTokens;
        e.timeToFirstTokenMs = stats.timeToFirstTokenMs;
        e.totalMs = totalMs;
        e.prefillTokens = stats.promptTokens;
        e.prefillMs = stats.promptMs;
        e.decodeTokens = stats.generatedTokens;
        e.decodeMs = stats.generateMs;
        e.reusedPromptTokens = restored;
        e.speculativeTokens = stats.acceptedDraftTokens;
        const cost::EnergyReading energy = ledger->meter().since(energyMark, ledger->onGpu());
        e.energyJoules = energy.joules;
        e.energySource = energy.source;
        ledger->record(e);
    }
    std::fprintf(stderr,
                 "\n[%s] prompt: %d tokens, %.1f ms (%.2f t/s) | generated: %d tokens, %.2f t/s | "
                 "first token after %.1f ms | stop: %s\n",
                 backendName.c_str(), stats.promptTokens, stats.promptMs,
                 stats.promptTokensPerSecond(), stats.generatedTokens,
                 stats.generatedTokensPerSecond(), stats.timeToFirstTokenMs,
                 stopReasonName(stats.stopReason));
    if (cacheFile) {
        std::fprintf(stderr, "[prompt cache] %d of %zu prompt tokens restored from %s\n", restored,
                     tokens.size(), cacheFile->c_str());
        if (stats.stopReason != StopReason::Cancelled && ctx->position() >= int(tokens.size()))
            savePromptState(*cacheFile, capturePromptState(*ctx, *model, cp.kvType, tokens));
    }
    if (stats.earlyExitPasses > 0)
        std::fprintf(stderr, "[early exit] %.2f of %d layers per generated token on average (threshold %.2f)\n",
                     double(stats.layersRun) / stats.earlyExitPasses, model->hparams().nLayer,
                     double(options.earlyExit.threshold));
    if (draftCtx || options.draft.selfExitLayer > 0)
        std::fprintf(stderr, "[draft] %d proposed, %d accepted (%.1f%%), %d target passes for %d tokens\n",
                     stats.draftedTokens, stats.acceptedDraftTokens, 100.0 * stats.acceptanceRate(),
                     stats.targetPasses, stats.generatedTokens);
    return stats.stopReason == StopReason::Cancelled ? kInterruptedExitCode : 0;
}

} // namespace tenfold::cli
