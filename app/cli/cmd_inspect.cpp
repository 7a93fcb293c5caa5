// inspect MODEL: what a GGUF file holds and what running it costs.
#include "cli_common.h"
#include "commands.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"

#include <cstdio>

namespace tenfold::cli {

CommandSpec inspectSpec()
{
    return {"inspect", "MODEL [--ctx N]",
            "Prints the file's metadata (long arrays such as the vocabulary elided), every tensor\n"
            "(name, type, dimensions, bytes), the parameter count, the weight bytes and the memory\n"
            "a run with the given context needs: weights + an F16 KV cache.",
            {"MODEL"},
            {},
            {{"--ctx", "-c", "N", "context length for the memory estimate (default: the model's)"}}};
}

int runInspect(const ParsedArgs& args)
{
    const std::string path = args.positional(0);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw IoError("model file not found: " + path);
    const std::shared_ptr<GGUFFile> file = GGUFFile::open(path);

    std::printf("file: %s\n", path.c_str());
    std::printf("format: GGUF v%u, %s, alignment %llu\n", file->version(),
                formatBytes(file->fileSize()).c_str(),
                static_cast<unsigned long long>(file->alignment()));
    std::printf("\nmetadata (%zu keys):\n", file->metadata().size());
    for (const auto& [key, value] : file->metadata())
        std::printf("  %-40s %s\n", key.c_str(), value.describe(8).c_str());

    std::printf("\ntensors (%zu):\n", file->tensors().size());
    std::printf("  %-32s %-6s %-22s %14s\n", "name", "type", "dims", "bytes");
    uint64_t parameters = 0, weightBytes = 0;
    for (const GGUFTensorInfo& t : file->tensors()) {
        std::string dims;
        for (size_t i = 0; i < t.ne.size(); ++i)
            dims += (i ? " x " : "") + std::to_string(t.ne[i]);
        std::printf("  %-32s %-6s %-22s %14s\n", t.name.c_str(), typeName(t.type), dims.c_str(),
                    withThousands(t.nbytes).c_str());
        parameters += uint64_t(t.elementCount());
        weightBytes += t.nbytes;
    }
    std::printf("\nparameters: %s\n", withThousands(parameters).c_str());
    std::printf("weight bytes: %s (%s)\n", withThousands(weightBytes).c_str(),
                formatBytes(weightBytes).c_str());

    // The memory estimate needs the hyperparameters; a file this build cannot run still inspects.
    try {
        const std::shared_ptr<Model> model = Model::loadGGUF(file);
        const int trainCtx = model->hparams().nCtxTrain;
        const int ctx = int(args.getInt("--ctx", trainCtx > 0 ? trainCtx : 2048, 1, 1 << 24));
        const uint64_t kv = model->kvCacheBytes(ctx, GGMLType::F16);
        std::printf("memory for --ctx %d: weights %s + KV cache (F16) %s = %s\n", ctx,
                    formatBytes(model->weightBytes()).c_str(), formatBytes(kv).c_str(),
                    formatBytes(model->weightBytes() + kv).c_str());
    } catch (const UsageError&) {
        throw;
    } catch (const Error& e) {
        std::printf("memory estimate unavailable: %s\n", e.what());
    }
    return 0;
}

} // namespace tenfold::cli
