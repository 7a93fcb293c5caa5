#include "passes/low_rank.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "passes/gguf_stream_writer.h"
#include "passes/gptq.h"
#include "passes/parallel_rows.h"
#include "passes/quantize_model.h"
#include "passes/row_convert.h"
#include "tensor/quant_grid.h"

#include <algorithm>
#include <cmath>

namespace tenfold {
namespace {

uint64_t padded(uint64_t n) { return (n + 31) & ~uint64_t(31); }

Eigen::MatrixXd dampedHessian(const Eigen::MatrixXd& H, double damp)
{
    Eigen::MatrixXd h = H;
    const double mean = h.diagonal().mean();
    // A zero Hessian (the layer never saw an input) still needs a positive diagonal.
    h.diagonal().array() += damp * (mean > 0.0 ? mean : 1.0);
    return h;
}

bool isLayerMatrix(const GGUFTensorInfo& t)
{
    return t.ne.size() == 2 && t.name.rfind("blk.", 0) == 0 && t.name.ends_with(".weight");
}

Eigen::MatrixXd toDense(const GGUFTensorInfo& t)
{
    const int64_t in = t.ne[0], out = t.ne[1];
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> w(out, in);
    std::vector<float> row(static_cast<size_t>(in));
    const size_t rb = rowBytes(t.type, in);
    for (int64_t r = 0; r < out; ++r) {
        rowToFloat(t.type, t.data + size_t(r) * rb, row.data(), in);
        for (int64_t c = 0; c < in; ++c)
            w(r, c) = row[size_t(c)];
    }
    return w;
}

// Rows of m quantized into `type`, each with its own column importance (null: unweighted).
std::vector<uint8_t> quantizeRows(const Eigen::MatrixXd& m, GGMLType type, const std::vector<float>& importance,
                                  int nThreads)
{
    const int64_t rows = m.rows(), cols = m.cols();
    const size_t rb = rowBytes(type, cols);
    std::vector<uint8_t> out(size_t(rows) * rb);
    const bool weighted = !importance.empty() && quant::hasWeightedSearch(type);
    parallelRanges(rows, nThreads, [&](int64_t begin, int64_t end) {
        std::vector<float> row(static_cast<size_t>(cols));
        for (int64_t r = begin; r < end; ++r) {
            for (int64_t c = 0; c < cols; ++c)
                row[size_t(c)] = float(m(r, c));
            uint8_t* dst = out.data() + size_t(r) * rb;
            if (weighted)
                quant::quantizeRowWeighted(type, row.data(), dst, cols, importance.data());
            else
                rowFromFloat(type, row.data(), dst, cols);
        }
    });
    return out;
}

Eigen::MatrixXd dequantizeRows(const std::vector<uint8_t>& data, GGMLType type, int64_t rows, int64_t cols)
{
    Eigen::MatrixXd m(rows, cols);
    const size_t rb = rowBytes(type, cols);
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
        rowToFloat(type, data.data() + size_t(r) * rb, row.data(), cols);
        for (int64_t c = 0; c < cols; ++c)
            m(r, c) = row[size_t(c)];
    }
    return m;
}

} // namespace

LowRankFactorization factorizeLowRank(const Eigen::MatrixXd& W, const Eigen::MatrixXd* H, int64_t rank, double damp)
{
    const int64_t out = W.rows(), in = W.cols();
    if (rank < 1 || rank > std::min(out, in))
        throw InvalidArgument("low-rank: rank " + std::to_string(rank) + " is outside [1, " +
                              std::to_string(std::min(out, in)) + "]");
    if (H && (H->rows() != in || H->cols() != in))
        throw InvalidArgument("low-rank: the activation statistics are " + std::to_string(H->rows()) + " wide, the matrix " +
                              std::to_string(in));
    LowRankFactorization f;
    Eigen::MatrixXd L; // S, lower triangular; identity for the plain SVD
    if (H) {
        Eigen::LLT<Eigen::MatrixXd> llt(damp > 0.0 ? dampedHessian(*H, damp) : *H);
        if (llt.info() != Eigen::Success)
            throw InvalidArgument("low-rank: the activation covariance is not positive definite (damping " +
                                  std::to_string(damp) + ")");
        L = llt.matrixL();
    }
    const Eigen::MatrixXd WS = H ? Eigen::MatrixXd(W * L.triangularView<Eigen::Lower>()) : W;
    Eigen::BDCSVD<Eigen::MatrixXd> svd(WS, Eigen::ComputeThinU | Eigen::ComputeThinV);
    f.sigma = svd.singularValues();
    const Eigen::VectorXd root = f.sigma.head(rank).cwiseSqrt();
    f.a = svd.matrixU().leftCols(rank) * root.asDiagonal();
    Eigen::MatrixXd vr = svd.matrixV().leftCols(rank); // [in x r]
    if (H) // V_r^T S^-1 = (S^-T V_r)^T
        vr = L.transpose().triangularView<Eigen::Upper>().solve(vr);
    f.b = root.asDiagonal() * vr.transpose();
    return f;
}

std::vector<LowRankChoice> planLowRank(const std::vector<LowRankCandidate>& candidates, uint64_t budgetBytes,
                                       int64_t rankStep)
{
    struct State {
        int64_t rank; // 0 = dense
        double total, error;
        uint64_t bytes;
    };
    auto discarded = [](const LowRankCandidate& c, int64_t r) {
        double s = 0;
        for (size_t i = size_t(r); i < c.sigma2.size(); ++i)
            s += c.sigma2[i];
        return s;
    };
    std::vector<State> st;
    uint64_t used = 0;
    for (const LowRankCandidate& c : candidates) {
        double total = 0;
        for (double s : c.sigma2)
            total += s;
        const int64_t r = std::min<int64_t>(rankStep, std::min(c.in, c.out));
        const uint64_t fb = c.factorBytes(r);
        State s = fb < c.denseBytes ? State{r, total, discarded(c, r), fb} : State{0, total, 0.0, c.denseBytes};
        used += s.bytes;
        st.push_back(s);
    }
    if (used > budgetBytes)
        throw InvalidArgument("low-rank: the layer matrices need at least " + std::to_string(used) +
                              " bytes at the smallest rank (" + std::to_string(rankStep) + "), the budget leaves " +
                              std::to_string(budgetBytes));
    // The next move of a matrix: one rank step more, or dense once the factors would cost as much.
    auto next = [&](size_t i, State& to) {
        const LowRankCandidate& c = candidates[i];
        const State& s = st[i];
        if (s.rank == 0)
            return false;
        const int64_t r = s.rank + rankStep;
        const uint64_t fb = r < std::min(c.in, c.out) ? c.factorBytes(r) : UINT64_MAX;
        to = fb < c.denseBytes ? State{r, s.total, discarded(c, r), fb} : State{0, s.total, 0.0, c.denseBytes};
        return true;
    };
    std::vector<bool> blocked(st.size(), false);
    for (;;) {
        double best = -1;
        size_t bestI = 0;
        State bestTo{};
        for (size_t i = 0; i < st.size(); ++i) {
            State to{};
            if (blocked[i] || !next(i, to))
                continue;
            if (to.bytes > st[i].bytes && used + (to.bytes - st[i].bytes) > budgetBytes) {
                blocked[i] = true; // moves only grow: this matrix cannot grow any more
                continue;
            }
            const double gain = st[i].total > 0 ? (st[i].error - to.error) / st[i].total : 0.0;
            const double cost = double(to.bytes > st[i].bytes ? to.bytes - st[i].bytes : 0) + 1.0;
            if (gain / cost > best) {
                best = gain / cost;
                bestI = i;
                bestTo = to;
            }
        }
        if (best < 0)
            break;
        used = used - st[bestI].bytes + bestTo.bytes;
        st[bestI] = bestTo;
    }
    std::vector<LowRankChoice> choices;
    for (size_t i = 0; i < st.size(); ++i)
        choices.push_back({candidates[i].name, st[i].rank, st[i].total > 0 ? st[i].error / st[i].total : 0.0,
                           st[i].bytes});
    return choices;
}

LowRankReport lowRankCompress(const std::filesystem::path& in, const std::filesystem::path& out,
                              const LowRankOptions& options)
{
    std::error_code ec;
    if (std::filesystem::exists(out, ec) && std::filesystem::equivalent(in, out, ec))
        throw InvalidArgument("input and output are the same file: " + in.string());
    if (options.rankStep < 1)
        throw InvalidArgument("low-rank: the rank step must be positive");
    const std::shared_ptr<GGUFFile> src = GGUFFile::open(in);
    const int nThreads = resolveThreadCount(options.nThreads);
    LowRankReport report;
    report.fileBytesBefore = src->fileSize();

    auto denseTypeOf = [&](const GGUFTensorInfo& t) {
        return options.denseType && t.ne.size() >= 2 ? chooseTensorType(t.ne, *options.denseType) : t.type;
    };
    auto factorTypes = [&](const GGUFTensorInfo& t, int64_t r) {
        return std::pair{chooseTensorType({r, t.ne[1]}, options.factorType),
                         chooseTensorType({t.ne[0], r}, options.factorType)};
    };
    auto hessianOf = [&](const GGUFTensorInfo& t) -> const Eigen::MatrixXd* {
        if (!options.hessians)
            return nullptr;
        const Eigen::MatrixXd* h = options.hessians->find(t.name);
        return h && h->rows() == t.ne[0] ? h : nullptr;
    };

    // Analysis: every layer matrix's whitened spectrum.
    uint64_t fixedBytes = src->fileSize();
    std::vector<LowRankCandidate> candidates;
    std::vector<size_t> candidateTensor;
    size_t layerMatrices = 0;
    for (const GGUFTensorInfo& t : src->tensors()) {
        fixedBytes -= std::min(fixedBytes, padded(t.nbytes));
        layerMatrices += isLayerMatrix(t) ? 1 : 0;
    }
    for (size_t i = 0; i < src->tensors().size(); ++i) {
        const GGUFTensorInfo& t = src->tensors()[i];
        if (!isLayerMatrix(t)) {
            fixedBytes += padded(rowBytes(denseTypeOf(t), t.ne[0]) * uint64_t(t.rows()));
            continue;
        }
        if (!options.ranks.empty())
            continue;
        if (options.progress)
            options.progress(0, candidates.size(), layerMatrices, t.name);
        const Eigen::MatrixXd W = toDense(t);
        const Eigen::MatrixXd* H = hessianOf(t);
        Eigen::MatrixXd WS = W;
        if (H) {
            Eigen::LLT<Eigen::MatrixXd> llt(dampedHessian(*H, options.damp));
            if (llt.info() != Eigen::Success)
                throw InvalidArgument("low-rank: the activation covariance of " + t.name + " is not positive definite");
            WS = W * llt.matrixL();
        }
        const Eigen::VectorXd sigma = Eigen::BDCSVD<Eigen::MatrixXd>(WS).singularValues();
        LowRankCandidate c;
        c.name = t.name;
        c.in = t.ne[0];
        c.out = t.ne[1];
        for (Eigen::Index k = 0; k < sigma.size(); ++k)
            c.sigma2.push_back(sigma(k) * sigma(k));
        c.denseBytes = padded(rowBytes(denseTypeOf(t), t.ne[0]) * uint64_t(t.ne[1]));
        c.factorBytes = [&, ti = &t](int64_t r) {
            const auto [ta, tb] = factorTypes(*ti, r);
            return padded(rowBytes(ta, r) * uint64_t(ti->ne[1])) + padded(rowBytes(tb, ti->ne[0]) * uint64_t(r));
        };
        candidates.push_back(std::move(c));
        candidateTensor.push_back(i);
    }
    // Tensor infos of the second factors and the rank metadata: about 100 bytes each.
    fixedBytes += 128 * uint64_t(candidates.size()) + 1024;
    uint64_t smallest = fixedBytes;
    for (const LowRankCandidate& c : candidates)
        smallest += std::min(c.denseBytes, c.factorBytes(std::min<int64_t>(options.rankStep, std::min(c.in, c.out))));
    report.smallestBytes = smallest;
    std::map<std::string, int64_t> rankOf;
    if (!options.ranks.empty()) {
        for (const GGUFTensorInfo& t : src->tensors())
            if (auto it = options.ranks.find(t.name); it != options.ranks.end() && isLayerMatrix(t) && it->second > 0) {
                const int64_t r = std::min(it->second, std::min(t.ne[0], t.ne[1]));
                rankOf[t.name] = r;
                report.choices.push_back({t.name, r, 0.0, 0});
            }
    } else if (options.targetBytes < smallest)
        throw InvalidArgument("low-rank: a target of " + std::to_string(options.targetBytes) +
                              " bytes is below the smallest file this method reaches for the model (" +
                              std::to_string(smallest) + " bytes at rank " + std::to_string(options.rankStep) + ")");
    else {
        report.choices = planLowRank(candidates, options.targetBytes - fixedBytes, options.rankStep);
        for (const LowRankChoice& c : report.choices)
            if (c.rank > 0)
                rankOf[c.name] = c.rank;
    }

    // Output layout: each factorised matrix becomes NAME.lr_a, NAME.lr_b in its place.
    auto metadata = quantizedMetadata(*src, options.denseType.value_or(GGMLType::F16));
    if (!options.denseType) // keep the source's own file type
        if (const GGUFValue* ft = src->find("general.file_type"))
            for (auto& kv : metadata)
                if (kv.first == "general.file_type")
                    kv.second = *ft;
    std::vector<std::string> names;
    std::vector<int32_t> ranks;
    for (const auto& [name, r] : rankOf) {
        names.push_back(name);
        ranks.push_back(int32_t(r));
    }
    metadata.emplace_back("tenfold.low_rank.version", GGUFValue::u32(1));
    metadata.emplace_back("tenfold.low_rank.tensors", GGUFValue::stringArray(names));
    metadata.emplace_back("tenfold.low_rank.ranks", GGUFValue::i32Array(ranks));
    std::vector<StreamTensorSpec> specs;
    for (const GGUFTensorInfo& t : src->tensors()) {
        if (auto it = rankOf.find(t.name); it != rankOf.end()) {
            const auto [ta, tb] = factorTypes(t, it->second);
            specs.push_back({t.name + ".lr_a", ta, {it->second, t.ne[1]}});
            specs.push_back({t.name + ".lr_b", tb, {t.ne[0], it->second}});
        } else {
            specs.push_back({t.name, denseTypeOf(t), t.ne});
        }
    }

    GGUFStreamWriter writer(out, metadata, specs);
    QuantizeOptions qo;
    qo.method = QuantMethod::Imatrix;
    qo.hessians = options.hessians;
    for (size_t i = 0, n = 0; i < src->tensors().size(); ++i) {
        const GGUFTensorInfo& t = src->tensors()[i];
        auto it = rankOf.find(t.name);
        if (it == rankOf.end()) {
            const GGMLType to = denseTypeOf(t);
            quantizeTensor(t, to, to == t.type ? QuantMethod::Rtn : methodFor(qo, t, to), qo, nThreads,
                           [&writer](const uint8_t* data, size_t bytes) { writer.append(data, bytes); });
            continue;
        }
        if (options.progress)
            options.progress(1, n++, rankOf.size(), t.name);
        const int64_t r = it->second;
        const Eigen::MatrixXd W = toDense(t);
        const Eigen::MatrixXd* H = hessianOf(t);
        LowRankFactorization f = factorizeLowRank(W, H, r, options.damp);
        const auto [ta, tb] = factorTypes(t, r);
        std::vector<float> bImportance;
        if (H)
            for (Eigen::Index j = 0; j < H->rows(); ++j)
                bImportance.push_back(float((*H)(j, j)));
        const std::vector<uint8_t> bBytes = quantizeRows(f.b, tb, bImportance, nThreads);
        if (tb != GGMLType::F32) {
            // With B rounded, the A that best keeps the layer's output on the calibration
            // activations is a least-squares fit: A = W H Bq^T (Bq H Bq^T)^-1.
            const Eigen::MatrixXd bq = dequantizeRows(bBytes, tb, r, t.ne[0]);
            const Eigen::MatrixXd h = H ? dampedHessian(*H, options.damp) : Eigen::MatrixXd::Identity(t.ne[0], t.ne[0]);
            const Eigen::MatrixXd hb = h * bq.transpose();          // [in x r]
            const Eigen::MatrixXd g = bq * hb;                       // [r x r]
            Eigen::LDLT<Eigen::MatrixXd> ldlt(g);
            if (ldlt.info() == Eigen::Success) {
                const Eigen::MatrixXd refit = ldlt.solve((W * hb).transpose()).transpose();
                if (refit.allFinite())
                    f.a = refit;
            }
        }
        std::vector<float> aImportance;
        if (H) {
            const Eigen::MatrixXd hb = *H * f.b.transpose();
            for (int64_t k = 0; k < r; ++k)
                aImportance.push_back(float(std::max(0.0, f.b.row(k).dot(hb.col(k)))));
        }
        const std::vector<uint8_t> aBytes = quantizeRows(f.a, ta, aImportance, nThreads);
        writer.append(aBytes.data(), aBytes.size());
        writer.append(bBytes.data(), bBytes.size());
    }
    writer.finish();
    report.fileBytesAfter = writer.bytesWritten();
    return report;
}

} // namespace tenfold
