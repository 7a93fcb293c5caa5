// Our quantizer against another engine's: models quantized by the reference engine's
// llama-quantize (../shared/peer/llama.cpp-b4748, round-to-nearest, no importance matrix) into
// each legacy, K-quant and IQ4 type, regenerated here on every run. ref-main F16 covers the legacy
// types, IQ4_NL and the mixes whose fallbacks we share (its 384-wide rows make llama-quantize
// store IQ4_XS files as IQ4_NL, and Q2_K/Q3_K files mostly as IQ4_NL), and a synthetic model
// with 256-wide rows, quantized with --pure (one type for all), covers every K-quant and IQ4_XS
// as such.
// For every tensor of the peer's file, the same F16 rows quantized by our row kernels into the
// peer's type must give the same bytes: we follow the same rounding rules and scale searches (a
// failure reports both errors against the F16 source). The quantize pass must produce the
// peer's bytes for every tensor it gives the same type. The IQ4 types' importance-weighted search
// (quant_iq4.h) is held to llama-quantize --imatrix the same way.
#include "common/oracle.h"

#include "gguf/gguf_file.h"
#include "passes/imatrix.h"
#include "passes/quantize_model.h"
#include "passes/synth_model.h"
#include "tensor/kernels.h"
#include "tensor/quant_iq4.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>

using namespace tenfold;

namespace {

std::vector<float> rowToFloat(GGMLType type, const uint8_t* data, int64_t n)
{
    std::vector<float> out(static_cast<size_t>(n));
    referenceKernels(type).dequantizeRow(data, out.data(), n);
    return out;
}

struct TensorError {
    double errSq = 0, refSq = 0;
    void add(const std::vector<float>& x, const std::vector<float>& y)
    {
        for (size_t i = 0; i < x.size(); ++i) {
            const double e = double(x[i]) - double(y[i]);
            errSq += e * e;
            refSq += double(x[i]) * double(x[i]);
        }
    }
    double relative() const { return refSq > 0 ? std::sqrt(errSq / refSq) : 0.0; }
};

} // namespace

class TestQuantizeVsPeer : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void matchesLlamaQuantize_data()
    {
        QTest::addColumn<bool>("synthetic"); // the 256-wide synthetic model instead of ref-main
        QTest::addColumn<QString>("peerType"); // llama-quantize's type name
        QTest::addColumn<QString>("ourType");  // the type our pass is asked for
        for (const char* t : {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q6_K"})
            QTest::newRow(t) << false << t << t;
        QTest::newRow("IQ4_NL") << false << "IQ4_NL" << "IQ4_NL";
        QTest::newRow("IQ4_XS") << false << "IQ4_XS" << "IQ4_XS"; // -> IQ4_NL on 384-wide rows
        QTest::newRow("Q4_K_M") << false << "Q4_K_M" << "Q4_K";
        QTest::newRow("Q5_K_M") << false << "Q5_K_M" << "Q5_K";
        QTest::newRow("wide Q2_K") << true << "Q2_K" << "Q2_K";
        QTest::newRow("wide Q3_K_S") << true << "Q3_K_S" << "Q3_K";
        QTest::newRow("wide Q4_K_S") << true << "Q4_K_S" << "Q4_K";
        QTest::newRow("wide Q5_K_S") << true << "Q5_K_S" << "Q5_K";
        QTest::newRow("wide Q6_K") << true << "Q6_K" << "Q6_K";
        QTest::newRow("wide IQ4_NL") << true << "IQ4_NL" << "IQ4_NL";
        QTest::newRow("wide IQ4_XS") << true << "IQ4_XS" << "IQ4_XS";
    }

    void matchesLlamaQuantize()
    {
        QFETCH(bool, synthetic);
        QFETCH(QString, peerType);
        QFETCH(QString, ourType);
        std::filesystem::path src = test::sharedFile("models/tenfold-ref-main-f16.gguf");
        const auto tool = test::peerTool("llama-quantize");
        TENFOLD_REQUIRE_SHARED(src);
        TENFOLD_REQUIRE_PEER(tool);
        QVERIFY(dir_.isValid());
        QStringList args;
        if (synthetic) {
            src = dir_.filePath("wide-f16.gguf").toStdString();
            if (!std::filesystem::exists(src)) {
                // Llama-shaped, rows 256 and 768 wide, random N(0, 0.02) weights stored as F16.
                const SynthShape shape{"wide", 256, 2, 4, 2, 768, 512, 128, 10000.0f, 1e-5f, false};
                SynthOptions so;
                so.type = GGMLType::F16;
                so.seed = 7;
                synthesizeModel(shape, src, so);
            }
            args << "--pure";
        }
        const QString peerOut = dir_.filePath((synthetic ? "peer-wide-" : "peer-") + peerType + ".gguf");
        args << QString::fromStdString(src.string()) << peerOut << peerType << "2";
        const auto run = test::runProcess(QString::fromStdString(tool.string()), args);
        QVERIFY2(run.ok(), qPrintable("llama-quantize " + peerType + ": " + run.describe()));

        const std::filesystem::path ourOut =
            dir_.filePath((synthetic ? "ours-wide-" : "ours-") + ourType + ".gguf").toStdString();
        QuantizeOptions o;
        o.target = *typeFromName(ourType.toStdString());
        o.nThreads = 2;
        quantizeModel(src, ourOut, o);

        const auto source = GGUFFile::open(src);
        const auto peer = GGUFFile::open(peerOut.toStdString());
        const auto ours = GGUFFile::open(ourOut);
        int identical = 0, differing = 0, passIdentical = 0, passCompared = 0;
        QStringList differingNames;
        for (const GGUFTensorInfo& p : peer->tensors()) {
            const GGUFTensorInfo* s = source->findTensor(p.name);
            const GGUFTensorInfo* d = ours->findTensor(p.name);
            QVERIFY2(s && d, p.name.c_str());
            if (!typeTraits(p.type).quantized)
                continue; // norms stay F32 in both
            const int64_t n = s->ne[0];
            const size_t inRow = rowBytes(s->type, n), outRow = rowBytes(p.type, n);
            QCOMPARE(p.nbytes, uint64_t(outRow) * uint64_t(s->rows()));

            // Our kernel in the peer's type, row by row.
            std::vector<uint8_t> mine(size_t(p.nbytes));
            for (int64_t r = 0; r < s->rows(); ++r) {
                const auto x = rowToFloat(s->type, s->data + size_t(r) * inRow, n);
                kernels(p.type).quantizeRow(x.data(), mine.data() + size_t(r) * outRow, n);
            }
            if (std::memcmp(mine.data(), p.data, size_t(p.nbytes)) == 0) {
                ++identical;
            } else {
                // Say how far apart, and whose error is larger, to tell a rounding-rule
                // difference from a broken kernel.
                ++differing;
                TensorError oursErr, peerErr;
                for (int64_t r = 0; r < s->rows(); ++r) {
                    const auto x = rowToFloat(s->type, s->data + size_t(r) * inRow, n);
                    oursErr.add(x, rowToFloat(p.type, mine.data() + size_t(r) * outRow, n));
                    peerErr.add(x, rowToFloat(p.type, p.data + size_t(r) * outRow, n));
                }
                differingNames << QString("%1 as %2 (relative RMS error ours %3, peer %4)")
                                      .arg(QString::fromStdString(p.name), typeName(p.type))
                                      .arg(oursErr.relative()).arg(peerErr.relative());
            }
            // The pass itself, wherever it chose the peer's type.
            if (d->type == p.type) {
                ++passCompared;
                if (std::memcmp(d->data, mine.data(), size_t(p.nbytes)) == 0)
                    ++passIdentical;
                else
                    QFAIL(qPrintable(QString::fromStdString(p.name) + ": the quantize pass wrote other "
                                     "bytes than the row kernel"));
            }
        }
        qInfo("%s: %d quantized tensors byte-identical to llama-quantize's; the pass chose the "
              "peer's type for %d of them", qPrintable(peerType), identical, passCompared);
        QVERIFY(identical > 0);
        QCOMPARE(passIdentical, passCompared);
        // Every type follows the reference rounding rules exactly (K-quants and IQ4 included: the
        // same scale searches), so every byte must agree.
        QVERIFY2(differing == 0, qPrintable("bytes differ from llama-quantize's: " + differingNames.join("; ")));
    }

    // llama-quantize with an importance matrix from llama-imatrix (2 windows of calibration.txt):
    // ref-main's IQ4_XS mix with a matrix stores ffn_down (1024-wide rows) as IQ4_XS and the
    // 384-wide rest as IQ4_NL, so one file covers both weighted searches. Our
    // quantizeIQ4RowWeighted with the matrix's column means (read by our imatrix.dat reader) must
    // give every byte; tensors the matrix lacks get the unweighted search on both sides.
    void iq4WeightedMatchesLlamaQuantizeWithImatrix()
    {
        const auto src = test::sharedFile("models/tenfold-ref-main-f16.gguf");
        const auto calib = test::sharedFile("text/calibration.txt");
        const auto quantizer = test::peerTool("llama-quantize");
        const auto collector = test::peerTool("llama-imatrix");
        TENFOLD_REQUIRE_SHARED(src);
        TENFOLD_REQUIRE_SHARED(calib);
        TENFOLD_REQUIRE_PEER(quantizer);
        TENFOLD_REQUIRE_PEER(collector);
        QVERIFY(dir_.isValid());
        const QString dat = dir_.filePath("peer-imatrix.dat"), peerOut = dir_.filePath("peer-im-IQ4_XS.gguf");
        auto r = test::runProcess(QString::fromStdString(collector.string()),
                                  {"-m", QString::fromStdString(src.string()), "-f",
                                   QString::fromStdString(calib.string()), "-o", dat, "-c", "512", "--chunks", "2", "-t", "2"});
        QVERIFY2(r.ok(), qPrintable("llama-imatrix: " + r.describe()));
        r = test::runProcess(QString::fromStdString(quantizer.string()),
                             {"--imatrix", dat, QString::fromStdString(src.string()), peerOut, "IQ4_XS", "2"});
        QVERIFY2(r.ok(), qPrintable("llama-quantize --imatrix: " + r.describe()));

        const ImportanceMatrix imatrix = ImportanceMatrix::read(dat.toStdString());
        const auto source = GGUFFile::open(src);
        const auto peer = GGUFFile::open(peerOut.toStdString());
        int compared[2] = {0, 0}, weighted = 0; // IQ4_NL, IQ4_XS tensors; those with a matrix entry
        QStringList differing;
        for (const GGUFTensorInfo& p : peer->tensors()) {
            if (p.type != GGMLType::IQ4_NL && p.type != GGMLType::IQ4_XS)
                continue;
            const GGUFTensorInfo* s = source->findTensor(p.name);
            QVERIFY2(s, p.name.c_str());
            const int64_t n = s->ne[0];
            const std::vector<float> importance = imatrix.columnWeights(p.name);
            QVERIFY2(importance.empty() || int64_t(importance.size()) == n, p.name.c_str());
            weighted += !importance.empty();
            ++compared[p.type == GGMLType::IQ4_XS];
            const size_t inRow = rowBytes(s->type, n), outRow = rowBytes(p.type, n);
            std::vector<uint8_t> mine(size_t(p.nbytes));
            for (int64_t row = 0; row < s->rows(); ++row) {
                const auto x = rowToFloat(s->type, s->data + size_t(row) * inRow, n);
                quant::quantizeIQ4RowWeighted(p.type, x.data(), mine.data() + size_t(row) * outRow, n,
                                              importance.empty() ? nullptr : importance.data());
            }
            if (std::memcmp(mine.data(), p.data, size_t(p.nbytes)) != 0)
                differing << QString::fromStdString(p.name) + " (" + typeName(p.type) + ")";
        }
        qInfo("llama-quantize --imatrix IQ4_XS: %d IQ4_NL and %d IQ4_XS tensors compared, %d with a matrix entry",
              compared[0], compared[1], weighted);
        QVERIFY(compared[0] > 0 && compared[1] > 0 && weighted > 0);
        QVERIFY2(differing.isEmpty(),
                 qPrintable("bytes differ from llama-quantize --imatrix: " + differing.join(", ")));
    }
};

QTEST_APPLESS_MAIN(TestQuantizeVsPeer)
#include "tst_quantize_vs_peer.moc"
