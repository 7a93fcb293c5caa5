#include "passes/prune_mask.h"

#include "core/error.h"
#include "passes/parallel_rows.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace tenfold {
namespace {

// Indices of the k smallest scores (ties: lower index first), marked in `pruned`.
void markSmallest(const float* score, int64_t n, int64_t k, uint8_t* pruned)
{
    if (k <= 0)
        return;
    std::vector<int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), int64_t(0));
    auto less = [score](int64_t a, int64_t b) { return score[a] < score[b] || (score[a] == score[b] && a < b); };
    if (k < n)
        std::nth_element(idx.begin(), idx.begin() + k, idx.end(), less);
    for (int64_t i = 0; i < std::min(k, n); ++i)
        pruned[idx[size_t(i)]] = 1;
}

// N:M on one row of scores: in every group of M the M - N smallest are marked.
void markNM(const float* score, int64_t cols, int keep, int group, uint8_t* pruned)
{
    for (int64_t g = 0; g < cols; g += group)
        markSmallest(score + g, group, group - keep, pruned + g);
}

void applyMask(RowMatrixF& W, const std::vector<uint8_t>& pruned)
{
    float* w = W.data();
    for (size_t i = 0; i < pruned.size(); ++i)
        if (pruned[i])
            w[i] = 0.0f;
}

} // namespace

void checkPattern(const SparsityPattern& p, int64_t cols, const std::string& what)
{
    if (p.nm()) {
        if (p.nmKeep < 1 || p.nmKeep >= p.nmGroup || p.nmGroup > 64)
            throw InvalidArgument("N:M pruning needs 1 <= N < M <= 64, got " + std::to_string(p.nmKeep) + ":" +
                                  std::to_string(p.nmGroup));
        if (cols % p.nmGroup != 0)
            throw InvalidArgument(what + ": " + std::to_string(cols) + " columns are not whole groups of " +
                                  std::to_string(p.nmGroup) + " for " + std::to_string(p.nmKeep) + ":" +
                                  std::to_string(p.nmGroup) + " pruning");
        return;
    }
    if (!(p.sparsity >= 0.0 && p.sparsity < 1.0))
        throw InvalidArgument("sparsity must be in [0, 1), got " + std::to_string(p.sparsity) +
                              (what.empty() ? "" : " (" + what + ")"));
}

void magnitudePrune(RowMatrixF& W, const SparsityPattern& p)
{
    checkPattern(p, W.cols(), "magnitude pruning");
    const int64_t n = W.size();
    std::vector<float> score(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        score[size_t(i)] = std::fabs(W.data()[i]);
    std::vector<uint8_t> pruned(static_cast<size_t>(n), 0);
    if (p.nm())
        for (int64_t r = 0; r < W.rows(); ++r)
            markNM(score.data() + r * W.cols(), W.cols(), p.nmKeep, p.nmGroup, pruned.data() + r * W.cols());
    else
        markSmallest(score.data(), n, prunedCount(n, p.sparsity), pruned.data());
    applyMask(W, pruned);
}

void wandaPrune(RowMatrixF& W, std::span<const float> colNorm, const SparsityPattern& p)
{
    const int64_t cols = W.cols();
    checkPattern(p, cols, "Wanda pruning");
    if (int64_t(colNorm.size()) != cols)
        throw InvalidArgument("Wanda: " + std::to_string(colNorm.size()) + " activation norms for a matrix of " +
                              std::to_string(cols) + " columns");
    const int64_t k = prunedCount(cols, p.sparsity);
    std::vector<float> score(static_cast<size_t>(cols));
    std::vector<uint8_t> pruned(static_cast<size_t>(cols));
    for (int64_t r = 0; r < W.rows(); ++r) {
        float* w = W.row(r).data();
        for (int64_t j = 0; j < cols; ++j)
            score[size_t(j)] = std::fabs(w[j]) * colNorm[size_t(j)];
        std::fill(pruned.begin(), pruned.end(), uint8_t(0));
        if (p.nm())
            markNM(score.data(), cols, p.nmKeep, p.nmGroup, pruned.data());
        else
            markSmallest(score.data(), cols, k, pruned.data());
        for (int64_t j = 0; j < cols; ++j)
            if (pruned[size_t(j)])
                w[j] = 0.0f;
    }
}

void sparseGptPrune(RowMatrixF& W, Eigen::MatrixXd H, const SparsityPattern& p, int blockSize, double damp,
                    int nThreads, const std::vector<uint8_t>* fixedMask)
{
    const int64_t rows = W.rows();
    const int cols = int(W.cols());
    checkPattern(p, cols, "SparseGPT");
    if (H.rows() != cols || H.cols() != cols)
        throw InvalidArgument("SparseGPT: the Hessian is " + std::to_string(H.rows()) + "x" +
                              std::to_string(H.cols()) + ", the weight has " + std::to_string(cols) + " columns");
    if (fixedMask && int64_t(fixedMask->size()) != rows * cols)
        throw InvalidArgument("SparseGPT: the fixed mask has the wrong size");
    if (blockSize <= 0)
        throw InvalidArgument("SparseGPT: block size must be positive");
    if (p.nm() && blockSize % p.nmGroup != 0)
        blockSize = std::max(p.nmGroup, blockSize / p.nmGroup * p.nmGroup);
    // A column no input reached: its weights go first (they cannot change the output).
    std::vector<uint8_t> dead(static_cast<size_t>(cols), 0);
    for (int i = 0; i < cols; ++i)
        if (H(i, i) == 0) {
            H(i, i) = 1;
            dead[size_t(i)] = 1;
            W.col(i).setZero();
        }
    if (damp > 0)
        H.diagonal().array() += damp * H.diagonal().mean();
    // U: upper Cholesky factor of H^-1. Row i of U over U(i,i) spreads the error of column i over
    // the later columns (the OBS update with the earlier columns fixed); U(i,i)^2 = [H_F^-1]_ii
    // over the columns F still free, so w^2 / U(i,i)^2 is the OBS saliency (error increase) of
    // pruning that weight, the score the paper's mask selection uses.
    Eigen::LLT<Eigen::MatrixXd> llt(H);
    if (llt.info() != Eigen::Success)
        throw InvalidArgument("SparseGPT: the calibration Hessian is not positive definite (too few calibration "
                              "tokens for a layer of " + std::to_string(cols) + " inputs? use more text or damping)");
    const Eigen::MatrixXd Hinv = llt.solve(Eigen::MatrixXd::Identity(cols, cols));
    Eigen::LLT<Eigen::MatrixXd> lltInv(Hinv);
    if (lltInv.info() != Eigen::Success)
        throw InvalidArgument("SparseGPT: the inverse Hessian is not positive definite (ill-conditioned layer)");
    const RowMatrixF U = Eigen::MatrixXd(lltInv.matrixU()).cast<float>();

    // pruned[r * cols + c]: the final mask (1 = zero).
    std::vector<uint8_t> pruned(static_cast<size_t>(rows * cols), 0);
    int64_t prunedSoFar = 0;
    for (int b0 = 0; b0 < cols; b0 += blockSize) {
        const int b1 = std::min(cols, b0 + blockSize), bs = b1 - b0;
        if (fixedMask) {
            for (int64_t r = 0; r < rows; ++r)
                for (int c = b0; c < b1; ++c)
                    pruned[size_t(r * cols + c)] = (*fixedMask)[size_t(r * cols + c)] ? 0 : 1;
        } else if (!p.nm()) {
            // The block's mask at its start: the smallest w^2 / U_cc^2 over all its rows, as many
            // as keep the cumulative count at floor(sparsity * rows * b1). Dead columns come first.
            std::vector<float> score(static_cast<size_t>(rows * bs));
            for (int64_t r = 0; r < rows; ++r)
                for (int c = b0; c < b1; ++c) {
                    const float w = W(r, c), d = U(c, c);
                    score[size_t(r * bs + (c - b0))] = dead[size_t(c)] ? -1.0f : w * w / (d * d);
                }
            const int64_t target = prunedCount(rows * int64_t(b1), p.sparsity);
            const int64_t k = std::clamp<int64_t>(target - prunedSoFar, 0, rows * bs);
            std::vector<uint8_t> blockMask(static_cast<size_t>(rows * bs), 0);
            markSmallest(score.data(), rows * bs, k, blockMask.data());
            prunedSoFar += k;
            for (int64_t r = 0; r < rows; ++r)
                for (int c = b0; c < b1; ++c)
                    pruned[size_t(r * cols + c)] = blockMask[size_t(r * bs + (c - b0))];
        }
        RowMatrixF E(rows, bs); // the block's scaled errors
        parallelRanges(rows, resolveThreadCount(nThreads), [&](int64_t r0, int64_t r1) {
            std::vector<float> score(static_cast<size_t>(std::max(1, p.nmGroup)));
            for (int64_t r = r0; r < r1; ++r) {
                float* w = W.row(r).data();
                uint8_t* m = pruned.data() + r * cols;
                float* err = E.row(r).data();
                for (int i = b0; i < b1; ++i) {
                    if (!fixedMask && p.nm() && (i - b0) % p.nmGroup == 0) {
                        // N:M: the group's mask from its current (compensated) values.
                        for (int j = 0; j < p.nmGroup; ++j) {
                            const float v = w[i + j], d = U(i + j, i + j);
                            score[size_t(j)] = dead[size_t(i + j)] ? -1.0f : v * v / (d * d);
                        }
                        markSmallest(score.data(), p.nmGroup, p.nmGroup - p.nmKeep, m + i);
                    }
                    const float q = m[i] ? 0.0f : w[i];
                    const float e = (w[i] - q) / U(i, i);
                    w[i] = q;
                    err[i - b0] = e;
                    if (e != 0.0f) {
                        const float* u = U.row(i).data();
                        for (int c = i + 1; c < b1; ++c)
                            w[c] -= e * u[c];
                    }
                }
            }
        });
        // The block's errors onto every later column at once (lazy batch update).
        if (b1 < cols)
            W.rightCols(cols - b1).noalias() -= E * U.block(b0, b1, bs, cols - b1);
    }
    // Weights the updates touched after their column was fixed cannot exist (updates only go
    // right), but a pruned weight must be exactly zero whatever rounding did.
    applyMask(W, pruned);
}

} // namespace tenfold
