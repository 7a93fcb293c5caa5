// convert IN.bin TOKENIZER.bin -o OUT.gguf: llama2.c checkpoint to GGUF.
#include "cli_common.h"
#include "commands.h"

#include "core/error.h"
#include "model/model.h"

#include <cstdio>

namespace tenfold::cli {

CommandSpec convertSpec()
{
    return {"convert", "CHECKPOINT.bin TOKENIZER.bin -o OUT.gguf",
            "Converts a llama2.c checkpoint (shared or separate classifier) and its tokenizer.bin\n"
            "into a GGUF file with the same F32 weights.",
            {"CHECKPOINT.bin", "TOKENIZER.bin"},
            {},
            {{"--output", "-o", "OUT.gguf", "where to write the model (required)"}}};
}

int runConvert(const ParsedArgs& args)
{
    const auto out = args.get("--output");
    if (!out)
        throw UsageError("'convert' needs -o OUT.gguf");
    for (size_t i = 0; i < 2; ++i) {
        std::error_code ec;
        if (!std::filesystem::exists(args.positional(i), ec))
            throw IoError("file not found: " + args.positional(i));
    }
    const std::shared_ptr<Model> model = Model::loadLlama2c(args.positional(0), args.positional(1));
    model->writeGGUF(filePath(*out));
    const auto& hp = model->hparams();
    std::printf("wrote %s: %s parameters (dim %d, %d layers, %d heads, %d KV heads, vocab %d), %s\n",
                out->c_str(), withThousands(model->parameterCount()).c_str(), hp.nEmbd, hp.nLayer,
                hp.nHead, hp.nHeadKv, hp.nVocab,
                formatBytes(std::filesystem::file_size(filePath(*out))).c_str());
    return 0;
}

} // namespace tenfold::cli
