// imatrix MODEL -f TEXT -o FILE: the importance matrix of calibrated quantization
// (engine/passes/imatrix.h), in the reference engine's imatrix.dat format.
#include "cli_common.h"
#include "commands.h"

#include "core/error.h"
#include "model/model.h"
#include "passes/imatrix.h"
#include "tokenizer/tokenizer.h"

#include <chrono>
#include <cstdio>

namespace tenfold::cli {

CommandSpec imatrixSpec()
{
    return {"imatrix", "MODEL -f TEXT -o FILE [--ctx 512] [--chunks N] [--threads N]",
            "Runs MODEL over TEXT (cut into windows of --ctx tokens, each starting with BOS, as\n"
            "'perplexity' does) and records, for every layer matrix, the mean square of each\n"
            "input column's activation. 'quantize --imatrix FILE' weights the rounding error of\n"
            "each weight by it. FILE is the reference engine's imatrix.dat format, so it also\n"
            "works with llama-quantize, and its files work here. The output projection is not\n"
            "collected, as in the reference.",
            {"MODEL"},
            {},
            {{"--file", "-f", "TEXT", "calibration text (required)"},
             {"--output", "-o", "FILE", "where to write the matrix (required)"},
             {"--ctx", "-c", "N", "window length (default 512)"},
             {"--chunks", "", "N", "use only the first N windows (default: all)"},
             {"--threads", "-t", "N", "threads (default: all cores)"}}};
}

int runImatrix(const ParsedArgs& args)
{
    const auto textPath = args.get("--file");
    const auto outPath = args.get("--output");
    if (!textPath || !outPath)
        throw UsageError("'imatrix' needs -f TEXT and -o FILE");
    ImatrixOptions options;
    options.nCtx = int(args.getInt("--ctx", 512, 4, 1 << 20));
    options.maxChunks = int(args.getInt("--chunks", 0, 0, 1 << 30));
    options.nThreads = threadCount(args);

    const std::shared_ptr<Model> model = loadModel(args.positional(0));
    const std::vector<int32_t> tokens = model->tokenizer().encode(readTextFile(*textPath), true);
    options.cancel = installInterruptHandler();
    const auto t0 = std::chrono::steady_clock::now();
    options.progress = [t0](int done, int total) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "\r[%d/%d] %.1f s, about %.0f s left ", done, total, s,
                     done > 0 ? s * double(total - done) / double(done) : 0.0);
        std::fflush(stderr);
    };
    ImportanceMatrix m = collectImportanceMatrix(model, tokens, options);
    std::fprintf(stderr, "\n");
    m.setDataset(*textPath);
    m.write(filePath(*outPath));
    std::printf("wrote %s: %zu matrices from %d windows of %d tokens\n", outPath->c_str(), m.size(), m.chunks(),
                options.nCtx);
    return 0;
}

} // namespace tenfold::cli
