// GGUF writer: exact encoding against hand-assembled bytes, round trips of every value type and
// several tensor types at two alignments, byte-identical re-writes of the shared files, and the
// failure paths (unwritable directory, file-size limit standing in for a full disk).
#include "common/shared_data.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "gguf_test_bytes.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <csignal>
#include <fstream>
#include <limits>
#include <random>
#include <sys/resource.h>

using namespace tenfold;
using tenfold::test::GGUFBytes;

namespace {

std::vector<uint8_t> readAll(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::vector<uint8_t> randomBytes(size_t n, uint32_t seed)
{
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (auto& b : v)
        b = uint8_t(rng());
    return v;
}

// Every value type, boundary values, odd strings, empty and nested arrays.
std::vector<std::pair<std::string, GGUFValue>> allKindsOfMetadata()
{
    using V = GGUFValue;
    using T = GGUFValueType;
    const std::string binary("\xff\xfe\0x\n\"", 6); // not UTF-8, embedded NUL
    std::vector<std::pair<std::string, GGUFValue>> m = {
        {"u8", V::u8(255)},
        {"i8", V::i8(-128)},
        {"u16", V::u16(65535)},
        {"i16", V::i16(-32768)},
        {"u32", V::u32(4294967295u)},
        {"i32", V::i32(std::numeric_limits<int32_t>::min())},
        {"u64", V::u64(std::numeric_limits<uint64_t>::max())},
        {"i64", V::i64(std::numeric_limits<int64_t>::min())},
        {"f32", V::f32(-1.5e-7f)},
        {"f32.nan", V::f32(std::numeric_limits<float>::quiet_NaN())},
        {"f32.inf", V::f32(-std::numeric_limits<float>::infinity())},
        {"f64", V::f64(3.141592653589793)},
        {"bool.true", V::boolean(true)},
        {"bool.false", V::boolean(false)},
        {"str", V::string("héllo, wörld")},
        {"str.empty", V::string("")},
        {"str.binary", V::string(binary)},
        {"arr.u8", V::array(T::UInt8, {V::u8(0), V::u8(1), V::u8(255)})},
        {"arr.i16", V::array(T::Int16, {V::i16(-1), V::i16(7)})},
        {"arr.u32", V::array(T::UInt32, {V::u32(1), V::u32(2)})},
        {"arr.i32", V::i32Array({-5, 0, 5})},
        {"arr.u64", V::array(T::UInt64, {V::u64(1ull << 63)})},
        {"arr.i64", V::array(T::Int64, {V::i64(-1)})},
        {"arr.f32", V::f32Array({0.25f, -0.0f, 1e30f})},
        {"arr.f64", V::array(T::Float64, {V::f64(1e-300)})},
        {"arr.bool", V::array(T::Bool, {V::boolean(true), V::boolean(false)})},
        {"arr.str", V::stringArray({"a", "", binary})},
        {"arr.empty.u8", V::array(T::UInt8, {})},
        {"arr.empty.str", V::array(T::String, {})},
        {"arr.empty.arr", V::array(T::Array, {})},
        {"arr.nested", V::array(T::Array, {V::stringArray({"x", "y"}), V::stringArray({}),
                                           V::stringArray({"z"})})},
    };
    // Eight levels of arrays: the deepest the reader accepts.
    GGUFValue deep = V::i32Array({42});
    for (int i = 1; i < 8; ++i)
        deep = V::array(T::Array, {deep});
    m.emplace_back("arr.deep8", deep);
    return m;
}

struct TensorSpec {
    std::string name;
    GGMLType type;
    std::vector<int64_t> ne;
    std::vector<uint8_t> data;
};

std::vector<TensorSpec> mixedTensors()
{
    std::vector<TensorSpec> ts = {
        {"f32.vec", GGMLType::F32, {7}, {}},
        {"f16.mat", GGMLType::F16, {5, 3}, {}},
        {"q4_0.mat", GGMLType::Q4_0, {64, 3}, {}},
        {"q8_0.3d", GGMLType::Q8_0, {32, 2, 2}, {}},
        {"q6_k.mat", GGMLType::Q6_K, {256, 2}, {}},
        {"bf16.4d", GGMLType::BF16, {3, 1, 2, 2}, {}},
    };
    uint32_t seed = 1;
    for (auto& t : ts) {
        int64_t rows = 1;
        for (size_t i = 1; i < t.ne.size(); ++i)
            rows *= t.ne[i];
        t.data = randomBytes(rowBytes(t.type, t.ne[0]) * size_t(rows), seed++);
    }
    return ts;
}

void compareFiles(const GGUFFile& a, const GGUFFile& b)
{
    QCOMPARE(a.metadata().size(), b.metadata().size());
    for (size_t i = 0; i < a.metadata().size(); ++i) {
        QCOMPARE(a.metadata()[i].first, b.metadata()[i].first);
        QVERIFY2(a.metadata()[i].second == b.metadata()[i].second, a.metadata()[i].first.c_str());
    }
    QCOMPARE(a.tensors().size(), b.tensors().size());
    for (size_t i = 0; i < a.tensors().size(); ++i) {
        const auto& x = a.tensors()[i];
        const auto& y = b.tensors()[i];
        QCOMPARE(x.name, y.name);
        QCOMPARE(x.type, y.type);
        QCOMPARE(x.ne, y.ne);
        QCOMPARE(x.nbytes, y.nbytes);
        QVERIFY(std::memcmp(x.data, y.data, x.nbytes) == 0);
    }
}

} // namespace

class TestGGUFWriter : public QObject {
    Q_OBJECT

private slots:
    void encodingMatchesHandAssembledBytes()
    {
        // Metadata only: no padding after the header.
        GGUFWriter w;
        w.set("a", GGUFValue::u16(0x1234));
        w.set("s", GGUFValue::stringArray({"hi"}));
        GGUFBytes e;
        e.header(3, 0, 2).str("a").u32(2).u8(0x34).u8(0x12);
        e.str("s").u32(9).u32(8).u64(1).str("hi");
        QCOMPARE(w.toBytes(), e.b);

        // One F32 tensor at alignment 64: header padded, data padded to the alignment.
        GGUFWriter t;
        t.set("general.alignment", GGUFValue::u32(64));
        const float data[8] = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f, 7.5f};
        t.addTensor("t", GGMLType::F32, {8}, data, sizeof data);
        GGUFBytes f;
        f.header(3, 1, 1).kvU32("general.alignment", 64).tensorInfo("t", {8}, 0, 0).padTo(64);
        f.raw(data, sizeof data).padTo(64);
        QCOMPARE(t.toBytes(), f.b);
    }

    void roundTrip_data()
    {
        QTest::addColumn<unsigned>("alignment");
        QTest::newRow("align32") << 32u;
        QTest::newRow("align64") << 64u;
    }

    void roundTrip()
    {
        QFETCH(unsigned, alignment);
        const auto metadata = allKindsOfMetadata();
        const auto tensors = mixedTensors();
        GGUFWriter w;
        for (const auto& [k, v] : metadata)
            w.set(k, v);
        w.set("general.alignment", GGUFValue::u32(alignment));
        for (const auto& t : tensors)
            w.addTensor(t.name, t.type, t.ne, t.data.data(), t.data.size());

        const auto bytes = w.toBytes();
        auto f = GGUFFile::fromBytes(bytes, "roundtrip");
        QCOMPARE(f->version(), 3u);
        QCOMPARE(f->alignment(), uint64_t(alignment));
        QCOMPARE(f->metadata().size(), metadata.size() + 1);
        for (size_t i = 0; i < metadata.size(); ++i) {
            QCOMPARE(f->metadata()[i].first, metadata[i].first);
            QCOMPARE(f->metadata()[i].second.type(), metadata[i].second.type());
            QVERIFY2(f->metadata()[i].second == metadata[i].second, metadata[i].first.c_str());
        }
        QVERIFY(std::isnan(f->find("f32.nan")->toDouble()));
        QVERIFY(std::signbit(f->find("arr.f32")->items()[1].toDouble()));
        QCOMPARE(f->find("u64")->toUInt(), std::numeric_limits<uint64_t>::max());
        QCOMPARE(f->find("str.binary")->toString().size(), size_t(6));
        QCOMPARE(f->find("arr.empty.arr")->arrayType(), GGUFValueType::Array);
        QCOMPARE(f->find("arr.nested")->items()[2].items()[0].toString(), std::string("z"));

        QCOMPARE(f->tensors().size(), tensors.size());
        for (size_t i = 0; i < tensors.size(); ++i) {
            const GGUFTensorInfo& t = f->tensors()[i];
            QCOMPARE(t.name, tensors[i].name);
            QCOMPARE(t.type, tensors[i].type);
            QCOMPARE(t.ne, tensors[i].ne);
            QCOMPARE(t.nbytes, uint64_t(tensors[i].data.size()));
            QCOMPARE(t.offset % alignment, uint64_t(0));
            QCOMPARE((f->dataOffset() + t.offset) % alignment, uint64_t(0));
            QVERIFY(std::memcmp(t.data, tensors[i].data.data(), t.nbytes) == 0);
        }

        // write() produces the same bytes, and open() (the mmap path) reads them the same.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::filesystem::path path = dir.filePath("rt.gguf").toStdString();
        w.write(path);
        QCOMPARE(readAll(path), bytes);
        compareFiles(*GGUFFile::open(path), *f);
        size_t entries = 0;
        for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path().toStdString()))
            ++entries;
        QCOMPARE(entries, size_t(1)); // no temporary left behind
    }

    void byteExactRewrite_data()
    {
        QTest::addColumn<QString>("file");
        QTest::newRow("ref-main") << "models/tenfold-ref-main-f16.gguf";
        QTest::newRow("ref-draft") << "models/tenfold-ref-draft-f16.gguf";
        QTest::newRow("stories260K") << "models/stories260K.gguf";
        QTest::newRow("vocab-llama-spm") << "vocab/ggml-vocab-llama-spm.gguf";
        QTest::newRow("vocab-falcon") << "vocab/ggml-vocab-falcon.gguf";
    }

    void byteExactRewrite()
    {
        QFETCH(QString, file);
        const auto path = tenfold::test::sharedDir() / file.toStdString();
        TENFOLD_REQUIRE_SHARED(path);
        auto src = GGUFFile::open(path);
        GGUFWriter w;
        w.copyMetadata(*src);
        for (const auto& t : src->tensors())
            w.addTensor(t.name, t.type, t.ne, t.data, t.nbytes);
        const auto original = readAll(path);
        const auto rewritten = w.toBytes();
        QCOMPARE(rewritten.size(), original.size());
        QVERIFY2(rewritten == original, "re-written file differs from the original");
        compareFiles(*GGUFFile::fromBytes(rewritten, "rewritten"), *src);
    }

    void setReplacesAndRemoveDeletes()
    {
        GGUFWriter w;
        w.set("a", GGUFValue::u8(1));
        w.set("b", GGUFValue::u8(2));
        w.set("a", GGUFValue::string("one"));
        w.set("c", GGUFValue::u8(3));
        w.remove("b");
        w.remove("absent");
        auto f = GGUFFile::fromBytes(w.toBytes(), "set");
        QCOMPARE(f->metadata().size(), size_t(2));
        QCOMPARE(f->metadata()[0].first, std::string("a"));
        QCOMPARE(*f->getString("a"), std::string("one"));
        QCOMPARE(f->metadata()[1].first, std::string("c"));
    }

    void invalidInput()
    {
        GGUFWriter w;
        float d[64] = {};
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, w.addTensor("x", GGMLType::F32, {4}, d, 12));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, w.addTensor("x", GGMLType::Q4_0, {16}, d, 9));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, w.addTensor("x", GGMLType::F32, {4, 0}, d, 0));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, w.addTensor("x", GGMLType::F32, {1, 1, 1, 1, 1}, d, 4));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, w.addTensor("x", GGMLType(99), {4}, d, 16));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, w.addTensor("", GGMLType::F32, {4}, d, 16));
        w.addTensor("x", GGMLType::F32, {4}, d, 16);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, w.addTensor("x", GGMLType::F32, {4}, d, 16));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, w.set("general.alignment", GGUFValue::u32(48)));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, w.set("general.alignment", GGUFValue::i32(-32)));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, w.set("general.alignment", GGUFValue::string("32")));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, w.set("", GGUFValue::u8(0)));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument,
                                 GGUFValue::array(GGUFValueType::UInt8, {GGUFValue::u8(1), GGUFValue::i8(1)}));
        GGUFValue tooDeep = GGUFValue::i32Array({1});
        for (int i = 1; i < 9; ++i)
            tooDeep = GGUFValue::array(GGUFValueType::Array, {tooDeep});
        GGUFWriter deep;
        deep.set("deep", tooDeep);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, deep.toBytes());
    }

    void unwritablePath()
    {
        GGUFWriter w;
        w.set("a", GGUFValue::u8(1));
        const std::string path = "/nonexistent-tenfold-dir/out.gguf";
        try {
            w.write(path);
            QFAIL("wrote into a missing directory");
        } catch (const IoError& e) {
            QVERIFY2(std::string(e.what()).find(path) != std::string::npos, e.what());
        }
    }

    void fullDiskLeavesNothingBehind()
    {
        // A file-size limit makes write() fail part-way with EFBIG, as a full disk would with
        // ENOSPC. The old file under the final name must survive and no temporary may remain.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::filesystem::path path = dir.filePath("big.gguf").toStdString();
        { std::ofstream(path) << "previous contents"; }
        const auto data = randomBytes(1 << 20, 7);
        GGUFWriter w;
        w.addTensor("big", GGMLType::F32, {int64_t(data.size() / 4)}, data.data(), data.size());

        rlimit old{};
        QVERIFY(getrlimit(RLIMIT_FSIZE, &old) == 0);
        auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit small = old;
        small.rlim_cur = 64 * 1024;
        QVERIFY(setrlimit(RLIMIT_FSIZE, &small) == 0);
        std::string message;
        try {
            w.write(path);
        } catch (const IoError& e) {
            message = e.what();
        }
        setrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, oldHandler);

        QVERIFY2(message.find(path.string()) != std::string::npos, message.c_str());
        std::ifstream in(path);
        std::string contents((std::istreambuf_iterator<char>(in)), {});
        QCOMPARE(contents, std::string("previous contents"));
        size_t entries = 0;
        for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path().toStdString()))
            ++entries;
        QCOMPARE(entries, size_t(1));
    }
};

QTEST_APPLESS_MAIN(TestGGUFWriter)
#include "tst_gguf_writer.moc"
