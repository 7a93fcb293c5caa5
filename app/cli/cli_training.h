#pragma once
// What `train` and `distill` share: the training options, reading the text into windows, the
// training loop with progress lines, and writing the result.
#include "cli_args.h"
#include "train/model_io.h"
#include "train/trainer.h"

#include <string>
#include <vector>

namespace tenfold::cli {

// --file, --steps, --batch, --ctx, --lr, ..., --checkpoint-dir, --resume, --threads, --out-type.
std::vector<OptionSpec> trainingOptions();

// Trains `student` (a teacher for distillation, or null) on -f TEXT and writes OUT. Prints a
// progress line every few steps and the validation loss and perplexity at the end.
int runTrainingCommand(const ParsedArgs& args, train::TrainableModel student,
                       const train::TrainableModel* teacher, std::vector<uint8_t> mask,
                       const std::string& outPath);

} // namespace tenfold::cli
