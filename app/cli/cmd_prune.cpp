// prune IN.gguf OUT.gguf --method M: unstructured, N:M or structured pruning
// (engine/passes/prune.h). Recovery fine-tuning is a separate step on OUT.
#include "cli_common.h"
#include "commands.h"

#include "core/error.h"
#include "model/model.h"
#include "passes/prune.h"
#include "tokenizer/tokenizer.h"
#include "train/recovery.h"

#include <chrono>
#include <cstdio>
#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace tenfold::cli {

CommandSpec pruneSpec()
{
    return {"prune",
            "IN.gguf OUT.gguf --method magnitude|wanda|sparsegpt|2:4|heads|ffn|layers [--sparsity S] [-f CALIB] "
            "[--layer-sparsity LIST] [--nm N:M] [--layers-keep K] [--threads N]",
            "Pruning. Unstructured methods zero weights of the attention and FFN projections of\n"
            "every layer and keep the file's shapes and types (embeddings, output and norms are\n"
            "never touched; quantized tensors are dequantized, pruned and re-quantized):\n"
            "  magnitude  smallest |W| of each matrix\n"
            "  wanda      smallest |W_ij|*||X_j|| of each output row (needs -f CALIB)\n"
            "  sparsegpt  OBS reconstruction with the calibration Hessian (needs -f CALIB)\n"
            "             wanda and sparsegpt calibrate every layer on the dense model in one\n"
            "             pass; --sequential goes layer by layer, each layer calibrated on the\n"
            "             outputs of the layers already pruned (as the papers' code; n_layer passes)\n"
            "  2:4        N:M semi-structured (2 of every 4 inputs kept; --nm changes it) scored\n"
            "             by Wanda with -f CALIB, by magnitude without; --nm N:M also turns\n"
            "             magnitude/wanda/sparsegpt into N:M\n"
            "Structured methods write a smaller dense standard GGUF (all need -f CALIB):\n"
            "  heads      remove the same number of KV groups (a KV head and its query heads)\n"
            "             from every layer, the --sparsity fraction, ranked by their output norm\n"
            "  ffn        remove the --sparsity fraction of FFN channels of every layer\n"
            "  layers     remove whole layers, least block influence 1-cos(in, out) first\n"
            "             (--layers-keep K, or the --sparsity fraction removed)\n"
            "--recover-steps N then fine-tunes OUT in place with cross-entropy on --recover-text\n"
            "(default: -f), the pruned zeros kept at 0 for unstructured/N:M methods, dense for\n"
            "structured ones; OUT keeps the input's F16/F32 weight type (quantized inputs become\n"
            "F16). The held-out perplexity before and after recovery is printed.",
            {"IN.gguf", "OUT.gguf"},
            {},
            {{"--method", "-m", "M", "magnitude, wanda, sparsegpt, 2:4, heads, ffn or layers"},
             {"--sparsity", "-s", "S", "fraction removed, in [0, 1) (default 0.5)"},
             {"--file", "-f", "CALIB", "calibration text"},
             {"--layer-sparsity", "", "LIST", "unstructured: one sparsity per layer, comma-separated (overrides -s)"},
             {"--nm", "", "N:M", "keep N of every M consecutive weights of a row (e.g. 2:4)"},
             {"--sparsegpt-nm", "", "", "with 2:4: score by SparseGPT instead of Wanda"},
             {"--sequential", "", "", "wanda/sparsegpt: calibrate layer by layer on the pruned layers' outputs"},
             {"--layers-keep", "", "K", "layers: how many layers to keep"},
             {"--chunks", "", "N", "calibration windows of --ctx tokens (default 16; 0: all)"},
             {"--ctx", "", "N", "calibration window length (default 512)"},
             {"--threads", "-t", "N", "threads (default: all cores)"},
             {"--recover-steps", "", "N", "then fine-tune OUT for N steps (cross-entropy; pruned zeros stay 0)"},
             {"--recover-text", "", "TRAIN", "recovery text (default: the calibration text -f)"},
             {"--recover-lr", "", "LR", "recovery peak learning rate (default 1e-4)"},
             {"--recover-batch", "", "B", "recovery windows per step (default 4)"},
             {"--recover-ctx", "", "N", "recovery window length in tokens (default 128)"},
             {"--recover-valid-fraction", "", "F", "tail of TRAIN held out for the before/after perplexity (default 0.05)"},
             {"--recover-eval-windows", "", "N", "held-out windows scored (default: all)"}}};
}

namespace {

void parseNM(const std::string& s, PruneOptions& o)
{
    const size_t colon = s.find(':');
    char* e1 = nullptr;
    char* e2 = nullptr;
    const std::string a = s.substr(0, colon), b = colon == std::string::npos ? "" : s.substr(colon + 1);
    const long n = std::strtol(a.c_str(), &e1, 10), m = std::strtol(b.c_str(), &e2, 10);
    if (colon == std::string::npos || a.empty() || b.empty() || *e1 || *e2 || n < 1 || m < 2 || n >= m || m > 64)
        throw UsageError("--nm takes N:M with 1 <= N < M <= 64 (e.g. 2:4), got '" + s + "'");
    o.nmKeep = int(n);
    o.nmGroup = int(m);
}

// Recovery fine-tuning of the pruned OUT in place (train/recovery.h).
void runRecovery(const ParsedArgs& args, const std::string& out, const std::string& textPath,
                 bool maskZeros, int64_t steps, int threads)
{
    train::RecoveryOptions r;
    r.train.steps = steps;
    r.train.batch = int(args.getInt("--recover-batch", 4, 1, 4096));
    r.train.lr = args.getDouble("--recover-lr", 1e-4, 1e-12, 10);
    r.train.minLr = r.train.lr / 10;
    r.train.warmup = steps / 20;
    r.train.threads = threads > 0 ? threads : threadCount(args);
    r.train.evalEvery = 0; // before and after only
    r.train.evalWindows = int(args.getInt("--recover-eval-windows", 0, 0, 1 << 30));
    r.ctx = int(args.getInt("--recover-ctx", 128, 2, 1 << 16));
    r.validFraction = args.getDouble("--recover-valid-fraction", 0.05, 1e-6, 0.5);
    r.maskZeros = maskZeros;
    const std::string text = readTextFile(textPath);
    const int64_t every = std::max<int64_t>(1, steps / 20);
    const auto t0 = std::chrono::steady_clock::now();
    std::printf("recovery: %lld steps on %s (%s)\n", static_cast<long long>(steps), textPath.c_str(),
                maskZeros ? "pruned zeros stay 0" : "dense");
    std::fflush(stdout);
    const train::RecoveryReport rep = train::recoverPrunedModel(
        out, text, r,
        [&](const train::StepReport& s) {
            if (s.step % every != 0 && s.step != s.totalSteps)
                return;
            std::printf("step %lld/%lld  loss %.4f  lr %.2e  |g| %.3f  %.0f tok/s\n",
                        static_cast<long long>(s.step), static_cast<long long>(s.totalSteps), s.loss, s.lr,
                        s.gradNorm, s.tokensPerSecond);
            std::fflush(stdout);
        },
        installInterruptHandler());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (maskZeros)
        std::printf("recovery mask: %zu of %zu weights stay 0\n", rep.maskedWeights, rep.parameters);
    std::printf("held-out perplexity (%d windows of %d tokens): before recovery %.4f (loss %.4f), after "
                "%.4f (loss %.4f)\n",
                rep.validWindows, r.ctx, rep.valPerplexityBefore, rep.valLossBefore, rep.valPerplexityAfter,
                rep.valLossAfter);
    std::printf("recovered %lld steps in %.1f s; %s; rewrote %s\n", static_cast<long long>(rep.train.steps),
                seconds, rep.typeNote.c_str(), out.c_str());
}

} // namespace

int runPrune(const ParsedArgs& args)
{
    const std::string in = args.positional(0), out = args.positional(1);
    const auto methodArg = args.get("--method");
    if (!methodArg)
        throw UsageError("prune needs --method (magnitude, wanda, sparsegpt, 2:4, heads, ffn or layers)");
    PruneOptions o;
    const auto calib = args.get("--file");
    if (const auto nm = args.get("--nm"))
        parseNM(*nm, o);
    if (methodArg->find(':') != std::string::npos) { // "2:4" (or any N:M); --nm, when given, wins
        if (!args.get("--nm"))
            parseNM(*methodArg, o);
        o.method = args.has("--sparsegpt-nm") ? PruneMethod::SparseGpt : calib ? PruneMethod::Wanda : PruneMethod::Magnitude;
    } else {
        try {
            o.method = parsePruneMethod(*methodArg);
        } catch (const InvalidArgument& e) {
            throw UsageError(std::string(e.what()) + ", or N:M such as 2:4");
        }
    }
    if (const auto s = args.get("--sparsity")) {
        char* end = nullptr;
        const double v = std::strtod(s->c_str(), &end);
        if (s->empty() || !end || *end || !(v >= 0.0 && v < 1.0))
            throw UsageError("--sparsity must be a number in [0, 1) (the fraction removed), got '" + *s + "'");
        o.sparsity = v;
    }
    if (const auto list = args.get("--layer-sparsity")) {
        if (pruneMethodIsStructured(o.method) || o.nmGroup > 0)
            throw UsageError("--layer-sparsity applies to unstructured magnitude, wanda and sparsegpt only");
        size_t at = 0;
        while (at <= list->size()) {
            const size_t comma = std::min(list->find(',', at), list->size());
            const std::string item = list->substr(at, comma - at);
            char* end = nullptr;
            const double v = std::strtod(item.c_str(), &end);
            if (item.empty() || !end || *end || !(v >= 0.0 && v < 1.0))
                throw UsageError("--layer-sparsity item " + std::to_string(o.layerSparsity.size()) +
                                 " must be a number in [0, 1), got '" + item + "'");
            o.layerSparsity.push_back(v);
            at = comma + 1;
        }
    }
    if (o.nmGroup > 0 && args.get("--sparsity"))
        throw UsageError("--sparsity does not apply to N:M pruning (its sparsity is 1 - N/M)");
    if (o.nmGroup > 0 && (o.method == PruneMethod::Heads || o.method == PruneMethod::Ffn || o.method == PruneMethod::Layers))
        throw UsageError("--nm applies to magnitude, wanda and sparsegpt only");
    if (args.get("--layers-keep")) {
        if (o.method != PruneMethod::Layers)
            throw UsageError("--layers-keep applies to --method layers only");
        o.layersKeep = int(args.getInt("--layers-keep", 0, 1, 1 << 20));
    }
    o.sequential = args.has("--sequential");
    if (o.sequential && o.method != PruneMethod::Wanda && o.method != PruneMethod::SparseGpt)
        throw UsageError(std::string("--sequential applies to wanda and sparsegpt, not to ") + pruneMethodName(o.method));
    o.calibWindows = int(args.getInt("--chunks", 16, 0, 1 << 30));
    o.calibCtx = int(args.getInt("--ctx", 512, 2, 1 << 20));
    o.nThreads = int(args.getInt("--threads", 0, 1, 1024));
    const bool needsCalib = pruneMethodNeedsCalibration(o.method);
    if (needsCalib && !calib)
        throw UsageError(std::string("--method ") + pruneMethodName(o.method) + " needs -f CALIB (a calibration text)");
    const int64_t recoverSteps = args.getInt("--recover-steps", 0, 0, 100000000);
    std::optional<std::string> recoverText = args.get("--recover-text");
    if (!recoverText)
        recoverText = calib;
    if (recoverSteps > 0 && !recoverText)
        throw UsageError("--recover-steps needs a training text: --recover-text TRAIN or -f CALIB");
    if (recoverSteps == 0)
        for (const char* opt : {"--recover-text", "--recover-lr", "--recover-batch", "--recover-ctx",
                                "--recover-valid-fraction", "--recover-eval-windows"})
            if (args.get(opt))
                throw UsageError(std::string(opt) + " needs --recover-steps N");
    std::error_code ec;
    if (!std::filesystem::exists(filePath(in), ec))
        throw IoError("model file not found: " + in);

    std::vector<int32_t> tokens;
    if (calib && needsCalib) {
        const std::shared_ptr<Model> model = loadModel(in);
        tokens = model->tokenizer().encode(readTextFile(*calib), true);
    }
    o.cancel = installInterruptHandler();
    const auto t0 = std::chrono::steady_clock::now();
    std::string lastStage;
    o.progress = [&](const std::string& stage, int done, int total) {
        if (stage != lastStage) {
            if (!lastStage.empty())
                std::fprintf(stderr, "\n");
            lastStage = stage;
        }
        std::fprintf(stderr, "\r%s %d/%d, %.1f s", stage.c_str(), done, total,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        std::fflush(stderr);
    };
    const PruneReport report = pruneModel(filePath(in), filePath(out), tokens, o);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "\n");
    std::printf("pruned %s -> %s by %s%s in %.1f s\n", in.c_str(), out.c_str(), pruneMethodName(o.method),
                o.nmGroup ? (" " + std::to_string(o.nmKeep) + ":" + std::to_string(o.nmGroup)).c_str() : "", seconds);
    std::fputs(report.summary().c_str(), stdout);
    std::printf("output: %s\n", formatBytes(report.bytesAfter).c_str());
    if (recoverSteps > 0)
        runRecovery(args, out, *recoverText, !pruneMethodIsStructured(o.method), recoverSteps, o.nThreads);
    return 0;
}

} // namespace tenfold::cli
