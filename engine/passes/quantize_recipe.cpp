#include "passes/quantize_recipe.h"

#include "core/error.h"
#include "model/model.h"
#include "passes/gptq.h"
#include "gguf/gguf_file.h"
#include "passes/imatrix.h"
#include "passes/quant_presets.h"

#include <chrono>

namespace tenfold {

RecipeResult runQuantizeRecipe(const QuantizeRecipe& r, std::span<const int32_t> calibration,
                               const std::function<void(RecipeStage, int, int)>& progress,
                               const std::atomic<bool>* cancel)
{
    const auto t0 = std::chrono::steady_clock::now();
    auto report = [&](RecipeStage s, int done, int total) {
        if (progress)
            progress(s, done, total);
    };
    auto checkCancel = [cancel] {
        if (cancel && cancel->load())
            throw Cancelled();
    };
    RecipeResult result;
    QuantizeOptions options;
    options.target = r.type;
    options.outputType = r.outputType;
    options.method = r.method;
    options.nThreads = r.nThreads;
    options.onTensor = [&](size_t i, size_t n, const std::string&, GGMLType) {
        checkCancel(); // between tensors: the unfinished output is discarded
        report(RecipeStage::Quantize, int(i), int(n));
    };

    if (!r.preset.empty()) {
        const QuantPreset* preset = findQuantPreset(r.preset);
        if (!preset)
            throw InvalidArgument("'" + r.preset + "' is not a quantization preset (Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, "
                                  "Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, Q8_0)");
        if (r.targetBytes > 0)
            throw InvalidArgument("a preset fixes every tensor's type, so it cannot also fit a target size: "
                                  "choose the preset " + r.preset + " or a target size");
        const std::shared_ptr<GGUFFile> in = GGUFFile::open(r.input);
        options.target = preset->base;
        options.fileType = preset->fileType;
        options.tensorTypes = presetTensorTypes(*preset, *in);
        if (r.outputType) // the caller's output type wins over the preset's rule
            options.tensorTypes.erase(in->findTensor("output.weight") ? "output.weight" : "token_embd.weight");
    }
    const bool fromFile = r.method == QuantMethod::Imatrix && !r.imatrixFile.empty();
    const bool calibrated = (r.method != QuantMethod::Rtn && !fromFile) || r.targetBytes > 0;
    if (calibrated && int64_t(calibration.size()) < r.nCtx)
        throw InvalidArgument("the calibration text has " + std::to_string(calibration.size()) + " tokens; " +
                              (r.method == QuantMethod::Gptq ? "GPTQ" : r.targetBytes ? "a size budget" : "an importance matrix") +
                              " needs at least " + std::to_string(r.nCtx) + " (one window), better " +
                              std::to_string(8 * r.nCtx));
    if (r.targetBytes > 0) { // refuse an unreachable size before any calibration
        BudgetOptions probe;
        probe.targetBytes = r.targetBytes;
        probe.quantize.target = r.type;
        checkTargetReachable(r.input, probe);
    }
    ImportanceMatrix imatrix;
    HessianSet hessians;
    if (fromFile) {
        imatrix = ImportanceMatrix::read(r.imatrixFile);
        options.imatrix = &imatrix;
    } else if (r.method != QuantMethod::Rtn) {
        checkCancel();
        const std::shared_ptr<Model> model = Model::loadGGUF(r.input);
        ImatrixOptions io;
        io.nCtx = r.nCtx;
        io.maxChunks = r.calibrationWindows;
        io.nThreads = r.nThreads;
        io.cancel = cancel;
        io.progress = [&](int done, int total) {
            result.calibrationWindows = total;
            report(RecipeStage::Calibrate, done, total);
        };
        if (r.method == QuantMethod::Gptq) {
            hessians = collectHessians(model, calibration, io);
            options.hessians = &hessians;
        } else {
            imatrix = collectImportanceMatrix(model, calibration, io);
            options.imatrix = &imatrix;
        }
    }
    if (r.targetBytes > 0) {
        BudgetOptions bo;
        bo.targetBytes = r.targetBytes;
        bo.nCtx = r.nCtx;
        bo.chunks = r.probeWindows;
        bo.nThreads = r.nThreads;
        bo.quantize = options; // no preset here (refused above): its rules would pin the types
        bo.cancel = cancel;
        bo.progress = [&](int done, int total, const std::string&) { report(RecipeStage::Measure, done, total); };
        result.plan = planForSize(r.input, calibration, bo);
        options.tensorTypes = result.plan->types;
    }
    checkCancel();
    result.report = quantizeModel(r.input, r.output, options);
    report(RecipeStage::Quantize, int(result.report.tensors.size()), int(result.report.tensors.size()));
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
}

} // namespace tenfold
