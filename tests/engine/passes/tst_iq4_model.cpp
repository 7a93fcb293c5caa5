// A whole model in IQ4_NL: ref-main quantized by our pass (its 384-wide rows all take 32-element
// IQ4_NL blocks), then scored on the first windows of valid.txt against the F16 model by the
// reference engine's llama-perplexity --kl-divergence and by our evaluator. The reference engine
// reading our file and finding the same perplexity checks the file (layout, file type, metadata)
// and our CPU runtime's IQ4_NL path at once: they compute logits differently (it multiplies
// IQ4_NL weights with activations rounded to Q8_0, our prompt path dequantizes to F32), so the
// figures agree within that rounding, not exactly. That the bytes are the reference quantizer's
// is tst_quantize_vs_peer's job.
#include "common/oracle.h"

#include "gguf/gguf_file.h"
#include "model/model.h"
#include "passes/quantize_model.h"
#include "runtime/cpu_backend.h"
#include "runtime/perplexity.h"
#include "tokenizer/tokenizer.h"

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace tenfold;

namespace {

std::vector<int32_t> tokensWithBos(const Model& model, const std::filesystem::path& text)
{
    std::ifstream in(text, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<int32_t> tokens = model.tokenizer().encode(ss.str(), false);
    tokens.insert(tokens.begin(), model.tokenizer().bos());
    return tokens;
}

// "Label: 1.234" in llama-perplexity's report; NaN when absent.
double peerFigure(const QString& report, const QString& label)
{
    const QRegularExpression re("^" + QRegularExpression::escape(label) + R"(\s*:\s*([-0-9.]+))",
                                QRegularExpression::MultilineOption);
    const auto m = re.match(report);
    return m.hasMatch() ? m.captured(1).toDouble() : std::nan("");
}

} // namespace

class TestIQ4Model : public QObject {
    Q_OBJECT
private slots:
    void refMainIQ4NLMatchesReferenceEnginePerplexity()
    {
        const auto base = test::sharedFile("models/tenfold-ref-main-f16.gguf");
        const auto textPath = test::sharedFile("text/valid.txt");
        const auto scorer = test::peerTool("llama-perplexity", true);
        TENFOLD_REQUIRE_SHARED(base);
        TENFOLD_REQUIRE_SHARED(textPath);
        TENFOLD_REQUIRE_PEER(scorer);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString iq4 = dir.filePath("ref-main-iq4_nl.gguf"), logits = dir.filePath("base.kld");
        QuantizeOptions qo;
        qo.target = GGMLType::IQ4_NL;
        qo.nThreads = 2;
        const QuantizeReport report = quantizeModel(base, iq4.toStdString(), qo);
        int iq4Tensors = 0;
        for (const QuantizedTensor& t : report.tensors)
            iq4Tensors += t.to == GGMLType::IQ4_NL;
        QCOMPARE(iq4Tensors, 57); // every matrix: 7 per layer x 8 layers and the embedding
        QCOMPARE(GGUFFile::open(iq4.toStdString())->getInt("general.file_type").value_or(-1), int64_t(25));

        const int chunks = 4;
        const QStringList common = {"-f", QString::fromStdString(textPath.string()), "-c", "512",
                                    "--chunks", QString::number(chunks), "-t", "2",
                                    "--kl-divergence-base", logits};
        auto r = test::runProcess(QString::fromStdString(scorer.string()),
                                  QStringList{"-m", QString::fromStdString(base.string())} + common);
        QVERIFY2(r.ok(), qPrintable("llama-perplexity (base): " + r.describe()));
        r = test::runProcess(QString::fromStdString(scorer.string()),
                             QStringList{"-m", iq4} + common + QStringList{"--kl-divergence"});
        QVERIFY2(r.ok(), qPrintable("llama-perplexity on our IQ4_NL file: " + r.describe()));
        const QString peerReport = QString::fromUtf8(r.out + r.err);
        const double peerKld = peerFigure(peerReport, "Mean    KLD");
        const double peerPplQ = peerFigure(peerReport, "Mean PPL(Q)");
        const double peerPplBase = peerFigure(peerReport, "Mean PPL(base)");
        QVERIFY2(std::isfinite(peerKld) && std::isfinite(peerPplQ) && std::isfinite(peerPplBase),
                 qPrintable("unexpected llama-perplexity report:\n" + peerReport.right(3000)));

        auto f16 = Model::loadGGUF(base);
        auto quant = Model::loadGGUF(iq4.toStdString());
        const std::vector<int32_t> tokens = tokensWithBos(*f16, textPath);
        auto backend = createCpuBackend(2);
        ContextParams cp;
        cp.nCtx = 512;
        auto a = backend->createContext(f16, cp);
        auto b = backend->createContext(quant, cp);
        PerplexityOptions o;
        o.bos = f16->tokenizer().bos();
        o.maxChunks = chunks;
        const KlDivergenceResult ours = klDivergence(*a, *b, tokens, o);
        qInfo("IQ4_NL (%llu bytes) on %d windows: PPL(Q) ours %.4f, reference engine %.4f (%.4f%% apart); "
              "PPL(base) %.4f vs %.4f; mean KLD %.6f vs %.6f",
              (unsigned long long)report.fileBytesAfter, chunks, ours.test.ppl, peerPplQ,
              100 * std::fabs(ours.test.ppl - peerPplQ) / peerPplQ, ours.base.ppl, peerPplBase, ours.meanKld,
              peerKld);
        QCOMPARE(ours.base.chunks, chunks);
        QVERIFY2(std::fabs(ours.base.ppl - peerPplBase) / peerPplBase < 5e-4, "base perplexity");
        QVERIFY2(std::fabs(ours.test.ppl - peerPplQ) / peerPplQ < 1e-3, "IQ4_NL perplexity");
        QVERIFY2(std::fabs(ours.meanKld - peerKld) / peerKld < 0.05, "mean KL divergence");
        QVERIFY2(ours.meanKld > 1e-4, "the quantized model should differ from F16 at all");
    }
};

QTEST_APPLESS_MAIN(TestIQ4Model)
#include "tst_iq4_model.moc"
