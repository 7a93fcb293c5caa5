// perplexity MODEL -f TEXT: the reference method (engine/runtime/perplexity.h), optionally with
// the KL divergence from a base model's predictions.
#include "cli_common.h"
#include "commands.h"

#include "core/error.h"
#include "model/model.h"
#include "runtime/perplexity.h"
#include "tokenizer/tokenizer.h"

#include <chrono>
#include <cstdio>

namespace tenfold::cli {

CommandSpec perplexitySpec()
{
    CommandSpec spec{
        "perplexity", "MODEL -f TEXT [--ctx 512] [--chunks N] [--kl-base BASE.gguf] [options]",
        "The usual method: the whole file is tokenized once with a leading BOS and cut into\n"
        "consecutive chunks of --ctx tokens (a final partial chunk is dropped). Each chunk is\n"
        "evaluated from an empty KV cache with its first token replaced by BOS, and only the\n"
        "second half of each window is scored (the predictions from positions ctx/2 .. ctx-2),\n"
        "so every scored token sees at least ctx/2 tokens of context. PPL = exp(mean NLL),\n"
        "reported with its standard error.\n"
        "With --kl-base, BASE (e.g. the F16 model) runs over the same chunks and the mean KL\n"
        "divergence of MODEL's next-token distribution from BASE's is reported, with its 99th\n"
        "percentile and how often both pick the same top token.",
        {"MODEL"},
        {},
        {{"--file", "-f", "TEXT", "the text to score (required)"},
         {"--ctx", "-c", "N", "window length (default 512)"},
         {"--chunks", "", "N", "score only the first N chunks (default: all)"},
         {"--kl-base", "", "BASE.gguf", "also compute KL divergence from this model"}}};
    for (auto& o : backendOptions())
        spec.options.push_back(o);
    return spec;
}

namespace {

void printPerplexity(const char* label, const PerplexityResult& r)
{
    std::printf("%s: PPL = %.4f +/- %.4f (mean NLL %.5f +/- %.5f over %lld predictions in %d chunks)\n",
                label, r.ppl, r.pplStderr, r.meanNll, r.nllStderr,
                static_cast<long long>(r.predictions), r.chunks);
}

} // namespace

int runPerplexity(const ParsedArgs& args)
{
    const auto textPath = args.get("--file");
    if (!textPath)
        throw UsageError("'perplexity' needs -f TEXT");
    PerplexityOptions options;
    options.nCtx = int(args.getInt("--ctx", 512, 4, 1 << 20));
    options.maxChunks = int(args.getInt("--chunks", 0, 0, 1 << 30));

    const std::shared_ptr<Model> model = loadModel(args.positional(0));
    std::shared_ptr<Model> base;
    if (const auto basePath = args.get("--kl-base")) {
        base = loadModel(*basePath);
        if (base->hparams().nVocab != model->hparams().nVocab)
            throw InvalidArgument("--kl-base model has a vocabulary of " +
                                  std::to_string(base->hparams().nVocab) + " tokens, MODEL has " +
                                  std::to_string(model->hparams().nVocab));
    }
    const std::string text = readTextFile(*textPath);
    const std::vector<int32_t> tokens = model->tokenizer().encode(text, true);
    // Only a model that starts its sequences with BOS gets each window's first token replaced.
    const Tokenizer& tokenizer = model->tokenizer();
    options.bos = tokenizer.addBos() && tokenizer.bos() >= 0 ? tokenizer.bos() : -1;
    const int total = perplexityChunks(int64_t(tokens.size()), options);
    if (total < 1)
        throw InvalidArgument(*textPath + " has " + std::to_string(tokens.size()) +
                              " tokens: not one full window of " + std::to_string(options.nCtx));

    std::unique_ptr<Backend> backend = createBackend(args);
    ContextParams cp;
    cp.nCtx = options.nCtx;
    cp.nThreads = threadCount(args);
    std::unique_ptr<InferenceContext> ctx = backend->createContext(model, cp);
    std::fprintf(stderr, "%s: %zu tokens, %d chunks of %d, scoring positions %d..%d, on %s\n",
                 textPath->c_str(), tokens.size(), total, options.nCtx, options.nCtx / 2,
                 options.nCtx - 2, backend->name().c_str());
    options.cancel = installInterruptHandler(); // Cancelled reaches main: exit code 130
    const auto t0 = std::chrono::steady_clock::now();
    options.progress = [t0](int done, int all) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "\r[%d/%d] %.1f s", done, all, s);
        std::fflush(stderr);
    };

    if (!base) {
        const PerplexityResult r = perplexity(*ctx, tokens, options);
        std::fprintf(stderr, "\n");
        printPerplexity("model", r);
        return 0;
    }
    std::unique_ptr<Backend> baseBackend = createBackend(args);
    std::unique_ptr<InferenceContext> baseCtx = baseBackend->createContext(base, cp);
    const KlDivergenceResult r = klDivergence(*baseCtx, *ctx, tokens, options);
    std::fprintf(stderr, "\n");
    printPerplexity("base ", r.base);
    printPerplexity("model", r.test);
    std::printf("KL divergence: mean %.6f +/- %.2g, 99th percentile %.6f, same top token %.3f%%\n",
                r.meanKld, r.kldStderr, r.kld99, r.sameTopPct);
    return 0;
}

} // namespace tenfold::cli
