#pragma once
// Low-rank factorisation of a model's layer matrices, activation-aware (SVD-LLM, Wang et al. 2024).
//
// A layer's output error on calibration activations X [rows x in] is
//   ||X (W - W')^T||_F^2 = ||(W - W') S||_F^2     with H = X^T X = S S^T (Cholesky, S lower),
// so the best rank-r W' is the truncated SVD of the whitened W S = U Sigma V^T, mapped back:
//   W' = U_r Sigma_r V_r^T S^-1,  error = sum_{i > r} sigma_i^2.
// It is stored as two factors A = U_r Sigma_r^1/2 [out x r] and B = Sigma_r^1/2 V_r^T S^-1
// [r x in] (split evenly so both quantize alike), as the tensors NAME.lr_a and NAME.lr_b.
//
// Ranks (multiples of rankStep) come from one size budget for the whole file: every matrix starts
// at the smallest rank and the budget goes, step by step, to the move that removes the most
// relative whitened error (discarded sigma^2 / total sigma^2 of that matrix) per byte; a matrix
// whose factors would cost as much as its dense form is kept dense. See docs/COMPRESSION.md.
#include "passes/imatrix.h"
#include "tensor/ggml_type.h"

#include <Eigen/Dense>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tenfold {

struct HessianSet;

struct LowRankFactorization {
    Eigen::VectorXd sigma; // singular values of W S, descending (all of them)
    Eigen::MatrixXd a;     // [out x r]
    Eigen::MatrixXd b;     // [r x in]
};

// W [out x in]; H [in x in] (X^T X of the calibration activations) or null for a plain SVD
// (H = I). damp adds damp * mean(diag H) to H's diagonal (columns never activated make H
// singular). rank <= min(out, in). Throws InvalidArgument when H is not positive definite after
// damping or the shapes disagree.
LowRankFactorization factorizeLowRank(const Eigen::MatrixXd& W, const Eigen::MatrixXd* H, int64_t rank,
                                      double damp = 0.01);

// One matrix in the rank plan.
struct LowRankCandidate {
    std::string name;
    int64_t in = 0, out = 0;
    std::vector<double> sigma2;  // whitened sigma_i^2, descending
    uint64_t denseBytes = 0;     // bytes when kept dense
    // Bytes of the two factors at rank r.
    std::function<uint64_t(int64_t r)> factorBytes;
};

struct LowRankChoice {
    std::string name;
    int64_t rank = 0;            // 0: kept dense
    double relativeError = 0.0;  // discarded sigma^2 / total sigma^2 (0 when dense)
    uint64_t bytes = 0;
};

// Greedy allocation of `budgetBytes` (for the candidates' tensors alone) by relative error removed
// per byte. Throws InvalidArgument when even the smallest ranks do not fit (saying how many bytes
// they need).
std::vector<LowRankChoice> planLowRank(const std::vector<LowRankCandidate>& candidates, uint64_t budgetBytes,
                                       int64_t rankStep);

struct LowRankOptions {
    uint64_t targetBytes = 0;               // whole output file
    GGMLType factorType = GGMLType::F16;    // factors' type (falls back like chooseTensorType)
    std::optional<GGMLType> denseType;      // other weight matrices; unset: left as they are
    int64_t rankStep = 32;
    double damp = 0.01;
    int nThreads = 0;
    const HessianSet* hessians = nullptr;   // null: plain SVD
    // Fixed ranks by tensor name instead of a budget (tests, experiments): listed matrices are
    // factorised at that rank (clamped to min(in, out)), the others kept dense; targetBytes is
    // then ignored.
    std::map<std::string, int64_t> ranks;
    // Called per matrix while analysing (stage 0) and writing (stage 1).
    std::function<void(int stage, size_t index, size_t count, const std::string& name)> progress;
};

struct LowRankReport {
    uint64_t fileBytesBefore = 0;
    uint64_t fileBytesAfter = 0;
    uint64_t smallestBytes = 0; // the file at the smallest ranks
    std::vector<LowRankChoice> choices;
};

// Reads `in` (GGUF), factorises the layer matrices (blk.*, 2-D) to meet options.targetBytes and
// writes `out` atomically. Throws IoError/FormatError for the input, InvalidArgument for a target
// below what the method can reach.
LowRankReport lowRankCompress(const std::filesystem::path& in, const std::filesystem::path& out,
                              const LowRankOptions& options);

} // namespace tenfold
