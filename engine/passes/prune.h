#pragma once
// Pruning a GGUF model (tenfold-cli prune, the Prune wizard). Two families:
//
// Unstructured / semi-structured (the file keeps its shapes, pruned weights become zeros):
//  - Magnitude: the smallest |W| of each matrix go (one threshold per matrix, the classic baseline).
//  - Wanda (Sun et al., 2023): score |W_ij| * ||X_j|| (X_j: column j of the matrix's calibration
//    input), the smallest scores of each OUTPUT ROW go.
//  - SparseGPT (Frantar & Alistarh, 2023): OBS with H = X^T X + lambda I; columns are processed in
//    blocks, the mask of each block is chosen from w^2 / [H^-1]_cc^2 at the block start and the
//    error of every pruned weight is moved onto the later columns (prune_mask.h).
//  Any of the three can be N:M instead (N kept of every M consecutive inputs of a row; 2:4 the
//  default). Which tensors: the attention projections (attn_q/k/v/output) and the FFN ones
//  (ffn_gate/up/down) of every layer; embeddings, the output head and norms are never touched.
//  F16/F32/BF16 tensors stay in their type; quantized tensors are dequantized, pruned and
//  re-quantized to their own type by round to nearest (zeros stay exact for the symmetric types
//  such as Q8_0/Q4_0; a type with an offset (Q4_1, K-quants) may turn a pruned zero into a small
//  value).
//
// Structured (the output is a smaller dense standard GGUF that any engine loads):
//  - Heads: the same number of KV groups is removed from every layer (a KV head with the query
//    heads that read it, so n_head stays n_head_kv times the group size); groups are ranked by
//    their calibration contribution to the attention output, sum_t ||W_o[:, group] a_t,group||^2.
//  - Ffn: the same number of channels is removed from every layer (feed_forward_length stays one
//    number); channels ranked by ||W_down[:, i]|| * ||a_i|| on calibration text.
//  - Layers: whole blocks, ranked by block influence 1 - cos(h_in, h_out) averaged over the
//    calibration tokens; the least influential go.
//
// Recovery fine-tuning is a separate step on the output file (the trainer's business): prune
// writes the GGUF and returns; nothing here trains.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace tenfold {

enum class PruneMethod { Magnitude, Wanda, SparseGpt, Heads, Ffn, Layers };

const char* pruneMethodName(PruneMethod m);
// "magnitude", "wanda", "sparsegpt", "heads", "ffn", "layers"; throws InvalidArgument otherwise.
PruneMethod parsePruneMethod(const std::string& name);
// Whether the method needs a calibration text (all but Magnitude, also in its N:M form).
bool pruneMethodNeedsCalibration(PruneMethod m);
bool pruneMethodIsStructured(PruneMethod m);

struct PruneOptions {
    PruneMethod method = PruneMethod::Wanda;
    // Unstructured: fraction of each pruned matrix's weights set to zero, in [0, 1).
    // Heads / Ffn: fraction of KV groups / FFN channels removed per layer (rounded down, at least
    // one kept). Layers: fraction of layers removed (unless layersKeep is set).
    double sparsity = 0.5;
    // Unstructured methods only: per-layer sparsities overriding `sparsity` (empty: uniform; else
    // one value per layer).
    std::vector<double> layerSparsity;
    // N:M semi-structured (Magnitude/Wanda/SparseGpt): keep nmKeep of every nmGroup consecutive
    // weights of a row; 0: unstructured. sparsity is then ignored (it is 1 - N/M).
    int nmKeep = 0;
    int nmGroup = 0;
    int layersKeep = 0;        // Layers: layers to keep (0: from sparsity)
    int calibCtx = 512;        // calibration window length
    int calibWindows = 16;     // windows of calibration text used (0: all)
    int sparseGptBlock = 128;  // SparseGPT column block (mask chosen per block)
    double sparseGptDamp = 0.01; // lambda = damp * mean(diag H)
    // Wanda / SparseGPT: false (default): every layer's activations from the dense model, one
    // calibration pass. true: layer by layer, each layer's activations from the model with the
    // layers before it already pruned (the papers' code does this), n_layer passes. On ref-main
    // at 50% and 70% the one pass measured a little better (docs/BENCHMARKS.md, "Pruning").
    bool sequential = false;
    int nThreads = 0;          // 0: one per core
    // stage: "calibration", "pruning", "writing"; done/total within the stage.
    std::function<void(const std::string& stage, int done, int total)> progress;
    const std::atomic<bool>* cancel = nullptr; // throws Cancelled between steps
};

struct PrunedTensor {
    std::string name;
    int64_t elements = 0;
    int64_t zeros = 0; // after pruning (unstructured) — includes weights that were zero already
};

struct PruneReport {
    PruneMethod method = PruneMethod::Wanda;
    uint64_t bytesBefore = 0, bytesAfter = 0;
    int64_t paramsBefore = 0, paramsAfter = 0; // all tensors' elements (structured: the shrink)
    std::vector<PrunedTensor> tensors;         // unstructured: each pruned matrix
    // Structured:
    std::vector<std::vector<int>> removedHeads;    // per layer: removed query heads (original index)
    std::vector<std::vector<int>> removedChannels; // per layer: removed FFN channels
    std::vector<int> removedLayers;                // original layer indices
    std::vector<double> layerInfluence;            // Layers: 1 - cos per original layer
    int nLayerAfter = 0, nHeadAfter = 0, nHeadKvAfter = 0, nFFAfter = 0;
    std::string summary() const; // a few lines for the CLI and the wizard's results page
};

// Prunes `in` into `out` (written atomically; they must differ). calibrationTokens: the
// calibration text tokenized with the model's tokenizer, leading BOS (as for imatrix/GPTQ);
// may be empty for Magnitude. Throws InvalidArgument (sparsity outside [0, 1), bad N:M, a
// layersKeep outside 1..n_layer-1, too little calibration text, a structured cut that leaves
// nothing), IoError/FormatError for the files, Cancelled.
PruneReport pruneModel(const std::filesystem::path& in, const std::filesystem::path& out,
                       std::span<const int32_t> calibrationTokens, const PruneOptions& options);

} // namespace tenfold
