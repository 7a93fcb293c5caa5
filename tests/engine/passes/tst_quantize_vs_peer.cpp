// Our quantizer against another engine's: models quantized by the reference engine's
// llama-quantize (../shared/peer/llama.cpp-b4748, round-to-nearest, no importance matrix) into
// each legacy and K-quant type, regenerated here on every run. ref-main F16 covers the legacy
// types and the K-quant mixes whose fallbacks we can read (its 384-wide rows make llama-quantize
// store Q2_K/Q3_K files mostly as IQ4_NL, which Tenfold does not read yet), and a synthetic model
// with 256-wide rows, quantized with --pure (one type for all), covers every K-quant as such.
// For every tensor of the peer's file, the same F16 rows quantized by our row kernels into the
// peer's type must give the same bytes: we follow the same rounding rules and scale searches (a
// failure reports both errors against the F16 source). The quantize pass must produce the
// peer's bytes for every tensor it gives the same type.
#include "common/oracle.h"

#include "gguf/gguf_file.h"
#include "passes/quantize_model.h"
#include "passes/synth_model.h"
#include "tensor/kernels.h"

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
        QTest::newRow("Q4_K_M") << false << "Q4_K_M" << "Q4_K";
        QTest::newRow("Q5_K_M") << false << "Q5_K_M" << "Q5_K";
        QTest::newRow("wide Q2_K") << true << "Q2_K" << "Q2_K";
        QTest::newRow("wide Q3_K_S") << true << "Q3_K_S" << "Q3_K";
        QTest::newRow("wide Q4_K_S") << true << "Q4_K_S" << "Q4_K";
        QTest::newRow("wide Q5_K_S") << true << "Q5_K_S" << "Q5_K";
        QTest::newRow("wide Q6_K") << true << "Q6_K" << "Q6_K";
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
        // Every type follows the reference rounding rules exactly (K-quants included: the same
        // scale search), so every byte must agree.
        QVERIFY2(differing == 0, qPrintable("bytes differ from llama-quantize's: " + differingNames.join("; ")));
    }
};

QTEST_APPLESS_MAIN(TestQuantizeVsPeer)
#include "tst_quantize_vs_peer.moc"
