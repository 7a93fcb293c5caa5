#pragma once
// Weight sharing by palettes (SqueezeLLM-style, Kim et al. 2023): the rows of a layer matrix are
// split into groups; each group's values are clustered by a 1-D k-means into 2^bits centroids,
// weighted by how much each element's error costs at the layer's output (the mean square of its
// input column's activations: the importance matrix / diag of the calibration Hessian), and each
// element is stored as the index of its centroid. Stored as NAME.pal_idx (I8, packed indices) and
// NAME.pal_tab (F32 [2^bits, groups]); see docs/COMPRESSION.md.
#include "tensor/ggml_type.h"

#include <Eigen/Dense>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tenfold {

class GGUFFile;
struct GGUFTensorInfo;
struct HessianSet;

// Weighted 1-D k-means (Lloyd, from weighted-quantile seeds): k centroids, ascending. weights may
// be null (all 1). Throws InvalidArgument for k < 1 or n == 0.
std::vector<float> weightedKMeans1D(const float* values, const float* weights, size_t n, int k, int iterations = 25);

// Index of the nearest centroid (centroids ascending).
int nearestCentroid(const std::vector<float>& centroids, float v);
int nearestCentroid(const float* centroids, int k, float v);

// Packs indices (each < 2^bits, bits 2 to 4) from the low bits up, a 3-bit index straddling two
// bytes where it falls so: ceil(n * bits / 8) bytes.
void packIndices(const int* indices, int64_t n, int bits, uint8_t* out);

struct PaletteOptions {
    int bits = 4;                       // 2, 3 or 4
    int64_t groupRows = 0;              // rows per palette; 0: the smallest divisor of the row
                                        // count whose table costs <= 1/16 bit per weight
    std::optional<GGMLType> denseType;  // type of the other matrices (embedding, output); unset: kept
    // Each row is divided by its RMS before clustering (stored as NAME.pal_scale), so rows of
    // different magnitude share one palette's shape.
    bool rowScale = true;
    bool embedding = false;             // token_embd (and output) get palettes too
    // Other index widths for some tensors: the first entry whose key is part of the tensor's
    // name wins (e.g. {"attn_k", 2}), to mix widths under a size budget.
    std::vector<std::pair<std::string, int>> bitsFor;
    int iterations = 25;
    int nThreads = 0;
    const HessianSet* hessians = nullptr; // column weights diag(H); null: unweighted
    // With hessians: indices chosen by GPTQ (gptq.h) on the palette, column by column with each
    // column's rounding error moved onto the later columns, instead of each element's nearest
    // centroid (the tables stay the k-means ones); dense tensors with a Hessian (the output head,
    // when collected) get GPTQ too.
    bool gptq = true;
    std::function<void(size_t index, size_t count, const std::string& name)> progress;
};

struct PaletteReport {
    uint64_t fileBytesBefore = 0;
    uint64_t fileBytesAfter = 0;
    int tensors = 0;
};

// Rows per palette chosen by the default rule for a matrix of `rows` rows of `in` values.
int64_t defaultPaletteGroupRows(int64_t rows, int64_t in, int bits);

PaletteReport paletteCompress(const std::filesystem::path& in, const std::filesystem::path& out,
                              const PaletteOptions& options);

// For export-standard: the [in, rows] shape and the dense values of a stored palette tensor pair.
std::vector<int64_t> paletteShape(const GGUFFile& file, const GGUFTensorInfo& indices);
Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>
decodePaletteTensor(const GGUFFile& file, const GGUFTensorInfo& indices, const GGUFTensorInfo& table);

} // namespace tenfold
