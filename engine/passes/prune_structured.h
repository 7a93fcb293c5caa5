#pragma once
// Internal to prune.cpp (and its tests): the structured pruning methods (heads, FFN channels,
// whole layers), their calibration scores and the writer of the smaller dense GGUF.
#include "passes/prune.h"

#include <memory>
#include <span>
#include <vector>

namespace tenfold {

class GGUFFile;
class Model;

// The layer of blk.N.{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down}.weight; -1 for
// any other tensor (embeddings, output, norms, biases).
int prunableLayer(const std::string& name);

struct StructuredScores {
    // Heads: per layer, per KV group: sum over calibration tokens of ||W_o[:, group] a_group||^2.
    std::vector<std::vector<double>> headGroup;
    // Ffn: per layer, per channel: ||W_down[:, i]|| * sqrt(sum_t a_t,i^2).
    std::vector<std::vector<double>> ffnChannel;
    // Layers: per layer, mean over calibration tokens of 1 - cos(h_in, h_out).
    std::vector<double> layerInfluence;
};

// Collects the scores the method needs (only those) over the calibration windows.
StructuredScores structuredScores(const std::shared_ptr<const Model>& model, std::span<const int32_t> tokens,
                                  PruneMethod method, const PruneOptions& options);

PruneReport pruneStructured(const std::shared_ptr<GGUFFile>& src, const std::shared_ptr<const Model>& model,
                            const std::filesystem::path& out, std::span<const int32_t> tokens,
                            const PruneOptions& options);

} // namespace tenfold
