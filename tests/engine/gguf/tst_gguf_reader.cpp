// GGUF reader: facts about the shared models and vocabularies (checked by hand against an
// independent Python parse of the same files while writing this test), and hand-assembled headers
// with one defect each, where the error must name the exact byte offset of the bad field.
#include "common/shared_data.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "gguf_test_bytes.h"

#include <QtTest>

#include <functional>

#include <chrono>
#include <cstring>
#include <fstream>

using namespace tenfold;
using tenfold::test::GGUFBytes;

namespace {

std::vector<uint8_t> readPrefix(const std::filesystem::path& p, uint64_t offset, size_t n)
{
    std::ifstream in(p, std::ios::binary);
    in.seekg(std::streamoff(offset));
    std::vector<uint8_t> out(n);
    in.read(reinterpret_cast<char*>(out.data()), std::streamsize(n));
    return out;
}

float f16ToFloat(uint16_t h)
{
    // Enough for normal numbers, which the values checked here are.
    const uint32_t sign = uint32_t(h >> 15) << 31;
    const uint32_t exp = (h >> 10) & 0x1f;
    const uint32_t mant = h & 0x3ff;
    uint32_t bits = sign | ((exp + 112) << 23) | (mant << 13);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// Expects a FormatError at `offset` whose message contains `needle`.
void expectFormatError(const std::vector<uint8_t>& bytes, uint64_t offset, const char* needle)
{
    try {
        GGUFFile::fromBytes(bytes, "case.gguf");
    } catch (const FormatError& e) {
        const std::string what = e.what();
        if (e.offset() != offset || what.find(needle) == std::string::npos || e.file() != "case.gguf")
            QFAIL(qPrintable(QStringLiteral("expected offset %1 and '%2', got: %3")
                                 .arg(offset).arg(needle).arg(QString::fromStdString(what))));
        return;
    }
    QFAIL(qPrintable(QStringLiteral("no error; expected one at %1 about '%2'").arg(offset).arg(needle)));
}

// A valid file: one metadata key (general.alignment = 64), one F32 tensor [8], 32 bytes of data.
GGUFBytes smallValid(uint32_t version = 3)
{
    GGUFBytes g;
    g.header(version, 1, 1).kvU32("general.alignment", 64);
    g.tensorInfo("t", {8}, 0, 0);
    g.padTo(64);
    for (int i = 0; i < 8; ++i)
        g.f32(float(i) + 0.5f);
    return g;
}

} // namespace

class TestGGUFReader : public QObject {
    Q_OBJECT

private slots:
    void refMainMetadata()
    {
        const auto path = tenfold::test::sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto f = GGUFFile::open(path);
        QCOMPARE(f->version(), 3u);
        QCOMPARE(f->fileSize(), uint64_t(31678560));
        QCOMPARE(f->metadata().size(), size_t(25));
        QCOMPARE(f->metadata().front().first, std::string("general.architecture"));
        QCOMPARE(f->metadata().back().first, std::string("tokenizer.ggml.token_type"));
        QCOMPARE(*f->getString("general.architecture"), std::string("llama"));
        QCOMPARE(*f->getString("general.name"), std::string("tenfold-ref-main"));
        QCOMPARE(*f->getInt("llama.embedding_length"), int64_t(384));
        QCOMPARE(*f->getInt("llama.block_count"), int64_t(8));
        QCOMPARE(*f->getInt("llama.attention.head_count"), int64_t(6));
        QCOMPARE(*f->getInt("llama.attention.head_count_kv"), int64_t(2));
        QCOMPARE(*f->getInt("llama.context_length"), int64_t(512));
        QCOMPARE(*f->getInt("llama.feed_forward_length"), int64_t(1024));
        QCOMPARE(*f->getInt("llama.vocab_size"), int64_t(8192));
        QCOMPARE(*f->getFloat("llama.rope.freq_base"), 10000.0);
        QCOMPARE(float(*f->getFloat("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
        QCOMPARE(f->find("llama.context_length")->type(), GGUFValueType::UInt32);
        QCOMPARE(*f->getBool("tokenizer.ggml.add_bos_token"), true);
        QCOMPARE(*f->getBool("tokenizer.ggml.add_eos_token"), false);
        QCOMPARE(f->alignment(), uint64_t(32));
        QVERIFY(!f->getInt("no.such.key").has_value());
        QVERIFY_THROWS_EXCEPTION(FormatError, f->getInt("general.architecture"));
        QVERIFY_THROWS_EXCEPTION(FormatError, f->getString("llama.block_count"));

        const GGUFValue* tokens = f->find("tokenizer.ggml.tokens");
        QVERIFY(tokens && tokens->isArray());
        QCOMPARE(tokens->arrayType(), GGUFValueType::String);
        QCOMPARE(tokens->items().size(), size_t(8192));
        QCOMPARE(tokens->items()[0].toString(), std::string("<unk>"));
        QCOMPARE(tokens->items()[1].toString(), std::string("<s>"));
        QCOMPARE(tokens->items()[3].toString(), std::string("<0x00>"));
        const GGUFValue* types = f->find("tokenizer.ggml.token_type");
        QCOMPARE(types->arrayType(), GGUFValueType::Int32);
        QCOMPARE(types->items()[0].toInt(), int64_t(2));
        QCOMPARE(types->items()[3].toInt(), int64_t(6));
        QCOMPARE(f->find("tokenizer.ggml.scores")->arrayType(), GGUFValueType::Float32);
        QVERIFY(tokens->describe(2).find("string[8192]") == 0);
    }

    void refMainTensors()
    {
        const auto path = tenfold::test::sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        // Opening walks only the header: tensor data stay in the page cache until touched.
        const auto t0 = std::chrono::steady_clock::now();
        auto f = GGUFFile::open(path);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        qInfo("30 MB model opened in %.4f s", seconds);
        QVERIFY2(seconds < 1.0, "opening a mapped model is far too slow");
        QCOMPARE(f->tensors().size(), size_t(74));
        QCOMPARE(f->dataOffset(), uint64_t(195168)); // header ends at 195140, padded to 32
        const GGUFTensorInfo* emb = f->findTensor("token_embd.weight");
        QVERIFY(emb);
        QCOMPARE(emb->ne, (std::vector<int64_t>{384, 8192}));
        QCOMPARE(emb->type, GGMLType::F16);
        QCOMPARE(emb->offset, uint64_t(0));
        QCOMPARE(emb->nbytes, uint64_t(384) * 8192 * 2);
        QCOMPARE(emb->rows(), int64_t(8192));
        QCOMPARE(emb->elementCount(), int64_t(384) * 8192);
        uint16_t h[2];
        std::memcpy(h, emb->data, 4);
        QCOMPARE(f16ToFloat(h[0]), -0.1304931640625f);
        QCOMPARE(f16ToFloat(h[1]), -0.12261962890625f);

        const GGUFTensorInfo* norm = f->findTensor("output_norm.weight");
        QCOMPARE(norm->type, GGMLType::F32);
        QCOMPARE(norm->ne, (std::vector<int64_t>{384}));
        QCOMPARE(norm->offset, uint64_t(31481856));
        float last;
        std::memcpy(&last, norm->data + norm->nbytes - 4, 4);
        QCOMPARE(last, 1.6272170543670654f);
        QCOMPARE(f->findTensor("blk.0.attn_k.weight")->ne, (std::vector<int64_t>{384, 128}));
        QVERIFY(!f->findTensor("nope"));

        // Views are zero-copy, inside the mapping, aligned, and agree with a plain file read.
        const uint8_t* base = emb->data; // offset 0 is the data section start
        for (const auto& t : f->tensors()) {
            QVERIFY(t.data == base + t.offset);
            QVERIFY(t.offset + t.nbytes <= f->fileSize() - f->dataOffset());
            QCOMPARE(reinterpret_cast<uintptr_t>(t.data) % f->alignment(), uintptr_t(0));
            QCOMPARE(t.nbytes, uint64_t(rowBytes(t.type, t.ne[0]) * t.rows()));
        }
        const auto onDisk = readPrefix(path, f->dataOffset() + norm->offset, 64);
        QVERIFY(std::memcmp(onDisk.data(), norm->data, 64) == 0);
    }

    void draftAndStories()
    {
        const auto draft = tenfold::test::sharedFile("models/tenfold-ref-draft-f16.gguf");
        const auto stories = tenfold::test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(draft);
        TENFOLD_REQUIRE_SHARED(stories);
        auto d = GGUFFile::open(draft);
        QCOMPARE(d->tensors().size(), size_t(38));
        QCOMPARE(*d->getInt("llama.embedding_length"), int64_t(192));
        QCOMPARE(*d->getInt("llama.block_count"), int64_t(4));
        QCOMPARE(d->dataOffset(), uint64_t(193024));

        auto s = GGUFFile::open(stories);
        QCOMPARE(s->tensors().size(), size_t(48));
        QCOMPARE(s->metadata().size(), size_t(19));
        QVERIFY(!s->find("general.alignment"));
        QCOMPARE(s->alignment(), uint64_t(32));      // the default
        QCOMPARE(s->dataOffset(), uint64_t(14176)); // header end 14152 rounded up
        QCOMPARE(*s->getInt("tokenizer.ggml.seperator_token_id"), int64_t(4294967295));
        QCOMPARE(*s->getInt("llama.feed_forward_length"), int64_t(172));
        const GGUFTensorInfo* emb = s->findTensor("token_embd.weight");
        QCOMPARE(emb->type, GGMLType::F32);
        QCOMPARE(emb->ne, (std::vector<int64_t>{64, 512}));
        float v[2];
        std::memcpy(v, emb->data, 8);
        QCOMPARE(v[0], -0.29474878311157227f);
        QCOMPARE(v[1], 0.5618956089019775f);
        const GGUFTensorInfo* lastT = s->findTensor("blk.4.ffn_norm.weight");
        QCOMPARE(s->dataOffset() + lastT->offset + lastT->nbytes, s->fileSize());
    }

    void vocabularies_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("tokens");
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("firstToken");
        QTest::newRow("llama-spm") << "ggml-vocab-llama-spm.gguf" << 32000 << "llama" << "<unk>";
        QTest::newRow("phi-3") << "ggml-vocab-phi-3.gguf" << 32064 << "llama" << "<unk>";
        QTest::newRow("gpt-2") << "ggml-vocab-gpt-2.gguf" << 50257 << "gpt2" << "!";
        QTest::newRow("falcon") << "ggml-vocab-falcon.gguf" << 65024 << "gpt2" << ">>TITLE<<";
        QTest::newRow("starcoder") << "ggml-vocab-starcoder.gguf" << 49152 << "gpt2" << "<|endoftext|>";
        QTest::newRow("deepseek-coder") << "ggml-vocab-deepseek-coder.gguf" << 32256 << "gpt2" << "!";
    }

    void vocabularies()
    {
        QFETCH(QString, file);
        QFETCH(int, tokens);
        QFETCH(QString, model);
        QFETCH(QString, firstToken);
        const auto path = tenfold::test::sharedDir() / "vocab" / file.toStdString();
        TENFOLD_REQUIRE_SHARED(path);
        const auto t0 = std::chrono::steady_clock::now();
        auto f = GGUFFile::open(path);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        qInfo("%s parsed in %.3f s", qPrintable(file), seconds);
        QVERIFY2(seconds < 3.0, "vocabulary parse is far too slow");
        QCOMPARE(f->tensors().size(), size_t(0));
        QCOMPARE(f->dataOffset(), f->fileSize()); // these files end right after the header
        QCOMPARE(*f->getString("tokenizer.ggml.model"), model.toStdString());
        const auto& items = f->find("tokenizer.ggml.tokens")->items();
        QCOMPARE(int(items.size()), tokens);
        QCOMPARE(items[0].toString(), firstToken.toStdString());
    }

    void gpt2Merges()
    {
        const auto path = tenfold::test::sharedFile("vocab/ggml-vocab-gpt-2.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto f = GGUFFile::open(path);
        const auto& merges = f->find("tokenizer.ggml.merges")->items();
        QCOMPARE(merges.size(), size_t(50000));
        QCOMPARE(merges[0].toString(), std::string("\xC4\xA0 t")); // "Ġ t"
        QCOMPARE(*f->getInt("tokenizer.ggml.bos_token_id"), int64_t(50256));
    }

    void openErrors()
    {
        const std::filesystem::path missing = "/nonexistent-dir/missing.gguf";
        try {
            GGUFFile::open(missing);
            QFAIL("opened a missing file");
        } catch (const IoError& e) {
            QVERIFY(std::string(e.what()).find(missing.string()) != std::string::npos);
        }
        const auto readme = tenfold::test::sharedFile("README.md");
        TENFOLD_REQUIRE_SHARED(readme);
        try {
            GGUFFile::open(readme);
            QFAIL("opened a text file");
        } catch (const FormatError& e) {
            QCOMPARE(e.offset(), uint64_t(0));
            QCOMPARE(e.file(), readme.string());
            QVERIFY(std::string(e.what()).find("magic") != std::string::npos);
        }
        expectFormatError({}, 0, "magic");
        expectFormatError({'G', 'G', 'U', 'F', 3, 0}, 4, "version");
    }

    void smallValidFile()
    {
        for (uint32_t version : {2u, 3u}) {
            auto f = GGUFFile::fromBytes(smallValid(version).b, "small");
            QCOMPARE(f->version(), version);
            QCOMPARE(f->alignment(), uint64_t(64));
            QCOMPARE(f->dataOffset(), uint64_t(128)); // header is 90 bytes, padded to 64
            QCOMPARE(f->label(), std::string("small"));
            const GGUFTensorInfo& t = f->tensors()[0];
            QCOMPARE(t.nbytes, uint64_t(32));
            float v;
            std::memcpy(&v, t.data + 28, 4);
            QCOMPARE(v, 7.5f);
        }
    }

    // A key holding the wrong type is a FormatError naming the file, the byte where the value
    // starts and the key; tensor infos record where their entry starts.
    void wrongTypeNamesFileAndOffset()
    {
        GGUFBytes g;
        g.header(3, 2, 3).kvU32("general.alignment", 32);
        g.str("llama.block_count").u32(8); // type 8: string
        const uint64_t stringValueAt = g.pos();
        g.str("8");
        g.str("flag").u32(7); // type 7: bool
        const uint64_t boolValueAt = g.pos();
        g.u8(1);
        const uint64_t firstInfoAt = g.pos();
        g.tensorInfo("a", {8}, 0, 0);
        const uint64_t secondInfoAt = g.pos();
        g.tensorInfo("bb", {8}, 0, 32);
        g.padTo(32).zeros(64);
        auto f = GGUFFile::fromBytes(g.b, "meta.gguf");

        QCOMPARE(f->metadataOffset("llama.block_count"), stringValueAt);
        QCOMPARE(f->metadataOffset("flag"), boolValueAt);
        QCOMPARE(f->metadataOffset("absent"), uint64_t(0));
        QCOMPARE(f->tensors()[0].infoOffset, firstInfoAt);
        QCOMPARE(f->tensors()[1].infoOffset, secondInfoAt);

        auto expectAt = [](const std::function<void()>& call, uint64_t at, const char* needle) {
            try {
                call();
            } catch (const FormatError& e) {
                const std::string what = e.what();
                const std::string where = "meta.gguf: at byte " + std::to_string(at) + ":";
                QVERIFY2(e.file() == "meta.gguf" && e.offset() == at && what.find(where) == 0 &&
                             what.find(needle) != std::string::npos,
                         what.c_str());
                return;
            }
            QFAIL("no FormatError");
        };
        expectAt([&] { f->getInt("llama.block_count"); }, stringValueAt,
                 "key 'llama.block_count' holds a string, not an integer");
        expectAt([&] { f->getFloat("llama.block_count"); }, stringValueAt, "not a number");
        expectAt([&] { f->getBool("llama.block_count"); }, stringValueAt, "not a bool");
        expectAt([&] { f->getString("flag"); }, boolValueAt, "key 'flag' holds a bool, not a string");
        QCOMPARE(*f->getString("llama.block_count"), std::string("8"));
        QCOMPARE(*f->getBool("flag"), true);
    }

    void malformedHeaders()
    {
        {   // v1 and unknown versions, big-endian
            expectFormatError(smallValid(1).b, 4, "version 1 is not supported");
            expectFormatError(smallValid(4).b, 4, "unsupported GGUF version 4");
            expectFormatError(smallValid(0x03000000).b, 4, "big-endian");
        }
        {   // absurd counts
            GGUFBytes g = smallValid();
            g.patchU64(8, 1ull << 40);
            expectFormatError(g.b, 8, "tensor count");
            g = smallValid();
            g.patchU64(16, ~0ull);
            expectFormatError(g.b, 16, "metadata count");
        }
        {   // string length beyond the file
            GGUFBytes g = smallValid();
            g.patchU64(24, 1ull << 62);
            expectFormatError(g.b, 24, "claims");
        }
        {   // alignment not a power of two / zero / wrong type
            for (uint32_t bad : {0u, 48u}) {
                GGUFBytes g;
                g.header(3, 0, 1);
                const size_t typeAt = g.pos() + 8 + 17;
                g.kvU32("general.alignment", bad);
                expectFormatError(g.b, typeAt, "power of two");
            }
            GGUFBytes g;
            g.header(3, 0, 1).str("general.alignment").u32(8).str("32");
            expectFormatError(g.b, 24 + 8 + 17, "must be an integer");
        }
        {   // unknown value type, bool that is neither 0 nor 1, duplicate key
            GGUFBytes g;
            g.header(3, 0, 1).str("k").u32(13).u32(0);
            expectFormatError(g.b, 33, "unknown value type 13");
            g = {};
            g.header(3, 0, 1).str("k").u32(7).u8(2);
            expectFormatError(g.b, 37, "bool value 2");
            g = {};
            g.header(3, 0, 2).kvU32("a", 1);
            const size_t second = g.pos();
            g.kvU32("a", 2);
            expectFormatError(g.b, second, "duplicate metadata key 'a'");
        }
        {   // arrays: nesting depth cap, count that cannot fit
            GGUFBytes g;
            g.header(3, 0, 1).str("deep").u32(9);
            size_t lastAt = 0;
            for (int d = 0; d < 9; ++d) {
                lastAt = g.pos();
                g.u32(9).u64(1);
            }
            g.u32(4).u64(0);
            expectFormatError(g.b, lastAt - 12, "nested more than 8");
            g = {};
            g.header(3, 0, 1).str("arr").u32(9).u32(4);
            const size_t countAt = g.pos();
            g.u64(1000).u32(1);
            expectFormatError(g.b, countAt, "cannot fit");
        }
    }

    void malformedTensors()
    {
        // A file whose tensor info is built by `info`, with 64 bytes of data after the header.
        auto withTensor = [](auto&& info, size_t& badAt) {
            GGUFBytes g;
            g.header(3, 1, 0);
            info(g, badAt);
            g.padTo(32).zeros(64);
            return g.b;
        };
        size_t at = 0;
        auto b = withTensor([](GGUFBytes& g, size_t& a) { a = g.pos() + 9; g.tensorInfo("x", {1, 1, 1, 1, 1}, 0, 0); }, at);
        expectFormatError(b, at, "5 dimensions");
        b = withTensor([](GGUFBytes& g, size_t& a) { a = g.pos() + 9; g.tensorInfo("x", {}, 0, 0); }, at);
        expectFormatError(b, at, "0 dimensions");
        b = withTensor([](GGUFBytes& g, size_t& a) { a = g.pos() + 13 + 8; g.tensorInfo("x", {4, 0}, 0, 0); }, at);
        expectFormatError(b, at, "must be at least 1");
        b = withTensor([](GGUFBytes& g, size_t& a) { a = g.pos() + 13 + 8; g.tensorInfo("x", {1ull << 32, 1ull << 32}, 0, 0); }, at);
        expectFormatError(b, at, "overflows");
        b = withTensor([](GGUFBytes& g, size_t& a) { a = g.pos() + 13 + 8; g.tensorInfo("x", {4}, 99, 0); }, at);
        expectFormatError(b, at, "unknown or unsupported type id 99");
        b = withTensor([](GGUFBytes& g, size_t& a) { a = g.pos() + 13; g.tensorInfo("x", {10}, 2, 0); }, at);
        expectFormatError(b, at, "block size 32");
        b = withTensor([](GGUFBytes& g, size_t& a) { a = g.pos() + 13 + 8 + 4; g.tensorInfo("x", {4}, 0, 4); }, at);
        expectFormatError(b, at, "not a multiple of the alignment 32");
        b = withTensor([](GGUFBytes& g, size_t& a) { a = g.pos() + 13 + 8 + 4; g.tensorInfo("x", {32}, 0, 0); }, at);
        expectFormatError(b, at, "past the end of the file"); // 128 bytes of data claimed, 64 present
        b = withTensor([](GGUFBytes& g, size_t& a) { a = g.pos() + 13 + 8 + 4; g.tensorInfo("x", {4}, 0, ~0ull << 5); }, at);
        expectFormatError(b, at, "past the end of the file");

        // general.alignment 1 allows any offset, but an F32 tensor must still start on a
        // 4-byte file offset and an F16 one on an even offset: their data is read in place.
        for (uint32_t type : {0u, 1u}) {
            for (uint64_t misalign : {1u, 2u, 3u}) {
                const uint64_t elementSize = type == 0 ? 4 : 2;
                GGUFBytes g;
                g.header(3, 1, 1).kvU32("general.alignment", 1);
                const size_t infoAt = g.pos();
                // The data section starts right after the header: pick an offset whose file
                // position is `misalign` past a multiple of 4.
                const size_t headerEnd = infoAt + 8 + 1 + 4 + 8 + 4 + 8;
                const uint64_t offset = (4 - headerEnd % 4) % 4 + misalign;
                g.tensorInfo("t", {8}, type, offset);
                QCOMPARE(g.pos(), headerEnd);
                g.zeros(size_t(offset) + 32);
                const bool aligned = (headerEnd + offset) % elementSize == 0;
                if (aligned) {
                    auto f = GGUFFile::fromBytes(g.b, "aligned.gguf");
                    QCOMPARE(f->tensors().size(), size_t(1));
                } else {
                    expectFormatError(g.b, headerEnd - 8, "not a multiple of its element size");
                }
            }
        }

        // Two tensors: overlapping data, and duplicate names.
        GGUFBytes g;
        g.header(3, 2, 0).tensorInfo("a", {16}, 0, 0);
        size_t second = g.pos();
        g.tensorInfo("b", {8}, 0, 32);
        g.padTo(32).zeros(96);
        expectFormatError(g.b, second + 13 + 8 + 4, "overlaps the data of tensor 'a'");
        g = {};
        g.header(3, 2, 0).tensorInfo("a", {8}, 0, 0);
        second = g.pos();
        g.tensorInfo("a", {8}, 0, 32);
        g.padTo(32).zeros(64);
        expectFormatError(g.b, second, "duplicate tensor name 'a'");
        // Data section itself beyond the file: header ends unaligned and the file stops there.
        g = {};
        g.header(3, 1, 0).tensorInfo("a", {8}, 0, 0);
        const size_t headerEnd = g.pos();
        expectFormatError(g.b, headerEnd, "past the end of the file");
    }

    void valueConversions()
    {
        using V = GGUFValue;
        QCOMPARE(V::u32(7).toInt(), int64_t(7));
        QCOMPARE(V::i8(-3).toDouble(), -3.0);
        QCOMPARE(V::f32(2.75f).toInt(), int64_t(2)); // integers and floats convert freely
        QCOMPARE(V::u64(~0ull).toUInt(), ~0ull);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, V::u64(~0ull).toInt());
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, V::i32(-1).toUInt());
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, V::f64(1e300).toInt());
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, V::string("1").toInt());
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, V::u8(1).toString());
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, V::u8(1).toBool());
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, V::u8(1).items());
        QCOMPARE(GGUFValue().toInt(), int64_t(0));
        QVERIFY(V::u8(1) != V::i8(1));
        QVERIFY(V::array(GGUFValueType::UInt8, {}) != V::array(GGUFValueType::String, {}));
        QCOMPARE(V::i32Array({1, 2, 3, 4}).describe(2), std::string("int32[4] [1, 2, ...]"));
        QCOMPARE(V::string("a\"b\n").describe(), std::string("\"a\\\"b\\n\""));
        QCOMPARE(V::boolean(true).describe(), std::string("true"));
        QCOMPARE(V::f32(0.5f).describe(), std::string("0.5"));
        QCOMPARE(std::string(ggufValueTypeName(GGUFValueType::Float64)), std::string("float64"));
    }

    void truncatedEverywhere()
    {
        // Every proper prefix of a valid file is rejected cleanly.
        const auto full = smallValid().b;
        for (size_t n = 0; n < full.size(); ++n) {
            std::vector<uint8_t> cut(full.begin(), full.begin() + n);
            QVERIFY_THROWS_EXCEPTION(FormatError, GGUFFile::fromBytes(cut, "cut"));
        }
    }
};

QTEST_APPLESS_MAIN(TestGGUFReader)
#include "tst_gguf_reader.moc"
