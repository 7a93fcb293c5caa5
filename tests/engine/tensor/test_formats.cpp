// Block formats from their definitions: hand-built blocks whose dequantized values are worked out
// by hand (in the comments) or by per-element index formulas written here from the GGUF/ggml
// layout description, independently of the library's loops; quantizers on hand-picked inputs
// (the integer levels ggml's reference quantizer picks); and quantize -> dequantize error against
// the rounding-error model on Gaussian data.
#include "tensor/half.h"
#include "tensor/kernels.h"
#include "tensor/quant_blocks.h"
#include "test_random.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

using namespace tenfold;
using tenfold::test::gaussian;
using tenfold::test::randomBytes;

namespace {

const GGMLType kQuantTypes[] = {GGMLType::Q4_0, GGMLType::Q4_1, GGMLType::Q5_0, GGMLType::Q5_1, GGMLType::Q8_0,
                                GGMLType::Q8_1, GGMLType::Q2_K, GGMLType::Q3_K, GGMLType::Q4_K, GGMLType::Q5_K,
                                GGMLType::Q6_K, GGMLType::Q8_K, GGMLType::IQ4_NL, GGMLType::IQ4_XS};

// The 16 levels of the non-linear 4-bit types, as the format defines them (not quant_blocks.h's copy).
const int kIQ4Levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

void put16(std::vector<uint8_t>& b, size_t off, uint16_t v) { std::memcpy(b.data() + off, &v, 2); }
uint16_t get16(const uint8_t* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
float h(const uint8_t* p) { return fp16ToFp32(get16(p)); }

// Dequantizes with both tables and checks they agree exactly (same formula, no reduction).
std::vector<float> dequantBoth(GGMLType t, const std::vector<uint8_t>& block)
{
    const int64_t n = typeTraits(t).blockSize * int64_t(block.size() / typeTraits(t).blockBytes);
    std::vector<float> ref(static_cast<size_t>(n)), fast(static_cast<size_t>(n));
    referenceKernels(t).dequantizeRow(block.data(), ref.data(), n);
    kernels(t).dequantizeRow(block.data(), fast.data(), n);
    for (int64_t i = 0; i < n; ++i)
        if (std::memcmp(&ref[i], &fast[i], 4) != 0)
            qFatal("%s: SIMD and scalar dequantize differ at %lld", typeName(t), (long long)i);
    return ref;
}

// Element e of one block, from the layout description (byte offsets of quant_blocks.h).
float elementFromSpec(GGMLType t, const uint8_t* b, int e)
{
    switch (t) {
    case GGMLType::Q4_0: { // d(2) qs(16)
        const int q = e < 16 ? (b[2 + e] & 0xF) : (b[2 + e - 16] >> 4);
        return float(q - 8) * h(b);
    }
    case GGMLType::Q4_1: { // d(2) m(2) qs(16)
        const int q = e < 16 ? (b[4 + e] & 0xF) : (b[4 + e - 16] >> 4);
        return float(q) * h(b) + h(b + 2);
    }
    case GGMLType::Q5_0: { // d(2) qh(4) qs(16)
        const int low = e < 16 ? (b[6 + e] & 0xF) : (b[6 + e - 16] >> 4);
        const int high = (b[2 + e / 8] >> (e % 8)) & 1;
        return float((low | high << 4) - 16) * h(b);
    }
    case GGMLType::Q5_1: { // d(2) m(2) qh(4) qs(16)
        const int low = e < 16 ? (b[8 + e] & 0xF) : (b[8 + e - 16] >> 4);
        const int high = (b[4 + e / 8] >> (e % 8)) & 1;
        return float(low | high << 4) * h(b) + h(b + 2);
    }
    case GGMLType::Q8_0: return float(int8_t(b[2 + e])) * h(b);
    case GGMLType::Q8_1: return float(int8_t(b[4 + e])) * h(b);
    case GGMLType::Q2_K: { // scales(16) qs(64) d(2) dmin(2); group = e/16
        const int half = e / 128, k = (e % 128) / 32, l = e % 32;
        const int q = (b[16 + 32 * half + l] >> (2 * k)) & 3;
        const uint8_t s = b[e / 16];
        return h(b + 80) * float(s & 0xF) * float(q) - h(b + 82) * float(s >> 4);
    }
    case GGMLType::Q3_K: { // hmask(32) qs(64) scales(12) d(2)
        const int g = e / 16, half = e / 128, k = (e % 128) / 32, l = e % 32;
        const uint8_t* sc = b + 96;
        const int low4 = g < 8 ? (sc[g] & 0xF) : (sc[g - 8] >> 4);
        const int high2 = (sc[8 + g % 4] >> (2 * (g / 4))) & 3;
        const int scale = (low4 | high2 << 4) - 32;
        const int q = ((b[32 + 32 * half + l] >> (2 * k)) & 3) - (((b[l] >> (e / 32)) & 1) ? 0 : 4);
        return h(b + 108) * float(scale) * float(q);
    }
    case GGMLType::Q4_K:
    case GGMLType::Q5_K: { // d(2) dmin(2) scales(12) [qh(32)] qs(128)
        const bool five = t == GGMLType::Q5_K;
        const int g = e / 32;
        const uint8_t* s = b + 4;
        const int sc = g < 4 ? (s[g] & 63) : ((s[g + 4] & 0xF) | ((s[g - 4] >> 6) << 4));
        const int m = g < 4 ? (s[g + 4] & 63) : ((s[g + 4] >> 4) | ((s[g] >> 6) << 4));
        const uint8_t byte = b[(five ? 48 : 16) + 32 * (e / 64) + e % 32];
        int q = (g % 2) ? (byte >> 4) : (byte & 0xF);
        if (five)
            q |= ((b[16 + e % 32] >> g) & 1) << 4;
        return h(b) * float(sc) * float(q) - h(b + 2) * float(m);
    }
    case GGMLType::Q6_K: { // ql(128) qh(64) scales(16) d(2)
        const int half = e / 128, k = (e % 128) / 32, l = e % 32;
        const uint8_t qlByte = b[64 * half + l + (k % 2) * 32];
        const int low = k < 2 ? (qlByte & 0xF) : (qlByte >> 4);
        const int high = (b[128 + 32 * half + l] >> (2 * k)) & 3;
        return h(b + 208) * float(int8_t(b[192 + e / 16])) * float((low | high << 4) - 32);
    }
    case GGMLType::Q8_K: { // d f32 (4) qs(256) bsums(32)
        float d;
        std::memcpy(&d, b, 4);
        return d * float(int8_t(b[4 + e]));
    }
    case GGMLType::IQ4_NL: { // d(2) qs(16)
        const int q = e < 16 ? (b[2 + e] & 0xF) : (b[2 + e - 16] >> 4);
        return h(b) * float(kIQ4Levels[q]);
    }
    case GGMLType::IQ4_XS: { // d(2) scales_h(2) scales_l(4) qs(128); sub-block s = e/32
        const int s = e / 32, j = e % 32;
        const int ls = ((b[4 + s / 2] >> (4 * (s % 2))) & 0xF) | (((get16(b + 2) >> (2 * s)) & 3) << 4);
        const int q = j < 16 ? (b[8 + 16 * s + j] & 0xF) : (b[8 + 16 * s + j - 16] >> 4);
        return h(b) * float(ls - 32) * float(kIQ4Levels[q]);
    }
    default: qFatal("no spec decoder"); return 0;
    }
}

double relativeRmse(const std::vector<float>& x, const std::vector<float>& y)
{
    double err = 0, ref = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        err += double(x[i] - y[i]) * double(x[i] - y[i]);
        ref += double(x[i]) * double(x[i]);
    }
    return std::sqrt(err / ref);
}

} // namespace

class FormatsTest : public QObject {
    Q_OBJECT
private slots:
    void blockSizesMatchTraits()
    {
        QCOMPARE(typeTraits(GGMLType::Q4_0).blockBytes, sizeof(BlockQ4_0));
        QCOMPARE(typeTraits(GGMLType::Q4_1).blockBytes, sizeof(BlockQ4_1));
        QCOMPARE(typeTraits(GGMLType::Q5_0).blockBytes, sizeof(BlockQ5_0));
        QCOMPARE(typeTraits(GGMLType::Q5_1).blockBytes, sizeof(BlockQ5_1));
        QCOMPARE(typeTraits(GGMLType::Q8_0).blockBytes, sizeof(BlockQ8_0));
        QCOMPARE(typeTraits(GGMLType::Q8_1).blockBytes, sizeof(BlockQ8_1));
        QCOMPARE(typeTraits(GGMLType::Q2_K).blockBytes, sizeof(BlockQ2_K));
        QCOMPARE(typeTraits(GGMLType::Q3_K).blockBytes, sizeof(BlockQ3_K));
        QCOMPARE(typeTraits(GGMLType::Q4_K).blockBytes, sizeof(BlockQ4_K));
        QCOMPARE(typeTraits(GGMLType::Q5_K).blockBytes, sizeof(BlockQ5_K));
        QCOMPARE(typeTraits(GGMLType::Q6_K).blockBytes, sizeof(BlockQ6_K));
        QCOMPARE(typeTraits(GGMLType::Q8_K).blockBytes, sizeof(BlockQ8_K));
        QCOMPARE(typeTraits(GGMLType::IQ4_NL).blockBytes, sizeof(BlockIQ4_NL));
        QCOMPARE(typeTraits(GGMLType::IQ4_XS).blockBytes, sizeof(BlockIQ4_XS));
        // ggml's numbering and block layouts: 18 bytes per 32 (4.5 bits), 136 per 256 (4.25 bits)
        QCOMPARE(int(GGMLType::IQ4_NL), 20);
        QCOMPARE(int(GGMLType::IQ4_XS), 23);
        QCOMPARE(typeTraits(GGMLType::IQ4_NL).blockBytes, size_t(18));
        QCOMPARE(typeTraits(GGMLType::IQ4_XS).blockBytes, size_t(136));
        QCOMPARE(typeTraits(GGMLType::IQ4_XS).blockSize, int64_t(256));
        QCOMPARE(*typeFromName("iq4_nl"), GGMLType::IQ4_NL);
        for (int i = 0; i < 16; ++i)
            QCOMPARE(int(kIQ4Values[i]), kIQ4Levels[i]);
    }

    void handBuiltLegacyBlocks()
    {
        { // Q4_0, d = 0.5: qs[0] = 0x1F -> e0 = (15-8)/2 = 3.5, e16 = (1-8)/2 = -3.5;
          // qs[5] = 0x80 -> e5 = -4, e21 = 0; other bytes 0x88 -> 0
            std::vector<uint8_t> b(18, 0x88);
            put16(b, 0, 0x3800);
            b[2 + 0] = 0x1F;
            b[2 + 5] = 0x80;
            auto v = dequantBoth(GGMLType::Q4_0, b);
            QCOMPARE(v[0], 3.5f);
            QCOMPARE(v[16], -3.5f);
            QCOMPARE(v[5], -4.f);
            QCOMPARE(v[21], 0.f);
            QCOMPARE(v[1], 0.f);
        }
        { // Q4_1, d = 0.5, m = -1: qs[0] = 0x1F -> e0 = 7.5 - 1 = 6.5, e16 = 0.5 - 1 = -0.5; zeros -> -1
            std::vector<uint8_t> b(20, 0);
            put16(b, 0, 0x3800);
            put16(b, 2, 0xbc00);
            b[4] = 0x1F;
            auto v = dequantBoth(GGMLType::Q4_1, b);
            QCOMPARE(v[0], 6.5f);
            QCOMPARE(v[16], -0.5f);
            QCOMPARE(v[9], -1.f);
        }
        { // Q5_0, d = 1: qs[3] = 0x2A, qh bits 3 and 31 set -> e3 = (10|16)-16 = 10,
          // e19 = 2-16 = -14, e31 = (0|16)-16 = 0, others -16
            std::vector<uint8_t> b(22, 0);
            put16(b, 0, 0x3c00);
            b[2] = 0x08;
            b[5] = 0x80;
            b[6 + 3] = 0x2A;
            auto v = dequantBoth(GGMLType::Q5_0, b);
            QCOMPARE(v[3], 10.f);
            QCOMPARE(v[19], -14.f);
            QCOMPARE(v[31], 0.f);
            QCOMPARE(v[0], -16.f);
        }
        { // Q5_1, d = 0.5, m = 1, same bits: e3 = 26/2+1 = 14, e19 = 2/2+1 = 2, e31 = 16/2+1 = 9, others 1
            std::vector<uint8_t> b(24, 0);
            put16(b, 0, 0x3800);
            put16(b, 2, 0x3c00);
            b[4] = 0x08;
            b[7] = 0x80;
            b[8 + 3] = 0x2A;
            auto v = dequantBoth(GGMLType::Q5_1, b);
            QCOMPARE(v[3], 14.f);
            QCOMPARE(v[19], 2.f);
            QCOMPARE(v[31], 9.f);
            QCOMPARE(v[30], 1.f);
        }
        { // Q8_0, d = 0.25: qs[7] = -100 -> -25, qs[31] = 127 -> 31.75
            std::vector<uint8_t> b(34, 0);
            put16(b, 0, 0x3400);
            b[2 + 7] = uint8_t(int8_t(-100));
            b[2 + 31] = 127;
            auto v = dequantBoth(GGMLType::Q8_0, b);
            QCOMPARE(v[7], -25.f);
            QCOMPARE(v[31], 31.75f);
            QCOMPARE(v[0], 0.f);
        }
    }

    void handBuiltKQuantBlocks()
    {
        { // Q2_K: d = 1, dmin = 0.5. scales byte = scale | min << 4 per group of 16.
            std::vector<uint8_t> b(84, 0);
            put16(b, 80, 0x3c00);
            put16(b, 82, 0x3800);
            b[0] = 0x21; // group 0: q - 1
            b[1] = 0x03; // group 1: 3q
            b[2] = 0xF5; // group 2: 5q - 7.5
            b[3] = 0x40; // group 3: -2
            b[4] = 0x12; // group 4: 2q - 0.5
            b[8] = 0x11; // group 8: q - 0.5
            b[16 + 0] = 0xE4;  // bit pairs 0,1,2,3 -> elements 0, 32, 64, 96
            b[16 + 16] = 0x03; // element 16 (group 1) = 3
            b[16 + 32] = 0x01; // element 128 (group 8) = 1
            auto v = dequantBoth(GGMLType::Q2_K, b);
            QCOMPARE(v[0], -1.f);   // q 0, group 0
            QCOMPARE(v[32], -2.5f); // q 1, group 2
            QCOMPARE(v[64], 3.5f);  // q 2, group 4
            QCOMPARE(v[96], 0.f);   // q 3, group 6 (scale 0, min 0)
            QCOMPARE(v[16], 9.f);   // q 3, group 1
            QCOMPARE(v[48], -2.f);  // q 0, group 3
            QCOMPARE(v[128], 0.5f); // q 1, group 8
        }
        { // Q3_K: d = 1. Raw 6-bit scales (value + 32): group 0 -> 33 (+1), 5 -> 40 (+8), 9 -> 30 (-2),
          // all others 32 (0). Packed: low nibble in byte g (g<8) or high nibble of byte g-8, top two
          // bits at bit 2*(g/4) of byte 8 + g%4.
            std::vector<uint8_t> b(110, 0);
            put16(b, 108, 0x3c00);
            int raw[16];
            for (int& r : raw)
                r = 32;
            raw[0] = 33;
            raw[5] = 40;
            raw[9] = 30;
            for (int g = 0; g < 16; ++g) {
                b[96 + (g % 8)] |= uint8_t((raw[g] & 0xF) << (g < 8 ? 0 : 4));
                b[96 + 8 + g % 4] |= uint8_t((raw[g] >> 4) << (2 * (g / 4)));
            }
            b[32 + 0] = 0x03;  // element 0: low 3, hmask[0] bit 0 set -> 3 -> 3 * 1 = 3
            b[0] = 0x01;       //   (element 1: low 0, high clear -> -4 -> -4)
            b[32 + 16] = 0x20; // element 80 (group 5): bits 4-5 = 2, hmask[16] bit 2 clear -> -2 -> -16
            b[32 + 48] = 0x01; // element 144 (group 9): low 1, hmask[16] bit 4 set -> 1 -> -2
            b[16] = 0x10;
            auto v = dequantBoth(GGMLType::Q3_K, b);
            QCOMPARE(v[0], 3.f);
            QCOMPARE(v[1], -4.f);
            QCOMPARE(v[80], -16.f);
            QCOMPARE(v[144], -2.f);
            QCOMPARE(v[200], 0.f); // group 12, scale 0
        }
        for (GGMLType t : {GGMLType::Q4_K, GGMLType::Q5_K}) {
            // d = 1, dmin = 0.5. group 0: sc 1, m 2; group 1: sc 3, m 0; group 5: sc 37, m 18
            // (37 = 0b10'0101: low 5 in byte 9's low nibble, top 2 in byte 1's top bits;
            //  18 = 0b01'0010: low 2 in byte 9's high nibble, top 1 in byte 5's top bits)
            const bool five = t == GGMLType::Q5_K;
            std::vector<uint8_t> b(five ? 176 : 144, 0);
            put16(b, 0, 0x3c00);
            put16(b, 2, 0x3800);
            b[4 + 0] = 1;
            b[4 + 4] = 2;
            b[4 + 1] = 0x80 | 3;
            b[4 + 5] = 0x40;
            b[4 + 9] = 0x25;
            const size_t qs = five ? 48 : 16;
            b[qs + 0] = 0x97;  // element 0 (group 0) = 7, element 32 (group 1) = 9
            b[qs + 74] = 0xC0; // element 170 (group 5, high nibble of chunk 2 byte 10) = 12
            if (five) {
                b[16 + 0] = 0x01;  // element 0 gets +16
                b[16 + 10] = 0x20; // element 170 gets +16 (bit 5 = group 5)
            }
            auto v = dequantBoth(t, b);
            QCOMPARE(v[0], five ? 22.f : 6.f);       // 1*(7|16) - 0.5*2, or 1*7 - 1
            QCOMPARE(v[32], 27.f);                   // 3*9 - 0
            QCOMPARE(v[170], five ? 1027.f : 435.f); // 37*28 - 9, or 37*12 - 9
            QCOMPARE(v[255], 0.f);                   // group 7: sc 0, m 0
        }
        { // Q6_K: d = 0.5, scales[0] = 2, scales[3] = -1, scales[12] = 4
            std::vector<uint8_t> b(210, 0);
            put16(b, 208, 0x3800);
            b[192 + 0] = 2;
            b[192 + 3] = uint8_t(int8_t(-1));
            b[192 + 12] = 4;
            b[0] = 0x05;        // element 0: low 5
            b[128 + 0] = 0x02;  //   high bits 2 -> 37 - 32 = 5 -> 0.5*2*5 = 5
            b[48] = 0x0F;       // element 48 (k=1, l=16): 15 - 32 = -17 -> 0.5*-1*-17 = 8.5
            b[64 + 8] = 0xA0;   // element 200 (half 1, k=2, l=8): high nibble 10
            b[128 + 40] = 0x30; //   qh bits 4-5 = 3 -> 58 - 32 = 26 -> 0.5*4*26 = 52
            auto v = dequantBoth(GGMLType::Q6_K, b);
            QCOMPARE(v[0], 5.f);
            QCOMPARE(v[48], 8.5f);
            QCOMPARE(v[200], 52.f);
            QCOMPARE(v[1], -32.f); // group 0, level 0 (ql 0, qh 0): (0 - 32) * 0.5 * 2
        }
        { // Q8_K: d = 0.25 (f32), qs[3] = -7 -> -1.75
            std::vector<uint8_t> b(292, 0);
            const float d = 0.25f;
            std::memcpy(b.data(), &d, 4);
            b[4 + 3] = uint8_t(int8_t(-7));
            auto v = dequantBoth(GGMLType::Q8_K, b);
            QCOMPARE(v[3], -1.75f);
        }
    }

    void handBuiltIQ4Blocks()
    {
        { // IQ4_NL, d = 0.5: qs[0] = 0xF0 -> e0 = level 0 (-127) = -63.5, e16 = level 15 (113) = 56.5;
          // qs[3] = 0x98 -> e3 = level 8 (1) = 0.5, e19 = level 9 (13) = 6.5; bytes 0 -> -63.5
            std::vector<uint8_t> b(18, 0);
            put16(b, 0, 0x3800);
            b[2 + 0] = 0xF0;
            b[2 + 3] = 0x98;
            auto v = dequantBoth(GGMLType::IQ4_NL, b);
            QCOMPARE(v[0], -63.5f);
            QCOMPARE(v[16], 56.5f);
            QCOMPARE(v[3], 0.5f);
            QCOMPARE(v[19], 6.5f);
            QCOMPARE(v[31], -63.5f);
        }
        { // IQ4_XS, d = 0.25. Stored 6-bit sub-scales (multiplier + 32): sub-block 0 -> 33 (+1),
          // 1 -> 0 (-32), 5 -> 63 (+31), the rest 32 (0). Low nibbles in scales_l (even sub-block
          // low nibble, odd high), top two bits at bits 2s..2s+1 of scales_h.
            std::vector<uint8_t> b(136, 0);
            put16(b, 0, 0x3400);
            const int raw[8] = {33, 0, 32, 32, 32, 63, 32, 32};
            uint16_t high = 0;
            for (int s = 0; s < 8; ++s) {
                b[4 + s / 2] |= uint8_t((raw[s] & 0xF) << (4 * (s % 2)));
                high |= uint16_t((raw[s] >> 4) << (2 * s));
            }
            put16(b, 2, high);
            QCOMPARE(high, uint16_t(0xAEA2));
            b[8 + 0] = 0x8F;  // element 0: level 15 (113) -> 0.25 * 1 * 113; element 16: level 8 (1)
            b[8 + 84] = 0x70; // element 180 (sub-block 5, j 20: high nibble of its byte 4): level 7 (-10)
            auto v = dequantBoth(GGMLType::IQ4_XS, b);
            QCOMPARE(v[0], 28.25f);
            QCOMPARE(v[16], 0.25f);
            QCOMPARE(v[1], -31.75f);   // level 0 in sub-block 0
            QCOMPARE(v[32], 1016.f);   // level 0 (-127) * -32 * 0.25
            QCOMPARE(v[180], -77.5f);  // -10 * 31 * 0.25
            QCOMPARE(v[164], -984.25f); // level 0 * 31 * 0.25
            QVERIFY(v[64] == 0.f);      // multiplier 0
        }
    }

    // Data on the table's levels comes back exactly: per block, x = c * level[j % 16] (each
    // level twice; c of either sign) gives indices j % 16 and a scale of c, found by the search's
    // step that maps the extreme onto -127. IQ4_XS with sub-block c_s = 0.01 (s + 1) (signs
    // alternating) stores d = -c_7 / 32 and 6-bit multipliers -4 (s + 1) (flipped with the sign).
    void iq4QuantizersRecoverLevels()
    {
        for (float c : {0.01f, -0.01f}) {
            std::vector<float> x(32);
            for (int j = 0; j < 32; ++j)
                x[size_t(j)] = c * float(kIQ4Levels[j % 16]);
            BlockIQ4_NL b;
            referenceKernels(GGMLType::IQ4_NL).quantizeRow(x.data(), &b, 32);
            QVERIFY2(std::fabs(fp16ToFp32(b.d) - c) < 1e-5f, qPrintable(QString::number(fp16ToFp32(b.d))));
            for (int j = 0; j < 16; ++j)
                QCOMPARE(int(b.qs[j]), j | (j << 4));
        }
        std::vector<float> x(256);
        for (int s = 0; s < 8; ++s)
            for (int j = 0; j < 32; ++j)
                x[size_t(32 * s + j)] = float(s % 2 ? -1 : 1) * 0.01f * float(s + 1) * float(kIQ4Levels[j % 16]);
        BlockIQ4_XS b;
        referenceKernels(GGMLType::IQ4_XS).quantizeRow(x.data(), &b, 256);
        QCOMPARE(b.d, fp32ToFp16(0.08f / 32)); // the largest sub-scale, -0.08, maps to -32
        for (int s = 0; s < 8; ++s) {
            const int ls = ((b.scalesL[s / 2] >> (4 * (s % 2))) & 0xF) | (((b.scalesH >> (2 * s)) & 3) << 4);
            QCOMPARE(ls - 32, (s % 2 ? -4 : 4) * (s + 1));
            for (int j = 0; j < 16; ++j)
                QCOMPARE(int(b.qs[16 * s + j]), j | (j << 4));
        }
        std::vector<float> back(256);
        referenceKernels(GGMLType::IQ4_XS).dequantizeRow(&b, back.data(), 256);
        QVERIFY(relativeRmse(x, back) < 1e-3); // the f16 d's rounding only
    }

    // Random bytes with sane scale fields, decoded element by element from the layout.
    void randomBlocksMatchSpecDecoder()
    {
        for (GGMLType t : kQuantTypes) {
            const TypeTraits& tr = typeTraits(t);
            const int blocks = 5;
            auto bytes = randomBytes(tr.blockBytes * blocks, 100 + uint32_t(t));
            for (int i = 0; i < blocks; ++i) {
                uint8_t* b = bytes.data() + i * tr.blockBytes;
                // scale fields: small finite halves (random bits could be inf/nan)
                auto setHalf = [&](size_t off, float v) { const uint16_t x = fp32ToFp16(v); std::memcpy(b + off, &x, 2); };
                const float s1 = 0.01f * float(i + 1), s2 = -0.03f * float(i + 1);
                switch (t) {
                case GGMLType::Q4_0: case GGMLType::Q5_0: case GGMLType::Q8_0: setHalf(0, s1); break;
                case GGMLType::Q4_1: case GGMLType::Q5_1: case GGMLType::Q8_1: setHalf(0, s1); setHalf(2, s2); break;
                case GGMLType::Q2_K: setHalf(80, s1); setHalf(82, -s2); break;
                case GGMLType::Q3_K: setHalf(108, s1); break;
                case GGMLType::Q4_K: case GGMLType::Q5_K: setHalf(0, s1); setHalf(2, -s2); break;
                case GGMLType::Q6_K: setHalf(208, s1); break;
                case GGMLType::Q8_K: std::memcpy(b, &s1, 4); break;
                case GGMLType::IQ4_NL: case GGMLType::IQ4_XS: setHalf(0, s2); break;
                default: break;
                }
            }
            auto v = dequantBoth(t, bytes);
            for (int i = 0; i < blocks; ++i)
                for (int e = 0; e < tr.blockSize; ++e) {
                    const float expect = elementFromSpec(t, bytes.data() + i * tr.blockBytes, e);
                    const float got = v[size_t(i * tr.blockSize + e)];
                    if (std::fabs(expect - got) > 1e-6f * std::max(1.f, std::fabs(expect)))
                        QFAIL(qPrintable(QStringLiteral("%1 block %2 element %3: %4 != %5")
                                             .arg(tr.name).arg(i).arg(e).arg(got).arg(expect)));
                }
        }
    }

    // The levels ggml's reference quantizer picks on small hand-made inputs.
    void legacyQuantizersPickReferenceLevels()
    {
        { // Q4_0: max |x| = 1 first reached by -1 -> d = -1/-8 = 0.125; level = trunc(x*8 + 8.5)
            std::vector<float> x(32, 0.f);
            x[0] = -1.f; // -> 0
            x[1] = 1.f;  // 16.5 -> 16 -> clamped 15
            x[2] = 0.5f; // 12.5 -> 12
            BlockQ4_0 b;
            referenceKernels(GGMLType::Q4_0).quantizeRow(x.data(), &b, 32);
            QCOMPARE(b.d, uint16_t(0x3000)); // 0.125
            QCOMPARE(int(b.qs[0]), 0x80);    // e0 = 0, e16 (zero) = 8
            QCOMPARE(int(b.qs[1]), 0x8F);
            QCOMPARE(int(b.qs[2]), 0x8C);
            QCOMPARE(int(b.qs[3]), 0x88);
        }
        { // Q8_0: x = j - 10, amax 21: q = round(x * 127/21), halves away from zero
            std::vector<float> x(32);
            for (int j = 0; j < 32; ++j)
                x[size_t(j)] = float(j - 10);
            BlockQ8_0 b;
            referenceKernels(GGMLType::Q8_0).quantizeRow(x.data(), &b, 32);
            QCOMPARE(b.d, fp32ToFp16(21.f / 127.f));
            QCOMPARE(int(b.qs[0]), -60);  // -10 * 6.0476 = -60.48
            QCOMPARE(int(b.qs[11]), 6);   // 6.05
            QCOMPARE(int(b.qs[12]), 12);  // 12.10
            QCOMPARE(int(b.qs[31]), 127);
        }
        { // Q8_K: signed extreme -3 -> iscale = 127/3; 2 -> 84.67 -> 85; bsums over 16
            std::vector<float> x(256, 0.f);
            x[0] = 2.f;
            x[1] = -3.f;
            x[20] = 1.5f; // 63.5 -> 64 (ties to even)
            BlockQ8_K b;
            referenceKernels(GGMLType::Q8_K).quantizeRow(x.data(), &b, 256);
            QCOMPARE(int(b.qs[0]), 85);
            QCOMPARE(int(b.qs[1]), -127);
            QCOMPARE(int(b.qs[20]), 64);
            QCOMPARE(int(b.bsums[0]), 85 - 127);
            QCOMPARE(int(b.bsums[1]), 64);
            QCOMPARE(b.d, 1.f / (127.f / 3.f));
        }
    }

    void zeroRowsQuantizeToZero()
    {
        std::vector<float> zeros(512, 0.f), back(512, 1.f);
        for (GGMLType t : kQuantTypes) {
            std::vector<uint8_t> q(rowBytes(t, 512));
            referenceKernels(t).quantizeRow(zeros.data(), q.data(), 512);
            referenceKernels(t).dequantizeRow(q.data(), back.data(), 512);
            for (float v : back)
                QVERIFY2(v == 0.f, typeName(t));
        }
    }

    // Round-to-nearest types against the textbook model of rounding error, computed from the data,
    // not from this implementation: in a block whose step is d, rounding to the nearest level
    // leaves an error spread evenly over [-d/2, d/2], whose mean square is d^2/12. The step comes
    // from each format's definition: Q8_0/Q8_1 map the block's largest magnitude to 127, Q4_0/Q5_0
    // the signed extreme to -8/-16 (step amax/8, amax/16), Q4_1/Q5_1 the range max-min to 15/31.
    // Over 8,192 blocks of N(0,1) data the measured mean square must be within 12% of the model's
    // (the element that defines the scale rounds exactly, and the F16 scale adds a little).
    // Whether our bytes equal the reference engine's is tst_quantize_vs_peer's job (all types).
    void roundToNearestMatchesErrorModel_data()
    {
        QTest::addColumn<int>("type");
        for (GGMLType t : {GGMLType::Q8_0, GGMLType::Q8_1, GGMLType::Q4_0, GGMLType::Q5_0, GGMLType::Q4_1,
                           GGMLType::Q5_1})
            QTest::newRow(typeName(t)) << int(t);
    }
    void roundToNearestMatchesErrorModel()
    {
        QFETCH(int, type);
        const auto t = GGMLType(type);
        const int64_t n = 4096 * 64;
        const auto x = gaussian(size_t(n), 42);
        std::vector<uint8_t> q(rowBytes(t, n));
        std::vector<float> back(static_cast<size_t>(n));
        kernels(t).quantizeRow(x.data(), q.data(), n);
        kernels(t).dequantizeRow(q.data(), back.data(), n);
        double measured = 0, predicted = 0;
        for (int64_t b = 0; b < n; b += 32) {
            float amax = 0, lo = x[size_t(b)], hi = x[size_t(b)];
            for (int64_t j = b; j < b + 32; ++j) {
                amax = std::max(amax, std::fabs(x[size_t(j)]));
                lo = std::min(lo, x[size_t(j)]);
                hi = std::max(hi, x[size_t(j)]);
                const double e = double(x[size_t(j)]) - back[size_t(j)];
                measured += e * e;
            }
            double step = 0;
            switch (t) {
            case GGMLType::Q8_0: case GGMLType::Q8_1: step = amax / 127.0; break;
            case GGMLType::Q4_0: step = amax / 8.0; break;
            case GGMLType::Q5_0: step = amax / 16.0; break;
            case GGMLType::Q4_1: step = (hi - lo) / 15.0; break;
            case GGMLType::Q5_1: step = (hi - lo) / 31.0; break;
            default: QFAIL("not a round-to-nearest type");
            }
            predicted += 32 * step * step / 12.0;
        }
        const double ratio = measured / predicted;
        qInfo("%s: mean square error %.4g, rounding model %.4g (ratio %.3f)", typeName(t), measured / n,
              predicted / n, ratio);
        QVERIFY2(ratio > 0.88 && ratio < 1.12, qPrintable(QString::number(ratio)));
    }

    // K-quants search their scales, so no closed form predicts their error; what their design
    // guarantees is the order: each bit less at least doubles the error, and a K-quant is never
    // worse than the round-to-nearest type of the same width (Q4_K <= Q4_1 <= Q4_0 and so on).
    void kQuantErrorsAreOrdered()
    {
        const int64_t n = 4096 * 64;
        const auto x = gaussian(size_t(n), 42);
        const auto error = [&](GGMLType t) {
            std::vector<uint8_t> q(rowBytes(t, n));
            std::vector<float> back(static_cast<size_t>(n));
            kernels(t).quantizeRow(x.data(), q.data(), n);
            kernels(t).dequantizeRow(q.data(), back.data(), n);
            return relativeRmse(x, back);
        };
        const double q2 = error(GGMLType::Q2_K), q3 = error(GGMLType::Q3_K), q4 = error(GGMLType::Q4_K);
        const double q5 = error(GGMLType::Q5_K), q6 = error(GGMLType::Q6_K);
        qInfo("relative RMS error Q2_K %.4f Q3_K %.4f Q4_K %.4f Q5_K %.4f Q6_K %.4f", q2, q3, q4, q5, q6);
        QVERIFY(q2 > 1.8 * q3 && q3 > 1.8 * q4 && q4 > 1.8 * q5 && q5 > 1.8 * q6);
        QVERIFY(q4 <= error(GGMLType::Q4_1) && error(GGMLType::Q4_1) <= error(GGMLType::Q4_0));
        QVERIFY(q5 <= error(GGMLType::Q5_1) && error(GGMLType::Q5_1) <= error(GGMLType::Q5_0));
        QVERIFY(q6 < error(GGMLType::Q8_0) * 4); // 6.5 vs 8.5 bits: two bits, at most 4x
    }

    // The non-linear table spends its 16 levels where Gaussian weights are dense, so at the same
    // 4 bits IQ4_NL beats Q4_0 (uniform, signed-extreme scale) and Q4_1 (uniform with a min),
    // and IQ4_XS's 6-bit sub-scales cost it little against IQ4_NL's f16 ones.
    void iq4ErrorsAreOrdered()
    {
        const int64_t n = 4096 * 64;
        const auto x = gaussian(size_t(n), 42);
        const auto error = [&](GGMLType t) {
            std::vector<uint8_t> q(rowBytes(t, n));
            std::vector<float> back(static_cast<size_t>(n));
            kernels(t).quantizeRow(x.data(), q.data(), n);
            kernels(t).dequantizeRow(q.data(), back.data(), n);
            return relativeRmse(x, back);
        };
        const double nl = error(GGMLType::IQ4_NL), xs = error(GGMLType::IQ4_XS);
        const double q40 = error(GGMLType::Q4_0), q41 = error(GGMLType::Q4_1), q4k = error(GGMLType::Q4_K);
        qInfo("relative RMS error IQ4_NL %.4f IQ4_XS %.4f Q4_0 %.4f Q4_1 %.4f Q4_K %.4f", nl, xs, q40, q41, q4k);
        QVERIFY(nl < 0.92 * q40);
        QVERIFY(nl < q41);
        QVERIFY(xs < 1.1 * nl);
        QVERIFY(xs > 0.5 * nl); // still a 4-bit type: no better than half its sibling's error
    }

    // Data that is exactly representable survives a round trip unchanged.
    void representableDataRoundTripsExactly()
    {
        for (GGMLType t : {GGMLType::Q8_0, GGMLType::Q4_0, GGMLType::Q6_K, GGMLType::Q4_K}) {
            const int64_t n = 1024;
            const auto x = gaussian(size_t(n), 9);
            std::vector<uint8_t> q(rowBytes(t, n)), q2(rowBytes(t, n));
            std::vector<float> once(static_cast<size_t>(n)), twice(static_cast<size_t>(n));
            referenceKernels(t).quantizeRow(x.data(), q.data(), n);
            referenceKernels(t).dequantizeRow(q.data(), once.data(), n);
            referenceKernels(t).quantizeRow(once.data(), q2.data(), n);
            referenceKernels(t).dequantizeRow(q2.data(), twice.data(), n);
            // legacy types re-derive the same scale; K-quants may re-search it, so allow a
            // small fraction of their first error
            const double drift = relativeRmse(once, twice);
            const double first = relativeRmse(x, once);
            if (t == GGMLType::Q8_0 || t == GGMLType::Q4_0)
                QVERIFY2(drift < 1e-3 * first, typeName(t));
            else
                QVERIFY2(drift < 0.5 * first, typeName(t));
        }
    }
};

QTEST_APPLESS_MAIN(FormatsTest)
#include "test_formats.moc"
