#include "train/recovery.h"

#include "core/error.h"
#include "model/model.h"
#include "passes/prune_structured.h"
#include "train/data.h"
#include "train/model_io.h"

#include <cmath>

namespace tenfold::train {

std::vector<uint8_t> zeroWeightMask(const ParamLayout& layout, const std::vector<float>& params,
                                    bool prunableOnly, size_t* zerosOut)
{
    if (params.size() != layout.count())
        throw InvalidArgument("zeroWeightMask: " + std::to_string(params.size()) +
                              " parameters for a layout of " + std::to_string(layout.count()));
    std::vector<uint8_t> mask(params.size(), 1);
    size_t zeros = 0;
    for (const ParamView& v : layout.views()) {
        if (prunableOnly && prunableLayer(v.name) < 0)
            continue;
        for (size_t i = v.offset; i < v.offset + v.size(); ++i) {
            mask[i] = params[i] != 0.0f;
            zeros += !mask[i];
        }
    }
    if (zerosOut)
        *zerosOut = zeros;
    return mask;
}

GGMLType recoveryOutputType(GGMLType inputType, std::string* note)
{
    if (inputType == GGMLType::F16 || inputType == GGMLType::F32) {
        if (note)
            *note = std::string("weights written as ") + typeName(inputType) + ", the input's type";
        return inputType;
    }
    if (note)
        *note = std::string("the input's ") + typeName(inputType) +
                " weights are written as F16 (the trainer writes F32/F16 only; requantize the result "
                "with tenfold-cli quantize: symmetric types such as Q8_0/Q4_0 keep the zeros exact)";
    return GGMLType::F16;
}

RecoveryReport recoverPrunedModel(const std::filesystem::path& path, std::string_view text,
                                  const RecoveryOptions& options,
                                  const std::function<void(const StepReport&)>& onStep,
                                  const std::atomic<bool>* cancel, const std::atomic<bool>* pause)
{
    RecoveryReport report;
    std::shared_ptr<const Model> source = Model::loadGGUF(path);
    if (source->layers().empty())
        throw InvalidArgument(path.string() + ": a model without layers cannot be recovered");
    report.writtenType = recoveryOutputType(source->layers()[0].wq.type, &report.typeNote);

    TrainableModel model = loadTrainable(source);
    const ParamLayout layout(model.config);
    report.parameters = layout.count();
    TrainOptions o = options.train;
    o.mask = options.maskZeros ? zeroWeightMask(layout, model.params, true, &report.maskedWeights)
                               : std::vector<uint8_t>{};
    o.cancel = cancel;
    o.pause = pause;
    if (options.validFraction <= 0)
        throw InvalidArgument("recovery needs validFraction > 0 (held-out text for the before/after perplexity)");

    const TokenDataset data = TokenDataset::fromText(source->tokenizer(), text, options.ctx,
                                                     options.validFraction, path.string());
    report.validWindows = o.evalWindows > 0 ? std::min(o.evalWindows, data.validWindows())
                                            : data.validWindows();
    Trainer trainer(model.config, std::move(model.params), data, std::move(o));
    report.valLossBefore = trainer.validationLoss();
    report.valPerplexityBefore = std::exp(report.valLossBefore);
    report.train = trainer.run(onStep);
    report.valLossAfter = report.train.valLoss;
    report.valPerplexityAfter = report.train.valPerplexity;
    // `source` keeps the old file mapped; the rename replaces the name, not the mapped inode.
    saveTrainableGGUF(path, *source, trainer.config(), trainer.params(), report.writtenType);
    return report;
}

} // namespace tenfold::train
