// Mutation fuzzing of the GGUF reader, built with AddressSanitizer and UBSan (see CMakeLists.txt).
// Seeds are the shared models and vocabularies: whole files, 1 MB prefixes (truncated copies are
// inputs too), shrunken copies re-written with fewer array items so that thousands of parses stay
// fast, and a synthetic file with every value type and several quantized tensor types.
// Mutations: truncation, bit flips, byte overwrites, and boundary values written into header
// fields whose offsets an independent walker below has found. Each attempt must either parse (then
// every metadata value is walked and the first and last byte of every tensor read, which ASan
// checks against the buffer) or throw tenfold::FormatError; anything else fails the test.
#include "common/shared_data.h"
#include "core/error.h"
#include "gguf/gguf_file.h"

#include <QtTest>

#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>

using namespace tenfold;

namespace {

std::vector<uint8_t> readFile(const std::filesystem::path& p, size_t maxBytes)
{
    std::ifstream in(p, std::ios::binary);
    std::vector<uint8_t> v(maxBytes);
    in.read(reinterpret_cast<char*>(v.data()), std::streamsize(maxBytes));
    v.resize(size_t(in.gcount()));
    v.shrink_to_fit();
    return v;
}

// One header field of a seed: where it is, how wide, and what it means (for the report).
struct Field {
    size_t at;
    int width; // 4 or 8
    const char* kind;
};

// Walks a GGUF header independently of the reader and lists the fields worth corrupting. It trusts
// nothing: it stops quietly where the seed ends. Long arrays contribute only their first and last
// few elements so that targeted mutations spread over the whole header.
class FieldWalker {
public:
    explicit FieldWalker(const std::vector<uint8_t>& b) : b_(b) {}

    std::vector<Field> walk()
    {
        try {
            add(4, 4, "version");
            pos_ = 8;
            add(pos_, 8, "tensor count");
            const uint64_t nt = u64();
            add(pos_, 8, "kv count");
            const uint64_t nkv = u64();
            for (uint64_t i = 0; i < nkv; ++i) {
                skipString("key length");
                add(pos_, 4, "value type");
                value(u32(), 0, true);
            }
            for (uint64_t i = 0; i < nt; ++i) {
                skipString("tensor name length");
                add(pos_, 4, "n_dims");
                const uint32_t nd = u32();
                for (uint32_t d = 0; d < nd && d < 4; ++d) {
                    add(pos_, 8, "dim");
                    u64();
                }
                add(pos_, 4, "tensor type");
                u32();
                add(pos_, 8, "tensor offset");
                u64();
            }
        } catch (const std::out_of_range&) {
            // the seed is a prefix; the fields found so far are the ones that exist
        }
        return fields_;
    }

private:
    void add(size_t at, int width, const char* kind)
    {
        if (at + size_t(width) <= b_.size())
            fields_.push_back({at, width, kind});
    }
    void need(uint64_t n)
    {
        if (n > b_.size() - pos_)
            throw std::out_of_range("end of seed");
    }
    uint32_t u32()
    {
        need(4);
        uint32_t v;
        std::memcpy(&v, b_.data() + pos_, 4);
        pos_ += 4;
        return v;
    }
    uint64_t u64()
    {
        need(8);
        uint64_t v;
        std::memcpy(&v, b_.data() + pos_, 8);
        pos_ += 8;
        return v;
    }
    void skipString(const char* kind, bool record = true)
    {
        if (record)
            add(pos_, 8, kind);
        const uint64_t n = u64();
        need(n);
        pos_ += n;
    }
    void value(uint32_t type, int depth, bool record)
    {
        static const int sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
        if (type > 12 || depth > 8)
            throw std::out_of_range("unknown type");
        if (type == 8) {
            skipString("string length", record);
        } else if (type == 9) {
            if (record)
                add(pos_, 4, "array element type");
            const uint32_t et = u32();
            if (record)
                add(pos_, 8, "array count");
            const uint64_t n = u64();
            for (uint64_t i = 0; i < n; ++i)
                value(et, depth + 1, record && (i < 4 || i + 4 >= n));
        } else {
            need(uint64_t(sizes[type]));
            pos_ += size_t(sizes[type]);
        }
    }

    const std::vector<uint8_t>& b_;
    size_t pos_ = 0;
    std::vector<Field> fields_;
};

struct Seed {
    std::string name;
    std::vector<uint8_t> bytes;
    std::vector<Field> fields;
    size_t headerEnd; // mutations favour the header, where the parsing happens
};

// Re-writes a real file with every array cut to its first `keep` items (nested arrays included),
// keeping all keys, types and tensors: the same structure, a fraction of the parse time.
std::vector<uint8_t> shrunken(const GGUFFile& f, size_t keep, size_t maxTensorBytes)
{
    std::function<GGUFValue(const GGUFValue&)> cut = [&](const GGUFValue& v) {
        if (!v.isArray())
            return v;
        std::vector<GGUFValue> items;
        for (size_t i = 0; i < v.items().size() && i < keep; ++i)
            items.push_back(cut(v.items()[i]));
        return GGUFValue::array(v.arrayType(), std::move(items));
    };
    GGUFWriter w;
    for (const auto& [k, v] : f.metadata())
        w.set(k, cut(v));
    for (const auto& t : f.tensors())
        if (t.nbytes <= maxTensorBytes)
            w.addTensor(t.name, t.type, t.ne, t.data, t.nbytes);
    return w.toBytes();
}

std::vector<uint8_t> synthetic()
{
    using V = GGUFValue;
    using T = GGUFValueType;
    GGUFWriter w;
    w.set("general.architecture", V::string("llama"));
    w.set("general.alignment", V::u32(64));
    w.set("u8", V::u8(7));
    w.set("i8", V::i8(-7));
    w.set("u16", V::u16(700));
    w.set("i16", V::i16(-700));
    w.set("i32", V::i32(-70000));
    w.set("u64", V::u64(1ull << 40));
    w.set("i64", V::i64(-(1ll << 40)));
    w.set("f64", V::f64(0.125));
    w.set("flag", V::boolean(true));
    w.set("bools", V::array(T::Bool, {V::boolean(false), V::boolean(true)}));
    w.set("u16s", V::array(T::UInt16, {V::u16(1), V::u16(2)}));
    w.set("empty", V::array(T::String, {}));
    w.set("nested", V::array(T::Array, {V::stringArray({"a", "bc"}), V::stringArray({})}));
    w.set("nested.ints", V::array(T::Array, {V::i32Array({1, 2, 3}), V::i32Array({4})}));
    static std::vector<uint8_t> data(64 * 1024);
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = uint8_t(i * 2654435761u >> 13);
    const std::pair<GGMLType, int64_t> types[] = {{GGMLType::F32, 8},   {GGMLType::F16, 8},
                                                  {GGMLType::Q4_0, 64}, {GGMLType::Q4_K, 256},
                                                  {GGMLType::Q8_0, 32}, {GGMLType::BF16, 4}};
    int i = 0;
    for (auto [type, n] : types) {
        const std::vector<int64_t> ne = {n, 2 + i % 3};
        w.addTensor("t" + std::to_string(i++), type, ne, data.data(), rowBytes(type, n) * size_t(ne[1]));
    }
    return w.toBytes();
}

uint64_t boundaryValue(std::mt19937_64& rng, uint64_t original)
{
    static const uint64_t values[] = {0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 30, 31, 32, 64, 255, 0x7fff, 0xffff,
                                      0x7fffffff, 0x80000000ull, 0xffffffffull, 0x100000000ull,
                                      1ull << 62, 1ull << 63, ~0ull, ~0ull - 1};
    switch (rng() % 4) {
    case 0: return original + 1;
    case 1: return original - 1;
    case 2: return rng();
    default: return values[rng() % std::size(values)];
    }
}

volatile uint64_t g_sink; // keeps the reads of tensor bytes from being optimised away

// Proves an accepted file is internally consistent and that every view is readable.
void walkAccepted(const GGUFFile& f)
{
    uint64_t acc = 0;
    std::function<void(const GGUFValue&)> visit = [&](const GGUFValue& v) {
        if (v.isArray()) {
            for (const auto& item : v.items())
                visit(item);
        } else if (v.isString()) {
            acc += v.toString().size();
        } else if (v.isBool()) {
            acc += v.toBool();
        } else {
            acc += uint64_t(v.toDouble() == 0.0);
        }
    };
    for (const auto& [k, v] : f.metadata()) {
        acc += k.size();
        visit(v);
        acc += v.describe(4).size();
    }
    QVERIFY(f.alignment() != 0 && (f.alignment() & (f.alignment() - 1)) == 0);
    QVERIFY(f.dataOffset() <= f.fileSize());
    for (const auto& t : f.tensors()) {
        QVERIFY(t.nbytes > 0);
        QVERIFY(t.offset % f.alignment() == 0);
        QVERIFY(t.offset + t.nbytes <= f.fileSize() - f.dataOffset());
        QCOMPARE(t.nbytes, uint64_t(rowBytes(t.type, t.ne[0])) * uint64_t(t.rows()));
        QCOMPARE(f.findTensor(t.name), &t);
        acc += t.data[0] + t.data[t.nbytes - 1];
    }
    g_sink = acc;
}

// Whatever the reader accepts, the writer must reproduce: same metadata, same tensors.
void rewriteMatches(const GGUFFile& f)
{
    GGUFWriter w;
    w.copyMetadata(f);
    for (const auto& t : f.tensors())
        w.addTensor(t.name, t.type, t.ne, t.data, t.nbytes);
    auto back = GGUFFile::fromBytes(w.toBytes(), "rewritten.gguf");
    QCOMPARE(back->metadata().size(), f.metadata().size());
    for (size_t i = 0; i < f.metadata().size(); ++i) {
        QCOMPARE(back->metadata()[i].first, f.metadata()[i].first);
        QVERIFY(back->metadata()[i].second == f.metadata()[i].second);
    }
    QCOMPARE(back->tensors().size(), f.tensors().size());
    for (size_t i = 0; i < f.tensors().size(); ++i) {
        const auto& a = f.tensors()[i];
        const auto& b = back->tensors()[i];
        QVERIFY(a.name == b.name && a.type == b.type && a.ne == b.ne && a.nbytes == b.nbytes);
        QVERIFY(std::memcmp(a.data, b.data, a.nbytes) == 0);
    }
}

} // namespace

class TestGGUFFuzz : public QObject {
    Q_OBJECT

    std::vector<Seed> seeds_;
    QStringList missing_;

    void addSeed(std::string name, std::vector<uint8_t> bytes)
    {
        Seed s{std::move(name), std::move(bytes), {}, 0};
        s.fields = FieldWalker(s.bytes).walk();
        s.headerEnd = s.fields.empty() ? s.bytes.size() : s.fields.back().at + size_t(s.fields.back().width);
        seeds_.push_back(std::move(s));
    }

private slots:
    // The synthetic seed needs no shared data, so the mutations always run; the real-file seeds
    // join when ../shared is there, and realFileSeeds() reports the suite skipped when it is not.
    void initTestCase()
    {
        addSeed("synthetic", synthetic());
        const auto dir = tenfold::test::sharedDir();
        const auto main = dir / "models/tenfold-ref-main-f16.gguf";
        const auto stories = dir / "models/stories260K.gguf";
        const auto spm = dir / "vocab/ggml-vocab-llama-spm.gguf";
        const auto gpt2 = dir / "vocab/ggml-vocab-gpt-2.gguf";
        for (const auto& p : {main, stories, spm, gpt2})
            if (!std::filesystem::exists(p))
                missing_ << tenfold::test::missingMessage(p);
        if (missing_.isEmpty()) {
            addSeed("stories260K (whole)", readFile(stories, 2 << 20));
            addSeed("ref-main (1 MB prefix)", readFile(main, 1 << 20));
            addSeed("llama-spm vocab (256 KB prefix)", readFile(spm, 256 << 10));
            addSeed("ref-main shrunk", shrunken(*GGUFFile::open(main), 24, 2048));
            addSeed("llama-spm shrunk", shrunken(*GGUFFile::open(spm), 24, 0));
            addSeed("gpt-2 shrunk", shrunken(*GGUFFile::open(gpt2), 24, 0));
        }
        for (const Seed& s : seeds_)
            qInfo("seed %-32s %8zu bytes, %4zu header fields", s.name.c_str(), s.bytes.size(), s.fields.size());
    }

    void realFileSeeds()
    {
        if (!missing_.isEmpty())
            QSKIP(qPrintable("fuzzing from the synthetic seed only; " + missing_.join("; ")));
        QCOMPARE(int(seeds_.size()), 7);
    }

    void mutations()
    {
        QVERIFY(!seeds_.empty());
        constexpr int kAttempts = 10000;
        const char* strategyNames[] = {"truncate", "bit flips", "byte overwrite", "field boundary",
                                       "field + truncate"};
        std::mt19937_64 rng(0x7e4f01d5eedull);
        int accepted = 0, rejected = 0;
        std::map<std::string, int> errorsByStrategy, acceptedBySeed;
        std::set<std::string> problemKinds;
        const auto t0 = std::chrono::steady_clock::now();

        for (int attempt = 0; attempt < kAttempts; ++attempt) {
            // The large real-file seeds parse slowly under the sanitizers; visit them less.
            size_t si = rng() % seeds_.size();
            for (int retry = 0; retry < 3 && seeds_[si].bytes.size() > (512u << 10) && rng() % 4 != 0; ++retry)
                si = rng() % seeds_.size();
            const Seed& seed = seeds_[si];
            const int strategy = int(rng() % 5);
            const size_t size = seed.bytes.size();
            // Offsets favour the header, where a bad byte changes what the parser does.
            auto pickOffset = [&]() -> size_t {
                const size_t hot = std::min(seed.headerEnd + 64, size);
                return rng() % 4 ? rng() % hot : rng() % size;
            };
            std::vector<uint8_t> bytes;
            std::string what;
            if (strategy == 0) {
                const size_t cut = rng() % 2 ? rng() % std::min(seed.headerEnd + 64, size) : rng() % size;
                bytes.assign(seed.bytes.begin(), seed.bytes.begin() + ptrdiff_t(cut));
                what = "truncate at " + std::to_string(cut);
            } else {
                bytes = seed.bytes;
                if (strategy == 1) {
                    const int flips = 1 + int(rng() % 8);
                    for (int i = 0; i < flips; ++i)
                        bytes[pickOffset()] ^= uint8_t(1u << (rng() % 8));
                    what = std::to_string(flips) + " bit flips";
                } else if (strategy == 2) {
                    const int n = 1 + int(rng() % 16);
                    for (int i = 0; i < n; ++i)
                        bytes[pickOffset()] = uint8_t(rng());
                    what = std::to_string(n) + " byte overwrites";
                } else {
                    const Field& f = seed.fields[rng() % seed.fields.size()];
                    uint64_t original = 0;
                    std::memcpy(&original, bytes.data() + f.at, size_t(f.width));
                    const uint64_t v = boundaryValue(rng, original);
                    std::memcpy(bytes.data() + f.at, &v, size_t(f.width));
                    what = std::string(f.kind) + " at " + std::to_string(f.at) + " = " + std::to_string(v);
                    if (strategy == 4) {
                        const size_t cut = f.at + rng() % (size - f.at + 1);
                        bytes.resize(cut);
                        bytes.shrink_to_fit(); // exact capacity: reads past the end trip ASan
                        what += ", truncate at " + std::to_string(cut);
                    }
                }
            }

            try {
                auto file = GGUFFile::fromBytes(std::move(bytes), "fuzz.gguf");
                walkAccepted(*file);
                if (!QTest::currentTestFailed())
                    rewriteMatches(*file);
                if (QTest::currentTestFailed())
                    QFAIL(qPrintable(QString::fromStdString("accepted file inconsistent or not re-written alike: seed " + seed.name +
                                                            ", " + what)));
                ++accepted;
                ++acceptedBySeed[seed.name];
            } catch (const FormatError& e) {
                ++rejected;
                ++errorsByStrategy[strategyNames[strategy]];
                if (e.file() != "fuzz.gguf")
                    QFAIL(qPrintable(QString("error names the wrong file: ") + e.what()));
                // The problem without its numbers and quoted names: how many distinct checks fired.
                std::string kind;
                const std::string msg = e.what();
                bool inQuote = false;
                for (char c : msg.substr(msg.find(": ", msg.find("at byte")) + 2)) {
                    if (c == '\'')
                        inQuote = !inQuote;
                    else if (!inQuote && (std::isalpha(static_cast<unsigned char>(c)) || c == ' '))
                        kind += c;
                }
                if (const size_t magic = kind.find("magic bytes are"); magic != std::string::npos)
                    kind.resize(magic); // the bytes themselves are no new kind of problem
                problemKinds.insert(kind.substr(0, 48));
            } catch (const std::exception& e) {
                QFAIL(qPrintable(QString::fromStdString("attempt " + std::to_string(attempt) + " (seed " +
                                                        seed.name + ", " + what + ") threw a non-FormatError: " +
                                                        e.what())));
            }
        }

        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        qInfo("%d attempts in %.1f s: %d accepted, %d rejected, %zu kinds of problem", kAttempts, seconds,
              accepted, rejected, problemKinds.size());
        for (const auto& [s, n] : errorsByStrategy)
            qInfo("  rejected after %-18s %5d", s.c_str(), n);
        for (const auto& [s, n] : acceptedBySeed)
            qInfo("  accepted from %-32s %5d", s.c_str(), n);
        for (const auto& k : problemKinds)
            qInfo("  problem: %s", k.c_str());

        // A healthy mix: most mutations are caught, yet harmless ones (tensor bytes, string
        // contents) parse, and the rejections come from many different checks.
        QVERIFY(rejected >= kAttempts / 3);
        QVERIFY(accepted >= kAttempts / 20);
        for (const char* s : strategyNames)
            QVERIFY2(errorsByStrategy[s] > 0, s);
        QVERIFY(problemKinds.size() >= 20);
    }
};

QTEST_APPLESS_MAIN(TestGGUFFuzz)
#include "tst_gguf_fuzz.moc"
