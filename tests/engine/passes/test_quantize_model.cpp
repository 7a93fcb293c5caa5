// The quantize pass on real models: every tensor gets the type the documented rule says, norms
// stay F32, metadata survives, and the dequantized weights are within the type's rounding error
// of the source. The per-row bytes must also equal what the scalar reference quantizer gives for
// that row alone, which catches any mix-up of rows, chunks or thread ranges in the pass (and any
// SIMD quantizer that parts from the scalar one). That the bytes are right at all is checked
// against another engine's quantizer in tst_quantize_vs_peer.
#include "common/shared_data.h"

#include "core/error.h"
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

std::vector<float> toFloat(GGMLType type, const uint8_t* data, int64_t n)
{
    std::vector<float> out(static_cast<size_t>(n));
    if (type == GGMLType::F32)
        std::memcpy(out.data(), data, size_t(n) * 4);
    else
        referenceKernels(type).dequantizeRow(data, out.data(), n);
    return out;
}

// Worst error round-to-nearest may make on one 32-block, as a fraction of the block's largest
// magnitude: half a step, where the scale maps the largest magnitude to the end of the integer
// range; Q4_0/Q5_0 also clip the opposite end by one step. Slack covers the F16 scale.
double blockBound(GGMLType t)
{
    switch (t) {
    case GGMLType::Q8_0: return (0.5 + 127.0 / 2048) / 127; // + the F16 scale's rounding
    case GGMLType::Q4_0: return 1.0 / 8 * 1.02;
    case GGMLType::Q5_0: return 1.0 / 16 * 1.02;
    case GGMLType::Q4_1: return 2.0 / 15 / 2 * 1.05; // range up to 2 x max magnitude
    case GGMLType::Q5_1: return 2.0 / 31 / 2 * 1.05;
    case GGMLType::F16: return 1.0 / 1024;
    default: return -1; // K-quants: checked by the RMS bound only
    }
}

// Relative RMS error allowed over a whole tensor (generous for Gaussian-like weights).
double rmsBound(GGMLType t)
{
    switch (t) {
    case GGMLType::F32: return 0.0;
    case GGMLType::F16: return 1e-3;
    case GGMLType::BF16: return 8e-3;
    case GGMLType::Q8_0: return 0.01;
    case GGMLType::Q6_K: return 0.03;
    case GGMLType::Q5_0: case GGMLType::Q5_1: case GGMLType::Q5_K: return 0.06;
    case GGMLType::Q4_0: case GGMLType::Q4_1: case GGMLType::Q4_K: return 0.12;
    case GGMLType::IQ4_NL: case GGMLType::IQ4_XS: return 0.12;
    case GGMLType::Q3_K: return 0.25;
    case GGMLType::Q2_K: return 0.5;
    default: return 1.0;
    }
}

void checkQuantized(const std::filesystem::path& in, const std::filesystem::path& out,
                    GGMLType target, const QuantizeReport& report)
{
    const auto src = GGUFFile::open(in);
    const auto dst = GGUFFile::open(out);
    QCOMPARE(dst->tensors().size(), src->tensors().size());
    QCOMPARE(report.fileBytesAfter, dst->fileSize());

    // Metadata: same keys in the same order, same values, except the file type.
    const bool addsVersion = typeTraits(target).quantized && !src->find("general.quantization_version");
    QCOMPARE(dst->metadata().size(), src->metadata().size() +
                                         (src->find("general.file_type") ? 0 : 1) + (addsVersion ? 1 : 0));
    for (size_t i = 0; i < src->metadata().size(); ++i) {
        const auto& [key, value] = src->metadata()[i];
        QCOMPARE(dst->metadata()[i].first, key); // order kept
        if (key != "general.file_type" && key != "general.quantization_version")
            QVERIFY2(dst->metadata()[i].second == value, key.c_str());
    }
    QCOMPARE(dst->getInt("general.file_type").value_or(-1), int64_t(fileTypeFor(target)));
    if (typeTraits(target).quantized)
        QCOMPARE(dst->getInt("general.quantization_version").value_or(-1), int64_t(2));

    for (size_t i = 0; i < src->tensors().size(); ++i) {
        const GGUFTensorInfo& s = src->tensors()[i];
        const GGUFTensorInfo& d = dst->tensors()[i];
        QCOMPARE(d.name, s.name);
        QCOMPARE(d.ne, s.ne);
        // The documented rule, spelled out independently of chooseTensorType.
        GGMLType expected = target;
        if (s.ne.size() < 2)
            expected = GGMLType::F32;
        else if (s.ne[0] % typeTraits(target).blockSize != 0) {
            switch (target) {
            case GGMLType::Q2_K: case GGMLType::Q3_K: expected = GGMLType::IQ4_NL; break;
            case GGMLType::Q4_K: expected = GGMLType::Q5_0; break;
            case GGMLType::Q5_K: expected = GGMLType::Q5_1; break;
            case GGMLType::Q6_K: expected = GGMLType::Q8_0; break;
            case GGMLType::IQ4_XS: expected = GGMLType::IQ4_NL; break;
            default: expected = GGMLType::F16;
            }
            if (s.ne[0] % 32 != 0)
                expected = GGMLType::F16;
        }
        QVERIFY2(d.type == expected, (s.name + " is " + typeName(d.type) + ", expected " +
                                      typeName(expected)).c_str());

        const int64_t n = s.ne[0];
        const size_t inRow = rowBytes(s.type, n), outRow = rowBytes(d.type, n);
        double errSq = 0, refSq = 0;
        std::vector<uint8_t> requant(outRow);
        for (int64_t r = 0; r < s.rows(); ++r) {
            const std::vector<float> x = toFloat(s.type, s.data + size_t(r) * inRow, n);
            const std::vector<float> y = toFloat(d.type, d.data + size_t(r) * outRow, n);
            if (d.type != s.type && d.type != GGMLType::F32) {
                referenceKernels(d.type).quantizeRow(x.data(), requant.data(), n);
                QVERIFY2(std::memcmp(requant.data(), d.data + size_t(r) * outRow, outRow) == 0,
                         (s.name + " row " + std::to_string(r) + " differs from the scalar reference quantizer").c_str());
            }
            const double bound = blockBound(d.type);
            for (int64_t b = 0; b < n; b += 32) {
                double amax = 0;
                for (int64_t j = b; j < std::min(n, b + 32); ++j)
                    amax = std::max(amax, double(std::fabs(x[size_t(j)])));
                for (int64_t j = b; j < std::min(n, b + 32); ++j) {
                    const double e = double(x[size_t(j)]) - double(y[size_t(j)]);
                    errSq += e * e;
                    refSq += double(x[size_t(j)]) * x[size_t(j)];
                    if (bound >= 0 && std::fabs(e) > bound * amax + 1e-7)
                        QFAIL((s.name + ": element " + std::to_string(j) + " of row " +
                               std::to_string(r) + " off by " + std::to_string(e) + ", block max " +
                               std::to_string(amax)).c_str());
                }
            }
        }
        const double rel = refSq > 0 ? std::sqrt(errSq / refSq) : 0.0;
        QVERIFY2(rel <= rmsBound(d.type) + 1e-9,
                 (s.name + " as " + typeName(d.type) + ": relative RMS error " + std::to_string(rel)).c_str());
        if (d.type == s.type) // untouched tensors are copied bit for bit
            QVERIFY(std::memcmp(s.data, d.data, s.nbytes) == 0);
    }
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

class TestQuantizeModel : public QObject {
    Q_OBJECT
private slots:
    void typeRule()
    {
        QCOMPARE(chooseTensorType({384}, GGMLType::Q4_0), GGMLType::F32);
        QCOMPARE(chooseTensorType({384, 8192}, GGMLType::Q4_0), GGMLType::Q4_0);
        QCOMPARE(chooseTensorType({384, 384}, GGMLType::Q4_K), GGMLType::Q5_0);
        QCOMPARE(chooseTensorType({384, 384}, GGMLType::Q6_K), GGMLType::Q8_0);
        QCOMPARE(chooseTensorType({384, 384}, GGMLType::Q2_K), GGMLType::IQ4_NL);
        QCOMPARE(chooseTensorType({384, 384}, GGMLType::Q5_K), GGMLType::Q5_1);
        QCOMPARE(chooseTensorType({1024, 384}, GGMLType::Q4_K), GGMLType::Q4_K);
        QCOMPARE(chooseTensorType({172, 64}, GGMLType::Q8_0), GGMLType::F16);
        QCOMPARE(chooseTensorType({172, 64}, GGMLType::BF16), GGMLType::BF16);
        QCOMPARE(fileTypeFor(GGMLType::Q8_0), 7u);
        QCOMPARE(fileTypeFor(GGMLType::Q4_0), 2u);
        QCOMPARE(fileTypeFor(GGMLType::F16), 1u);
        // the non-linear 4-bit types, numbered as llama-quantize lists them (25, 30)
        QCOMPARE(chooseTensorType({384, 384}, GGMLType::IQ4_XS), GGMLType::IQ4_NL);
        QCOMPARE(chooseTensorType({1024, 384}, GGMLType::IQ4_XS), GGMLType::IQ4_XS);
        QCOMPARE(chooseTensorType({384, 384}, GGMLType::IQ4_NL), GGMLType::IQ4_NL);
        QCOMPARE(chooseTensorType({172, 64}, GGMLType::IQ4_NL), GGMLType::F16);
        QCOMPARE(fileTypeFor(GGMLType::IQ4_NL), 25u);
        QCOMPARE(fileTypeFor(GGMLType::IQ4_XS), 30u);
    }

    void stories260k_data()
    {
        QTest::addColumn<QString>("type");
        for (const char* t : {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "F16", "BF16", "Q4_K", "Q6_K", "IQ4_NL", "IQ4_XS"})
            QTest::newRow(t) << QString(t);
    }
    void stories260k()
    {
        QFETCH(QString, type);
        const auto in = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(in);
        QTemporaryDir dir;
        const std::filesystem::path out = dir.filePath("q.gguf").toStdString();
        QuantizeOptions o;
        o.target = *typeFromName(type.toStdString());
        o.nThreads = 2;
        const QuantizeReport report = quantizeModel(in, out, o);
        checkQuantized(in, out, o.target, report);
        QVERIFY(!leavesTemporaryFile(out.parent_path()));
    }

    // ref-main (F16 source, 384- and 1024-wide rows) into a K-quant: the 1024-wide ffn_down rows
    // take Q4_K, the 384-wide ones fall back to Q5_0.
    void refMainKQuant()
    {
        const auto in = test::sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(in);
        QTemporaryDir dir;
        const std::filesystem::path out = dir.filePath("q4k.gguf").toStdString();
        QuantizeOptions o;
        o.target = GGMLType::Q4_K;
        const QuantizeReport report = quantizeModel(in, out, o);
        checkQuantized(in, out, o.target, report);
        const auto dst = GGUFFile::open(out);
        QCOMPARE(dst->findTensor("blk.0.ffn_down.weight")->type, GGMLType::Q4_K);
        QCOMPARE(dst->findTensor("blk.0.attn_q.weight")->type, GGMLType::Q5_0);
        QVERIFY(report.fileBytesAfter < report.fileBytesBefore);
    }

    // A synthetic model 256 wide, so every K-quant is used as is, not through its fallback.
    void kQuantsOnWideRows_data()
    {
        QTest::addColumn<QString>("type");
        for (const char* t : {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS"})
            QTest::newRow(t) << QString(t);
    }
    void kQuantsOnWideRows()
    {
        QFETCH(QString, type);
        QTemporaryDir dir;
        const std::filesystem::path src = dir.filePath("f32.gguf").toStdString();
        const std::filesystem::path out = dir.filePath("k.gguf").toStdString();
        SynthShape shape{"wide", 256, 1, 4, 2, 512, 300, 64, 10000.0f, 1e-5f, true};
        SynthOptions so;
        so.type = GGMLType::F32;
        synthesizeModel(shape, src, so);
        QuantizeOptions o;
        o.target = *typeFromName(type.toStdString());
        const QuantizeReport report = quantizeModel(src, out, o);
        checkQuantized(src, out, o.target, report);
        QCOMPARE(GGUFFile::open(out)->findTensor("blk.0.attn_q.weight")->type, o.target);
    }

    void errors()
    {
        QTemporaryDir dir;
        const std::filesystem::path out = dir.filePath("x.gguf").toStdString();
        QuantizeOptions o;
        QVERIFY_THROWS_EXCEPTION(IoError, quantizeModel(dir.filePath("missing.gguf").toStdString(), out, o));
        const std::filesystem::path notGguf = dir.filePath("text.gguf").toStdString();
        {
            std::FILE* f = std::fopen(notGguf.c_str(), "wb");
            std::fputs("this is not a model file at all, just text", f);
            std::fclose(f);
        }
        QVERIFY_THROWS_EXCEPTION(FormatError, quantizeModel(notGguf, out, o));
        o.target = GGMLType::Q8_K;
        QVERIFY_THROWS_EXCEPTION(UnsupportedError, quantizeModel(notGguf, out, o));
        QVERIFY(!std::filesystem::exists(out));
        QVERIFY(!leavesTemporaryFile(out.parent_path()));
    }
};

QTEST_APPLESS_MAIN(TestQuantizeModel)
#include "test_quantize_model.moc"
