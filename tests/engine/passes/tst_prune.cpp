// Pruning: each mask against an independent brute-force ranking of its score (full sorts, not
// the nth_element selection the code uses), exact counts and N:M patterns; SparseGPT against a
// dense least-squares solve (QR of the activations) for a mask where sequential OBS is exact, and
// against Wanda's reconstruction error on the same activations; structured outputs (heads, FFN
// channels, layers) against the ORIGINAL model with the removed parts' output projections zeroed
// (which must compute the same logits), and that their dimensions are what was asked.
#include "common/shared_data.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "passes/gguf_stream_writer.h"
#include "passes/imatrix.h"
#include "passes/prune.h"
#include "passes/prune_mask.h"
#include "passes/prune_structured.h"
#include "passes/quantize_model.h"
#include "passes/row_convert.h"
#include "runtime/cpu_backend.h"
#include "runtime/cpu_context.h"
#include "tensor/cpu_features.h"
#include "tensor/half.h"
#include "tensor/sparse24.h"
#include "tokenizer/tokenizer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <set>

using namespace tenfold;

namespace {

RowMatrixF randomMatrix(int rows, int cols, std::mt19937& rng)
{
    std::normal_distribution<float> n(0.f, 1.f);
    RowMatrixF W(rows, cols);
    for (int i = 0; i < W.size(); ++i)
        W.data()[i] = n(rng);
    return W;
}

// Correlated activations with uneven column scales, as real ones are.
Eigen::MatrixXf activations(int T, int cols, std::mt19937& rng)
{
    std::normal_distribution<float> n(0.f, 1.f);
    Eigen::MatrixXf Z(T, cols), M(cols, cols);
    for (int i = 0; i < Z.size(); ++i)
        Z.data()[i] = n(rng);
    for (int i = 0; i < M.size(); ++i)
        M.data()[i] = n(rng) * 0.3f;
    M += Eigen::MatrixXf::Identity(cols, cols);
    Eigen::MatrixXf X = Z * M;
    for (int j = 0; j < cols; ++j)
        X.col(j) *= 0.2f + float(j % 7);
    return X;
}

// Brute force: indices sorted by (score, index), the first k.
std::set<int64_t> smallestK(const std::vector<double>& score, int64_t k)
{
    std::vector<int64_t> idx(score.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
        return score[size_t(a)] < score[size_t(b)] || (score[size_t(a)] == score[size_t(b)] && a < b);
    });
    return std::set<int64_t>(idx.begin(), idx.begin() + k);
}

std::set<int64_t> zerosOf(const RowMatrixF& W, int64_t offset = 0, int64_t begin = 0, int64_t end = -1)
{
    std::set<int64_t> z;
    if (end < 0)
        end = W.size();
    for (int64_t i = begin; i < end; ++i)
        if (W.data()[i] == 0.0f)
            z.insert(i - offset);
    return z;
}

void checkNM(const RowMatrixF& W, int keep, int group)
{
    for (int64_t r = 0; r < W.rows(); ++r)
        for (int64_t g = 0; g < W.cols(); g += group) {
            int nz = 0;
            for (int j = 0; j < group; ++j)
                nz += W(r, g + j) != 0.0f;
            QVERIFY2(nz <= keep, qPrintable(QString("row %1 group %2 keeps %3 > %4").arg(r).arg(g).arg(nz).arg(keep)));
        }
}

double outputError(const Eigen::MatrixXf& X, const RowMatrixF& A, const RowMatrixF& B)
{
    return double((X * (A - B).transpose()).squaredNorm());
}

std::vector<float> logitsOf(const std::filesystem::path& path, const std::vector<int32_t>& tokens)
{
    auto model = Model::loadGGUF(path);
    auto backend = createCpuBackend(2);
    ContextParams cp;
    cp.nCtx = int(tokens.size());
    cp.kvType = GGMLType::F32;
    auto ctx = backend->createContext(model, cp);
    std::vector<float> logits;
    ctx->decode(tokens, true, logits);
    return logits;
}

// Copies `in` to `out` with fn(name, row-major floats, ne) applied to every F32 2-D tensor (and to
// the 1-D ones too with vectors = true).
void rewriteF32(const std::filesystem::path& in, const std::filesystem::path& out,
                const std::function<void(const std::string&, std::vector<float>&, const std::vector<int64_t>&)>& fn,
                bool vectors = false)
{
    auto src = GGUFFile::open(in);
    std::vector<StreamTensorSpec> specs;
    for (const auto& t : src->tensors())
        specs.push_back({t.name, t.type, t.ne});
    GGUFStreamWriter w(out, src->metadata(), specs);
    for (const auto& t : src->tensors()) {
        if (t.type == GGMLType::F32 && (t.ne.size() == 2 || (vectors && t.ne.size() == 1))) {
            std::vector<float> v(size_t(t.elementCount()));
            std::memcpy(v.data(), t.data, t.nbytes);
            fn(t.name, v, t.ne);
            w.append(v.data(), t.nbytes);
        } else {
            w.append(t.data, t.nbytes);
        }
    }
    w.finish();
}

// Half the weights, calibrated on 4 windows of 128 tokens, 2 threads: the small runs the
// stories260K tests make.
PruneOptions smallRun(PruneMethod m)
{
    PruneOptions o;
    o.method = m;
    o.sparsity = 0.5;
    o.calibCtx = 128;
    o.calibWindows = 4;
    o.nThreads = 2;
    return o;
}

std::vector<int32_t> calibTokens(const Model& m)
{
    std::ifstream in(test::sharedFile("text/calibration.txt"), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return m.tokenizer().encode(text.substr(0, 40000), true);
}

} // namespace

class TestPrune : public QObject {
    Q_OBJECT

private slots:
    void magnitudeMask()
    {
        std::mt19937 rng(1);
        for (double s : {0.0, 0.37, 0.5, 0.9}) {
            RowMatrixF W = randomMatrix(13, 24, rng), W0 = W;
            SparsityPattern p;
            p.sparsity = s;
            magnitudePrune(W, p);
            std::vector<double> score(size_t(W0.size()));
            for (int64_t i = 0; i < W0.size(); ++i)
                score[size_t(i)] = std::fabs(W0.data()[i]);
            const int64_t k = int64_t(std::floor(s * double(W0.size())));
            QCOMPARE(zerosOf(W), smallestK(score, k));
            for (int64_t i = 0; i < W.size(); ++i) // kept weights unchanged
                QVERIFY(W.data()[i] == 0.0f || W.data()[i] == W0.data()[i]);
        }
        for (auto [n, m] : {std::pair{2, 4}, std::pair{3, 8}, std::pair{1, 2}}) {
            RowMatrixF W = randomMatrix(5, 16, rng), W0 = W;
            SparsityPattern p;
            p.nmKeep = n;
            p.nmGroup = m;
            magnitudePrune(W, p);
            checkNM(W, n, m);
            for (int64_t g0 = 0; g0 < W.size(); g0 += m) {
                std::vector<double> score;
                for (int j = 0; j < m; ++j)
                    score.push_back(std::fabs(W0.data()[g0 + j]));
                QCOMPARE(zerosOf(W, g0, g0, g0 + m), smallestK(score, m - n));
            }
        }
    }

    void wandaMask()
    {
        std::mt19937 rng(2);
        const int rows = 9, cols = 40;
        RowMatrixF W = randomMatrix(rows, cols, rng), W0 = W;
        const Eigen::MatrixXf X = activations(64, cols, rng);
        std::vector<float> norm(cols);
        for (int j = 0; j < cols; ++j)
            norm[size_t(j)] = X.col(j).norm();
        SparsityPattern p;
        p.sparsity = 0.55;
        wandaPrune(W, norm, p);
        const int64_t k = int64_t(std::floor(0.55 * cols));
        for (int r = 0; r < rows; ++r) {
            std::vector<double> score;
            for (int j = 0; j < cols; ++j) // the score from the activations themselves
                score.push_back(std::fabs(double(W0(r, j))) * X.col(j).cast<double>().norm());
            QCOMPARE(zerosOf(W, int64_t(r) * cols, int64_t(r) * cols, int64_t(r + 1) * cols), smallestK(score, k));
        }
        // N:M
        RowMatrixF V = W0;
        p.nmKeep = 2;
        p.nmGroup = 4;
        wandaPrune(V, norm, p);
        checkNM(V, 2, 4);
        for (int r = 0; r < rows; ++r)
            for (int g = 0; g < cols; g += 4) {
                std::vector<double> score;
                for (int j = 0; j < 4; ++j)
                    score.push_back(std::fabs(double(W0(r, g + j))) * X.col(g + j).cast<double>().norm());
                const int64_t at = int64_t(r) * cols + g;
                QCOMPARE(zerosOf(V, at, at, at + 4), smallestK(score, 2));
            }
        // It differs from magnitude where the activation scales differ (the test means something).
        RowMatrixF M = W0;
        SparsityPattern pm;
        pm.sparsity = 0.55;
        magnitudePrune(M, pm);
        QVERIFY(zerosOf(M) != zerosOf(W));
    }

    void sparseGptCountsAndPattern()
    {
        std::mt19937 rng(3);
        const int rows = 7, cols = 40;
        const Eigen::MatrixXf X = activations(200, cols, rng);
        const Eigen::MatrixXd H = (X.transpose() * X).cast<double>();
        for (double s : {0.3, 0.5, 0.75}) {
            RowMatrixF W = randomMatrix(rows, cols, rng);
            SparsityPattern p;
            p.sparsity = s;
            sparseGptPrune(W, H, p, 16, 0.01, 2);
            QCOMPARE(int64_t(zerosOf(W).size()), int64_t(std::floor(s * rows * cols)));
        }
        RowMatrixF W = randomMatrix(rows, cols, rng);
        SparsityPattern p;
        p.nmKeep = 2;
        p.nmGroup = 4;
        sparseGptPrune(W, H, p, 16, 0.01, 2);
        checkNM(W, 2, 4);
        QCOMPARE(int64_t(zerosOf(W).size()), int64_t(rows * cols / 2));
    }

    // Where every row's pruned columns precede its kept ones, sequential OBS is exact: it must give
    // the least-squares optimum min ||X w - X_K w'_K|| over the kept columns, here solved by QR.
    void sparseGptExactForPrefixMask()
    {
        std::mt19937 rng(4);
        const int rows = 5, cols = 24;
        const Eigen::MatrixXf X = activations(300, cols, rng);
        const Eigen::MatrixXd H = (X.transpose() * X).cast<double>();
        RowMatrixF W0 = randomMatrix(rows, cols, rng), W = W0;
        std::vector<uint8_t> keep(size_t(rows * cols), 1);
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < 3 + 4 * r; ++c)
                keep[size_t(r * cols + c)] = 0;
        SparsityPattern p;
        sparseGptPrune(W, H, p, 8, 0.0, 1, &keep);
        const Eigen::MatrixXd Xd = X.cast<double>();
        for (int r = 0; r < rows; ++r) {
            const int first = 3 + 4 * r;
            const Eigen::VectorXd y = Xd * W0.row(r).transpose().cast<double>();
            const Eigen::MatrixXd XK = Xd.rightCols(cols - first);
            const Eigen::VectorXd wK = XK.colPivHouseholderQr().solve(y);
            for (int c = 0; c < first; ++c)
                QCOMPARE(W(r, c), 0.0f);
            for (int c = first; c < cols; ++c)
                QVERIFY2(std::fabs(double(W(r, c)) - wK(c - first)) < 2e-3 * (1 + std::fabs(wK(c - first))),
                         qPrintable(QString("row %1 col %2: %3 vs least squares %4").arg(r).arg(c).arg(W(r, c)).arg(wK(c - first))));
        }
    }

    void sparseGptBeatsWanda()
    {
        std::mt19937 rng(5);
        const int rows = 32, cols = 64;
        const Eigen::MatrixXf X = activations(512, cols, rng);
        const Eigen::MatrixXd H = (X.transpose() * X).cast<double>();
        std::vector<float> norm(cols);
        for (int j = 0; j < cols; ++j)
            norm[size_t(j)] = X.col(j).norm();
        const RowMatrixF W0 = randomMatrix(rows, cols, rng);
        for (int nm : {0, 1}) {
            SparsityPattern p;
            p.sparsity = 0.5;
            if (nm) {
                p.nmKeep = 2;
                p.nmGroup = 4;
            }
            RowMatrixF A = W0, B = W0, C = W0;
            wandaPrune(A, norm, p);
            sparseGptPrune(B, H, p, 16, 0.01, 2);
            magnitudePrune(C, p);
            const double ew = outputError(X, W0, A), es = outputError(X, W0, B), em = outputError(X, W0, C);
            qInfo("%s: output error magnitude %.1f, Wanda %.1f, SparseGPT %.1f", nm ? "2:4" : "50%", em, ew, es);
            QVERIFY(es < ew);
            QVERIFY(ew < em);
        }
    }

    // The 2:4 format and mat-vec: scalar and AVX2 against a dense double product of the same
    // (F16-rounded) matrix, on odd shapes (columns that are 8 but not 16 apart, single rows), and
    // groups with fewer than 2 non-zeros.
    void sparse24Kernel()
    {
        std::mt19937 rng(6);
        std::normal_distribution<float> nd(0.f, 1.f);
        for (auto [rows, cols] : {std::pair<int, int>{1, 8}, {3, 24}, {7, 40}, {33, 136}, {5, 1000}}) {
            RowMatrixF W = randomMatrix(rows, cols, rng);
            for (int64_t i = 0; i < W.size(); ++i)
                W.data()[i] = fp16ToFp32(fp32ToFp16(W.data()[i]));
            SparsityPattern p;
            p.nmKeep = 2;
            p.nmGroup = 4;
            magnitudePrune(W, p);
            W(0, 0) = W(0, 1) = W(0, 2) = W(0, 3) = 0.0f; // an empty group
            if (cols >= 8) {
                W(rows - 1, 4) = W(rows - 1, 5) = W(rows - 1, 6) = 0.0f; // a group with one weight
                W(rows - 1, 7) = 1.5f;
            }
            const Sparse24F16 s = packSparse24(W.data(), rows, cols);
            QCOMPARE(s.values.size() * 2 + s.codes.size(), size_t(rows) * size_t(cols) * 9 / 8);
            std::vector<float> x(static_cast<size_t>(cols)), yr(static_cast<size_t>(rows)), ya(static_cast<size_t>(rows));
            for (float& v : x)
                v = nd(rng);
            sparse24MatVecRef(s, x.data(), yr.data(), 0, rows);
            if (cpuHasAvx2FmaF16c())
                sparse24MatVecAvx2(s, x.data(), ya.data(), 0, rows);
            for (int r = 0; r < rows; ++r) {
                double dense = 0, mag = 0;
                for (int j = 0; j < cols; ++j) {
                    dense += double(W(r, j)) * x[size_t(j)];
                    mag += std::fabs(double(W(r, j)) * x[size_t(j)]);
                }
                QVERIFY2(std::fabs(yr[size_t(r)] - dense) <= 1e-5 * (1 + mag), qPrintable(QString("ref row %1").arg(r)));
                if (cpuHasAvx2FmaF16c())
                    QVERIFY2(std::fabs(ya[size_t(r)] - dense) <= 1e-5 * (1 + mag), qPrintable(QString("avx2 row %1").arg(r)));
            }
        }
        if (!cpuHasAvx2FmaF16c())
            qInfo("no AVX2 on this CPU: only the scalar 2:4 path was checked");
        RowMatrixF bad = RowMatrixF::Ones(1, 8);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, packSparse24(bad.data(), 1, 8));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, packSparse24(bad.data(), 2, 4));
    }

    void badInput()
    {
        RowMatrixF W = RowMatrixF::Ones(2, 8);
        SparsityPattern p;
        p.sparsity = 1.0;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, magnitudePrune(W, p));
        p.sparsity = -0.1;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, magnitudePrune(W, p));
        p.sparsity = 0.5;
        p.nmKeep = 4;
        p.nmGroup = 4;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, magnitudePrune(W, p));
        p.nmKeep = 2;
        p.nmGroup = 3; // 8 columns are no whole groups of 3
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, magnitudePrune(W, p));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, parsePruneMethod("random"));

        const auto model = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(model);
        QTemporaryDir dir;
        const std::filesystem::path out = dir.filePath("x.gguf").toStdString();
        PruneOptions o;
        o.method = PruneMethod::Magnitude;
        o.sparsity = 1.0;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, pruneModel(model, out, {}, o));
        o.sparsity = 0.5;
        o.method = PruneMethod::Wanda; // no calibration text
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, pruneModel(model, out, {}, o));
        o.method = PruneMethod::Layers;
        o.layersKeep = 99;
        std::vector<int32_t> few(600, 1);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, pruneModel(model, out, few, o));
        QVERIFY(!std::filesystem::exists(out));
    }

    void unstructuredModel()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        TENFOLD_REQUIRE_SHARED(test::sharedFile("text/calibration.txt"));
        QTemporaryDir dir;
        auto model = Model::loadGGUF(path);
        const std::vector<int32_t> tokens = calibTokens(*model);
        for (int variant = 0; variant < 3; ++variant) {
            PruneOptions o = smallRun(variant == 0   ? PruneMethod::Magnitude
                                      : variant == 1 ? PruneMethod::Wanda
                                                     : PruneMethod::SparseGpt);
            if (variant == 1) {
                o.nmKeep = 2;
                o.nmGroup = 4;
            }
            const std::filesystem::path out = dir.filePath(QString("u%1.gguf").arg(variant)).toStdString();
            const PruneReport rep = pruneModel(path, out, tokens, o);
            auto src = GGUFFile::open(path), dst = GGUFFile::open(out);
            QCOMPARE(dst->tensors().size(), src->tensors().size());
            int pruned = 0;
            for (size_t i = 0; i < src->tensors().size(); ++i) {
                const auto& a = src->tensors()[i];
                const auto& b = dst->tensors()[i];
                QCOMPARE(b.name, a.name);
                QCOMPARE(b.type, a.type);
                QVERIFY(b.ne == a.ne);
                const bool prunable = prunableLayer(a.name) >= 0;
                if (!prunable) {
                    QVERIFY2(std::memcmp(a.data, b.data, a.nbytes) == 0, a.name.c_str());
                    continue;
                }
                ++pruned;
                std::vector<float> v(size_t(b.elementCount()));
                rowToFloat(b.type, b.data, v.data(), b.elementCount());
                const int64_t zeros = std::count(v.begin(), v.end(), 0.0f);
                QVERIFY2(zeros >= b.elementCount() / 2, a.name.c_str());
                if (variant == 1) {
                    RowMatrixF M = Eigen::Map<RowMatrixF>(v.data(), b.ne[1], b.ne[0]);
                    checkNM(M, 2, 4);
                }
            }
            QCOMPARE(pruned, 7 * model->hparams().nLayer);
            QCOMPARE(int(rep.tensors.size()), pruned);
            // Still a model that runs.
            std::vector<int32_t> probe(tokens.begin(), tokens.begin() + 32);
            for (float x : logitsOf(out, probe))
                QVERIFY(std::isfinite(x));
        }
    }

    // Per-layer sparsity: each matrix of layer l loses exactly floor(s_l * n) weights.
    void perLayerSparsity()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        QTemporaryDir dir;
        const std::filesystem::path out = dir.filePath("pl.gguf").toStdString();
        PruneOptions o;
        o.method = PruneMethod::Magnitude;
        o.layerSparsity = {0.1, 0.25, 0.0, 0.6, 0.45};
        o.nThreads = 2;
        const PruneReport rep = pruneModel(path, out, {}, o);
        auto src = GGUFFile::open(path), dst = GGUFFile::open(out);
        for (size_t i = 0; i < src->tensors().size(); ++i) {
            const int l = prunableLayer(src->tensors()[i].name);
            if (l < 0)
                continue;
            const auto& a = src->tensors()[i];
            const auto& b = dst->tensors()[i];
            const float* va = reinterpret_cast<const float*>(a.data);
            const float* vb = reinterpret_cast<const float*>(b.data);
            const int64_t n = a.elementCount();
            QCOMPARE(std::count(va, va + n, 0.0f), 0L); // none were zero before
            QCOMPARE(int64_t(std::count(vb, vb + n, 0.0f)), int64_t(std::floor(o.layerSparsity[size_t(l)] * double(n))));
        }
        o.layerSparsity = {0.5, 0.5};
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, pruneModel(path, out, {}, o));
        (void)rep;
    }

    // Wanda's score |W_ij| * ||X_j|| does not change when an input channel is made S times larger
    // and the weights that read it S times smaller (the same model; big LLMs' outlier channels look
    // like this), so it prunes such a copy exactly as the original; magnitude does not. The copy:
    // for residual channels j, attn_norm[j] and ffn_norm[j] times S and column j of
    // attn_q/k/v and ffn_gate/up divided by S; for FFN channels i, row i of ffn_up times S (SwiGLU
    // is linear in it) and column i of ffn_down divided by S. S = 16 keeps every float exact.
    void wandaIgnoresChannelScale()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        TENFOLD_REQUIRE_SHARED(test::sharedFile("text/calibration.txt"));
        QTemporaryDir dir;
        const std::filesystem::path scaled = dir.filePath("scaled.gguf").toStdString();
        const float S = 16.0f;
        const std::set<int64_t> chans = {3, 17, 40}, ffnChans = {0, 9, 100, 171};
        rewriteF32(
            path, scaled,
            [&](const std::string& name, std::vector<float>& v, const std::vector<int64_t>& ne) {
                if (prunableLayer(name) < 0 && !name.ends_with("_norm.weight"))
                    return;
                if (name.starts_with("output_norm"))
                    return;
                const int64_t cols = ne[0], rows = ne.size() > 1 ? ne[1] : 1;
                auto scaleCol = [&](int64_t c, float f) {
                    for (int64_t r = 0; r < rows; ++r)
                        v[size_t(r * cols + c)] *= f;
                };
                if (name.ends_with("attn_norm.weight") || name.ends_with("ffn_norm.weight"))
                    for (int64_t j : chans)
                        v[size_t(j)] *= S;
                else if (name.ends_with("attn_q.weight") || name.ends_with("attn_k.weight") ||
                         name.ends_with("attn_v.weight") || name.ends_with("ffn_gate.weight"))
                    for (int64_t j : chans)
                        scaleCol(j, 1.0f / S);
                else if (name.ends_with("ffn_up.weight")) {
                    for (int64_t j : chans)
                        scaleCol(j, 1.0f / S);
                    for (int64_t i : ffnChans)
                        for (int64_t c = 0; c < cols; ++c)
                            v[size_t(i * cols + c)] *= S;
                } else if (name.ends_with("ffn_down.weight"))
                    for (int64_t i : ffnChans)
                        scaleCol(i, 1.0f / S);
            },
            true);
        auto model = Model::loadGGUF(path);
        const std::vector<int32_t> tokens = calibTokens(*model);
        const std::vector<int32_t> probe(tokens.begin() + 100, tokens.begin() + 164);
        auto maxDiff = [](const std::vector<float>& a, const std::vector<float>& b) {
            float d = 0.0f;
            for (size_t i = 0; i < a.size(); ++i)
                d = std::max(d, std::fabs(a[i] - b[i]));
            return d;
        };
        // The copy is the same model: the original's logits are the oracle.
        QVERIFY(maxDiff(logitsOf(path, probe), logitsOf(scaled, probe)) < 1e-4f);

        auto prune = [&](const std::filesystem::path& in, PruneMethod m, const char* name) {
            const std::filesystem::path out = dir.filePath(name).toStdString();
            pruneModel(in, out, tokens, smallRun(m));
            return out;
        };
        // Which weights are zero, per pruned matrix.
        auto masks = [](const std::filesystem::path& p) {
            std::map<std::string, std::vector<bool>> z;
            auto f = GGUFFile::open(p);
            for (const auto& t : f->tensors()) {
                if (prunableLayer(t.name) < 0)
                    continue;
                const float* v = reinterpret_cast<const float*>(t.data);
                auto& m = z[t.name];
                for (int64_t i = 0; i < t.elementCount(); ++i)
                    m.push_back(v[i] == 0.0f);
            }
            return z;
        };
        const auto wOrig = prune(path, PruneMethod::Wanda, "w-orig.gguf");
        const auto wScaled = prune(scaled, PruneMethod::Wanda, "w-scaled.gguf");
        QVERIFY(masks(wOrig) == masks(wScaled));
        QVERIFY(maxDiff(logitsOf(wOrig, probe), logitsOf(wScaled, probe)) < 1e-4f);

        const auto mOrig = prune(path, PruneMethod::Magnitude, "m-orig.gguf");
        const auto mScaled = prune(scaled, PruneMethod::Magnitude, "m-scaled.gguf");
        const auto a = masks(mOrig), b = masks(mScaled);
        QVERIFY(a != b);
        // The shrunk columns are what magnitude takes: attn_q keeps at most a quarter of them.
        for (int l = 0; l < model->hparams().nLayer; ++l) {
            const auto& m = b.at("blk." + std::to_string(l) + ".attn_q.weight");
            const int64_t cols = model->hparams().nEmbd, rows = int64_t(m.size()) / cols;
            int64_t kept = 0;
            for (int64_t j : chans)
                for (int64_t r = 0; r < rows; ++r)
                    kept += !m[size_t(r * cols + j)];
            QVERIFY2(kept * 4 <= rows * int64_t(chans.size()), qPrintable(QString("layer %1 kept %2").arg(l).arg(kept)));
        }
        QVERIFY(maxDiff(logitsOf(mOrig, probe), logitsOf(mScaled, probe)) > 1e-2f);
    }

    // Layer-by-layer calibration: layer 0 is pruned as in one pass; layer 1's mask is Wanda's on
    // the activations of a separately built model whose layer 0 is the pruned one (the oracle),
    // and differs from the one-pass mask; SparseGPT runs the same way.
    void sequentialCalibration()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        TENFOLD_REQUIRE_SHARED(test::sharedFile("text/calibration.txt"));
        QTemporaryDir dir;
        auto model = Model::loadGGUF(path);
        const std::vector<int32_t> tokens = calibTokens(*model);
        PruneOptions o = smallRun(PruneMethod::Wanda);
        const std::filesystem::path one = dir.filePath("one.gguf").toStdString();
        const std::filesystem::path seq = dir.filePath("seq.gguf").toStdString();
        pruneModel(path, one, tokens, o);
        o.sequential = true;
        int last = -1;
        bool forward = true;
        o.progress = [&](const std::string& stage, int done, int total) {
            QCOMPARE(stage, std::string("calibration"));
            QCOMPARE(total, 1000);
            forward = forward && done >= last;
            last = done;
        };
        pruneModel(path, seq, tokens, o);
        QVERIFY(forward);
        QCOMPARE(last, 1000);
        auto fOne = GGUFFile::open(one), fSeq = GGUFFile::open(seq), fSrc = GGUFFile::open(path);
        auto find = [](const GGUFFile& f, const std::string& name) -> const GGUFTensorInfo& {
            const GGUFTensorInfo* t = f.findTensor(name);
            if (!t)
                throw InvalidArgument("no " + name);
            return *t;
        };
        for (const auto& t : fSeq->tensors())
            if (prunableLayer(t.name) == 0)
                QVERIFY2(std::memcmp(t.data, find(*fOne, t.name).data, t.nbytes) == 0, t.name.c_str());

        // The oracle's model: the original with layer 0 as the sequential run pruned it.
        const std::filesystem::path mixed = dir.filePath("mixed.gguf").toStdString();
        rewriteF32(path, mixed, [&](const std::string& name, std::vector<float>& v, const std::vector<int64_t>&) {
            if (prunableLayer(name) == 0)
                std::memcpy(v.data(), find(*fSeq, name).data, v.size() * sizeof(float));
        });
        ImatrixOptions io;
        io.nCtx = o.calibCtx;
        io.maxChunks = o.calibWindows;
        io.nThreads = 2;
        const ImportanceMatrix im = collectImportanceMatrix(Model::loadGGUF(mixed), tokens, io);
        int differ = 0;
        for (const auto& t : fSrc->tensors()) {
            if (prunableLayer(t.name) != 1)
                continue;
            RowMatrixF W = Eigen::Map<const RowMatrixF>(reinterpret_cast<const float*>(t.data), t.ne[1], t.ne[0]);
            std::vector<float> norm = im.columnWeights(t.name);
            for (float& x : norm)
                x = std::sqrt(x);
            SparsityPattern p;
            p.sparsity = 0.5;
            wandaPrune(W, norm, p);
            const RowMatrixF S = Eigen::Map<const RowMatrixF>(reinterpret_cast<const float*>(find(*fSeq, t.name).data),
                                                              t.ne[1], t.ne[0]);
            const RowMatrixF O = Eigen::Map<const RowMatrixF>(reinterpret_cast<const float*>(find(*fOne, t.name).data),
                                                              t.ne[1], t.ne[0]);
            QVERIFY2(zerosOf(S) == zerosOf(W), t.name.c_str());
            differ += zerosOf(S) != zerosOf(O);
        }
        QVERIFY(differ > 0);

        o.method = PruneMethod::SparseGpt;
        o.progress = nullptr;
        const PruneReport rep = pruneModel(path, dir.filePath("sgpt.gguf").toStdString(), tokens, o);
        QCOMPARE(int(rep.tensors.size()), 7 * model->hparams().nLayer);
        for (const PrunedTensor& t : rep.tensors)
            QVERIFY2(t.zeros >= t.elements / 2, t.name.c_str());
    }

    // A quantized input keeps its types; Q8_0 (symmetric) keeps the zeros exact.
    void quantizedInput()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        QTemporaryDir dir;
        const std::filesystem::path q8 = dir.filePath("q8.gguf").toStdString(), out = dir.filePath("p.gguf").toStdString();
        QuantizeOptions qo;
        qo.target = GGMLType::Q8_0;
        qo.nThreads = 2;
        quantizeModel(path, q8, qo);
        PruneOptions o;
        o.method = PruneMethod::Magnitude;
        o.sparsity = 0.5;
        o.nThreads = 2;
        pruneModel(q8, out, {}, o);
        auto src = GGUFFile::open(q8), dst = GGUFFile::open(out);
        int q8seen = 0;
        for (size_t i = 0; i < src->tensors().size(); ++i) {
            const auto& a = src->tensors()[i];
            const auto& b = dst->tensors()[i];
            QCOMPARE(b.type, a.type);
            if (prunableLayer(a.name) < 0)
                continue;
            q8seen += a.type == GGMLType::Q8_0;
            std::vector<float> v(size_t(b.elementCount()));
            rowToFloat(b.type, b.data, v.data(), b.elementCount());
            QVERIFY2(std::count(v.begin(), v.end(), 0.0f) >= b.elementCount() / 2, a.name.c_str());
        }
        QVERIFY(q8seen > 0);
    }

    // The structured scores against direct computations: head groups and FFN channels from each
    // token's activations by explicit products (not the Gram-matrix traces the code uses), block
    // influence from a layer-by-layer run (decodeLayers, not decodeCapture).
    void structuredScoresDirect()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        TENFOLD_REQUIRE_SHARED(test::sharedFile("text/calibration.txt"));
        std::shared_ptr<const Model> model = Model::loadGGUF(path);
        const LlamaHParams hp = model->hparams();
        const std::vector<int32_t> tokens = calibTokens(*model);
        PruneOptions o;
        o.calibCtx = 64;
        o.calibWindows = 2;
        o.nThreads = 2;
        const StructuredScores heads = structuredScores(model, tokens, PruneMethod::Heads, o);
        const StructuredScores ffn = structuredScores(model, tokens, PruneMethod::Ffn, o);
        const StructuredScores layers = structuredScores(model, tokens, PruneMethod::Layers, o);

        const int L = hp.nLayer, E = hp.nEmbd, hd = hp.headDim, G = hp.nHead / hp.nHeadKv;
        auto dense = [](const WeightTensor& w) {
            std::vector<float> v(size_t(w.ne0 * w.ne1));
            for (int64_t r = 0; r < w.ne1; ++r)
                rowToFloat(w.type, w.row(r), v.data() + r * w.ne0, w.ne0);
            return v;
        };
        std::vector<std::vector<double>> headScore(size_t(L), std::vector<double>(size_t(hp.nHeadKv), 0.0));
        std::vector<std::vector<double>> chSq(size_t(L), std::vector<double>(size_t(hp.nFF), 0.0));
        std::vector<double> influence(size_t(L), 0.0);
        auto backend = createCpuBackend(2);
        ContextParams cp;
        cp.nCtx = 64;
        auto ctx = backend->createContext(model, cp);
        auto* cpu = dynamic_cast<CpuContext*>(ctx.get());
        QVERIFY(cpu);
        std::vector<std::vector<float>> wo(static_cast<size_t>(L));
        for (int l = 0; l < L; ++l)
            wo[size_t(l)] = dense(model->layers()[size_t(l)].wo);
        const CpuContext::MatmulObserver observe = [&](const WeightTensor& w, const float* x, int rows, int64_t ldx) {
            const int l = prunableLayer(w.name);
            if (l < 0)
                return;
            if (w.name.ends_with("attn_output.weight"))
                for (int t = 0; t < rows; ++t)
                    for (int g = 0; g < hp.nHeadKv; ++g)
                        for (int e = 0; e < E; ++e) {
                            double y = 0;
                            for (int j = g * G * hd; j < (g + 1) * G * hd; ++j)
                                y += double(wo[size_t(l)][size_t(e) * size_t(w.ne0) + size_t(j)]) * x[size_t(t) * size_t(ldx) + size_t(j)];
                            headScore[size_t(l)][size_t(g)] += y * y;
                        }
            if (w.name.ends_with("ffn_down.weight"))
                for (int t = 0; t < rows; ++t)
                    for (int i = 0; i < hp.nFF; ++i)
                        chSq[size_t(l)][size_t(i)] += double(x[size_t(t) * size_t(ldx) + size_t(i)]) * x[size_t(t) * size_t(ldx) + size_t(i)];
        };
        const int32_t bos = model->tokenizer().addBos() ? model->tokenizer().bos() : -1;
        const WeightTensor& embd = model->tokenEmbedding();
        int counted = 0;
        for (int w = 0; w < 2; ++w) {
            std::vector<int32_t> win(tokens.begin() + w * 64, tokens.begin() + (w + 1) * 64);
            if (bos >= 0)
                win[0] = bos;
            std::vector<float> logits;
            cpu->setMatmulObserver(observe);
            cpu->truncate(0);
            cpu->decode(win, false, logits);
            cpu->setMatmulObserver({});
            std::vector<float> h(size_t(64 * E)), prev;
            for (int t = 0; t < 64; ++t)
                rowToFloat(embd.type, embd.row(win[size_t(t)]), h.data() + t * E, E);
            for (int l = 0; l < L; ++l) {
                prev = h;
                cpu->truncate(0);
                cpu->decodeLayers(win, l, l + 1, h);
                for (int t = 0; t < 64; ++t) {
                    double d = 0, a = 0, b = 0;
                    for (int e = 0; e < E; ++e) {
                        d += double(prev[size_t(t * E + e)]) * h[size_t(t * E + e)];
                        a += double(prev[size_t(t * E + e)]) * prev[size_t(t * E + e)];
                        b += double(h[size_t(t * E + e)]) * h[size_t(t * E + e)];
                    }
                    influence[size_t(l)] += 1.0 - d / std::sqrt(a * b);
                }
            }
            counted += 64;
        }
        auto close = [](double a, double b) { return std::fabs(a - b) <= 1e-3 * std::max(std::fabs(a), std::fabs(b)) + 1e-9; };
        for (int l = 0; l < L; ++l) {
            for (int g = 0; g < hp.nHeadKv; ++g)
                QVERIFY2(close(heads.headGroup[size_t(l)][size_t(g)], headScore[size_t(l)][size_t(g)]),
                         qPrintable(QString("layer %1 group %2: %3 vs %4").arg(l).arg(g).arg(heads.headGroup[size_t(l)][size_t(g)]).arg(headScore[size_t(l)][size_t(g)])));
            const std::vector<float> wd = dense(model->layers()[size_t(l)].ffnDown);
            for (int i = 0; i < hp.nFF; ++i) {
                double col = 0;
                for (int e = 0; e < E; ++e)
                    col += double(wd[size_t(e) * size_t(hp.nFF) + size_t(i)]) * wd[size_t(e) * size_t(hp.nFF) + size_t(i)];
                QVERIFY(close(ffn.ffnChannel[size_t(l)][size_t(i)], std::sqrt(col) * std::sqrt(chSq[size_t(l)][size_t(i)])));
            }
            QVERIFY2(std::fabs(layers.layerInfluence[size_t(l)] - influence[size_t(l)] / counted) < 1e-4,
                     qPrintable(QString("layer %1: %2 vs %3").arg(l).arg(layers.layerInfluence[size_t(l)]).arg(influence[size_t(l)] / counted)));
        }
    }

    // A structurally pruned model computes what the original computes with the removed parts'
    // contributions zeroed: W_o columns of removed heads, W_down columns of removed channels, and
    // both output projections of a removed layer (its block then adds nothing to the stream).
    void structuredMatchesZeroedOriginal()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        TENFOLD_REQUIRE_SHARED(test::sharedFile("text/calibration.txt"));
        QTemporaryDir dir;
        auto model = Model::loadGGUF(path);
        const LlamaHParams hp = model->hparams();
        const std::vector<int32_t> tokens = calibTokens(*model);
        const std::vector<int32_t> probe(tokens.begin() + 100, tokens.begin() + 164);
        for (PruneMethod m : {PruneMethod::Heads, PruneMethod::Ffn, PruneMethod::Layers}) {
            PruneOptions o;
            o.method = m;
            o.sparsity = m == PruneMethod::Ffn ? 0.3 : 0.5;
            if (m == PruneMethod::Layers)
                o.layersKeep = hp.nLayer - 2;
            o.calibCtx = 128;
            o.calibWindows = 4;
            o.nThreads = 2;
            const std::filesystem::path out = dir.filePath(QString("s%1.gguf").arg(int(m))).toStdString();
            const PruneReport rep = pruneModel(path, out, tokens, o);
            auto pruned = Model::loadGGUF(out);
            const LlamaHParams& ph = pruned->hparams();
            const int G = hp.nHead / hp.nHeadKv;
            if (m == PruneMethod::Heads) {
                const int kv = hp.nHeadKv - int(hp.nHeadKv * 0.5);
                QCOMPARE(ph.nHeadKv, kv);
                QCOMPARE(ph.nHead, kv * G);
                QCOMPARE(ph.headDim, hp.headDim);
            } else if (m == PruneMethod::Ffn) {
                QCOMPARE(ph.nFF, hp.nFF - int(hp.nFF * 0.3));
            } else {
                QCOMPARE(ph.nLayer, hp.nLayer - 2);
                QCOMPARE(int(rep.removedLayers.size()), 2);
                // The removed layers are the least influential by the reported scores.
                std::vector<double> inf = rep.layerInfluence;
                std::sort(inf.begin(), inf.end());
                for (int l : rep.removedLayers)
                    QVERIFY(rep.layerInfluence[size_t(l)] <= inf[1]);
            }
            const std::filesystem::path zeroed = dir.filePath(QString("z%1.gguf").arg(int(m))).toStdString();
            rewriteF32(path, zeroed, [&](const std::string& name, std::vector<float>& v, const std::vector<int64_t>& ne) {
                const int l = prunableLayer(name);
                if (l < 0)
                    return;
                const int64_t cols = ne[0], rows = ne[1];
                auto zeroCol = [&](int64_t c) {
                    for (int64_t r = 0; r < rows; ++r)
                        v[size_t(r * cols + c)] = 0.0f;
                };
                if (m == PruneMethod::Heads && name.ends_with("attn_output.weight"))
                    for (int h : rep.removedHeads[size_t(l)])
                        for (int d = 0; d < hp.headDim; ++d)
                            zeroCol(int64_t(h) * hp.headDim + d);
                if (m == PruneMethod::Ffn && name.ends_with("ffn_down.weight"))
                    for (int c : rep.removedChannels[size_t(l)])
                        zeroCol(c);
                if (m == PruneMethod::Layers &&
                    std::find(rep.removedLayers.begin(), rep.removedLayers.end(), l) != rep.removedLayers.end() &&
                    (name.ends_with("attn_output.weight") || name.ends_with("ffn_down.weight")))
                    std::fill(v.begin(), v.end(), 0.0f);
            });
            const std::vector<float> a = logitsOf(out, probe), b = logitsOf(zeroed, probe);
            QCOMPARE(a.size(), b.size());
            double maxDiff = 0, maxAbs = 0;
            for (size_t i = 0; i < a.size(); ++i) {
                maxDiff = std::max(maxDiff, double(std::fabs(a[i] - b[i])));
                maxAbs = std::max(maxAbs, double(std::fabs(b[i])));
            }
            qInfo("%s: max |logit diff| %.2e (max |logit| %.2f); %s", pruneMethodName(m), maxDiff, maxAbs,
                  rep.summary().c_str());
            QVERIFY(maxDiff < 1e-3 * std::max(1.0, maxAbs));
            // And pruning changed something (the oracle is not vacuous).
            const std::vector<float> orig = logitsOf(path, probe);
            double change = 0;
            for (size_t i = 0; i < a.size(); ++i)
                change = std::max(change, double(std::fabs(a[i] - orig[i])));
            QVERIFY(change > 1e-2);
        }
    }
};

QTEST_GUILESS_MAIN(TestPrune)
#include "tst_prune.moc"
