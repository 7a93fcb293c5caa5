// quantize IN.gguf OUT.gguf TYPE|PRESET: into one type (see engine/passes/quantize_model.h for the
// per-tensor rule) or a preset's mix (engine/passes/quant_presets.h).
#include "cli_common.h"
#include "commands.h"

#include "core/error.h"
#include "model/model.h"
#include "passes/quant_presets.h"
#include "passes/quantize_recipe.h"
#include "tokenizer/tokenizer.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace tenfold::cli {

CommandSpec quantizeSpec()
{
    return {"quantize", "IN.gguf OUT.gguf TYPE|PRESET [--method rtn|imatrix|gptq] [--imatrix FILE] [-f CALIB] [--threads N]",
            "Quantization into a PRESET, the reference engine's mixes with the same per-tensor\n"
            "rules (more bits for attn_v, ffn_down, attn_output and the output projection):\n"
            "Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, Q8_0;\n"
            "or into one TYPE for every weight (as llama-quantize --pure): F32, F16, BF16,\n"
            "Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS. All\n"
            "metadata is kept; general.file_type is set. 1-D tensors (norms) stay F32. A 2-D\n"
            "tensor whose row length is not a multiple of TYPE's block falls back to a 32-block\n"
            "type of similar size: Q2_K/Q3_K -> IQ4_NL, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0,\n"
            "IQ4_XS -> IQ4_NL (then F16 if the row is not a multiple of 32 either). Output is\n"
            "streamed: memory stays small. IQ4_NL/IQ4_XS always search each block's scale,\n"
            "as the reference engine does without an importance matrix; --method imatrix and\n"
            "gptq do not apply to them yet (their tensors are reported without a method).\n"
            "Methods (all write standard blocks that any GGUF engine reads):\n"
            "  rtn      round to nearest (the default without --imatrix or -f)\n"
            "  imatrix  32-block types: each block's scale minimises the rounding error weighted\n"
            "           by the importance matrix (--imatrix FILE, or collected from -f CALIB)\n"
            "  gptq     32-block types: GPTQ, error feedback across columns with the Hessians of\n"
            "           -f CALIB (the default with -f); K-quants get round to nearest",
            {"IN.gguf", "OUT.gguf", "TYPE|PRESET"},
            {},
            {{"--threads", "-t", "N", "threads (default: all cores)"},
             {"--output-type", "", "T", "type for the output projection (output.weight, or the tied\n"
              "                            token_embd.weight); e.g. Q6_K as the reference engine's mixes"},
             {"--pure", "", "", "a preset's base type for every weight, without its per-tensor rules"},
             {"--method", "", "M", "rtn, imatrix or gptq (see above)"},
             {"--imatrix", "", "FILE", "importance matrix (tenfold-cli imatrix, or llama-imatrix's .dat)"},
             {"--file", "-f", "CALIB", "calibration text for imatrix/gptq statistics"},
             {"--chunks", "", "N", "calibration windows of 512 tokens to use (default: all)"},
             {"--target-size", "", "MB", "a budgeted mix: per-tensor types that fit MB (10^6 bytes) at the\n"
              "                            lowest measured KL divergence (needs -f CALIB; TYPE only labels the file)"},
             {"--probe-chunks", "", "N", "calibration windows per sensitivity measurement (default 4)"},
             {"--verbose", "-v", "", "print each tensor's type change"}}};
}

int runQuantize(const ParsedArgs& args)
{
    const std::string in = args.positional(0), out = args.positional(1), typeArg = args.positional(2);
    auto parseType = [](const std::string& name) {
        const auto type = typeFromName(name);
        if (!type || !typeTraits(*type).weightType)
            throw UsageError("'" + name + "' is not a weight type (F32, F16, BF16, Q8_0, Q4_0, "
                             "Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS)");
        return *type;
    };
    // A preset's name means its mix, as in llama-quantize; with --pure or a size budget, its base
    // type (the budget chooses every tensor's type itself).
    const QuantPreset* preset = findQuantPreset(typeArg);
    const bool usePreset = preset && !args.has("--pure") && !args.get("--target-size");
    const auto type = std::optional<GGMLType>(preset ? preset->base : parseType(typeArg));
    std::error_code ec;
    if (!std::filesystem::exists(filePath(in), ec))
        throw IoError("model file not found: " + in);
    QuantizeRecipe recipe;
    recipe.input = filePath(in);
    recipe.output = filePath(out);
    recipe.type = *type;
    if (usePreset)
        recipe.preset = preset->name;
    recipe.nThreads = int(args.getInt("--threads", 0, 1, 1024));
    if (const auto outputType = args.get("--output-type"))
        recipe.outputType = parseType(*outputType);
    const auto calib = args.get("--file");
    const auto imatrixPath = args.get("--imatrix");
    const std::string method = args.get("--method").value_or(calib ? "gptq" : imatrixPath ? "imatrix" : "rtn");
    if (method == "rtn")
        recipe.method = QuantMethod::Rtn;
    else if (method == "imatrix")
        recipe.method = QuantMethod::Imatrix;
    else if (method == "gptq")
        recipe.method = QuantMethod::Gptq;
    else
        throw UsageError("--method is rtn, imatrix or gptq, not '" + method + "'");
    if (imatrixPath)
        recipe.imatrixFile = filePath(*imatrixPath);
    if (recipe.method == QuantMethod::Imatrix && !imatrixPath && !calib)
        throw UsageError("--method imatrix needs --imatrix FILE or -f CALIB");
    if (recipe.method == QuantMethod::Gptq && !calib)
        throw UsageError("--method gptq needs -f CALIB (a calibration text)");
    if (const auto target = args.get("--target-size")) {
        char* end = nullptr;
        const double mb = std::strtod(target->c_str(), &end);
        if (!end || *end || !(mb > 0) || mb > 1e7)
            throw UsageError("--target-size takes a size in MB (10^6 bytes), e.g. 9.5; got '" + *target + "'");
        if (!calib)
            throw UsageError("--target-size needs -f CALIB (the sensitivities are measured on it)");
        recipe.targetBytes = uint64_t(mb * 1e6);
    }
    recipe.calibrationWindows = int(args.getInt("--chunks", 0, 0, 1 << 30));
    recipe.probeWindows = int(args.getInt("--probe-chunks", 4, 1, 1 << 20));

    std::vector<int32_t> tokens;
    if (calib && (recipe.method != QuantMethod::Rtn || recipe.targetBytes) &&
        !(recipe.method == QuantMethod::Imatrix && imatrixPath && !recipe.targetBytes)) {
        const std::shared_ptr<Model> model = loadModel(in);
        tokens = model->tokenizer().encode(readTextFile(*calib), true);
    }
    const auto t0 = std::chrono::steady_clock::now();
    const bool verbose = args.has("--verbose");
    auto stageStart = t0;
    RecipeStage last = RecipeStage::Calibrate;
    const RecipeResult result = runQuantizeRecipe(
        recipe, tokens,
        [&](RecipeStage stage, int done, int total) {
            const auto now = std::chrono::steady_clock::now();
            if (stage != last) {
                std::fprintf(stderr, "\n");
                last = stage;
                stageStart = now;
            }
            const double s = std::chrono::duration<double>(now - stageStart).count();
            const char* what = stage == RecipeStage::Calibrate ? "calibrating: window"
                               : stage == RecipeStage::Measure ? "measuring sensitivities:"
                                                               : "quantizing tensor";
            std::fprintf(stderr, "\r%s %d/%d, %.1f s", what, done, total, s);
            if (done > 0 && done < total)
                std::fprintf(stderr, ", about %.0f s left ", s * double(total - done) / double(done));
            std::fflush(stderr);
        },
        installInterruptHandler());
    const QuantizeReport& report = result.report;
    const double seconds = result.seconds;
    if (result.plan) {
        const BudgetPlan& plan = *result.plan;
        std::map<std::string, int> mix;
        for (const auto& [name, t] : plan.types)
            ++mix[typeName(t)];
        std::string line;
        for (const auto& [name, k] : mix)
            line += (line.empty() ? "" : ", ") + std::to_string(k) + " x " + name;
        std::fprintf(stderr, "\nplan for %s bytes (smallest possible %s): %s; predicted file %s bytes, "
                     "predicted KLD %.5f (sum of single-tensor losses)",
                     withThousands(recipe.targetBytes).c_str(), withThousands(plan.smallestFileBytes).c_str(),
                     line.c_str(), withThousands(plan.predictedFileBytes).c_str(), plan.predictedKld);
    }
    if (verbose)
        for (const QuantizedTensor& t : report.tensors)
            std::fprintf(stderr, "\n%s: %s -> %s (%s)", t.name.c_str(), typeName(t.from), typeName(t.to),
                         methodName(t.method));
    std::fprintf(stderr, "\n");
    std::map<std::string, int> counts;
    uint64_t before = 0, after = 0;
    for (const QuantizedTensor& t : report.tensors) {
        ++counts[std::string(typeName(t.to)) + (t.method == QuantMethod::Rtn ? "" : std::string(" (") + methodName(t.method) + ")")];
        before += t.bytesBefore;
        after += t.bytesAfter;
    }
    std::string mix;
    for (const auto& [name, n] : counts)
        mix += (mix.empty() ? "" : ", ") + std::to_string(n) + " x " + name;
    std::printf("quantized %s -> %s as %s in %.1f s\n", in.c_str(), out.c_str(),
                usePreset ? preset->name : typeName(*type), seconds);
    std::printf("tensors: %s\n", mix.c_str());
    std::printf("tensor data: %s -> %s (%.1f%%)\n", formatBytes(before).c_str(),
                formatBytes(after).c_str(), before ? 100.0 * double(after) / double(before) : 0.0);
    std::printf("file: %s (%s bytes) -> %s (%s bytes)\n", formatBytes(report.fileBytesBefore).c_str(),
                withThousands(report.fileBytesBefore).c_str(),
                formatBytes(report.fileBytesAfter).c_str(),
                withThousands(report.fileBytesAfter).c_str());
    return 0;
}

} // namespace tenfold::cli
