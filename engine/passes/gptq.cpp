#include "passes/gptq.h"

#include "core/error.h"
#include "model/model.h"
#include "passes/imatrix.h"
#include "passes/parallel_rows.h"
#include "passes/calibration_windows.h"
#include "tensor/ggml_type.h"
#include "tensor/quant_blocks.h"
#include "tensor/quant_grid.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tenfold {
namespace {

// Matrices fed the same activations share a Hessian: blk.N.attn_{q,k,v} read the attention
// norm's output, blk.N.ffn_{gate,up} the FFN norm's.
std::string inputKey(const std::string& tensor)
{
    for (const char* s : {"attn_q.weight", "attn_k.weight", "attn_v.weight"})
        if (tensor.size() > std::string(s).size() && tensor.ends_with(s))
            return tensor.substr(0, tensor.size() - std::string(s).size()) + "attn_in";
    for (const char* s : {"ffn_gate.weight", "ffn_up.weight"})
        if (tensor.ends_with(s))
            return tensor.substr(0, tensor.size() - std::string(s).size()) + "ffn_in";
    return tensor;
}

} // namespace

HessianSet collectHessians(std::shared_ptr<const Model> model, std::span<const int32_t> tokens,
                           const ImatrixOptions& options)
{
    const std::string outputName = model->output().name;
    CalibrationWindows windows(std::move(model), tokens, options.nCtx, options.maxChunks, options.nThreads, "GPTQ");

    // Sums in float per window (Eigen's product is fast there), folded into double per window so
    // tens of thousands of rows keep their precision.
    std::map<std::string, Eigen::MatrixXd> sums;
    std::map<std::string, std::string> keyOf;
    std::map<std::string, Eigen::MatrixXf> window;
    using ConstRows = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                                 Eigen::OuterStride<>>;
    windows.context().setMatmulObserver([&](const WeightTensor& w, const float* x, int rows, int64_t ldx) {
        if (w.name == outputName ? !options.outputHead : (w.name.rfind("blk.", 0) != 0 || !options.wants(w.name)))
            return;
        const std::string key = inputKey(w.name);
        keyOf[w.name] = key;
        // q/k/v (gate/up) arrive one after another with the same input: count it once.
        if (key != w.name && key.ends_with("attn_in") && !w.name.ends_with("attn_q.weight"))
            return;
        if (key != w.name && key.ends_with("ffn_in") && !w.name.ends_with("ffn_gate.weight"))
            return;
        const ConstRows X(x, rows, w.ne0, Eigen::OuterStride<>(ldx));
        Eigen::MatrixXf& acc = window[key];
        if (acc.size() == 0)
            acc = Eigen::MatrixXf::Zero(w.ne0, w.ne0);
        acc.selfadjointView<Eigen::Lower>().rankUpdate(X.transpose());
    });

    std::vector<float> logits;
    for (int c = 0; c < windows.count(); ++c) {
        windows.run(c, options.outputHead ? 0 : options.nCtx - 1, logits, options.cancel);
        for (auto& [key, acc] : window) {
            Eigen::MatrixXd& s = sums[key];
            if (s.size() == 0)
                s = Eigen::MatrixXd::Zero(acc.rows(), acc.cols());
            s += acc.cast<double>();
            acc.setZero();
        }
        if (options.progress)
            options.progress(c + 1, windows.count());
    }
    HessianSet set;
    set.rows = int64_t(windows.count()) * options.nCtx;
    std::map<std::string, std::shared_ptr<const Eigen::MatrixXd>> shared;
    for (auto& [key, s] : sums) {
        // rankUpdate filled the lower triangle only.
        Eigen::MatrixXd full = s.selfadjointView<Eigen::Lower>();
        shared[key] = std::make_shared<const Eigen::MatrixXd>(std::move(full));
    }
    for (const auto& [name, key] : keyOf)
        set.h[name] = shared.at(key);
    return set;
}

void gptqQuantize(RowMatrixF& W, Eigen::MatrixXd H, int groupSize, double damp,
                  const std::function<void(int64_t row, int g0, const float* values)>& startGroup,
                  const std::function<float(int64_t row, int col, float value)>& quantize, int nThreads)
{
    const int64_t rows = W.rows();
    const int cols = int(W.cols());
    if (H.rows() != cols || H.cols() != cols)
        throw InvalidArgument("GPTQ: the Hessian is " + std::to_string(H.rows()) + "x" + std::to_string(H.cols()) +
                              ", the weight has " + std::to_string(cols) + " columns");
    if (groupSize <= 0 || cols % groupSize != 0)
        throw InvalidArgument("GPTQ: " + std::to_string(cols) + " columns are not whole groups of " +
                              std::to_string(groupSize));
    // A column no input ever reached cannot change the output: zero it and make H invertible.
    for (int i = 0; i < cols; ++i)
        if (H(i, i) == 0) {
            H(i, i) = 1;
            W.col(i).setZero();
        }
    if (damp > 0)
        H.diagonal().array() += damp * H.diagonal().mean();
    // U: the upper Cholesky factor of H^-1. Row i of U, divided by U(i,i), is how the rounding
    // error of column i spreads over the later columns (the OBS update with the earlier columns
    // already fixed); U(i,i)^2 is the inverse Hessian's diagonal at that step.
    Eigen::LLT<Eigen::MatrixXd> llt(H);
    if (llt.info() != Eigen::Success)
        throw InvalidArgument("GPTQ: the calibration Hessian is not positive definite (too few calibration tokens "
                              "for a layer of " + std::to_string(cols) + " inputs? use more text or damping)");
    const Eigen::MatrixXd Hinv = llt.solve(Eigen::MatrixXd::Identity(cols, cols));
    Eigen::LLT<Eigen::MatrixXd> lltInv(Hinv);
    if (lltInv.info() != Eigen::Success)
        throw InvalidArgument("GPTQ: the inverse Hessian is not positive definite (ill-conditioned layer)");
    const RowMatrixF U = Eigen::MatrixXd(lltInv.matrixU()).cast<float>();

    RowMatrixF E(rows, groupSize); // the current group's scaled errors, one row per weight row
    for (int g0 = 0; g0 < cols; g0 += groupSize) {
        const int g1 = g0 + groupSize;
        parallelRanges(rows, nThreads, [&](int64_t r0, int64_t r1) {
            for (int64_t r = r0; r < r1; ++r) {
                float* w = W.row(r).data();
                float* err = E.row(r).data();
                startGroup(r, g0, w + g0);
                for (int i = g0; i < g1; ++i) {
                    const float q = quantize(r, i, w[i]);
                    const float e = (w[i] - q) / U(i, i);
                    w[i] = q;
                    err[i - g0] = e;
                    const float* u = U.row(i).data();
                    for (int c = i + 1; c < g1; ++c)
                        w[c] -= e * u[c];
                }
            }
        });
        // The group's errors, applied to every later column at once (GPTQ's lazy batch update):
        // one matrix product instead of a rank-1 update per column.
        if (g1 < cols)
            W.rightCols(cols - g1).noalias() -= E * U.block(g0, g1, groupSize, cols - g1);
    }
}

void gptqQuantizeTensor(GGMLType type, const float* weights, int64_t rows, int64_t cols, const Eigen::MatrixXd& H,
                        uint8_t* out, int nThreads, double damp)
{
    if (!quant::hasGroupGrid(type))
        throw UnsupportedError(std::string("GPTQ writes 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL), not ") +
                               typeName(type));
    RowMatrixF W = Eigen::Map<const RowMatrixF>(weights, rows, cols);
    // Importance of each input column for the grid fit: the Hessian's diagonal (sum of x^2).
    std::vector<float> importance(static_cast<size_t>(cols));
    const double scale = H.diagonal().maxCoeff() > 0 ? 1.0 / H.diagonal().maxCoeff() : 1.0;
    for (int64_t j = 0; j < cols; ++j)
        importance[size_t(j)] = float(std::max(H(j, j) * scale, 1e-12));
    const int64_t blocksPerRow = cols / kQK;
    const size_t blockBytes = typeTraits(type).blockBytes;
    std::vector<quant::Grid> grids(size_t(rows * blocksPerRow));
    std::vector<int> levels(size_t(rows * cols));
    gptqQuantize(
        W, H, kQK, damp,
        [&](int64_t row, int g0, const float* values) {
            grids[size_t(row * blocksPerRow + g0 / kQK)] = quant::fitGroup(type, values, importance.data() + g0);
        },
        [&](int64_t row, int col, float value) {
            const quant::Grid& g = grids[size_t(row * blocksPerRow + col / kQK)];
            const int q = quant::nearestLevel(g, value);
            levels[size_t(row * cols + col)] = q;
            return quant::levelValue(g, q);
        },
        nThreads);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t b = 0; b < blocksPerRow; ++b)
            quant::packBlock(type, grids[size_t(r * blocksPerRow + b)], levels.data() + r * cols + b * kQK,
                             out + size_t(r * blocksPerRow + b) * blockBytes);
}

} // namespace tenfold
