#pragma once
// Palette tuning: knowledge distillation of a compressed model's continuous parameters, its
// integer codes frozen. After `tenfold-cli compress --palette` every palette weight is
// rowScale[r] * table[group(r)][index(r, j)]: the indices fix which entry each weight uses, but
// the tables, the row scales, the norms and the block scales of the 32-block tensors (IQ4_NL,
// Q4_0, Q8_0: value = d * level) are free numbers. They are fitted here to the full model's
// outputs (alpha * T^2 * KL(teacher || student) + (1 - alpha) * CE on a training text) by the
// Trainer, with its optimizer step replaced: the dense weight gradients go through the chain rule
// to the free numbers (dL/dtable[e] = sum of scale[r] * dL/dW over the elements that use entry e,
// dL/dscale[r] = sum_j table[index] * dL/dW[r][j], dL/dd = sum of level * dL/dW over the block),
// AdamW updates those (each divided by its tensor's mean magnitude, so one learning rate is a
// relative change), and the dense weights are rebuilt from them. Other quantized tensors keep
// their values. So the file keeps its size and layout and only those numbers change (the idea of
// PEQA / scale-only QAT, Kim et al. 2023, applied to palettes); with `codes` the indices and
// levels may change too. docs/COMPRESSION.md.
#include "train/trainer.h"

#include <atomic>
#include <filesystem>
#include <functional>
#include <string_view>
#include <vector>

namespace tenfold::train {

struct PaletteTuneOptions {
    TrainOptions train;          // steps, batch, lr, alpha, temperature...; step/mask/cancel/pause/checkpointDir are set here
    int ctx = 128;               // window length in tokens
    double validFraction = 0.05; // tail of the text held out for the before/after loss
    // Which numbers move (ablations, and tests of each part's gradient on its own).
    bool tables = true;          // palette tables
    bool rowScales = true;       // palette row scales
    bool blockScales = true;     // the f16 scales of Q4_0/Q8_0/IQ4_NL blocks
    bool plain = true;           // F32/F16 tensors (norms)
    // Let the codes move too (the idea of PV-tuning, Malinovskii et al. 2024, in its plainest
    // form, a straight-through latent): every palette index and every 32-block level keeps a
    // residual from its current entry, Adam (per weight) moves the residual by dL/dW, and when
    // an entry other than its own is nearest to entry + residual the code switches to it (the
    // residual becomes the distance from the new entry). Sizes and layout stay; the codes GPTQ
    // chose are the start.
    bool codes = false;
    double codeLr = 0.02;        // peak residual step, in units of the tensor's mean entry spacing
    double codeDecay = 1.0;      // residual decay towards its entry: a code switches only while its gradient's
                                 // steadiness |mhat / sqrt(vhat)| exceeds about codeDecay / 2 (exactly, for
                                 // a gap to the next entry equal to the mean spacing); 0: no decay
};

struct PaletteTuneReport {
    size_t freeParameters = 0;     // numbers that may change: table entries, row and block scales, norms
    int paletteTensors = 0;        // palette weights tuned
    int blockTensors = 0;          // 32-block tensors whose scales were tuned
    int frozenTensors = 0;         // other quantized tensors, kept as they were
    int64_t codesChanged = 0;      // with `codes`: weights whose index or level differs at the end
    int64_t codeCount = 0;         // with `codes`: weights whose code could change
    double valLossBefore = 0, valLossAfter = 0; // held-out cross-entropy
    int validWindows = 0;
    TrainResult train;
};

// Tunes the compressed GGUF at `model` (palette weights from passes/palette.h, any other types)
// towards the `teacher` GGUF (the model it was compressed from; same shape and vocabulary) on
// `text` and rewrites `model` atomically with the same tensors, types and sizes. Throws
// InvalidArgument (too little text, a teacher of another shape), UnsupportedError (a model the
// trainer cannot represent, e.g. low-rank factors), TrainingDiverged and Cancelled (the file is
// left as it was), IoError/FormatError.
PaletteTuneReport tunePaletteModel(const std::filesystem::path& model, const std::filesystem::path& teacher,
                                   std::string_view text, const PaletteTuneOptions& options,
                                   const std::function<void(const StepReport&)>& onStep = {},
                                   const std::atomic<bool>* cancel = nullptr,
                                   const std::atomic<bool>* pause = nullptr);

// The same on a token stream already made by the model's tokenizer (with its BOS first), for a
// caller that has split its text into tokens (the Compress wizard: the calibration part only).
PaletteTuneReport tunePaletteModel(const std::filesystem::path& model, const std::filesystem::path& teacher,
                                   std::vector<int32_t> tokens, const PaletteTuneOptions& options,
                                   const std::function<void(const StepReport&)>& onStep = {},
                                   const std::atomic<bool>* cancel = nullptr,
                                   const std::atomic<bool>* pause = nullptr);

} // namespace tenfold::train
