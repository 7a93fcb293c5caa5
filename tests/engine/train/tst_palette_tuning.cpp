// Palette tuning (engine/train/palette_tuning.h) on stories260K: 3-bit palettes (row scales,
// GPTQ-free so the test is quick) and an IQ4_NL embedding, tuned towards the original model.
// Oracles independent of the trainer: the file read back byte by byte (same tensors, types and
// sizes, the packed indices and the IQ4_NL levels unchanged, tables/scales/block scales moved),
// and the inference runtime's KL divergence from the original (runtime/perplexity.h) on text the
// tuning never saw, before and after.
#include "common/shared_data.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "passes/palette.h"
#include "runtime/backend.h"
#include "runtime/cpu_backend.h"
#include "runtime/perplexity.h"
#include "tokenizer/tokenizer.h"
#include "train/palette_tuning.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <fstream>
#include <sstream>

using namespace tenfold;

namespace {

std::string readAll(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

double runtimeKld(const std::filesystem::path& base, const std::filesystem::path& test, const std::string& text, int nCtx)
{
    std::shared_ptr<const Model> b = Model::loadGGUF(base), t = Model::loadGGUF(test);
    const std::vector<int32_t> tokens = b->tokenizer().encode(text, true);
    auto backend = createCpuBackend(2);
    ContextParams cp;
    cp.nCtx = nCtx;
    auto cb = backend->createContext(b, cp);
    auto ct = backend->createContext(t, cp);
    PerplexityOptions po;
    po.nCtx = nCtx;
    po.firstScored = 1;
    po.bos = b->tokenizer().bos();
    return klDivergence(*cb, *ct, tokens, po).meanKld;
}

std::vector<uint8_t> bytesOf(const GGUFFile& f, const std::string& name)
{
    const GGUFTensorInfo* t = f.findTensor(name);
    if (!t)
        throw InvalidArgument("no tensor " + name);
    return std::vector<uint8_t>(t->data, t->data + t->nbytes);
}

// The file every test tunes: 3-bit palettes with row scales (no calibration text, so no GPTQ:
// quick) and an IQ4_NL embedding and head.
void compressThreeBit(const std::filesystem::path& model, const std::filesystem::path& out)
{
    PaletteOptions po;
    po.bits = 3;
    po.denseType = GGMLType::IQ4_NL;
    po.nThreads = 2;
    paletteCompress(model, out, po);
}

// The sample text split once for every test: the first 3/4 to tune on, the rest held out.
struct SplitText {
    std::string train, heldOut;
};
SplitText splitText(const std::filesystem::path& path)
{
    const std::string text = readAll(path);
    return {text.substr(0, text.size() * 3 / 4), text.substr(text.size() * 3 / 4)};
}

// Pure KL to the original at temperature 1, a few steps of 4 windows on 2 threads.
train::PaletteTuneOptions tuneOptions(int steps, int nCtx)
{
    train::PaletteTuneOptions to;
    to.train.steps = steps;
    to.train.batch = 4;
    to.train.lr = 3e-3;
    to.train.minLr = 3e-4;
    to.train.warmup = 2;
    to.train.alpha = 1.0;
    to.train.temperature = 1.0;
    to.train.threads = 2;
    to.train.evalEvery = 0;
    to.ctx = nCtx;
    to.validFraction = 0.1;
    return to;
}

// Index j of a packed row, bit by bit (bits from the low bit of byte 0 up), written here apart
// from the engine's decoder.
int packedIndex(const uint8_t* row, int bits, int64_t j)
{
    int v = 0;
    for (int b = 0; b < bits; ++b) {
        const int64_t bit = j * bits + b;
        v |= ((row[bit / 8] >> (bit % 8)) & 1) << b;
    }
    return v;
}

// How many codes differ between two files of the same layout: palette indices and the 4-bit
// levels of IQ4_NL tensors (18-byte blocks: f16 scale, then 16 bytes of two nibbles).
int64_t codesDiffering(const GGUFFile& a, const GGUFFile& b)
{
    int64_t n = 0;
    for (const GGUFTensorInfo& t : a.tensors()) {
        if (t.name.ends_with(".pal_idx")) {
            const std::string base = t.name.substr(0, t.name.size() - 8);
            const int entries = int(a.findTensor(base + ".pal_tab")->ne[0]);
            const int bits = entries == 4 ? 2 : entries == 8 ? 3 : 4;
            const int64_t cols = t.ne[0] * 8 / bits; // rows are whole bytes; padding bits are 0 in both
            const std::vector<uint8_t> x = bytesOf(a, t.name), y = bytesOf(b, t.name);
            for (int64_t r = 0; r < t.ne[1]; ++r)
                for (int64_t j = 0; j < cols; ++j)
                    n += packedIndex(x.data() + r * t.ne[0], bits, j) != packedIndex(y.data() + r * t.ne[0], bits, j);
        } else if (t.type == GGMLType::IQ4_NL) {
            const std::vector<uint8_t> x = bytesOf(a, t.name), y = bytesOf(b, t.name);
            for (size_t blk = 0; blk < x.size() / 18; ++blk)
                for (size_t i = 2; i < 18; ++i) {
                    const uint8_t p = x[blk * 18 + i], q = y[blk * 18 + i];
                    n += (p & 15) != (q & 15);
                    n += (p >> 4) != (q >> 4);
                }
        }
    }
    return n;
}

} // namespace

class TstPaletteTuning : public QObject {
    Q_OBJECT
private slots:
    void tuningKeepsCodesAndLowersKld()
    {
        const auto modelPath = test::sharedFile("models/stories260K.gguf");
        const auto textPath = test::sharedFile("text/tinystories_sample.txt");
        TENFOLD_REQUIRE_SHARED(modelPath);
        TENFOLD_REQUIRE_SHARED(textPath);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::filesystem::path pal = dir.filePath("pal.gguf").toStdString();
        const auto [trainText, heldOut] = splitText(textPath);

        compressThreeBit(modelPath, pal);
        const std::shared_ptr<GGUFFile> before = GGUFFile::open(pal);
        const GGUFTensorInfo* tab = before->findTensor("blk.0.attn_q.weight.pal_tab");
        QVERIFY(tab && tab->ne[0] == 8); // 3-bit: eight entries per palette
        const int nCtx = 64;
        const double kldBefore = runtimeKld(modelPath, pal, heldOut, nCtx);
        const double kldTrainBefore = runtimeKld(modelPath, pal, trainText, nCtx);

        train::PaletteTuneOptions to = tuneOptions(40, nCtx);
        int steps = 0;
        const train::PaletteTuneReport rep =
            train::tunePaletteModel(pal, modelPath, trainText, to, [&](const train::StepReport&) { ++steps; });
        QCOMPARE(steps, 40);
        QVERIFY(rep.paletteTensors > 0);
        QCOMPARE(rep.blockTensors, 2); // the IQ4_NL embedding and output head
        QCOMPARE(rep.frozenTensors, 0);

        // Same tensors, types, shapes and sizes; the codes are the same bytes.
        const std::shared_ptr<GGUFFile> after = GGUFFile::open(pal);
        QCOMPARE(after->fileSize(), before->fileSize());
        QCOMPARE(after->tensors().size(), before->tensors().size());
        int tablesMoved = 0, tables = 0;
        for (size_t i = 0; i < before->tensors().size(); ++i) {
            const GGUFTensorInfo& a = before->tensors()[i];
            const GGUFTensorInfo& b = after->tensors()[i];
            QCOMPARE(b.name, a.name);
            QCOMPARE(int(b.type), int(a.type));
            QCOMPARE(b.ne, a.ne);
            if (a.name.ends_with(".pal_idx"))
                QVERIFY2(bytesOf(*after, a.name) == bytesOf(*before, a.name), a.name.c_str());
            if (a.name.ends_with(".pal_tab")) {
                ++tables;
                tablesMoved += bytesOf(*after, a.name) != bytesOf(*before, a.name);
            }
        }
        QVERIFY2(tablesMoved == tables, "tuning left a palette table unchanged");
        // IQ4_NL blocks: 2 bytes of f16 scale, then 16 bytes of levels that must not change.
        const std::vector<uint8_t> e0 = bytesOf(*before, "token_embd.weight"), e1 = bytesOf(*after, "token_embd.weight");
        QCOMPARE(e1.size(), e0.size());
        size_t scalesMoved = 0;
        for (size_t b = 0; b < e0.size() / 18; ++b) {
            QVERIFY(std::memcmp(e0.data() + b * 18 + 2, e1.data() + b * 18 + 2, 16) == 0);
            scalesMoved += std::memcmp(e0.data() + b * 18, e1.data() + b * 18, 2) != 0;
        }
        qInfo("embedding block scales moved: %zu of %zu", scalesMoved, e0.size() / 18);
        // Only rows of tokens in the tuning windows get a gradient (stories260K's output head is a
        // tensor of its own), and small moves can round to the same f16: a third moved here.
        QVERIFY2(scalesMoved > e0.size() / 18 / 5, "tuning left the embedding block scales unchanged");

        const double kldAfter = runtimeKld(modelPath, pal, heldOut, nCtx);
        const double kldTrainAfter = runtimeKld(modelPath, pal, trainText, nCtx);
        qInfo("runtime KLD from the original: tuning text %.5f -> %.5f, held-out %.5f -> %.5f (trainer's held-out "
              "CE %.4f -> %.4f)",
              kldTrainBefore, kldTrainAfter, kldBefore, kldAfter, rep.valLossBefore, rep.valLossAfter);
        QVERIFY2(kldTrainAfter < kldTrainBefore * 0.9, "tuning did not lower the KL divergence on its own text");
        QVERIFY2(kldAfter < kldBefore * 0.9, "tuning did not lower the held-out KL divergence");
    }

    // Each part on its own must lower the KL divergence: a wrong gradient for one part (its sign,
    // a missing factor) would show here even when the other parts make up for it together.
    void eachPartLowersKld()
    {
        const auto modelPath = test::sharedFile("models/stories260K.gguf");
        const auto textPath = test::sharedFile("text/tinystories_sample.txt");
        TENFOLD_REQUIRE_SHARED(modelPath);
        TENFOLD_REQUIRE_SHARED(textPath);
        QTemporaryDir dir;
        const std::string trainText = splitText(textPath).train;
        const std::filesystem::path fresh = dir.filePath("fresh.gguf").toStdString();
        compressThreeBit(modelPath, fresh);
        const int nCtx = 64;
        const double kldBefore = runtimeKld(modelPath, fresh, trainText, nCtx);
        for (int part = 0; part < 3; ++part) {
            const std::filesystem::path pal = dir.filePath(QStringLiteral("p%1.gguf").arg(part)).toStdString();
            std::filesystem::copy_file(fresh, pal);
            train::PaletteTuneOptions to = tuneOptions(30, nCtx);
            to.tables = part == 0;
            to.rowScales = part == 1;
            to.blockScales = part == 2;
            to.plain = false;
            train::tunePaletteModel(pal, modelPath, trainText, to);
            const double kld = runtimeKld(modelPath, pal, trainText, nCtx);
            const char* name = part == 0 ? "tables" : part == 1 ? "row scales" : "block scales";
            qInfo("%s alone: KLD on the tuning text %.5f -> %.5f", name, kldBefore, kld);
            QVERIFY2(kld < kldBefore * 0.95, name);
        }
    }

    // The codes alone (tables, scales and norms held): the straight-through residuals must move
    // codes the way that lowers the KL divergence (a wrong sign would raise it), the file must
    // carry exactly the codes the tuner reports, and the layout and size stay.
    void codesAloneLowerKld()
    {
        const auto modelPath = test::sharedFile("models/stories260K.gguf");
        const auto textPath = test::sharedFile("text/tinystories_sample.txt");
        TENFOLD_REQUIRE_SHARED(modelPath);
        TENFOLD_REQUIRE_SHARED(textPath);
        QTemporaryDir dir;
        const auto [trainText, heldOut] = splitText(textPath);
        const std::filesystem::path pal = dir.filePath("codes.gguf").toStdString();
        compressThreeBit(modelPath, pal);
        const std::shared_ptr<GGUFFile> before = GGUFFile::open(pal);
        const int nCtx = 64;
        const double kldBefore = runtimeKld(modelPath, pal, trainText, nCtx);
        const double heldBefore = runtimeKld(modelPath, pal, heldOut, nCtx);

        train::PaletteTuneOptions to = tuneOptions(60, nCtx);
        to.tables = to.rowScales = to.blockScales = to.plain = false;
        to.codes = true;
        to.codeLr = 0.02;
        const train::PaletteTuneReport rep = train::tunePaletteModel(pal, modelPath, trainText, to);
        const std::shared_ptr<GGUFFile> after = GGUFFile::open(pal);
        QCOMPARE(after->fileSize(), before->fileSize());
        for (size_t i = 0; i < before->tensors().size(); ++i) {
            const GGUFTensorInfo& a = before->tensors()[i];
            if (a.name.ends_with(".pal_tab") || a.name.ends_with(".pal_scale") || a.type == GGMLType::F32)
                QVERIFY2(bytesOf(*after, a.name) == bytesOf(*before, a.name), a.name.c_str()); // held
        }
        const int64_t differing = codesDiffering(*before, *after);
        const double kld = runtimeKld(modelPath, pal, trainText, nCtx);
        const double held = runtimeKld(modelPath, pal, heldOut, nCtx);
        qInfo("codes alone: %lld of %lld codes changed (file: %lld); KLD on the tuning text %.5f -> %.5f, held-out "
              "%.5f -> %.5f",
              (long long)rep.codesChanged, (long long)rep.codeCount, (long long)differing, kldBefore, kld, heldBefore,
              held);
        QCOMPARE(differing, rep.codesChanged);
        QVERIFY2(rep.codesChanged > 0 && rep.codesChanged < rep.codeCount / 4, "codes did not move, or moved wholesale");
        QVERIFY2(kld < kldBefore * 0.95, "moving the codes did not lower the KL divergence on the tuning text");
        QVERIFY2(held < heldBefore, "moving the codes raised the held-out KL divergence");
    }

    // All parts with the codes moving against all parts with the codes held, same steps and data:
    // the held-out KL divergence must be lower with the codes moving.
    void codesAddToTuning()
    {
        const auto modelPath = test::sharedFile("models/stories260K.gguf");
        const auto textPath = test::sharedFile("text/tinystories_sample.txt");
        TENFOLD_REQUIRE_SHARED(modelPath);
        TENFOLD_REQUIRE_SHARED(textPath);
        QTemporaryDir dir;
        const auto [trainText, heldOut] = splitText(textPath);
        const std::filesystem::path fresh = dir.filePath("fresh.gguf").toStdString();
        compressThreeBit(modelPath, fresh);
        const int nCtx = 64;
        double held[2] = {0, 0};
        for (int codes = 0; codes < 2; ++codes) {
            const std::filesystem::path pal = dir.filePath(QStringLiteral("c%1.gguf").arg(codes)).toStdString();
            std::filesystem::copy_file(fresh, pal);
            train::PaletteTuneOptions to = tuneOptions(60, nCtx);
            to.codes = codes == 1;
            train::tunePaletteModel(pal, modelPath, trainText, to);
            held[codes] = runtimeKld(modelPath, pal, heldOut, nCtx);
        }
        qInfo("held-out KLD after 60 steps: codes held %.5f, codes moving %.5f", held[0], held[1]);
        QVERIFY2(held[1] < held[0], "moving the codes did not add to the tuning");
    }

    void badInputIsTyped()
    {
        const auto modelPath = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(modelPath);
        QTemporaryDir dir;
        const std::filesystem::path copy = dir.filePath("f32.gguf").toStdString();
        std::filesystem::copy_file(modelPath, copy);
        train::PaletteTuneOptions to;
        to.train.steps = 1;
        // An F32 model has nothing with frozen codes to tune.
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, train::tunePaletteModel(copy, modelPath, "once upon a time", to));
        // A teacher of another shape.
        const auto other = test::sharedFile("models/tenfold-ref-draft-f16.gguf");
        if (std::filesystem::exists(other)) {
            const std::filesystem::path pal = dir.filePath("pal.gguf").toStdString();
            PaletteOptions po;
            po.bits = 4;
            paletteCompress(modelPath, pal, po);
            QVERIFY_THROWS_EXCEPTION(InvalidArgument, train::tunePaletteModel(pal, other, "once upon a time", to));
        }
    }
};

QTEST_GUILESS_MAIN(TstPaletteTuning)
#include "tst_palette_tuning.moc"
