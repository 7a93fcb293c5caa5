// train MODEL OUT -f TEXT: plain fine-tuning with cross-entropy (engine/train/trainer.h), e.g.
// recovery after pruning, where --mask-zeros keeps the pruned (zero) weights at zero.
#include "cli_common.h"
#include "cli_training.h"
#include "commands.h"

#include "train/model_io.h"
#include "train/recovery.h"

namespace tenfold::cli {

CommandSpec trainSpec()
{
    CommandSpec spec{
        "train", "MODEL OUT -f TEXT [--steps N] [--mask-zeros] [options]",
        "Fine-tunes MODEL on TEXT with next-token cross-entropy (AdamW, gradient clipping,\n"
        "linear warm-up then cosine decay) and writes OUT as GGUF with MODEL's metadata and\n"
        "tokenizer. The text is tokenized with MODEL's tokenizer and cut into random windows of\n"
        "--ctx tokens (first token BOS); its last --valid-fraction is held out and scored every\n"
        "--eval-every steps. With --checkpoint-dir, a checkpoint (parameters, AdamW moments,\n"
        "data position) is written atomically; --resume continues it with the same loss curve.\n"
        "A NaN or infinite loss stops the run before it damages the parameters. Ctrl-C stops\n"
        "after the current step (with a checkpoint when --checkpoint-dir is set).",
        {"MODEL", "OUT"},
        {},
        trainingOptions()};
    spec.options.push_back({"--mask-zeros", "", "",
                            "weights that are exactly 0 in MODEL stay 0 (pruning recovery)"});
    return spec;
}

int runTrain(const ParsedArgs& args)
{
    train::TrainableModel model = train::loadTrainable(loadModel(args.positional(0)));
    std::vector<uint8_t> mask;
    if (args.has("--mask-zeros")) {
        size_t zeros = 0;
        mask = train::zeroWeightMask(train::ParamLayout(model.config), model.params,
                                     /*prunableOnly=*/false, &zeros);
        std::fprintf(stderr, "--mask-zeros: %zu of %zu weights are 0 and stay 0\n", zeros,
                     mask.size());
    }
    return runTrainingCommand(args, std::move(model), nullptr, std::move(mask), args.positional(1));
}

} // namespace tenfold::cli
