// calibrate-exits MODEL -f CALIB -o OUT.gguf: fits early-exit adapters for self-speculative
// decoding (passes/exit_adapters.h), prints how well each exit predicts the full model on
// held-out text with and without its adapter, and writes the model with the adapters.
#include "cli_common.h"
#include "commands.h"

#include "model/model.h"
#include "passes/exit_adapters.h"
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

namespace tenfold::cli {

CommandSpec calibrateExitsSpec()
{
    return {"calibrate-exits", "MODEL -f CALIB -o OUT.gguf [--layers K,K..] [--tokens N] [options]",
            "Fits, for each exit layer K, an affine adapter from the hidden state after K layers to\n"
            "the one after all of them (ridge least squares on CALIB's tokens), so that the final\n"
            "norm and output head applied after K layers agree more often with the full model.\n"
            "The last 10% of CALIB is held out: for each K the table shows the mean KL divergence\n"
            "from the full model and the top-token agreement, raw and adapted. OUT.gguf is MODEL\n"
            "plus the adapters (tensors tenfold.exit.K.weight/.bias) and the default exit layer:\n"
            "the K with the best agreement per layer run. `generate OUT.gguf --self-speculative`\n"
            "uses them, and `generate OUT.gguf --early-exit P` exits at them (lossy): the last\n"
            "table shows, per threshold P, the layers run per token, the KL divergence from the\n"
            "full model and the speed on held-out tokens. Other engines may refuse the extra\n"
            "tensors: keep MODEL for them.",
            {"MODEL"},
            {},
            {{"--file", "-f", "CALIB", "calibration text (required)"},
             {"--output", "-o", "OUT.gguf", "where to write the model with adapters (required)"},
             {"--layers", "", "K,K..", "exit layers to fit (default: a quarter, half and three quarters)"},
             {"--tokens", "", "N", "calibration tokens to use at most (default 16384)"},
             {"--threads", "-t", "N", "CPU threads (default: all cores)"}}};
}

int runCalibrateExits(const ParsedArgs& args)
{
    const auto calib = args.get("--file");
    const auto out = args.get("--output");
    if (!calib || !out)
        throw UsageError("calibrate-exits needs -f CALIB and -o OUT.gguf");
    const std::shared_ptr<Model> model = loadModel(args.positional(0));
    const int L = model->hparams().nLayer;
    std::vector<int> layers;
    if (const auto list = args.get("--layers")) {
        std::stringstream ss(*list);
        std::string item;
        while (std::getline(ss, item, ',')) {
            try {
                layers.push_back(std::stoi(item));
            } catch (const std::exception&) {
                throw UsageError("--layers: '" + item + "' is not a layer number");
            }
        }
    } else {
        for (int k : {L / 4, L / 2, 3 * L / 4})
            if (k >= 1 && k < L && std::find(layers.begin(), layers.end(), k) == layers.end())
                layers.push_back(k);
    }
    for (int k : layers)
        if (k < 1 || k >= L)
            throw UsageError("--layers: " + std::to_string(k) + " is outside 1.." + std::to_string(L - 1));
    const int maxTokens = int(args.getInt("--tokens", 16384, 64, 1 << 24));
    std::vector<int32_t> tokens = model->tokenizer().encode(readTextFile(*calib), true);
    if (int(tokens.size()) > maxTokens)
        tokens.resize(size_t(maxTokens));
    const size_t held = std::max<size_t>(tokens.size() / 10, 1);
    const std::span<const int32_t> fitPart(tokens.data(), tokens.size() - held);
    const std::span<const int32_t> evalPart(tokens.data() + fitPart.size(), held);

    ExitFitOptions o;
    o.layers = layers;
    o.threads = threadCount(args);
    const auto* cancel = installInterruptHandler();
    std::fprintf(stderr, "fitting %zu exit adapter(s) on %zu tokens, %zu held out\n", layers.size(), fitPart.size(),
                 evalPart.size());
    // The fit is the long part (minutes on a 1B model): progress with an estimate of the rest on
    // stderr; Ctrl-C cancels it before anything is written.
    const auto t0 = std::chrono::steady_clock::now();
    const auto progress = [t0](double done) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "\rfitting: %3.0f%%, %.0f s, about %.0f s left ", 100 * done, s,
                     done > 0 ? s * (1 - done) / done : 0.0);
        std::fflush(stderr);
    };
    const std::vector<ExitFit> fits = fitExitAdapters(model, fitPart, o, progress, cancel);
    std::fprintf(stderr, "\n");
    std::printf("%6s %12s %12s %12s %12s\n", "layer", "KL raw", "KL adapted", "top1 raw", "top1 adapted");
    int best = fits.front().layer;
    double bestScore = -1;
    for (const ExitFit& f : fits) {
        const ExitQuality raw = evaluateExit(model, evalPart, f.layer, nullptr, 256, o.threads);
        const ExitQuality fitted = evaluateExit(model, evalPart, f.layer, &f, 256, o.threads);
        std::printf("%6d %12.4f %12.4f %11.1f%% %11.1f%%\n", f.layer, raw.meanKl, fitted.meanKl,
                    100 * raw.top1Agreement, 100 * fitted.top1Agreement);
        // Tokens kept per layer computed, roughly what self-speculation gains per draft step.
        const double score = fitted.top1Agreement / (double(f.layer) / L);
        if (score > bestScore) {
            bestScore = score;
            best = f.layer;
        }
    }
    writeModelWithExitAdapters(*model, fits, best, filePath(*out));
    std::printf("wrote %s (default exit layer %d)\n", out->c_str(), best);

    // Lossy early exit with the new adapters: quality against compute, on held-out tokens.
    const std::shared_ptr<Model> adapted = loadModel(*out);
    std::vector<int> exits;
    for (const ExitFit& f : fits)
        exits.push_back(f.layer);
    std::sort(exits.begin(), exits.end());
    const auto sample = evalPart.first(std::min<size_t>(evalPart.size(), 256));
    std::printf("\nearly exit (--early-exit P) on %zu held-out tokens, exits at layers", sample.size());
    for (int k : exits)
        std::printf(" %d", k);
    std::printf(" of %d:\n%10s %14s %12s %10s %14s %14s\n", L, "threshold", "layers/token", "KL vs full", "top1",
                "tokens/s", "full tokens/s");
    // The default threshold: the cheapest (fewest layers) whose answers stay within kMaxKl nats of
    // the full model's on the held-out tokens.
    constexpr double kMaxKl = 0.1;
    float chosen = 0.0f;
    double chosenLayers = 0;
    for (float p : {0.3f, 0.5f, 0.7f, 0.9f, 0.99f}) {
        const EarlyExitQuality e = evaluateEarlyExit(adapted, sample, exits, p, o.threads);
        std::printf("%10.2f %14.2f %12.4f %9.1f%% %14.1f %14.1f\n", double(p), e.averageLayers, e.meanKl,
                    100 * e.top1Agreement, e.tokensPerSecond, e.fullTokensPerSecond);
        if (e.meanKl <= kMaxKl && (chosen == 0.0f || e.averageLayers < chosenLayers)) {
            chosen = p;
            chosenLayers = e.averageLayers;
        }
    }
    if (chosen > 0.0f) {
        writeModelWithExitAdapters(*model, fits, best, *out, chosen);
        std::printf("default early-exit threshold %.2f (KL <= %.2f; `generate --early-exit auto`)\n",
                    double(chosen), kMaxKl);
    } else {
        std::printf("no threshold keeps the KL divergence within %.2f: no default early-exit threshold\n", kMaxKl);
    }
    return 0;
}

} // namespace tenfold::cli
