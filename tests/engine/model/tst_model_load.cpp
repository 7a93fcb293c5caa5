// Model loading: hyperparameters and tensors from GGUF, the llama2.c import (identical logits to
// the GGUF of the same weights), export back to GGUF, and clear errors for bad files.
#include "common/shared_data.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "runtime/cpu_backend.h"
#include "tokenizer/tokenizer.h"

#include <QtTest>

#include <QTemporaryDir>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>

using namespace tenfold;
using tenfold::test::sharedFile;

namespace {

std::vector<float> logitsFor(const std::shared_ptr<Model>& m, const std::vector<int32_t>& tokens)
{
    auto backend = createCpuBackend(2);
    auto ctx = backend->createContext(m, {});
    std::vector<float> logits;
    ctx->decode(tokens, true, logits);
    return logits;
}

// A copy of `src` with metadata edited and/or a tensor dropped.
std::filesystem::path rewrite(const GGUFFile& src, const std::filesystem::path& out,
                              const std::function<void(GGUFWriter&)>& editMeta,
                              const std::string& dropTensor = {},
                              const std::string& renameTensorTo = {})
{
    GGUFWriter w;
    w.copyMetadata(src);
    editMeta(w);
    for (const auto& t : src.tensors()) {
        if (t.name == dropTensor) {
            if (!renameTensorTo.empty())
                w.addTensor(renameTensorTo, t.type, t.ne, t.data, t.nbytes);
            continue;
        }
        w.addTensor(t.name, t.type, t.ne, t.data, t.nbytes);
    }
    w.write(out);
    return out;
}

template <class E>
QString errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const E& e) {
        return QString::fromUtf8(e.what());
    } catch (const std::exception& e) {
        return QStringLiteral("wrong exception type: ") + e.what();
    }
    return QStringLiteral("no exception");
}

// Where the length-prefixed GGUF string `s` first occurs in the file: found by scanning bytes, so
// the expected offsets do not come from the reader under test.
uint64_t findEncodedString(const std::filesystem::path& file, const std::string& s)
{
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string needle(8, '\0');
    const uint64_t n = s.size();
    std::memcpy(needle.data(), &n, 8);
    needle += s;
    const size_t at = bytes.find(needle);
    return at == std::string::npos ? ~uint64_t(0) : uint64_t(at);
}

} // namespace

class TestModelLoad : public QObject {
    Q_OBJECT
private slots:
    void refMainHyperparameters()
    {
        const auto path = sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto m = Model::loadGGUF(path);
        const LlamaHParams& hp = m->hparams();
        QCOMPARE(QString::fromStdString(hp.architecture), QString("llama"));
        QCOMPARE(hp.nEmbd, 384);
        QCOMPARE(hp.nLayer, 8);
        QCOMPARE(hp.nHead, 6);
        QCOMPARE(hp.nHeadKv, 2);
        QCOMPARE(hp.nFF, 1024);
        QCOMPARE(hp.nCtxTrain, 512);
        QCOMPARE(hp.nVocab, 8192);
        QCOMPARE(hp.headDim, 64);
        QCOMPARE(hp.ropeDim, 64);
        QCOMPARE(hp.ropeFreqBase, 10000.0f);
        QVERIFY(!hp.ropeNeox);
        QVERIFY(std::fabs(hp.rmsEps - 1e-5f) < 1e-9f);
        QVERIFY(hp.tiedOutput);
        QCOMPARE(m->output().data, m->tokenEmbedding().data);
        QCOMPARE(m->parameterCount(), uint64_t(15735168)); // README
        QCOMPARE(m->layers()[3].wq.type, GGMLType::F16);
        QCOMPARE(m->layers()[3].attnNorm.type, GGMLType::F32);
        QVERIFY(!m->layers()[0].bq.present());
        // Zero-copy: weights point into the GGUF mapping.
        const GGUFTensorInfo* t = m->gguf()->findTensor("blk.5.ffn_down.weight");
        QVERIFY(t);
        QCOMPARE(static_cast<const void*>(m->layers()[5].ffnDown.data), static_cast<const void*>(t->data));
        QCOMPARE(m->kvCacheBytes(512, GGMLType::F16), uint64_t(2) * 8 * 512 * 128 * 2);
        QCOMPARE(QString::fromStdString(m->displayName()), QString("tenfold-ref-main"));
    }

    void llama2cMatchesGguf()
    {
        const auto bin = sharedFile("models/stories260K.bin");
        const auto tok = sharedFile("models/tok512.bin");
        const auto gguf = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(bin);
        TENFOLD_REQUIRE_SHARED(tok);
        TENFOLD_REQUIRE_SHARED(gguf);
        auto a = Model::loadLlama2c(bin, tok);
        auto b = Model::loadGGUF(gguf);
        QCOMPARE(a->hparams().nEmbd, 64);
        QCOMPARE(a->hparams().nLayer, 5);
        QCOMPARE(a->hparams().nHead, 8);
        QCOMPARE(a->hparams().nHeadKv, 4);
        QCOMPARE(a->hparams().nFF, 172);
        QCOMPARE(a->hparams().nVocab, 512);
        QVERIFY(a->hparams().tiedOutput);
        QVERIFY(a->gguf() == nullptr);
        // Same weights bit for bit: llama2.c's Q/K rows need no RoPE permutation.
        const auto& la = a->layers()[2].wq;
        const auto& lb = b->layers()[2].wq;
        QCOMPARE(la.ne0, lb.ne0);
        QCOMPARE(la.ne1, lb.ne1);
        QCOMPARE(std::memcmp(la.data, lb.data, la.rowBytes * size_t(la.ne1)), 0);

        const std::string text = "Once upon a time, there was a little dog";
        const auto ta = a->tokenizer().encode(text, false);
        const auto tb = b->tokenizer().encode(text, false);
        QCOMPARE(ta, tb);
        std::vector<int32_t> tokens = ta;
        tokens.insert(tokens.begin(), 1);
        const auto la2 = logitsFor(a, tokens), lb2 = logitsFor(b, tokens);
        QCOMPARE(la2.size(), lb2.size());
        double worst = 0;
        for (size_t i = 0; i < la2.size(); ++i)
            worst = std::max(worst, double(std::fabs(la2[i] - lb2[i])));
        QVERIFY2(worst <= 1e-6, qPrintable(QString::number(worst)));
    }

    void llama2cExportRoundTrips()
    {
        const auto bin = sharedFile("models/stories260K.bin");
        const auto tok = sharedFile("models/tok512.bin");
        TENFOLD_REQUIRE_SHARED(bin);
        TENFOLD_REQUIRE_SHARED(tok);
        auto a = Model::loadLlama2c(bin, tok);
        QTemporaryDir dir;
        const std::filesystem::path out = dir.filePath("stories.gguf").toStdString();
        a->writeGGUF(out);
        auto b = Model::loadGGUF(out);
        QCOMPARE(b->hparams().nCtxTrain, a->hparams().nCtxTrain);
        QCOMPARE(b->hparams().nHeadKv, 4);
        QVERIFY(b->hparams().tiedOutput);
        QCOMPARE(b->tokenizer().vocabSize(), 512);
        QCOMPARE(b->tokenizer().bos(), 1);
        QCOMPARE(b->tokenizer().eos(), 2);
        const std::string text = "Lily and Tom were playing";
        QCOMPARE(b->tokenizer().encode(text, false), a->tokenizer().encode(text, false));
        std::vector<int32_t> tokens = a->tokenizer().encode(text, false);
        tokens.insert(tokens.begin(), 1);
        QCOMPARE(logitsFor(a, tokens), logitsFor(b, tokens));

        // A GGUF-loaded model writes its metadata back unchanged.
        const std::filesystem::path again = dir.filePath("again.gguf").toStdString();
        b->writeGGUF(again);
        auto c = Model::loadGGUF(again);
        QCOMPARE(logitsFor(c, tokens), logitsFor(b, tokens));
    }

    void qwen2NeoxAndBiasesMatchPermutedLlama()
    {
        // A qwen2 model rotates (i, i + d/2) pairs. Reordering each head's Q/K rows (and biases)
        // so that pair (2i, 2i+1) lands on (i, i + d/2) turns the llama model into an equivalent
        // qwen2 one: attention scores are dot products, unchanged by the same permutation of q
        // and k, so the logits must agree.
        const auto path = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto src = GGUFFile::open(path);
        const int headDim = 8;
        std::vector<std::vector<float>> keep; // buffers alive until write()
        auto floats = [&](const GGUFTensorInfo& t) {
            const float* f = reinterpret_cast<const float*>(t.data);
            return std::vector<float>(f, f + t.elementCount());
        };
        auto permuteRows = [&](const std::vector<float>& w, int64_t rowLen) {
            const int64_t rows = int64_t(w.size()) / rowLen;
            std::vector<float> out(w.size());
            for (int64_t r = 0; r < rows; ++r) {
                const int64_t h = r / headDim, j = r % headDim;
                const int64_t dst = h * headDim + (j % 2 == 0 ? j / 2 : j / 2 + headDim / 2);
                std::copy(w.begin() + r * rowLen, w.begin() + (r + 1) * rowLen, out.begin() + dst * rowLen);
            }
            return out;
        };
        auto build = [&](bool qwen, bool withBias, const std::filesystem::path& out) {
            GGUFWriter w;
            for (const auto& [key, value] : src->metadata()) {
                std::string k = key;
                if (qwen && k.rfind("llama.", 0) == 0)
                    k = "qwen2." + k.substr(6);
                w.set(k, value);
            }
            w.set("general.architecture", GGUFValue::string(qwen ? "qwen2" : "llama"));
            for (const auto& t : src->tensors()) {
                const bool qk = t.name.find("attn_q.weight") != std::string::npos ||
                                t.name.find("attn_k.weight") != std::string::npos;
                if (qwen && qk) {
                    keep.push_back(permuteRows(floats(t), t.ne[0]));
                    w.addTensor(t.name, t.type, t.ne, keep.back().data(), t.nbytes);
                } else {
                    w.addTensor(t.name, t.type, t.ne, t.data, t.nbytes);
                }
            }
            if (withBias) {
                for (int l = 0; l < 5; ++l)
                    for (const char* which : {"q", "k", "v"}) {
                        const int64_t n = which[0] == 'q' ? 64 : 32;
                        std::vector<float> b(static_cast<size_t>(n));
                        for (int64_t i = 0; i < n; ++i)
                            b[size_t(i)] = 0.3f * float(std::sin(double(i * 7 + l * 3 + which[0])));
                        if (qwen && which[0] != 'v')
                            b = permuteRows(b, 1);
                        keep.push_back(std::move(b));
                        w.addTensor("blk." + std::to_string(l) + ".attn_" + which + ".bias",
                                    GGMLType::F32, {n}, keep.back().data(), uint64_t(n) * 4);
                    }
            }
            w.write(out);
            return Model::loadGGUF(out);
        };
        QTemporaryDir dir;
        auto llamaBias = build(false, true, dir.filePath("llama.gguf").toStdString());
        auto qwenBias = build(true, true, dir.filePath("qwen.gguf").toStdString());
        QVERIFY(qwenBias->hparams().ropeNeox);
        QVERIFY(!llamaBias->hparams().ropeNeox);
        QVERIFY(qwenBias->layers()[2].bk.present());
        const std::vector<int32_t> tokens = {1, 403, 261, 378, 442, 275, 300, 350, 410};
        const auto a = logitsFor(llamaBias, tokens), b = logitsFor(qwenBias, tokens);
        double worst = 0;
        for (size_t i = 0; i < a.size(); ++i)
            worst = std::max(worst, double(std::fabs(a[i] - b[i])));
        QVERIFY2(worst < 1e-3, qPrintable(QString::number(worst)));
        // The biases are applied: the same model without them gives other logits.
        const auto plain = logitsFor(Model::loadGGUF(path), tokens);
        double moved = 0;
        for (size_t i = 0; i < a.size(); ++i)
            moved = std::max(moved, double(std::fabs(a[i] - plain[i])));
        QVERIFY2(moved > 1e-2, qPrintable(QString::number(moved)));
    }

    void unsupportedArchitectureIsNamed()
    {
        const auto path = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto src = GGUFFile::open(path);
        QTemporaryDir dir;
        const auto out = rewrite(*src, dir.filePath("gptj.gguf").toStdString(),
                                 [](GGUFWriter& w) { w.set("general.architecture", GGUFValue::string("gptj")); });
        const QString msg = errorOf<UnsupportedError>([&] { Model::loadGGUF(out); });
        QVERIFY2(msg.contains("gptj") && msg.contains("not supported"), qPrintable(msg));
    }

    void missingTensorIsNamed()
    {
        const auto path = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto src = GGUFFile::open(path);
        QTemporaryDir dir;
        const auto out = rewrite(*src, dir.filePath("missing.gguf").toStdString(), [](GGUFWriter&) {},
                                 "blk.3.ffn_up.weight");
        const QString msg = errorOf<FormatError>([&] { Model::loadGGUF(out); });
        QVERIFY2(msg.contains("blk.3.ffn_up.weight") && msg.contains("missing"), qPrintable(msg));
    }

    void shapeMismatchIsNamed()
    {
        const auto path = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto src = GGUFFile::open(path);
        QTemporaryDir dir;
        // Claim a larger FFN than the tensors have.
        const auto out = rewrite(*src, dir.filePath("shape.gguf").toStdString(), [](GGUFWriter& w) {
            w.set("llama.feed_forward_length", GGUFValue::u32(256));
        });
        const QString msg = errorOf<FormatError>([&] { Model::loadGGUF(out); });
        QVERIFY2(msg.contains("blk.0.ffn_gate.weight") && msg.contains("172"), qPrintable(msg));

        const auto noArch = rewrite(*src, dir.filePath("noarch.gguf").toStdString(),
                                    [](GGUFWriter& w) { w.remove("general.architecture"); });
        const QString msg2 = errorOf<FormatError>([&] { Model::loadGGUF(noArch); });
        QVERIFY2(msg2.contains("general.architecture"), qPrintable(msg2));

        const auto noHeads = rewrite(*src, dir.filePath("noheads.gguf").toStdString(),
                                     [](GGUFWriter& w) { w.remove("llama.attention.head_count"); });
        const QString msg3 = errorOf<FormatError>([&] { Model::loadGGUF(noHeads); });
        QVERIFY2(msg3.contains("llama.attention.head_count"), qPrintable(msg3));
    }

    // The errors point at the bytes at fault: the tensor's info entry, the metadata value.
    void errorsNameFileAndOffset()
    {
        const auto path = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto src = GGUFFile::open(path);
        QTemporaryDir dir;

        const auto shape = rewrite(*src, dir.filePath("shape.gguf").toStdString(), [](GGUFWriter& w) {
            w.set("llama.feed_forward_length", GGUFValue::u32(256));
        });
        const uint64_t infoAt = findEncodedString(shape, "blk.0.ffn_gate.weight");
        QVERIFY(infoAt != ~uint64_t(0));
        try {
            Model::loadGGUF(shape);
            QFAIL("no error for a tensor of the wrong shape");
        } catch (const FormatError& e) {
            const std::string what = e.what();
            QVERIFY2(e.file() == shape.string() && e.offset() == infoAt, what.c_str());
            QVERIFY2(what.find(shape.string() + ": at byte " + std::to_string(infoAt) + ":") == 0 &&
                         what.find("blk.0.ffn_gate.weight") != std::string::npos,
                     what.c_str());
        }

        const auto stringCount = rewrite(*src, dir.filePath("strcount.gguf").toStdString(), [](GGUFWriter& w) {
            w.set("llama.block_count", GGUFValue::string("5"));
        });
        const uint64_t keyAt = findEncodedString(stringCount, "llama.block_count");
        QVERIFY(keyAt != ~uint64_t(0));
        const uint64_t valueAt = keyAt + 8 + std::string("llama.block_count").size() + 4; // + type tag
        try {
            Model::loadGGUF(stringCount);
            QFAIL("no error for a block count stored as a string");
        } catch (const FormatError& e) {
            const std::string what = e.what();
            QVERIFY2(e.file() == stringCount.string() && e.offset() == valueAt, what.c_str());
            QVERIFY2(what.find(stringCount.string() + ": at byte " + std::to_string(valueAt) + ":") == 0 &&
                         what.find("'llama.block_count' holds a string, not an integer") != std::string::npos,
                     what.c_str());
        }
    }

    void hostileBlockCountIsRejectedBeforeAllocating()
    {
        const auto path = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto src = GGUFFile::open(path);
        QTemporaryDir dir;
        // 2^30 layers would size a gigantic layer table before any tensor is looked at.
        const auto out = rewrite(*src, dir.filePath("blocks.gguf").toStdString(), [](GGUFWriter& w) {
            w.set("llama.block_count", GGUFValue::u32(1u << 30));
        });
        const QString msg = errorOf<FormatError>([&] { Model::loadGGUF(out); });
        QVERIFY2(msg.contains("block_count") && msg.contains("1073741823"), qPrintable(msg));

        const auto wide = rewrite(*src, dir.filePath("embd.gguf").toStdString(), [](GGUFWriter& w) {
            w.set("llama.embedding_length", GGUFValue::u32(1u << 28));
        });
        const QString msg2 = errorOf<FormatError>([&] { Model::loadGGUF(wide); });
        QVERIFY2(msg2.contains("embedding_length") && msg2.contains("token_embd"), qPrintable(msg2));
    }

    void ropeFrequencyFactorsAreRefused()
    {
        const auto path = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto src = GGUFFile::open(path);
        QTemporaryDir dir;
        static const std::vector<float> factors(4, 1.0f);
        const auto out = rewrite(*src, dir.filePath("ropefreqs.gguf").toStdString(), [](GGUFWriter& w) {
            w.addTensor("rope_freqs.weight", GGMLType::F32, {4}, factors.data(), factors.size() * 4);
        });
        const QString msg = errorOf<UnsupportedError>([&] { Model::loadGGUF(out); });
        QVERIFY2(msg.contains("rope_freqs.weight"), qPrintable(msg));
    }

    void corruptLlama2cIsRejected()
    {
        QTemporaryDir dir;
        const std::filesystem::path p = dir.filePath("bad.bin").toStdString();
        {
            std::ofstream f(p, std::ios::binary);
            const int32_t cfg[7] = {64, 172, 5, 8, 4, 512, 512};
            f.write(reinterpret_cast<const char*>(cfg), sizeof cfg);
            std::vector<float> some(1000, 0.0f);
            f.write(reinterpret_cast<const char*>(some.data()), std::streamsize(some.size() * 4));
        }
        const QString msg = errorOf<FormatError>([&] { Model::loadLlama2c(p, "unused.bin"); });
        QVERIFY2(msg.contains("bytes") && msg.contains("implies"), qPrintable(msg));
        const QString io = errorOf<IoError>([&] { Model::loadLlama2c(dir.filePath("none.bin").toStdString(), "x"); });
        QVERIFY2(io.contains("none.bin"), qPrintable(io));
    }

    void overflowingLlama2cHeaderIsRejected()
    {
        // Fields at the 2^22..2^24 range make the implied size exceed 64 bits; a wrapped sum
        // used to be compared against the file size and could accept a tiny file.
        QTemporaryDir dir;
        const std::filesystem::path p = dir.filePath("huge.bin").toStdString();
        {
            std::ofstream f(p, std::ios::binary);
            const int32_t cfg[7] = {1 << 22, 1 << 24, 1 << 20, 1 << 4, 1 << 4, 1 << 22, 1};
            f.write(reinterpret_cast<const char*>(cfg), sizeof cfg);
        }
        const QString msg = errorOf<FormatError>([&] { Model::loadLlama2c(p, "unused.bin"); });
        QVERIFY2(msg.contains("overflows"), qPrintable(msg));
    }
};

QTEST_APPLESS_MAIN(TestModelLoad)
#include "tst_model_load.moc"
