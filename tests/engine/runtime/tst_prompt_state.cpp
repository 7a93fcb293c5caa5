// Saved prompt state (runtime/prompt_state.h): a restored prefix must give exactly the logits the
// original context gives when both continue with the same tokens (same cache bytes, same
// passes), and a file that is not this model's, or truncated, or corrupted anywhere, must be
// refused with a reason instead of being trusted.
#include "common/shared_data.h"
#include "core/error.h"
#include "model/model.h"
#include "runtime/cpu_backend.h"
#include "runtime/prompt_state.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <random>

using namespace tenfold;
using tenfold::test::sharedFile;

namespace {

std::vector<int32_t> randomTokens(std::mt19937& rng, int n, int vocab)
{
    std::uniform_int_distribution<int32_t> d(1, vocab - 1);
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& x : t)
        x = d(rng);
    return t;
}

std::vector<uint8_t> readAll(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void writeAll(const std::filesystem::path& p, const std::vector<uint8_t>& b)
{
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

} // namespace

class TestPromptState : public QObject {
    Q_OBJECT
    std::unique_ptr<Backend> cpu_ = createCpuBackend(2);
    std::shared_ptr<Model> main_, stories_;
    QTemporaryDir dir_;

private slots:
    void initTestCase()
    {
        const auto m = sharedFile("models/tenfold-ref-main-f16.gguf");
        const auto s = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(m);
        TENFOLD_REQUIRE_SHARED(s);
        main_ = Model::loadGGUF(m);
        stories_ = Model::loadGGUF(s);
        QVERIFY(dir_.isValid());
    }

    void fingerprintsTellModelsApart()
    {
        QVERIFY(main_->fingerprint() != 0);
        QCOMPARE(main_->fingerprint(), Model::loadGGUF(sharedFile("models/tenfold-ref-main-f16.gguf"))->fingerprint());
        QVERIFY(main_->fingerprint() != stories_->fingerprint());
        QVERIFY(main_->fingerprint() !=
                Model::loadGGUF(sharedFile("models/tenfold-ref-draft-f16.gguf"))->fingerprint());
    }

    void restoredPrefixContinuesIdentically_data()
    {
        QTest::addColumn<int>("kvType");
        QTest::newRow("F16 cache") << int(GGMLType::F16);
        QTest::newRow("F32 cache") << int(GGMLType::F32);
    }
    void restoredPrefixContinuesIdentically()
    {
        QFETCH(int, kvType);
        ContextParams cp;
        cp.kvType = GGMLType(kvType);
        std::mt19937 rng(4);
        const auto prompt = randomTokens(rng, 70, main_->hparams().nVocab);
        const auto more = randomTokens(rng, 5, main_->hparams().nVocab);
        auto original = cpu_->createContext(main_, cp);
        std::vector<float> logits;
        original->decode(prompt, false, logits);
        const auto file = std::filesystem::path(dir_.path().toStdString()) / "state.tfkv";
        savePromptState(file, capturePromptState(*original, *main_, cp.kvType, prompt));

        std::string why;
        const auto state = loadPromptState(file, *main_, cp.kvType, &why);
        QVERIFY2(state.has_value(), why.c_str());
        QCOMPARE(state->tokens, prompt);
        // A new prompt that shares the first 70 tokens: all 70 restored, then both continue.
        std::vector<int32_t> longer = prompt;
        longer.insert(longer.end(), more.begin(), more.end());
        auto restored = cpu_->createContext(main_, cp);
        QCOMPARE(restorePromptState(*restored, *state, longer), 70);
        QCOMPARE(restored->position(), 70);
        std::vector<float> a, b;
        original->decode(more, true, a);
        restored->decode(more, true, b);
        QCOMPARE(a, b);
        // A prompt that diverges at token 30 restores 30 positions; one equal to the saved prompt
        // restores all but its last token.
        std::vector<int32_t> diverging = prompt;
        diverging[30] = (diverging[30] + 1) % main_->hparams().nVocab;
        QCOMPARE(restorePromptState(*restored, *state, diverging), 30);
        QCOMPARE(restorePromptState(*restored, *state, prompt), 69);
        auto fresh = cpu_->createContext(main_, cp);
        fresh->decode(std::span<const int32_t>(prompt).first(69), false, logits);
        std::vector<float> c, d;
        fresh->decode(std::span<const int32_t>(prompt).last(1), false, c);
        restored->decode(std::span<const int32_t>(prompt).last(1), false, d);
        QCOMPARE(c, d);
    }

    void badFilesAreRefused()
    {
        ContextParams cp;
        std::mt19937 rng(8);
        const auto prompt = randomTokens(rng, 40, stories_->hparams().nVocab);
        auto ctx = cpu_->createContext(stories_, cp);
        std::vector<float> logits;
        ctx->decode(prompt, false, logits);
        const auto dir = std::filesystem::path(dir_.path().toStdString());
        const auto good = dir / "good.tfkv";
        savePromptState(good, capturePromptState(*ctx, *stories_, cp.kvType, prompt));
        const std::vector<uint8_t> bytes = readAll(good);
        std::string why;
        QVERIFY(loadPromptState(good, *stories_, cp.kvType, &why).has_value());

        QVERIFY(!loadPromptState(good, *main_, cp.kvType, &why));
        QVERIFY2(QString::fromStdString(why).contains("different model"), why.c_str());
        QVERIFY(!loadPromptState(good, *stories_, GGMLType::F32, &why));
        QVERIFY(!loadPromptState(dir / "missing.tfkv", *stories_, cp.kvType, &why));
        QVERIFY2(QString::fromStdString(why).contains("no such file"), why.c_str());

        auto variant = [&](const char* name, std::vector<uint8_t> b) {
            const auto p = dir / name;
            writeAll(p, b);
            const bool ok = loadPromptState(p, *stories_, cp.kvType, &why).has_value();
            qInfo("%s: %s", name, why.c_str());
            return ok;
        };
        // One flipped byte anywhere: in the header, in a token id, deep in the cache data.
        for (size_t at : {size_t(5), size_t(40), bytes.size() / 2, bytes.size() - 9}) {
            auto b = bytes;
            b[at] ^= 0x10;
            QVERIFY2(!variant("flipped.tfkv", b), qPrintable(QString("byte %1").arg(at)));
        }
        auto truncated = bytes;
        truncated.resize(bytes.size() - 100);
        QVERIFY(!variant("truncated.tfkv", truncated));
        QVERIFY2(QString::fromStdString(why).contains("truncated"), why.c_str());
        auto version = bytes;
        version[4] = 9;
        QVERIFY(!variant("version.tfkv", version));
        QVERIFY2(QString::fromStdString(why).contains("version"), why.c_str());
        QVERIFY(!variant("empty.tfkv", {}));
        // Saving into a folder that does not exist is an IoError naming the file, and leaves nothing.
        QVERIFY_THROWS_EXCEPTION(IoError, savePromptState(dir / "no-such-dir" / "x.tfkv",
                                                          capturePromptState(*ctx, *stories_, cp.kvType, prompt)));
    }
};

QTEST_GUILESS_MAIN(TestPromptState)
#include "tst_prompt_state.moc"
