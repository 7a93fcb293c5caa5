#pragma once
// Recovery fine-tuning after pruning (tenfold-cli prune --recover-steps, the desktop's Prune
// wizard): a pruned GGUF is fine-tuned with next-token cross-entropy by the Trainer and written
// back in place. For unstructured / N:M pruning the pruned weights (the zeros of the prunable
// projections, passes/prune.h) are masked so they stay exactly 0; a structured result (heads,
// FFN channels, layers removed) is dense and trained without a mask.
#include "tensor/ggml_type.h"
#include "train/model.h"
#include "train/trainer.h"

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tenfold::train {

// One flag per parameter (ParamLayout order), the TrainOptions::mask format: 0 where the value
// is exactly 0 and may not move. prunableOnly: only the tensors pruning touches (attention and
// FFN projections, prunableLayer(name) >= 0) are masked — embeddings and norms train freely;
// otherwise every zero of every tensor is masked (tenfold-cli train --mask-zeros).
// zerosOut (optional) receives the number of masked parameters.
std::vector<uint8_t> zeroWeightMask(const ParamLayout& layout, const std::vector<float>& params,
                                    bool prunableOnly, size_t* zerosOut = nullptr);

struct RecoveryOptions {
    TrainOptions train;        // steps, batch, lr, ...; mask/cancel/pause are set by recoverPrunedModel
    int ctx = 128;             // window length in tokens
    double validFraction = 0.05; // tail of the text held out for the before/after perplexity
    bool maskZeros = true;     // false for structured pruning (the model is dense)
};

struct RecoveryReport {
    size_t maskedWeights = 0;      // parameters kept at 0
    size_t parameters = 0;
    double valLossBefore = 0, valPerplexityBefore = 0; // on the held-out windows, before training
    double valLossAfter = 0, valPerplexityAfter = 0;   // ... and after
    int validWindows = 0;
    TrainResult train;
    GGMLType writtenType = GGMLType::F32; // weight-matrix type of the rewritten file
    std::string typeNote;          // what was done about the input's weight type
};

// The weight type recovery writes for a model whose projections are `inputType`: F16 for F16,
// F32 for F32; anything else (BF16, quantized) becomes F16, since the trainer writes only F32/F16
// (requantize the result with tenfold-cli quantize). note: a sentence saying so.
GGMLType recoveryOutputType(GGMLType inputType, std::string* note = nullptr);

// Fine-tunes the pruned GGUF at `model` on `text` (tokenized with the model's tokenizer; its
// last validFraction held out) and rewrites `model` atomically (temp file + rename) in
// recoveryOutputType() of its projections' type. onStep: after every step on the calling thread.
// cancel / pause: as TrainOptions (Cancelled is thrown and the file is left as it was).
// Throws InvalidArgument (too little text, bad options), UnsupportedError (a model the trainer
// cannot represent), TrainingDiverged (the file is left as it was), IoError/FormatError.
RecoveryReport recoverPrunedModel(const std::filesystem::path& model, std::string_view text,
                                  const RecoveryOptions& options,
                                  const std::function<void(const StepReport&)>& onStep = {},
                                  const std::atomic<bool>* cancel = nullptr,
                                  const std::atomic<bool>* pause = nullptr);

} // namespace tenfold::train
