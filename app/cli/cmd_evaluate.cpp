// evaluate MODEL --base BASE -f TEXT: the evaluation harness (engine/eval/evaluate.h) — quality
// against a base model, size and speed in one report, optionally recorded in the database.
#include "cli_common.h"
#include "commands.h"

#include "core/error.h"
#include "core/fnv.h"
#include "core/json_writer.h"
#include "eval/evaluate.h"
#include "model/model.h"
#if TENFOLD_HAVE_STORE
#include "store/store.h"
#endif

#include <chrono>
#include <cstdio>
#include <optional>

namespace tenfold::cli {

CommandSpec evaluateSpec()
{
    CommandSpec spec{
        "evaluate", "MODEL --base BASE.gguf -f TEXT [--ctx 512] [--chunks N] [--json] [options]",
        "Measures MODEL against BASE (e.g. a quantized file against its F16 original) on TEXT with\n"
        "the perplexity method (see 'perplexity --help'): perplexity of both, the KL divergence\n"
        "of MODEL's next-token distribution from BASE's (mean, median, 99th percentile), how often\n"
        "both pick the same top token, file size, bits per weight, prompt-processing speed over\n"
        "the evaluation windows and greedy decode speed (64 tokens).\n"
        "BASE's distributions are cached in --cache-dir (default $XDG_CACHE_HOME/tenfold/eval or\n"
        "~/.cache/tenfold/eval), keyed by its weights, the text and the windows, so evaluating more\n"
        "variants against the same base runs the base only once. They are kept whole (16-bit codes\n"
        "above 1024 tokens: 2 bytes per token per scored position, 500 MB for ref-main on 120\n"
        "windows), so the KL divergence is exact. --top-k K keeps only BASE's K most likely\n"
        "tokens plus the rest as one outcome: a much smaller cache, but a lower bound of the KL\n"
        "divergence that can be far below it (23% for ref-main's Q4_0 at K = 64).\n"
        "With --db FILE the run is recorded in that Tenfold database (optimization_runs).",
        {"MODEL"},
        {},
        {{"--base", "", "BASE.gguf", "the model to compare against (required)"},
         {"--file", "-f", "TEXT", "the text to evaluate on (required)"},
         {"--ctx", "-c", "N", "window length (default 512)"},
         {"--chunks", "", "N", "use only the first N windows (default: all)"},
         {"--top-k", "", "K", "keep only BASE's top K tokens per position (a lower bound)"},
         {"--cache-dir", "", "DIR", "where base distributions are cached"},
         {"--no-cache", "", "", "neither read nor write the cache"},
         {"--db", "", "FILE", "record the run in this database (e.g. the app's tenfold.db)"},
         {"--json", "", "", "print the report as one JSON object"}}};
    for (auto& o : backendOptions())
        spec.options.push_back(o);
    return spec;
}

namespace {

std::filesystem::path defaultEvalCacheDir()
{
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        return std::filesystem::path(xdg) / "tenfold" / "eval";
    if (const char* home = std::getenv("HOME"); home && *home)
        return std::filesystem::path(home) / ".cache" / "tenfold" / "eval";
    return {};
}

void printReport(const EvalReport& r)
{
    std::printf("model:  %s\nbase:   %s\n", r.modelPath.c_str(), r.basePath.c_str());
    std::printf("text:   %d windows of %d, %s scored predictions\n", r.chunks, r.nCtx,
                withThousands(uint64_t(r.predictions)).c_str());
    std::printf("\nquality\n");
    std::printf("  perplexity       %10.4f +/- %.4f   (base %.4f +/- %.4f, %+.3f%%)\n", r.test.ppl,
                r.test.pplStderr, r.base.ppl, r.base.pplStderr, 100.0 * (r.test.ppl / r.base.ppl - 1.0));
    std::printf("  KL divergence    %10.6f +/- %.6f   %s\n", r.meanKld, r.kldStderr,
                r.kldExact ? "" : ("(base top " + std::to_string(r.topK) + " + rest: a lower bound)").c_str());
    std::printf("    median         %10.6f\n    99th percentile%10.6f\n", r.kldMedian, r.kld99);
    std::printf("  same top token   %9.3f%%\n", r.sameTopPct);
    std::printf("\nsize\n");
    std::printf("  file             %s (%s bytes)\n", formatBytes(r.fileBytes).c_str(),
                withThousands(r.fileBytes).c_str());
    std::printf("  bits per weight  %10.4f   (%s bytes of tensors, %s parameters)\n", r.bitsPerWeight,
                withThousands(r.tensorBytes).c_str(), withThousands(r.parameters).c_str());
    std::printf("\nspeed on %s\n", r.backend.c_str());
    std::printf("  prefill          %10.1f tokens/s (windows of %d)\n", r.prefillTokensPerSecond, r.nCtx);
    if (r.decodeTokens > 0)
        std::printf("  decode           %10.1f tokens/s (%d greedy tokens)\n", r.decodeTokensPerSecond, r.decodeTokens);
    const std::string where = r.baseFromCache     ? "read from " + r.cacheFile
                              : r.cacheFile.empty() ? std::string("computed (not cached)")
                                                    : "computed and cached in " + r.cacheFile;
    std::printf("\nbase distributions (%s, %s): %s\n", r.baseFormat.c_str(),
                formatBytes(r.cacheBytes).c_str(), where.c_str());
    std::printf("time: %.1f s (base %.1f s, model windows %.1f s)\n", r.seconds, r.baseSeconds, r.modelSeconds);
}

} // namespace

int runEvaluate(const ParsedArgs& args)
{
    const auto basePath = args.get("--base");
    if (!basePath)
        throw UsageError("'evaluate' needs --base BASE.gguf");
    const auto textPath = args.get("--file");
    if (!textPath)
        throw UsageError("'evaluate' needs -f TEXT");
    if (args.has("--no-cache") && args.has("--cache-dir"))
        throw UsageError("--no-cache and --cache-dir exclude each other");
    EvalOptions options;
    options.nCtx = int(args.getInt("--ctx", 512, 4, 1 << 20));
    options.maxChunks = int(args.getInt("--chunks", 0, 0, 1 << 30));
    options.topK = int(args.getInt("--top-k", 0, 1, 1 << 20));
    options.nThreads = threadCount(args);
    if (!args.has("--no-cache"))
        options.cacheDir = args.has("--cache-dir") ? std::filesystem::path(*args.get("--cache-dir"))
                                                   : defaultEvalCacheDir();

    const std::string modelPath = args.positional(0);
    const std::shared_ptr<Model> model = loadModel(modelPath);
    const std::shared_ptr<Model> base = loadModel(*basePath);
    if (base->hparams().nVocab != model->hparams().nVocab)
        throw InvalidArgument("MODEL has a vocabulary of " + std::to_string(model->hparams().nVocab) +
                              " tokens and --base " + *basePath + " one of " +
                              std::to_string(base->hparams().nVocab) +
                              ": they must share the vocabulary to be compared");
    // Opened first, so that an unusable database fails before the minutes of evaluation.
#if TENFOLD_HAVE_STORE
    std::optional<Store> store;
    if (const auto db = args.get("--db"))
        store.emplace(Store::openFile(*db));
#else
    if (args.has("--db"))
        throw UnsupportedError("--db: this tenfold-cli was built without SQLite (TENFOLD_WITH_STORE=OFF), "
                               "so it cannot record runs in a database");
#endif

    const std::string text = readTextFile(*textPath);
    const std::vector<int32_t> tokens = evaluationTokens(*base, text);
    const int64_t available = int64_t(tokens.size()) / options.nCtx;
    if (available < 1)
        throw InvalidArgument(*textPath + " has " + std::to_string(tokens.size()) +
                              " tokens; evaluate needs at least " + std::to_string(options.nCtx) +
                              " (one window of --ctx " + std::to_string(options.nCtx) +
                              "): use a longer text or a smaller --ctx");
    if (options.maxChunks > available)
        std::fprintf(stderr, "note: %s holds only %lld windows of %d (%d asked; %lld tokens needed)\n",
                     textPath->c_str(), static_cast<long long>(available), options.nCtx, options.maxChunks,
                     static_cast<long long>(options.maxChunks) * options.nCtx);

    std::unique_ptr<Backend> backend = createBackend(args);
    options.backend = backend.get();
    options.cancel = installInterruptHandler(); // Cancelled reaches main: exit code 130
    const auto t0 = std::chrono::steady_clock::now();
    options.progress = [t0](int done, int total) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "\rwindow %d/%d, %.0f s, about %.0f s left ", done, total, s,
                     done > 0 ? s * double(total - done) / double(done) : 0.0);
        std::fflush(stderr);
    };

#if TENFOLD_HAVE_STORE
    OptimizationRun run;
    run.method = "evaluate";
    run.inputModelHash = hex64(base->fingerprint());
    run.inputPath = *basePath;
    run.outputPath = modelPath;
    run.outputHash = hex64(model->fingerprint());
    run.parametersJson = JsonObject()
                             .text("text", *textPath)
                             .integer("ctx", options.nCtx)
                             .integer("chunks", options.maxChunks)
                             .integer("top_k", options.topK)
                             .text("backend", backend->name())
                             .str();
#endif
    EvalReport report;
    try {
        report = evaluateModel(model, base, tokens, options);
    } catch (const Error& e) {
#if TENFOLD_HAVE_STORE
        // A failed or cancelled run is recorded too, so the history shows it; then it goes on to main.
        if (store) {
            run.status = dynamic_cast<const Cancelled*>(&e) ? "cancelled" : "failed";
            run.reportJson = JsonObject().text("error", e.what()).str();
            run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            store->recordOptimizationRun(run);
        }
#endif
        throw;
    }
    std::fprintf(stderr, "\n");
    if (!report.cacheNote.empty() && !report.baseFromCache && !report.cacheFile.empty())
        std::fprintf(stderr, "note: base distributions not cached: %s\n", report.cacheNote.c_str());
    report.modelPath = modelPath;
    report.basePath = *basePath;
    if (args.has("--json"))
        std::printf("%s\n", evalReportJson(report).c_str());
    else
        printReport(report);
#if TENFOLD_HAVE_STORE
    if (store) {
        run.outputBytes = int64_t(report.fileBytes);
        run.reportJson = evalReportJson(report);
        run.seconds = report.seconds;
        const int64_t id = store->recordOptimizationRun(run);
        std::fprintf(stderr, "recorded as run %lld in %s\n", static_cast<long long>(id),
                     store->databasePath().string().c_str());
    }
#endif
    return 0;
}

} // namespace tenfold::cli
