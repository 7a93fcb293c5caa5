#pragma once
// GPTQ (Frantar et al., 2022): quantize a weight matrix column by column and, after each column,
// move its rounding error onto the columns not yet quantized, in the proportions that keep the
// layer's output on the calibration activations closest in least squares. The output error
// ||X (W - Q)^T||^2 depends on W - Q only through the Hessian H = X^T X, so that is all GPTQ
// needs from the calibration text.
//
// The result is written in the standard 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// IQ4_NL):
// at the first column of every block each row's grid (scale, offset) is fitted to the row's
// current (already compensated) values, weighted by diag(H); the block's columns are then rounded
// onto it one by one. Nothing but standard blocks comes out, so any engine runs the file.
#include "tensor/ggml_type.h"

#include <Eigen/Dense>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>

namespace tenfold {

class Model;
struct ImatrixOptions;

// Per layer matrix (by tensor name): H = sum over calibration rows of x x^T, [ne0 x ne0].
// Matrices that read the same input (q, k and v; gate and up) share one.
struct HessianSet {
    std::map<std::string, std::shared_ptr<const Eigen::MatrixXd>> h;
    int64_t rows = 0; // calibration rows seen (tokens)
    const Eigen::MatrixXd* find(const std::string& tensor) const
    {
        auto it = h.find(tensor);
        return it == h.end() ? nullptr : it->second.get();
    }
};

// Runs the model over the text's windows (as collectImportanceMatrix) and sums every layer
// matrix's input outer products. The output projection is not collected.
HessianSet collectHessians(std::shared_ptr<const Model> model, std::span<const int32_t> tokens,
                           const ImatrixOptions& options);

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The algorithm on a dense matrix, for any grid: W [rows x cols] is replaced by its quantized
// values. At each group start (column g0, a multiple of groupSize) startGroup(row, g0, values) is
// called with the row's current values of the group's columns, so the caller can fit that row's
// grid; quantize(row, col, value) then returns the grid value for one element. Rows are
// independent, so they run in parallel: the callbacks are called concurrently for different rows.
// damp adds damp * mean(diag H) to H's diagonal (numerical stability; 0 keeps H exact). Columns
// that never saw a non-zero activation (H_ii = 0) are set to zero first (they cannot matter).
// Throws InvalidArgument if H is not positive definite after damping.
void gptqQuantize(RowMatrixF& W, Eigen::MatrixXd H, int groupSize, double damp,
                  const std::function<void(int64_t row, int g0, const float* values)>& startGroup,
                  const std::function<float(int64_t row, int col, float value)>& quantize, int nThreads = 1);

// GPTQ of one tensor into a 32-block type: weights [rows x cols] row-major floats in, blocks of
// `type` out (rows * rowBytes(type, cols) bytes).
void gptqQuantizeTensor(GGMLType type, const float* weights, int64_t rows, int64_t cols, const Eigen::MatrixXd& H,
                        uint8_t* out, int nThreads, double damp = 0.01);

} // namespace tenfold
