// Model compression (passes/low_rank.h, passes/palette.h, passes/export_standard.h) and the CPU
// runtime's factorised and palette products, each against an independent oracle:
//  - the whitened SVD: its error on the calibration activations equals the Eckart-Young optimum
//    (the discarded singular values of X W^T, from Eigen's Jacobi SVD) and is never above a plain
//    SVD's at the same rank;
//  - factorised products (Matmul) against the dense product of the factors in double;
//  - the palette dot (AVX2) against the scalar reference, and Matmul against a dense decode, on
//    odd shapes; the weighted k-means against a brute-force optimum on a tiny set;
//  - stories260K end to end: factorised at full rank its logits match the original; at a low rank
//    the CPU runtime matches ReferenceForward (which multiplies the factors out densely); a palette
//    file matches ReferenceForward; export-standard gives the same logits in a standard file.
#include "common/oracle.h"
#include "common/shared_data.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "passes/export_standard.h"
#include "passes/gptq.h"
#include "passes/low_rank.h"
#include "passes/palette.h"
#include "runtime/cpu_backend.h"
#include "runtime/cpu_ops.h"
#include "runtime/matmul.h"
#include "runtime/palette_matvec.h"
#include "runtime/perplexity.h"
#include "runtime/reference_forward.h"
#include "runtime/thread_pool.h"
#include "tensor/kernels.h"
#include "tokenizer/tokenizer.h"

#include <Eigen/Dense>
#include <QTemporaryDir>
#include <QtTest>

#include <QRegularExpression>
#include <fstream>
#include <random>
#include <sstream>

using namespace tenfold;
using tenfold::test::sharedFile;

namespace {

double outputError(const Eigen::MatrixXd& X, const Eigen::MatrixXd& W, const Eigen::MatrixXd& Wr)
{
    return (X * (W - Wr).transpose()).squaredNorm();
}

std::vector<float> randomFloats(size_t n, std::mt19937& rng, float scale = 1.0f)
{
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v)
        x = d(rng);
    return v;
}

WeightTensor f32Tensor(const std::string& name, const std::vector<float>& v, int64_t ne0, int64_t ne1)
{
    WeightTensor w;
    w.name = name;
    w.type = GGMLType::F32;
    w.ne0 = ne0;
    w.ne1 = ne1;
    w.rowBytes = size_t(ne0) * 4;
    w.data = reinterpret_cast<const uint8_t*>(v.data());
    return w;
}

std::vector<float> logitsOf(const std::shared_ptr<Model>& m, const std::vector<int32_t>& tokens)
{
    auto cpu = createCpuBackend(2);
    auto ctx = cpu->createContext(m, {});
    std::vector<float> logits;
    ctx->decode(tokens, true, logits);
    return logits;
}

double maxAbsDiff(const std::vector<float>& a, const std::vector<double>& b)
{
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i)
        m = std::max(m, std::abs(double(a[i]) - b[i]));
    return m;
}

double maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b)
{
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i)
        m = std::max(m, std::abs(double(a[i]) - double(b[i])));
    return m;
}

} // namespace

class TestCompression : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    std::string path(const char* name) const { return (dir_.path() + "/" + name).toStdString(); }

private slots:
    void whitenedSvdIsOptimal()
    {
        std::mt19937 rng(7);
        const int out = 24, in = 40, rows = 300, rank = 6;
        // Correlated activations with uneven column scales: whitening matters.
        Eigen::MatrixXd Z(rows, in), M(in, in), W(out, in);
        std::normal_distribution<double> d;
        for (int i = 0; i < rows; ++i)
            for (int j = 0; j < in; ++j)
                Z(i, j) = d(rng);
        for (int i = 0; i < in; ++i)
            for (int j = 0; j < in; ++j)
                M(i, j) = d(rng) * (j < 5 ? 4.0 : 0.3);
        for (int i = 0; i < out; ++i)
            for (int j = 0; j < in; ++j)
                W(i, j) = d(rng);
        const Eigen::MatrixXd X = Z * M;
        const Eigen::MatrixXd H = X.transpose() * X;

        const LowRankFactorization f = factorizeLowRank(W, &H, rank, 0.0);
        QCOMPARE(f.a.rows(), Eigen::Index(out));
        QCOMPARE(f.a.cols(), Eigen::Index(rank));
        QCOMPARE(f.b.rows(), Eigen::Index(rank));
        QCOMPARE(f.b.cols(), Eigen::Index(in));
        const double whitened = outputError(X, W, f.a * f.b);
        // Eckart-Young on Y = X W^T (X has full column rank, so every rank-r Y' = X W'^T is reachable).
        Eigen::JacobiSVD<Eigen::MatrixXd> oracle(X * W.transpose());
        double optimum = 0;
        for (Eigen::Index i = rank; i < oracle.singularValues().size(); ++i)
            optimum += oracle.singularValues()(i) * oracle.singularValues()(i);
        QVERIFY2(std::abs(whitened - optimum) <= 1e-6 * optimum,
                 qPrintable(QStringLiteral("whitened error %1, optimum %2").arg(whitened).arg(optimum)));
        // The sum of its own discarded sigma^2 is that error too.
        double discarded = 0;
        for (Eigen::Index i = rank; i < f.sigma.size(); ++i)
            discarded += f.sigma(i) * f.sigma(i);
        QVERIFY(std::abs(discarded - optimum) <= 1e-6 * optimum);

        const LowRankFactorization plain = factorizeLowRank(W, nullptr, rank);
        const double plainError = outputError(X, W, plain.a * plain.b);
        QVERIFY2(whitened < plainError, qPrintable(QStringLiteral("%1 vs plain %2").arg(whitened).arg(plainError)));
        // The plain factorisation is the truncated SVD of W itself.
        Eigen::JacobiSVD<Eigen::MatrixXd> svd(W, Eigen::ComputeFullU | Eigen::ComputeFullV);
        const Eigen::MatrixXd truncated = svd.matrixU().leftCols(rank) * svd.singularValues().head(rank).asDiagonal() *
                                          svd.matrixV().leftCols(rank).transpose();
        QVERIFY((plain.a * plain.b - truncated).norm() < 1e-9 * W.norm());
        // Full rank reproduces W.
        const LowRankFactorization full = factorizeLowRank(W, &H, std::min(out, in), 0.0);
        QVERIFY((full.a * full.b - W).norm() < 1e-8 * W.norm());
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, factorizeLowRank(W, &H, out + 1));
    }

    void planMeetsBudget()
    {
        // Two matrices: one with a flat spectrum, one with a steep one. The steep one's error
        // is gone after few ranks, so extra budget goes to the flat one.
        auto make = [](const char* name, double decay) {
            LowRankCandidate c;
            c.name = name;
            c.in = c.out = 128;
            for (int i = 0; i < 128; ++i)
                c.sigma2.push_back(std::pow(decay, i));
            c.denseBytes = 128 * 128 * 4; // F32: factors at rank 64 cost half of it
            c.factorBytes = [](int64_t r) { return uint64_t(r) * 256 * 2; };
            return c;
        };
        const std::vector<LowRankCandidate> cs = {make("flat", 0.99), make("steep", 0.5)};
        const auto plan = planLowRank(cs, 64 * 256 * 2 + 16 * 256 * 2, 16);
        uint64_t used = 0;
        for (const auto& c : plan)
            used += c.bytes;
        QVERIFY(used <= uint64_t(64 * 256 * 2 + 16 * 256 * 2));
        QCOMPARE(plan[1].rank, int64_t(16)); // 0.5^16: nothing left to gain
        QCOMPARE(plan[0].rank, int64_t(64));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, planLowRank(cs, 1000, 16));
    }

    void factorisedMatmulMatchesDenseProduct()
    {
        std::mt19937 rng(3);
        ThreadPool pool(2);
        Matmul mm(2);
        for (auto [in, out, r] : {std::tuple{37, 29, 5}, std::tuple{64, 96, 32}, std::tuple{130, 7, 3}}) {
            const std::vector<float> a = randomFloats(size_t(out * r), rng), b = randomFloats(size_t(r * in), rng);
            auto lr = std::make_shared<LowRankFactors>();
            lr->rank = r;
            lr->a = f32Tensor("w.lr_a", a, r, out);
            lr->b = f32Tensor("w.lr_b", b, in, r);
            WeightTensor w;
            w.name = "w";
            w.ne0 = in;
            w.ne1 = out;
            w.lowRank = lr;
            // A dense neighbour in the same call shares the input.
            const std::vector<float> d = randomFloats(size_t(in * 11), rng);
            const WeightTensor dense = f32Tensor("d", d, in, 11);
            for (int T : {1, 3, 40}) {
                const std::vector<float> x = randomFloats(size_t(T * in), rng);
                std::vector<float> y(size_t(T * out)), yd(size_t(T * 11));
                const MatmulJob jobs[] = {{&dense, yd.data(), 11}, {&w, y.data(), out}};
                mm.run(pool, jobs, x.data(), T, in);
                for (int t = 0; t < T; ++t)
                    for (int i = 0; i < out; ++i) {
                        double ref = 0;
                        for (int j = 0; j < in; ++j) {
                            double wij = 0;
                            for (int k = 0; k < r; ++k)
                                wij += double(a[size_t(i * r + k)]) * b[size_t(k * in + j)];
                            ref += wij * x[size_t(t * in + j)];
                        }
                        QVERIFY2(std::abs(y[size_t(t * out + i)] - ref) <= 1e-4 * (1 + std::abs(ref)),
                                 qPrintable(QStringLiteral("in %1 out %2 r %3 T %4: %5 vs %6")
                                                .arg(in).arg(out).arg(r).arg(T).arg(y[size_t(t * out + i)]).arg(ref)));
                    }
                for (int t = 0; t < T; ++t)
                    for (int i = 0; i < 11; ++i) {
                        double ref = 0;
                        for (int j = 0; j < in; ++j)
                            ref += double(d[size_t(i * in + j)]) * x[size_t(t * in + j)];
                        QVERIFY(std::abs(yd[size_t(t * 11 + i)] - ref) <= 1e-4 * (1 + std::abs(ref)));
                    }
            }
        }
    }

    void paletteKernelsMatchReference()
    {
        std::mt19937 rng(11);
        ThreadPool pool(2);
        Matmul mm(2);
        // 3-bit: rows of 8k indices (3k bytes), 24 bytes per 8 x 8 group through the AVX2 path
        // plus an 8-index tail, and 8 (one group of eight, the tail loop only on the scalar level).
        for (auto [bits, in, rows, groupRows] : {std::tuple{4, 70, 9, 3}, std::tuple{2, 92, 6, 6}, std::tuple{4, 16, 1, 1},
                                                 std::tuple{2, 4, 5, 1}, std::tuple{4, 262, 4, 2}, std::tuple{3, 88, 7, 7},
                                                 std::tuple{3, 8, 3, 1}, std::tuple{3, 392, 4, 2}}) {
            const int k = 1 << bits;
            const int64_t groups = rows / groupRows;
            std::vector<float> table = randomFloats(size_t(groups * k), rng);
            std::uniform_int_distribution<int> pick(0, k - 1);
            std::vector<int> idx(size_t(rows * in));
            for (int& i : idx)
                i = pick(rng);
            std::vector<uint8_t> packed(size_t(rows * in * bits / 8));
            for (int r = 0; r < rows; ++r)
                packIndices(idx.data() + size_t(r * in), in, bits, packed.data() + size_t(r * in * bits / 8));
            auto p = std::make_shared<PaletteWeight>();
            p->bits = bits;
            p->groupRows = groupRows;
            p->groups = groups;
            p->indices = packed.data();
            p->indexRowBytes = size_t(in * bits / 8);
            p->table = table.data();
            std::vector<float> scales = randomFloats(size_t(rows), rng);
            if (in == 70 || in == 392) // cases with row scales
                p->rowScale = scales.data();
            WeightTensor w;
            w.name = "p";
            w.ne0 = in;
            w.ne1 = rows;
            w.palette = p;
            // The dense matrix straight from the unpacked indices: independent of the packing.
            auto dense = [&](int r, int j) {
                return double(table[size_t((r / groupRows) * k + idx[size_t(r * in + j)])]) *
                       (p->rowScale ? double(scales[size_t(r)]) : 1.0);
            };
            std::vector<float> row(static_cast<size_t>(in));
            for (int r = 0; r < rows; ++r) {
                paletteDecodeRow(*p, r, row.data(), in);
                for (int j = 0; j < in; ++j)
                    QVERIFY(std::abs(double(row[size_t(j)]) - dense(r, j)) <= 1e-6 * (1 + std::abs(dense(r, j))));
            }
            for (int T : {1, 5}) {
                const std::vector<float> x = randomFloats(size_t(T * in), rng);
                std::vector<float> y(size_t(T * rows));
                const MatmulJob job{&w, y.data(), rows};
                mm.run(pool, std::span<const MatmulJob>(&job, 1), x.data(), T, in);
                for (int t = 0; t < T; ++t)
                    for (int r = 0; r < rows; ++r) {
                        double ref = 0;
                        for (int j = 0; j < in; ++j)
                            ref += dense(r, j) * x[size_t(t * in + j)];
                        const float* xt = x.data() + size_t(t * in);
                        QVERIFY(std::abs(paletteRowDotRef(*p, r, xt, in) - ref) <= 1e-5 * (1 + std::abs(ref)));
                        if (cpuOpsUseAvx2())
                            QVERIFY(std::abs(avx2::paletteRowDot(*p, r, xt, in) - ref) <= 1e-4 * (1 + std::abs(ref)));
                        QVERIFY2(std::abs(y[size_t(t * rows + r)] - ref) <= 1e-4 * (1 + std::abs(ref)),
                                 qPrintable(QStringLiteral("bits %1 in %2 row %3").arg(bits).arg(in).arg(r)));
                    }
            }
        }
    }

    // The packed layout of docs/COMPRESSION.md written out by hand: index k at bits [k*b, k*b+b)
    // of the little-endian row, so 3-bit indices 1..7,0 are 0x1F58D1 and two 4-bit ones 0xA5.
    void packedIndexLayout()
    {
        const int three[8] = {1, 2, 3, 4, 5, 6, 7, 0};
        uint8_t out3[3] = {0xFF, 0xFF, 0xFF};
        packIndices(three, 8, 3, out3);
        QCOMPARE(int(out3[0]), 0xD1);
        QCOMPARE(int(out3[1]), 0x58);
        QCOMPARE(int(out3[2]), 0x1F);
        const int four[2] = {5, 10};
        uint8_t out4 = 0;
        packIndices(four, 2, 4, &out4);
        QCOMPARE(int(out4), 0xA5);
    }

    void weightedKMeansFindsOptimum()
    {
        // 9 values, 3 clusters: brute force over every split into 3 contiguous runs of the sorted
        // values (optimal 1-D clusters are contiguous) against the k-means result.
        const std::vector<float> v = {-2.0f, -1.7f, -1.9f, 0.1f, 0.3f, -0.1f, 2.2f, 1.8f, 2.6f};
        const std::vector<float> w = {1, 1, 5, 1, 2, 1, 1, 1, 9};
        auto cost = [&](const std::vector<float>& c) {
            double s = 0;
            for (size_t i = 0; i < v.size(); ++i) {
                double best = 1e30;
                for (float ci : c)
                    best = std::min(best, double(v[i] - ci) * (v[i] - ci));
                s += w[i] * best;
            }
            return s;
        };
        std::vector<size_t> order(v.size());
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
        double bestCost = 1e30;
        for (size_t s1 = 1; s1 < v.size(); ++s1)
            for (size_t s2 = s1 + 1; s2 < v.size(); ++s2) {
                std::vector<float> c;
                for (auto [lo, hi] : {std::pair{size_t(0), s1}, std::pair{s1, s2}, std::pair{s2, v.size()}}) {
                    double sw = 0, sv = 0;
                    for (size_t i = lo; i < hi; ++i) {
                        sw += w[order[i]];
                        sv += w[order[i]] * v[order[i]];
                    }
                    c.push_back(float(sv / sw));
                }
                bestCost = std::min(bestCost, cost(c));
            }
        const std::vector<float> c = weightedKMeans1D(v.data(), w.data(), v.size(), 3);
        QVERIFY2(cost(c) <= bestCost * (1 + 1e-5), qPrintable(QStringLiteral("%1 vs %2").arg(cost(c)).arg(bestCost)));
        QVERIFY(std::is_sorted(c.begin(), c.end()));
        QCOMPARE(nearestCentroid(c, 2.5f), 2);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, weightedKMeans1D(v.data(), nullptr, 0, 3));
    }

    void storiesEndToEnd()
    {
        const auto base = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(base);
        const std::shared_ptr<Model> original = Model::loadGGUF(base);
        const std::vector<int32_t> tokens = original->tokenizer().encode("Once upon a time, a little girl named Lily", true);
        const std::vector<float> want = logitsOf(original, tokens);

        // Full rank in F32: the same function as the original.
        LowRankOptions full;
        full.factorType = GGMLType::F32;
        const std::shared_ptr<GGUFFile> src = GGUFFile::open(base);
        for (const GGUFTensorInfo& t : src->tensors())
            if (t.ne.size() == 2 && t.name.rfind("blk.", 0) == 0)
                full.ranks[t.name] = 1 << 20;
        lowRankCompress(base, path("full.gguf"), full);
        const std::shared_ptr<Model> fullModel = Model::loadGGUF(path("full.gguf"));
        QVERIFY(fullModel->layers()[0].ffnUp.factorised());
        QVERIFY(!fullModel->tokenEmbedding().factorised());
        const double dFull = maxAbsDiff(logitsOf(fullModel, tokens), want);
        QVERIFY2(dFull < 1e-3, qPrintable(QStringLiteral("full-rank logits differ by %1").arg(dFull)));

        // Low rank: the runtime's two products against the dense product of the factors.
        LowRankOptions low;
        low.factorType = GGMLType::F16;
        for (auto& [name, r] : full.ranks)
            low.ranks[name] = 8;
        lowRankCompress(base, path("low.gguf"), low);
        const std::shared_ptr<Model> lowModel = Model::loadGGUF(path("low.gguf"));
        QCOMPARE(lowModel->layers()[1].wq.lowRank->rank, int64_t(8));
        QVERIFY(lowModel->weightBytes() < original->weightBytes());
        ReferenceForward lowRef(lowModel);
        const std::vector<float> lowLogits = logitsOf(lowModel, tokens);
        const double dLow = maxAbsDiff(lowLogits, lowRef.decode(tokens));
        QVERIFY2(dLow < 2e-2, qPrintable(QStringLiteral("low-rank runtime vs dense oracle: %1").arg(dLow)));
        QVERIFY(maxAbsDiff(lowLogits, want) > 1e-2); // rank 8 really changed the model

        // Palette: the runtime against ReferenceForward's element-by-element decode.
        PaletteOptions po;
        po.bits = 4;
        paletteCompress(base, path("pal.gguf"), po);
        const std::shared_ptr<Model> palModel = Model::loadGGUF(path("pal.gguf"));
        QVERIFY(palModel->layers()[0].wk.palette);
        ReferenceForward palRef(palModel);
        const std::vector<float> palLogits = logitsOf(palModel, tokens);
        const double dPal = maxAbsDiff(palLogits, palRef.decode(tokens));
        QVERIFY2(dPal < 2e-2, qPrintable(QStringLiteral("palette runtime vs oracle: %1").arg(dPal)));
        {   // 3-bit indices (straddling bytes), the embedding too: the oracle decodes bit by bit
            PaletteOptions p3;
            p3.bits = 3;
            p3.embedding = true;
            paletteCompress(base, path("pal3.gguf"), p3);
            const std::shared_ptr<Model> m3 = Model::loadGGUF(path("pal3.gguf"));
            QCOMPARE(m3->layers()[0].wq.palette->bits, 3);
            QCOMPARE(m3->tokenEmbedding().palette->bits, 3);
            const double d3 = maxAbsDiff(logitsOf(m3, tokens), ReferenceForward(m3).decode(tokens));
            QVERIFY2(d3 < 2e-2, qPrintable(QStringLiteral("3-bit palette runtime vs oracle: %1").arg(d3)));
        }

        // export-standard in F32 keeps exactly the same function, in standard tensors only.
        for (const char* name : {"low", "pal"}) {
            const std::string from = path((std::string(name) + ".gguf").c_str());
            const std::string to = path((std::string(name) + "-std.gguf").c_str());
            exportStandard(from, to, GGMLType::F32);
            const std::shared_ptr<GGUFFile> f = GGUFFile::open(to);
            for (const GGUFTensorInfo& t : f->tensors())
                QVERIFY2(!t.name.ends_with(".lr_a") && !t.name.ends_with(".pal_idx"), t.name.c_str());
            QVERIFY(!f->find("tenfold.low_rank.version") && !f->find("tenfold.palette.version"));
            const double d = maxAbsDiff(logitsOf(Model::loadGGUF(to), tokens),
                                        std::string(name) == "low" ? lowLogits : palLogits);
            QVERIFY2(d < 2e-2, qPrintable(QStringLiteral("%1 exported: %2").arg(name).arg(d)));
        }

        // A target below what low rank reaches is refused, and leaves no file.
        LowRankOptions tiny;
        tiny.targetBytes = 1000;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, lowRankCompress(base, path("tiny.gguf"), tiny));
        QVERIFY(!std::filesystem::exists(path("tiny.gguf")));
    }

    // The reference engine loads storiesEndToEnd's standard export of the palette file and agrees on
    // its perplexity.
    void exportLoadsInReferenceEngine()
    {
        const std::string exported = path("pal-std.gguf");
        TENFOLD_REQUIRE_SHARED(std::filesystem::path(exported));
        const auto textPath = sharedFile("text/tinystories_sample.txt");
        const auto scorer = test::peerTool("llama-perplexity", true);
        TENFOLD_REQUIRE_SHARED(textPath);
        TENFOLD_REQUIRE_PEER(scorer);
        const int chunks = 4, ctx = 128;
        auto r = test::runProcess(QString::fromStdString(scorer.string()),
                                  {"-m", QString::fromStdString(exported), "-f", QString::fromStdString(textPath.string()),
                                   "-c", QString::number(ctx), "--chunks", QString::number(chunks), "-t", "2"});
        QVERIFY2(r.ok(), qPrintable("llama-perplexity on the exported file: " + r.describe()));
        const QString report = QString::fromUtf8(r.out + r.err);
        const auto m = QRegularExpression(QStringLiteral("Final estimate: PPL = ([0-9.]+)")).match(report);
        QVERIFY2(m.hasMatch(), qPrintable("unexpected llama-perplexity report:\n" + report.right(2000)));
        const double theirs = m.captured(1).toDouble();

        const std::shared_ptr<Model> model = Model::loadGGUF(exported);
        std::ifstream in(textPath);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::vector<int32_t> tokens = model->tokenizer().encode(ss.str(), true);
        auto cpu = createCpuBackend(2);
        ContextParams cp;
        cp.nCtx = ctx;
        auto c = cpu->createContext(model, cp);
        PerplexityOptions po;
        po.nCtx = ctx;
        po.maxChunks = chunks;
        const double ours = perplexity(*c, tokens, po).ppl;
        QVERIFY2(std::abs(ours - theirs) <= 1e-3 * theirs,
                 qPrintable(QStringLiteral("perplexity of the export: reference %1, ours %2").arg(theirs).arg(ours)));
    }
};

QTEST_GUILESS_MAIN(TestCompression)
#include "tst_compression.moc"
