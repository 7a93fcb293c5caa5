// quantize IN.gguf OUT.gguf TYPE: round-to-nearest into one type (see engine/passes/quantize_model.h
// for the per-tensor rule).
#include "cli_common.h"
#include "commands.h"

#include "core/error.h"
#include "passes/quantize_model.h"

#include <chrono>
#include <cstdio>
#include <map>

namespace tenfold::cli {

CommandSpec quantizeSpec()
{
    return {"quantize", "IN.gguf OUT.gguf TYPE [--threads N] [--verbose]",
            "Round-to-nearest quantization (no importance matrix) into TYPE: F32, F16, BF16,\n"
            "Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K. All metadata is kept;\n"
            "general.file_type is set. 1-D tensors (norms) stay F32. A 2-D tensor whose row\n"
            "length is not a multiple of TYPE's block falls back to a 32-block type of similar\n"
            "size: Q2_K/Q3_K -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0 (then F16 if\n"
            "the row is not a multiple of 32 either). Output is streamed: memory stays small.",
            {"IN.gguf", "OUT.gguf", "TYPE"},
            {},
            {{"--threads", "-t", "N", "threads (default: all cores)"},
             {"--output-type", "", "T", "type for the output projection (output.weight, or the tied\n"
              "                            token_embd.weight); e.g. Q6_K as the reference engine's mixes"},
             {"--verbose", "-v", "", "print each tensor's type change"}}};
}

int runQuantize(const ParsedArgs& args)
{
    const std::string in = args.positional(0), out = args.positional(1), typeArg = args.positional(2);
    auto parseType = [](const std::string& name) {
        const auto type = typeFromName(name);
        if (!type || !typeTraits(*type).weightType)
            throw UsageError("'" + name + "' is not a weight type (F32, F16, BF16, Q8_0, Q4_0, "
                             "Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)");
        return *type;
    };
    const auto type = std::optional<GGMLType>(parseType(typeArg));
    std::error_code ec;
    if (!std::filesystem::exists(in, ec))
        throw IoError("model file not found: " + in);
    QuantizeOptions options;
    options.target = *type;
    options.nThreads = int(args.getInt("--threads", 0, 1, 1024));
    if (const auto outputType = args.get("--output-type"))
        options.outputType = parseType(*outputType);
    const bool verbose = args.has("--verbose");
    options.onTensor = [verbose](size_t i, size_t n, const std::string& name, GGMLType to) {
        if (verbose)
            std::fprintf(stderr, "[%zu/%zu] %s -> %s\n", i + 1, n, name.c_str(), typeName(to));
    };
    const auto t0 = std::chrono::steady_clock::now();
    const QuantizeReport report = quantizeModel(in, out, options);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::map<std::string, int> counts;
    uint64_t before = 0, after = 0;
    for (const QuantizedTensor& t : report.tensors) {
        ++counts[typeName(t.to)];
        before += t.bytesBefore;
        after += t.bytesAfter;
    }
    std::string mix;
    for (const auto& [name, n] : counts)
        mix += (mix.empty() ? "" : ", ") + std::to_string(n) + " x " + name;
    std::printf("quantized %s -> %s as %s in %.1f s\n", in.c_str(), out.c_str(), typeName(*type),
                seconds);
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
