#pragma once
// Which layers each rank of a pipeline computes. Rank 0 also holds the token embedding and the
// output head (it owns the tokenizer and the sampling), so a split "by memory" gives it fewer
// layers when those are large. No MPI here: the plan is plain arithmetic, tested on its own.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tenfold {
class Model;
}

namespace tenfold::dist {

struct Stage {
    int rank = 0;
    int firstLayer = 0; // layers [firstLayer, endLayer)
    int endLayer = 0;
    uint64_t weightBytes = 0; // the weights this rank reads (its layers; rank 0: + embedding, head)
};

// "4,4" -> {4, 4}. Throws UsageError-free InvalidArgument naming the bad part.
std::vector<int> parseSplit(const std::string& text);

// Explicit counts (one per rank, summing to the model's layers) or, when counts is empty, a split
// by memory: stage r ends at the first layer where the running total of weight bytes (rank 0's
// embedding and head counted first) reaches (r + 1) / ranks of the whole, and every rank gets at
// least one layer. Throws InvalidArgument when ranks exceed the layers or the counts do not fit.
std::vector<Stage> planStages(const Model& model, int ranks, std::span<const int> counts);

// The same from bare numbers (tests): bytes per layer and rank 0's fixed bytes.
std::vector<Stage> planStages(std::span<const uint64_t> layerBytes, uint64_t rank0Bytes, int ranks,
                              std::span<const int> counts);

// Bytes of one layer's weights / of the embedding and output head (once when tied).
uint64_t layerWeightBytes(const Model& model, int layer);
uint64_t headWeightBytes(const Model& model);

} // namespace tenfold::dist
