// Calibrated quantization: the importance matrix against the reference engine's llama-imatrix
// (same statistics, and files that move both ways), the importance-weighted block search against
// round-to-nearest under the error it minimises, packed blocks against the scalar dequantizer, and
// GPTQ against an independent dense least-squares solve (QR of the activations, not the Cholesky
// route GPTQ takes) and, on the real model, against round-to-nearest in KL divergence.
#include "common/oracle.h"

#include "core/error.h"
#include "model/model.h"
#include "passes/gptq.h"
#include "passes/imatrix.h"
#include "passes/quantize_model.h"
#include "runtime/cpu_backend.h"
#include "runtime/perplexity.h"
#include "tensor/half.h"
#include "tensor/kernels.h"
#include "tensor/quant_blocks.h"
#include "tensor/quant_grid.h"
#include "tensor/quant_iq4.h"
#include "tokenizer/tokenizer.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <random>

using namespace tenfold;

namespace {

std::vector<int32_t> textTokens(const Model& m, const char* relative)
{
    std::ifstream in(test::sharedFile(relative), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return m.tokenizer().encode(text, true);
}

// sum_j w_j (x_j - y_j)^2 over n values
double weightedSq(const float* x, const float* y, const float* w, int n)
{
    double e = 0;
    for (int j = 0; j < n; ++j)
        e += double(w[j]) * (double(x[j]) - y[j]) * (double(x[j]) - y[j]);
    return e;
}

// ||X (A - B)^T||_F^2 for X [T x cols], A and B [rows x cols]
double outputError(const Eigen::MatrixXf& X, const RowMatrixF& A, const RowMatrixF& B)
{
    return double((X * (A - B).transpose()).squaredNorm());
}

// Activations with correlated columns (as real ones are), so that GPTQ has something to exploit.
Eigen::MatrixXf correlatedActivations(int T, int cols, std::mt19937& rng)
{
    std::normal_distribution<float> n(0.f, 1.f);
    Eigen::MatrixXf Z(T, cols), M(cols, cols);
    for (int i = 0; i < Z.size(); ++i)
        Z.data()[i] = n(rng);
    for (int i = 0; i < M.size(); ++i)
        M.data()[i] = n(rng) * 0.3f;
    M.diagonal().array() += 1.0f;
    Eigen::MatrixXf X = Z * M;
    for (int c = 0; c < cols; ++c) // uneven column scales, like real activation outliers
        X.col(c) *= 0.2f + 3.0f * float((c * 37) % 11) / 10.0f;
    return X;
}

} // namespace

class TestCalibratedQuant : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    std::filesystem::path tmp(const char* name) const { return std::filesystem::path(dir_.path().toStdString()) / name; }

private slots:
    void importanceMatrixMatchesPeer()
    {
        const auto model = test::sharedFile("models/tenfold-ref-main-f16.gguf");
        const auto calib = test::sharedFile("text/calibration.txt");
        const auto tool = test::peerTool("llama-imatrix");
        TENFOLD_REQUIRE_SHARED(model);
        TENFOLD_REQUIRE_SHARED(calib);
        TENFOLD_REQUIRE_PEER(tool);
        const auto peerFile = tmp("peer.dat");
        const auto r = test::runProcess(QString::fromStdString(tool.string()),
                                        {QStringLiteral("-m"), QString::fromStdString(model.string()),
                                         QStringLiteral("-f"), QString::fromStdString(calib.string()),
                                         QStringLiteral("-o"), QString::fromStdString(peerFile.string()),
                                         QStringLiteral("-c"), QStringLiteral("512"), QStringLiteral("--chunks"),
                                         QStringLiteral("3"), QStringLiteral("-t"), QStringLiteral("2")});
        QVERIFY2(r.ok(), qPrintable(r.describe()));
        const ImportanceMatrix peer = ImportanceMatrix::read(peerFile);

        auto m = Model::loadGGUF(model);
        ImatrixOptions o;
        o.maxChunks = 3;
        const ImportanceMatrix ours = collectImportanceMatrix(m, textTokens(*m, "text/calibration.txt"), o);
        QCOMPARE(ours.size(), peer.size()); // 7 matrices per layer, no output projection
        QCOMPARE(ours.chunks(), 3);
        QCOMPARE(peer.chunks(), 3);
        for (const auto& [name, e] : peer.entries()) {
            QVERIFY2(ours.contains(name), name.c_str());
            const std::vector<float> a = peer.columnWeights(name), b = ours.columnWeights(name);
            QCOMPARE(a.size(), b.size());
            const float scale = *std::max_element(a.begin(), a.end());
            for (size_t j = 0; j < a.size(); ++j) // F16 weights, F32 activations in both engines
                QVERIFY2(std::fabs(a[j] - b[j]) <= 0.005f * std::fabs(a[j]) + 1e-4f * scale,
                         qPrintable(QStringLiteral("%1[%2]: peer %3, ours %4").arg(name.c_str()).arg(j).arg(a[j]).arg(b[j])));
        }

        // Our file through the reference's quantizer: it must load every entry.
        const auto ourFile = tmp("ours.dat");
        ours.write(ourFile);
        const auto q = test::runProcess(QString::fromStdString(test::peerTool("llama-quantize").string()),
                                        {QStringLiteral("--imatrix"), QString::fromStdString(ourFile.string()),
                                         QString::fromStdString(model.string()),
                                         QString::fromStdString(tmp("peer-q4.gguf").string()), QStringLiteral("Q4_0"),
                                         QStringLiteral("2")});
        QVERIFY2(q.ok(), qPrintable(q.describe()));
        QVERIFY2((q.out + q.err).contains("loaded 56 importance matrix entries"), (q.out + q.err).right(3000).constData());

        // And the peer's file written back by us reads the same.
        peer.write(tmp("peer-again.dat"));
        const ImportanceMatrix again = ImportanceMatrix::read(tmp("peer-again.dat"));
        for (const auto& [name, e] : peer.entries())
            QCOMPARE(again.columnWeights(name), peer.columnWeights(name));
        QCOMPARE(again.dataset(), peer.dataset());
    }

    void truncatedFileIsAFormatError()
    {
        ImportanceMatrix m;
        const float x[4] = {1, 2, 3, 4};
        m.accumulate("blk.0.attn_q.weight", x, 1, 4, 4);
        m.endCall();
        m.write(tmp("small.dat"));
        QFile f(QString::fromStdString(tmp("small.dat").string()));
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.resize(f.size() - 20)); // cut inside the values
        f.close();
        try {
            ImportanceMatrix::read(tmp("small.dat"));
            QFAIL("a truncated file was accepted");
        } catch (const FormatError& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("cut short")), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(IoError, ImportanceMatrix::read(tmp("missing.dat")));
    }

    void weightedSearchBeatsRoundToNearest_data()
    {
        QTest::addColumn<int>("type");
        for (GGMLType t : {GGMLType::Q4_0, GGMLType::Q4_1, GGMLType::Q5_0, GGMLType::Q5_1, GGMLType::Q8_0,
                           GGMLType::Q4_K, GGMLType::Q5_K})
            QTest::newRow(typeName(t)) << int(t);
    }
    void weightedSearchBeatsRoundToNearest()
    {
        QFETCH(int, type);
        const GGMLType t = GGMLType(type);
        std::mt19937 rng(7);
        std::normal_distribution<float> n(0.f, 1.f);
        std::uniform_real_distribution<float> u(0.01f, 4.f);
        const int64_t len = 32 * 64;
        std::vector<float> x(len), w(len), rtn(len), ours(len);
        for (int64_t i = 0; i < len; ++i) {
            x[size_t(i)] = n(rng) * (i % 97 == 0 ? 6.f : 1.f); // a few outliers
            w[size_t(i)] = u(rng) * u(rng);
        }
        const size_t bytes = rowBytes(t, len);
        std::vector<uint8_t> a(bytes), b(bytes);
        referenceKernels(t).quantizeRow(x.data(), a.data(), len);
        quant::quantizeRowWeighted(t, x.data(), b.data(), len, w.data());
        referenceKernels(t).dequantizeRow(a.data(), rtn.data(), len);
        referenceKernels(t).dequantizeRow(b.data(), ours.data(), len);
        double eRtn = 0, eOurs = 0;
        for (int64_t blk = 0; blk < len / 32; ++blk) {
            const double r = weightedSq(x.data() + blk * 32, rtn.data() + blk * 32, w.data() + blk * 32, 32);
            const double o = weightedSq(x.data() + blk * 32, ours.data() + blk * 32, w.data() + blk * 32, 32);
            // The 32-block searches start from round to nearest's grid, so no block gets worse; a
            // K-quant's blocks share 6-bit scales of a 256-element super-block, so only the whole
            // row is compared for them.
            if (quant::hasGroupGrid(t))
                QVERIFY2(o <= r * (1 + 1e-5) + 1e-9, qPrintable(QStringLiteral("block %1: %2 > %3").arg(blk).arg(o).arg(r)));
            eRtn += r;
            eOurs += o;
        }
        QVERIFY2(eOurs < 0.97 * eRtn, qPrintable(QStringLiteral("weighted error %1 vs rtn %2").arg(eOurs).arg(eRtn)));

        // The grid a block was fitted to is exactly what the standard dequantizer reads back.
        for (int64_t blk = 0; quant::hasGroupGrid(t) && blk < len / 32; ++blk) {
            const quant::Grid g = quant::fitGroup(t, x.data() + blk * 32, w.data() + blk * 32);
            for (int j = 0; j < 32; ++j) {
                const float v = quant::levelValue(g, quant::nearestLevel(g, x[size_t(blk * 32 + j)]));
                QCOMPARE(ours[size_t(blk * 32 + j)], v);
            }
        }
    }

    void gptqCompensationIsLeastSquares()
    {
        // Fix the first k columns to coarse values one at a time (GPTQ's order), leave the rest
        // free: the free columns must end at the least-squares optimum given the fixed ones,
        // argmin_v ||X_fixed q + X_free v - X w||, solved here by QR of X, not via H^-1.
        std::mt19937 rng(3);
        const int T = 400, cols = 64, rows = 5, k = 24;
        const Eigen::MatrixXf X = correlatedActivations(T, cols, rng);
        RowMatrixF W(rows, cols);
        std::normal_distribution<float> n(0.f, 1.f);
        for (int i = 0; i < W.size(); ++i)
            W.data()[i] = n(rng);
        const RowMatrixF W0 = W;
        const Eigen::MatrixXd H = (X.cast<double>().transpose() * X.cast<double>());
        gptqQuantize(
            W, H, 32, 0.0, [](int64_t, int, const float*) {},
            [&](int64_t, int col, float v) { return col < k ? std::round(v * 2.f) / 2.f : v; });
        const Eigen::MatrixXd Xd = X.cast<double>();
        for (int r = 0; r < rows; ++r) {
            const Eigen::VectorXd target = Xd * W0.row(r).transpose().cast<double>();
            const Eigen::VectorXd fixed = W.row(r).head(k).transpose().cast<double>();
            for (int c = 0; c < k; ++c) // the fixed columns really are on the grid
                QCOMPARE(W(r, c) * 2.f, std::round(W(r, c) * 2.f));
            const Eigen::VectorXd rhs = target - Xd.leftCols(k) * fixed;
            const Eigen::VectorXd v = Xd.rightCols(cols - k).colPivHouseholderQr().solve(rhs);
            const Eigen::VectorXd got = W.row(r).tail(cols - k).transpose().cast<double>();
            QVERIFY2((got - v).norm() <= 2e-3 * (1 + v.norm()),
                     qPrintable(QStringLiteral("row %1: |gptq - lstsq| = %2 (|lstsq| %3)").arg(r).arg((got - v).norm()).arg(v.norm())));
        }
    }

    void gptqRefusesBadInput()
    {
        RowMatrixF W = RowMatrixF::Ones(2, 64);
        auto none = [](int64_t, int, const float*) {};
        auto keep = [](int64_t, int, float v) { return v; };
        // A Hessian of the wrong size, columns that are not whole groups, and an indefinite H.
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, gptqQuantize(W, Eigen::MatrixXd::Identity(32, 32), 32, 0.0, none, keep));
        RowMatrixF odd = RowMatrixF::Ones(2, 48);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, gptqQuantize(odd, Eigen::MatrixXd::Identity(48, 48), 32, 0.0, none, keep));
        Eigen::MatrixXd bad = Eigen::MatrixXd::Identity(64, 64);
        bad(0, 1) = bad(1, 0) = 5; // not positive definite
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, gptqQuantize(W, bad, 32, 0.0, none, keep));
        QVERIFY_THROWS_EXCEPTION(UnsupportedError,
                                 gptqQuantizeTensor(GGMLType::Q6_K, W.data(), 2, 64, Eigen::MatrixXd::Identity(64, 64),
                                                    std::vector<uint8_t>(1024).data(), 1));
    }

    void gptqLowersTheLayerOutputError_data()
    {
        QTest::addColumn<int>("type");
        QTest::newRow("Q4_0") << int(GGMLType::Q4_0);
        QTest::newRow("IQ4_NL") << int(GGMLType::IQ4_NL);
    }
    void gptqLowersTheLayerOutputError()
    {
        QFETCH(int, type);
        const GGMLType t = GGMLType(type);
        std::mt19937 rng(11);
        const int T = 512, cols = 128, rows = 48;
        const Eigen::MatrixXf X = correlatedActivations(T, cols, rng);
        RowMatrixF W(rows, cols);
        std::normal_distribution<float> n(0.f, 0.05f);
        for (int i = 0; i < W.size(); ++i)
            W.data()[i] = n(rng);
        const Eigen::MatrixXd H = X.cast<double>().transpose() * X.cast<double>();
        const size_t rowB = rowBytes(t, cols);
        std::vector<uint8_t> gptq(rows * rowB), rtn(rows * rowB), weighted(rows * rowB);
        gptqQuantizeTensor(t, W.data(), rows, cols, H, gptq.data(), 1);
        std::vector<float> importance(cols);
        for (int c = 0; c < cols; ++c)
            importance[size_t(c)] = float(H(c, c));
        for (int r = 0; r < rows; ++r) {
            referenceKernels(t).quantizeRow(W.row(r).data(), rtn.data() + r * rowB, cols);
            if (t == GGMLType::IQ4_NL)
                quant::quantizeIQ4RowWeighted(t, W.row(r).data(), weighted.data() + r * rowB, cols, importance.data());
            else
                quant::quantizeRowWeighted(t, W.row(r).data(), weighted.data() + r * rowB, cols, importance.data());
        }
        auto back = [&](const std::vector<uint8_t>& q) {
            RowMatrixF D(rows, cols);
            for (int r = 0; r < rows; ++r)
                referenceKernels(t).dequantizeRow(q.data() + r * rowB, D.row(r).data(), cols);
            return D;
        };
        const double eRtn = outputError(X, W, back(rtn)), eW = outputError(X, W, back(weighted)),
                     eG = outputError(X, W, back(gptq));
        qInfo("%s layer output error: rtn %.4g, weighted %.4g, gptq %.4g", typeName(t), eRtn, eW, eG);
        QVERIFY(eW < eRtn);
        QVERIFY(eG < 0.8 * eW);
    }

    void gptqModelBeatsRoundToNearestInKld()
    {
        const auto path = test::sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        TENFOLD_REQUIRE_SHARED(test::sharedFile("text/valid.txt"));
        auto base = Model::loadGGUF(path);
        ImatrixOptions io;
        io.maxChunks = 24;
        const HessianSet h = collectHessians(base, textTokens(*base, "text/calibration.txt"), io);
        QVERIFY(h.find("blk.0.attn_q.weight") && h.find("blk.7.ffn_down.weight"));
        QCOMPARE(h.find("blk.0.attn_q.weight"), h.find("blk.0.attn_v.weight")); // one input, one Hessian
        QCOMPARE(h.find("blk.0.ffn_down.weight")->rows(), Eigen::Index(base->hparams().nFF));

        QuantizeOptions o;
        o.target = GGMLType::Q4_0;
        o.outputType = GGMLType::Q8_0;
        quantizeModel(path, tmp("rtn.gguf"), o);
        o.method = QuantMethod::Gptq;
        o.hessians = &h;
        const QuantizeReport report = quantizeModel(path, tmp("gptq.gguf"), o);
        int gptqTensors = 0;
        for (const auto& t : report.tensors)
            gptqTensors += t.method == QuantMethod::Gptq;
        QCOMPARE(gptqTensors, 7 * base->hparams().nLayer);
        QCOMPARE(std::filesystem::file_size(tmp("gptq.gguf")), std::filesystem::file_size(tmp("rtn.gguf")));

        auto backend = createCpuBackend(0);
        ContextParams cp;
        cp.nCtx = 512;
        auto baseCtx = backend->createContext(base, cp);
        PerplexityOptions po;
        po.maxChunks = 12;
        po.bos = base->tokenizer().bos();
        const auto valid = textTokens(*base, "text/valid.txt");
        auto kld = [&](const char* file) {
            auto m = Model::loadGGUF(tmp(file));
            auto ctx = backend->createContext(m, cp);
            return klDivergence(*baseCtx, *ctx, valid, po).meanKld;
        };
        const double kRtn = kld("rtn.gguf"), kGptq = kld("gptq.gguf");
        qInfo("ref-main Q4_0, 12 chunks of valid.txt: mean KLD rtn %.6f, gptq %.6f", kRtn, kGptq);
        QVERIFY(kGptq < 0.85 * kRtn);
    }
};

QTEST_GUILESS_MAIN(TestCalibratedQuant)
#include "tst_calibrated_quant.moc"
