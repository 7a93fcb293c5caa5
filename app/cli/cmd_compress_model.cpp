// compress IN OUT (--low-rank --target-size MB | --palette BITS) [-f CALIB]: model compression
// (engine/passes/low_rank.h, palette.h). `compress` without --low-rank/--palette is the prompt
// compression of cmd_compress.cpp; runCompress hands the model form over to here.
#include "cli_common.h"
#include "commands.h"

#include "core/error.h"
#include "model/model.h"
#include "passes/gptq.h"
#include "passes/imatrix.h"
#include "passes/low_rank.h"
#include "passes/palette.h"
#include "tensor/ggml_type.h"
#include "tokenizer/tokenizer.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace tenfold::cli {
namespace {

GGMLType weightType(const std::string& option, const std::string& name)
{
    const auto type = typeFromName(name);
    if (!type || !typeTraits(*type).weightType)
        throw UsageError(option + ": '" + name + "' is not a weight type (F32, F16, Q8_0, Q4_0, Q5_0, IQ4_NL, ...)");
    return *type;
}

uint64_t targetBytes(const ParsedArgs& args)
{
    const auto target = args.get("--target-size");
    if (!target)
        throw UsageError("--low-rank needs --target-size MB (the output file's size)");
    char* end = nullptr;
    const double mb = std::strtod(target->c_str(), &end);
    if (!end || *end || !(mb > 0) || mb > 1e7)
        throw UsageError("--target-size takes a size in MB (10^6 bytes), e.g. 7.5; got '" + *target + "'");
    return uint64_t(mb * 1e6);
}

} // namespace

int runCompressModel(const ParsedArgs& args)
{
    if (args.positionals().size() < 2)
        throw UsageError("model compression needs IN and OUT: compress IN OUT (--low-rank --target-size MB | --palette BITS)");
    if (args.has("--low-rank") && args.has("--palette"))
        throw UsageError("give --low-rank or --palette, not both (run compress twice to combine them)");
    if (args.has("--prompt"))
        throw UsageError("-p is for prompt compression; model compression takes IN OUT");
    const std::string in = args.positional(0), out = args.positional(1);
    std::error_code ec;
    if (!std::filesystem::exists(filePath(in), ec))
        throw IoError("model file not found: " + in);
    const int nThreads = int(args.getInt("--threads", 0, 1, 1024));
    const auto calib = args.get("--prompt-file"); // -f: the calibration text here
    const int chunks = int(args.getInt("--chunks", 0, 0, 1 << 30));

    std::unique_ptr<HessianSet> hessians;
    auto collect = [&] {
        if (!calib)
            return;
        const std::shared_ptr<Model> model = loadModel(in);
        const std::vector<int32_t> tokens = model->tokenizer().encode(readTextFile(*calib), true);
        ImatrixOptions io;
        io.nCtx = int(args.getInt("--calib-ctx", 512, 16, 1 << 16));
        io.maxChunks = chunks;
        io.outputHead = args.has("--palette") && !args.has("--no-gptq");
        io.nThreads = nThreads;
        io.cancel = installInterruptHandler();
        const auto t0 = std::chrono::steady_clock::now();
        io.progress = [&](int done, int total) {
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::fprintf(stderr, "\rcalibrating: window %d/%d, %.1f s", done, total, s);
        };
        hessians = std::make_unique<HessianSet>(collectHessians(model, tokens, io));
        std::fprintf(stderr, "\n");
    };

    const auto t0 = std::chrono::steady_clock::now();
    if (args.has("--low-rank")) {
        LowRankOptions o;
        o.targetBytes = targetBytes(args);
        o.factorType = weightType("--factor-type", args.get("--factor-type").value_or("F16"));
        if (const auto t = args.get("--type"))
            o.denseType = weightType("--type", *t);
        o.rankStep = args.getInt("--rank-step", 32, 1, 1 << 20);
        o.nThreads = nThreads;
        collect();
        o.hessians = hessians.get();
        o.progress = [](int stage, size_t i, size_t n, const std::string& name) {
            std::fprintf(stderr, "\r%s %zu/%zu %-40s", stage == 0 ? "analysing" : "factorising", i + 1, n, name.c_str());
        };
        const LowRankReport r = lowRankCompress(filePath(in), filePath(out), o);
        std::fprintf(stderr, "\n");
        int factorised = 0;
        for (const LowRankChoice& c : r.choices) {
            if (c.rank > 0)
                ++factorised;
            if (args.has("--verbose"))
                std::fprintf(stderr, "%s: %s, relative whitened error %.4f, %llu bytes\n", c.name.c_str(),
                             c.rank > 0 ? ("rank " + std::to_string(c.rank)).c_str() : "dense", c.relativeError,
                             (unsigned long long)c.bytes);
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("low-rank %s -> %s in %.1f s (%s)\n", in.c_str(), out.c_str(), s,
                    hessians ? "activation-aware" : "plain SVD, no calibration text");
        std::printf("matrices: %d of %zu factorised\n", factorised, r.choices.size());
        std::printf("file: %s (%s bytes) -> %s (%s bytes); smallest reachable %s bytes\n",
                    formatBytes(r.fileBytesBefore).c_str(), withThousands(r.fileBytesBefore).c_str(),
                    formatBytes(r.fileBytesAfter).c_str(), withThousands(r.fileBytesAfter).c_str(),
                    withThousands(r.smallestBytes).c_str());
        return 0;
    }
    const PaletteTuneArgs tune = paletteTuneArgs(args, nThreads); // before any work, not after the file is written
    PaletteOptions o;
    o.bits = int(args.getInt("--palette", 4, 2, 4));
    if (const auto t = args.get("--type"))
        o.denseType = weightType("--type", *t);
    o.groupRows = args.getInt("--palette-rows", 0, 1, 1 << 30);
    o.embedding = args.has("--palette-embedding");
    o.rowScale = !args.has("--no-row-scale");
    o.gptq = !args.has("--no-gptq");
    if (const auto spec = args.get("--palette-bits")) { // NAME=BITS,NAME=BITS
        size_t at = 0;
        while (at <= spec->size()) {
            const size_t comma = std::min(spec->find(',', at), spec->size());
            const std::string item = spec->substr(at, comma - at);
            const size_t eq = item.find('=');
            if (eq == std::string::npos || eq == 0)
                throw UsageError("--palette-bits takes NAME=BITS[,NAME=BITS...], e.g. attn_k=2,attn_q=2; got '" + item + "'");
            char* end = nullptr;
            const long b = std::strtol(item.c_str() + eq + 1, &end, 10);
            if (!end || *end || b < 2 || b > 4)
                throw UsageError("--palette-bits: " + item + ": bits must be 2, 3 or 4");
            o.bitsFor.emplace_back(item.substr(0, eq), int(b));
            at = comma + 1;
        }
    }
    o.nThreads = nThreads;
    collect();
    o.hessians = hessians.get();
    o.progress = [](size_t i, size_t n, const std::string& name) {
        std::fprintf(stderr, "\rclustering %zu/%zu %-40s", i + 1, n, name.c_str());
    };
    const PaletteReport r = paletteCompress(filePath(in), filePath(out), o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "\n");
    std::printf("palette %s -> %s in %.1f s (%d-bit indices, %s)\n", in.c_str(), out.c_str(), s, o.bits,
                hessians ? "activation-weighted k-means" : "unweighted k-means, no calibration text");
    std::printf("matrices: %d with palettes\n", r.tensors);
    std::printf("file: %s (%s bytes) -> %s (%s bytes)\n", formatBytes(r.fileBytesBefore).c_str(),
                withThousands(r.fileBytesBefore).c_str(), formatBytes(r.fileBytesAfter).c_str(),
                withThousands(r.fileBytesAfter).c_str());
    if (tune.options.train.steps > 0) {
        try {
            runPaletteTuning(tune, out, in);
        } catch (...) {
            // Interrupted or failed: the untuned file is not what was asked for, so it goes.
            std::fprintf(stderr, "\n");
            std::error_code ec;
            std::filesystem::remove(filePath(out), ec);
            throw;
        }
    }
    return 0;
}

} // namespace tenfold::cli
