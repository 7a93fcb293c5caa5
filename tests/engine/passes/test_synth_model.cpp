// Synthetic models: the named shapes have the published parameter counts of the real models, a
// small custom shape is written with exactly the tensors and hyperparameters it names, loads as a
// model, tokenizes, and runs a forward pass with finite logits. Weights have the promised scale
// and are reproducible from the seed.
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "passes/gguf_stream_writer.h"
#include "passes/synth_model.h"
#include "runtime/cpu_backend.h"
#include "tokenizer/tokenizer.h"
#include "core/error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

using namespace tenfold;

namespace {

const SynthShape kTiny{"tiny", 64, 2, 4, 2, 128, 300, 64, 10000.0f, 1e-5f, false};

std::vector<char> readAll(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

double sampleStddev(const GGUFTensorInfo& t)
{
    const auto* f = reinterpret_cast<const float*>(t.data);
    double s = 0, s2 = 0;
    const int64_t n = t.elementCount();
    for (int64_t i = 0; i < n; ++i) {
        s += f[i];
        s2 += double(f[i]) * f[i];
    }
    const double mean = s / double(n);
    return std::sqrt(s2 / double(n) - mean * mean);
}

} // namespace

namespace {
// True when a writer left its temporary file ("<name>.tmp-XXXXXX") behind in `dir`.
bool leavesTemporaryFile(const std::filesystem::path& dir)
{
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().filename().string().find(".tmp-") != std::string::npos)
            return true;
    return false;
}
} // namespace

class TestSynthModel : public QObject {
    Q_OBJECT
private slots:
    // Published parameter counts of the real models these shapes copy.
    void realShapesHaveRealParameterCounts()
    {
        QCOMPARE(findSynthShape("TinyLlama-1.1B")->parameterCount(), 1100048384ull);
        QCOMPARE(findSynthShape("llama-3.2-1b")->parameterCount(), 1235814400ull);
        QCOMPARE(findSynthShape("llama-2-7b")->parameterCount(), 6738415616ull);
        QCOMPARE(findSynthShape("tenfold-ref-main")->parameterCount(), 15735168ull);
        QCOMPARE(findSynthShape("tenfold-ref-draft")->parameterCount(), 3196608ull);
        QVERIFY(!findSynthShape("gpt-5"));
    }

    void tinyShapeIsWrittenExactly()
    {
        QTemporaryDir dir;
        const std::filesystem::path out = dir.filePath("tiny.gguf").toStdString();
        SynthOptions o;
        o.type = GGMLType::F32;
        o.seed = 7;
        const SynthReport report = synthesizeModel(kTiny, out, o);
        QCOMPARE(report.parameters, kTiny.parameterCount());
        QCOMPARE(report.fileBytes, std::filesystem::file_size(out));

        const auto file = GGUFFile::open(out);
        QCOMPARE(file->getString("general.architecture").value_or(""), std::string("llama"));
        QCOMPARE(file->getInt("llama.embedding_length").value_or(0), 64);
        QCOMPARE(file->getInt("llama.block_count").value_or(0), 2);
        QCOMPARE(file->getInt("llama.attention.head_count_kv").value_or(0), 2);
        QCOMPARE(file->getInt("llama.feed_forward_length").value_or(0), 128);
        QCOMPARE(file->tensors().size(), size_t(1 + 2 * 9 + 2));
        struct Expect { const char* name; std::vector<int64_t> ne; };
        // head dim 16 x 2 KV heads = 32 rows for k and v
        const Expect expected[] = {
            {"token_embd.weight", {64, 300}}, {"blk.0.attn_norm.weight", {64}},
            {"blk.0.attn_q.weight", {64, 64}}, {"blk.0.attn_k.weight", {64, 32}},
            {"blk.0.attn_v.weight", {64, 32}}, {"blk.0.attn_output.weight", {64, 64}},
            {"blk.1.ffn_norm.weight", {64}}, {"blk.1.ffn_gate.weight", {64, 128}},
            {"blk.1.ffn_up.weight", {64, 128}}, {"blk.1.ffn_down.weight", {128, 64}},
            {"output_norm.weight", {64}}, {"output.weight", {64, 300}},
        };
        uint64_t params = 0;
        for (const auto& t : file->tensors())
            params += uint64_t(t.elementCount());
        QCOMPARE(params, kTiny.parameterCount());
        for (const Expect& e : expected) {
            const GGUFTensorInfo* t = file->findTensor(e.name);
            QVERIFY2(t, e.name);
            QCOMPARE(t->ne, e.ne);
            QCOMPARE(t->type, GGMLType::F32);
        }
        // Scale: N(0, 0.02), residual projections / sqrt(2 x layers), norms exactly 1.
        QVERIFY(std::fabs(sampleStddev(*file->findTensor("token_embd.weight")) - 0.02) < 0.001);
        QVERIFY(std::fabs(sampleStddev(*file->findTensor("blk.0.ffn_down.weight")) - 0.01) < 0.001);
        const auto* norm = reinterpret_cast<const float*>(file->findTensor("output_norm.weight")->data);
        for (int i = 0; i < 64; ++i)
            QCOMPARE(norm[i], 1.0f);

        // Vocabulary: specials, 256 byte tokens, then unique filler pieces.
        const GGUFValue* tokens = file->find("tokenizer.ggml.tokens");
        QVERIFY(tokens);
        QCOMPARE(tokens->items().size(), size_t(300));
        QCOMPARE(tokens->items()[1].toString(), std::string("<s>"));
        QCOMPARE(tokens->items()[3].toString(), std::string("<0x00>"));
        QCOMPARE(tokens->items()[258].toString(), std::string("<0xFF>"));
        std::set<std::string> unique;
        for (const auto& t : tokens->items())
            unique.insert(t.toString());
        QCOMPARE(unique.size(), size_t(300));
    }

    void loadsTokenizesAndRuns()
    {
        QTemporaryDir dir;
        const std::filesystem::path out = dir.filePath("tiny-q8.gguf").toStdString();
        SynthOptions o;
        o.type = GGMLType::Q8_0;
        synthesizeModel(kTiny, out, o);
        const std::shared_ptr<Model> model = Model::loadGGUF(out);
        QCOMPARE(model->hparams().nEmbd, 64);
        QCOMPARE(model->hparams().nLayer, 2);
        QCOMPARE(model->hparams().nHeadKv, 2);
        QCOMPARE(model->hparams().nVocab, 300);
        QCOMPARE(model->layers()[0].wq.type, GGMLType::Q8_0);
        QCOMPARE(model->layers()[0].ffnDown.type, GGMLType::Q8_0);

        const std::string text = "Hello, world! Zebra 42.";
        const std::vector<int32_t> ids = model->tokenizer().encode(text, true);
        QCOMPARE(ids.front(), 1);
        std::vector<int32_t> body(ids.begin() + 1, ids.end());
        QCOMPARE(model->tokenizer().decode(body), text);

        auto backend = createCpuBackend(1);
        auto ctx = backend->createContext(model, ContextParams{});
        std::vector<float> logits;
        ctx->decode(ids, true, logits);
        QCOMPARE(logits.size(), ids.size() * 300);
        for (float v : logits)
            QVERIFY(std::isfinite(v));
    }

    void seedDecidesTheWeights()
    {
        QTemporaryDir dir;
        const std::filesystem::path a = dir.filePath("a.gguf").toStdString();
        const std::filesystem::path b = dir.filePath("b.gguf").toStdString();
        const std::filesystem::path c = dir.filePath("c.gguf").toStdString();
        SynthOptions o;
        o.seed = 3;
        o.nThreads = 1;
        synthesizeModel(kTiny, a, o);
        o.nThreads = 2; // the thread split must not change the values
        synthesizeModel(kTiny, b, o);
        o.seed = 4;
        synthesizeModel(kTiny, c, o);
        QVERIFY(readAll(a) == readAll(b));
        QVERIFY(readAll(a) != readAll(c));
    }

    void badShapesAndWritesAreErrors()
    {
        QTemporaryDir dir;
        const std::filesystem::path out = dir.filePath("bad.gguf").toStdString();
        SynthShape bad = kTiny;
        bad.nHead = 5; // does not divide 64
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, synthesizeModel(bad, out, SynthOptions{}));
        bad = kTiny;
        bad.nVocab = 100; // cannot hold the byte tokens
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, synthesizeModel(bad, out, SynthOptions{}));
        QVERIFY(!std::filesystem::exists(out));
        QVERIFY_THROWS_EXCEPTION(IoError, synthesizeModel(kTiny, "/nonexistent-dir/x.gguf", SynthOptions{}));
    }

    // The stream writer refuses data that does not match the declared layout and leaves no
    // file behind when not finished.
    void streamWriterChecksLayout()
    {
        QTemporaryDir dir;
        const std::filesystem::path out = dir.filePath("s.gguf").toStdString();
        std::vector<std::pair<std::string, GGUFValue>> meta = {{"general.alignment", GGUFValue::u32(64)}};
        {
            GGUFStreamWriter w(out, meta, {{"a", GGMLType::F32, {3}}, {"b", GGMLType::F32, {2, 2}}});
            const float a[3] = {1, 2, 3}, b[4] = {4, 5, 6, 7};
            w.append(a, 8);
            w.append(reinterpret_cast<const char*>(a) + 8, 4);
            QVERIFY_THROWS_EXCEPTION(InvalidArgument, w.finish());
            w.append(b, sizeof b);
            QVERIFY_THROWS_EXCEPTION(InvalidArgument, w.append(b, 4));
            w.finish();
        }
        const auto f = GGUFFile::open(out);
        QCOMPARE(f->alignment(), uint64_t(64));
        QCOMPARE(f->findTensor("b")->offset, uint64_t(64));
        QCOMPARE(reinterpret_cast<const float*>(f->findTensor("b")->data)[3], 7.0f);
        QCOMPARE(reinterpret_cast<const float*>(f->findTensor("a")->data)[2], 3.0f);
        const std::filesystem::path abandoned = dir.filePath("gone.gguf").toStdString();
        {
            GGUFStreamWriter w(abandoned, meta, {{"a", GGMLType::F32, {3}}});
        }
        QVERIFY(!std::filesystem::exists(abandoned));
        QVERIFY(!leavesTemporaryFile(dir.path().toStdString()));

        // Two writers on one path at once (two runs of a pass) use distinct temporary files:
        // each finishes into a whole file, and the last rename wins.
        const std::filesystem::path shared = dir.filePath("both.gguf").toStdString();
        {
            GGUFStreamWriter w1(shared, meta, {{"a", GGMLType::F32, {3}}});
            GGUFStreamWriter w2(shared, meta, {{"a", GGMLType::F32, {3}}});
            const float one[3] = {1, 1, 1}, two[3] = {2, 2, 2};
            w1.append(one, sizeof one);
            w2.append(two, sizeof two);
            w1.finish();
            QCOMPARE(reinterpret_cast<const float*>(GGUFFile::open(shared)->findTensor("a")->data)[2], 1.0f);
            w2.finish();
        }
        QCOMPARE(reinterpret_cast<const float*>(GGUFFile::open(shared)->findTensor("a")->data)[2], 2.0f);
        QVERIFY(!leavesTemporaryFile(dir.path().toStdString()));

        // Both writers share one encoder: the same model streamed and written whole is the same file.
        const float av[3] = {1.5f, -2, 3}, bv[8] = {0, 1, 2, 3, 4, 5, 6, 7};
        std::vector<std::pair<std::string, GGUFValue>> richMeta = {
            {"general.name", GGUFValue::string("same")},
            {"nested", GGUFValue::array(GGUFValueType::Int32, {GGUFValue::i32(-1), GGUFValue::i32(2)})},
        };
        GGUFWriter whole;
        for (const auto& [k, v] : richMeta)
            whole.set(k, v);
        whole.addTensor("a", GGMLType::F32, {3}, av, sizeof av);
        whole.addTensor("b", GGMLType::F32, {4, 2}, bv, sizeof bv);
        const std::filesystem::path streamed = dir.filePath("streamed.gguf").toStdString();
        {
            GGUFStreamWriter w(streamed, richMeta, {{"a", GGMLType::F32, {3}}, {"b", GGMLType::F32, {4, 2}}});
            w.append(av, sizeof av);
            w.append(bv, 12);
            w.append(reinterpret_cast<const uint8_t*>(bv) + 12, sizeof bv - 12);
            w.finish();
        }
        std::ifstream in(streamed, std::ios::binary);
        const std::vector<uint8_t> streamedBytes((std::istreambuf_iterator<char>(in)),
                                                 std::istreambuf_iterator<char>());
        QVERIFY(streamedBytes == whole.toBytes());
    }
};

QTEST_APPLESS_MAIN(TestSynthModel)
#include "test_synth_model.moc"
