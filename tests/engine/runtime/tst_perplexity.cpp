// Perplexity with the reference method on the shared validation text, against another engine's
// figure; plus the NLL helper and the KL-divergence statistics on a model against itself.
#include "common/shared_data.h"
#include "core/error.h"
#include "model/model.h"
#include "runtime/cpu_backend.h"
#include "runtime/perplexity.h"
#include "tokenizer/tokenizer.h"

#include <QtTest>

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace tenfold;
using tenfold::test::sharedFile;

namespace {

std::string readText(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

double referencePerplexity(const char* model, const char* key)
{
    QFile f(QString::fromStdString(sharedFile("reference/perplexity.json").string()));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    return QJsonDocument::fromJson(f.readAll()).object()[model].toObject()[key].toDouble();
}

} // namespace

class TestPerplexity : public QObject {
    Q_OBJECT
private slots:
    void nllOfUniformIsLogVocab()
    {
        const std::vector<float> l(100, 3.0f);
        QVERIFY(std::fabs(negativeLogLikelihood(l, 17) - std::log(100.0)) < 1e-9);
        const std::vector<float> two = {0.0f, float(std::log(3.0))};
        QVERIFY(std::fabs(negativeLogLikelihood(two, 1) - std::log(4.0 / 3.0)) < 1e-7);
    }

    void refMainMatchesReference()
    {
        const auto modelPath = sharedFile("models/tenfold-ref-main-f16.gguf");
        const auto textPath = sharedFile("text/valid.txt");
        TENFOLD_REQUIRE_SHARED(modelPath);
        TENFOLD_REQUIRE_SHARED(textPath);
        TENFOLD_REQUIRE_SHARED(sharedFile("reference/perplexity.json"));
        const double want = referencePerplexity("tenfold-ref-main-f16.gguf", "valid.txt");
        QVERIFY(want > 0);

        auto model = Model::loadGGUF(modelPath);
        QElapsedTimer timer;
        timer.start();
        std::vector<int32_t> tokens = model->tokenizer().encode(readText(textPath), false);
        tokens.insert(tokens.begin(), model->tokenizer().bos());
        const qint64 tokenizeMs = timer.restart();

        auto backend = createCpuBackend(2);
        ContextParams cp;
        cp.nCtx = 512;
        auto ctx = backend->createContext(model, cp);
        PerplexityOptions o;
        o.bos = model->tokenizer().bos();
        int lastDone = 0;
        o.progress = [&](int done, int total) {
            QCOMPARE(done, lastDone + 1);
            lastDone = done;
            QVERIFY(total >= done);
        };
        const PerplexityResult r = perplexity(*ctx, tokens, o);
        const double seconds = timer.elapsed() / 1000.0;
        qInfo("%zu tokens (tokenized in %lld ms), %d chunks, %lld predictions: PPL %.4f +/- %.4f "
              "(reference %.3f) in %.1f s = %.0f tokens/s",
              tokens.size(), tokenizeMs, r.chunks, (long long)r.predictions, r.ppl, r.pplStderr, want,
              seconds, r.chunks * 512 / seconds);
        QCOMPARE(r.chunks, int(tokens.size() / 512));
        QCOMPARE(r.predictions, int64_t(r.chunks) * 255);
        QCOMPARE(lastDone, r.chunks);
        QVERIFY2(std::fabs(r.ppl - want) / want < 0.005,
                 qPrintable(QString("PPL %1 vs reference %2").arg(r.ppl).arg(want)));
        const double wantStderr = referencePerplexity("tenfold-ref-main-f16.gguf", "valid.txt_stderr");
        QVERIFY2(std::fabs(r.pplStderr - wantStderr) / wantStderr < 0.05,
                 qPrintable(QString("stderr %1 vs %2").arg(r.pplStderr).arg(wantStderr)));
    }

    void noBosKeepsTheWindowsFirstToken()
    {
        // bos = -1 (a vocabulary without BOS) used to write -1 into every window.
        const auto modelPath = sharedFile("models/stories260K.gguf");
        const auto textPath = sharedFile("text/tinystories_sample.txt");
        TENFOLD_REQUIRE_SHARED(modelPath);
        TENFOLD_REQUIRE_SHARED(textPath);
        auto model = Model::loadGGUF(modelPath);
        std::vector<int32_t> tokens = model->tokenizer().encode(readText(textPath), false);
        tokens.insert(tokens.begin(), model->tokenizer().bos());
        auto backend = createCpuBackend(2);
        ContextParams cp;
        cp.nCtx = 64;
        auto ctx = backend->createContext(model, cp);
        PerplexityOptions o;
        o.nCtx = 64;
        o.maxChunks = 1;
        o.bos = model->tokenizer().bos();
        const PerplexityResult withBos = perplexity(*ctx, tokens, o);
        o.bos = -1; // the first window already starts with BOS: same windows, same result
        const PerplexityResult keep = perplexity(*ctx, tokens, o);
        QCOMPARE(keep.chunks, 1);
        QCOMPARE(keep.ppl, withBos.ppl);
        // Without BOS replacement a different first token changes the result.
        tokens[0] = tokens[1];
        const PerplexityResult other = perplexity(*ctx, tokens, o);
        QVERIFY(other.ppl != withBos.ppl);
    }

    void klDivergenceOfIdenticalModelsIsZero()
    {
        const auto modelPath = sharedFile("models/stories260K.gguf");
        const auto textPath = sharedFile("text/tinystories_sample.txt");
        TENFOLD_REQUIRE_SHARED(modelPath);
        TENFOLD_REQUIRE_SHARED(textPath);
        auto model = Model::loadGGUF(modelPath);
        std::vector<int32_t> tokens = model->tokenizer().encode(readText(textPath), false);
        tokens.insert(tokens.begin(), model->tokenizer().bos());
        auto backend = createCpuBackend(2);
        ContextParams cp;
        cp.nCtx = 256;
        auto a = backend->createContext(model, cp);
        auto b = backend->createContext(model, cp);
        PerplexityOptions o;
        o.nCtx = 256;
        o.bos = model->tokenizer().bos();
        const KlDivergenceResult r = klDivergence(*a, *b, tokens, o);
        QVERIFY(r.base.chunks >= 2);
        QCOMPARE(r.base.ppl, r.test.ppl);
        QVERIFY(r.meanKld < 1e-9);
        QCOMPARE(r.sameTopPct, 100.0);
        const PerplexityResult p = perplexity(*a, tokens, o);
        QCOMPARE(p.ppl, r.base.ppl);
        // TinyStories text under the TinyStories model: a low perplexity, far below the vocab.
        QVERIFY2(p.ppl > 1.5 && p.ppl < 20, qPrintable(QString::number(p.ppl)));

        // Too little text for one window.
        const std::vector<int32_t> few(100, 5);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, perplexity(*a, few, o));
        // Cancelled before the first window.
        std::atomic<bool> cancel{true};
        o.cancel = &cancel;
        QVERIFY_THROWS_EXCEPTION(Cancelled, perplexity(*a, tokens, o));
    }
};

QTEST_APPLESS_MAIN(TestPerplexity)
#include "tst_perplexity.moc"
