#pragma once
// The unstructured and N:M pruning of one weight matrix W [rows = outputs x cols = inputs],
// row-major floats, in place (pruned weights become 0). prune.h runs these on every layer matrix.
//
// Counts are exact: unstructured pruning removes floor(sparsity * n) weights of each unit it
// ranks (magnitude: the whole matrix; Wanda: each row; SparseGPT: the whole matrix, spread over
// its column blocks so that the cumulative count after block b is floor(sparsity * rows * end_b)).
// N:M keeps exactly nmKeep weights of every nmGroup consecutive columns of a row (cols must be a
// multiple of nmGroup). Ties are broken by the lower flat index, so results are deterministic.
#include "passes/gptq.h" // RowMatrixF

#include <Eigen/Dense>

#include <cstdint>
#include <span>
#include <vector>

namespace tenfold {

struct SparsityPattern {
    double sparsity = 0.5; // unstructured: fraction pruned, [0, 1)
    int nmKeep = 0;        // N:M: keep nmKeep of every nmGroup (0: unstructured)
    int nmGroup = 0;
    bool nm() const { return nmGroup > 0; }
};

// Throws InvalidArgument for a sparsity outside [0, 1), an N:M with N < 1 or N >= M, or a column
// count that is not a multiple of M (naming `what`, e.g. the tensor).
void checkPattern(const SparsityPattern& p, int64_t cols, const std::string& what);

// Pruned count for n weights at sparsity s.
inline int64_t prunedCount(int64_t n, double s) { return int64_t(double(n) * s); }

// |W|, one threshold for the whole matrix (N:M: per group of each row).
void magnitudePrune(RowMatrixF& W, const SparsityPattern& p);

// |W_ij| * colNorm[j], colNorm[j] = ||X_j|| (any positive scale: only the order within a row
// matters), per output row (N:M: per group).
void wandaPrune(RowMatrixF& W, std::span<const float> colNorm, const SparsityPattern& p);

// SparseGPT. H = X^T X [cols x cols] of the calibration inputs; damp * mean(diag H) is added to
// its diagonal. Columns no input reached (H_jj = 0) are pruned first (they cannot matter) and
// count towards the sparsity. fixedMask (rows * cols, 1 = keep), when given, replaces the mask
// selection: only the OBS error feedback runs (for tests and refits). Throws InvalidArgument if
// H is not positive definite after damping.
void sparseGptPrune(RowMatrixF& W, Eigen::MatrixXd H, const SparsityPattern& p, int blockSize, double damp,
                    int nThreads, const std::vector<uint8_t>* fixedMask = nullptr);

} // namespace tenfold
