// export-standard IN OUT TYPE: a compressed model (low-rank factors, palettes) as the nearest
// standard GGUF, for other engines (engine/passes/export_standard.h).
#include "cli_common.h"
#include "commands.h"

#include "core/error.h"
#include "passes/export_standard.h"
#include "tensor/ggml_type.h"

#include <cstdio>
#include <filesystem>

namespace tenfold::cli {

CommandSpec exportStandardSpec()
{
    return {"export-standard",
            "IN OUT TYPE [--threads N]",
            "Multiplies low-rank factor pairs back out and decodes palette weights (the Tenfold\n"
            "extensions of docs/COMPRESSION.md), then writes every weight matrix as TYPE (round to\n"
            "nearest; rows that do not fit TYPE's block fall back as in quantize), so the file loads\n"
            "in other GGUF engines. The extension metadata is dropped.",
            {"IN", "OUT", "TYPE"},
            {},
            {{"--threads", "-t", "N", "CPU threads (default: all cores)"}}};
}

int runExportStandard(const ParsedArgs& args)
{
    const std::string in = args.positional(0), out = args.positional(1), typeArg = args.positional(2);
    const auto type = typeFromName(typeArg);
    if (!type || !typeTraits(*type).weightType)
        throw UsageError("'" + typeArg + "' is not a weight type (F32, F16, Q8_0, Q4_0, Q4_K, Q6_K, IQ4_NL, ...)");
    std::error_code ec;
    if (!std::filesystem::exists(filePath(in), ec))
        throw IoError("model file not found: " + in);
    const ExportReport r = exportStandard(filePath(in), filePath(out), *type, int(args.getInt("--threads", 0, 1, 1024)));
    std::printf("exported %s -> %s as %s: %d low-rank pairs multiplied out, %d palettes decoded\n", in.c_str(),
                out.c_str(), typeName(*type), r.factorisedMerged, r.palettesDecoded);
    std::printf("file: %s -> %s\n", formatBytes(r.fileBytesBefore).c_str(), formatBytes(r.fileBytesAfter).c_str());
    return 0;
}

} // namespace tenfold::cli
