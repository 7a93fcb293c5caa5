// f16 / bf16 conversions: hand-picked edge cases (rounding ties, subnormals, overflow, NaN), an
// exhaustive round trip over all 65536 halves, and random floats against the compiler's own
// IEEE conversion (_Float16, done in software by libgcc) as an independent oracle.
#include "tensor/half.h"

#include <QtTest>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

using namespace tenfold;

namespace {
float bits(uint32_t b) { return std::bit_cast<float>(b); }
} // namespace

class HalfTest : public QObject {
    Q_OBJECT
private slots:
    void fp16KnownValues()
    {
        QCOMPARE(fp32ToFp16(0.f), uint16_t(0x0000));
        QCOMPARE(fp32ToFp16(-0.f), uint16_t(0x8000));
        QCOMPARE(fp32ToFp16(1.f), uint16_t(0x3c00));
        QCOMPARE(fp32ToFp16(-2.f), uint16_t(0xc000));
        QCOMPARE(fp32ToFp16(0.5f), uint16_t(0x3800));
        QCOMPARE(fp32ToFp16(65504.f), uint16_t(0x7bff)); // largest finite half
        QCOMPARE(fp32ToFp16(std::ldexp(1.f, -14)), uint16_t(0x0400)); // smallest normal
        QCOMPARE(fp32ToFp16(std::ldexp(1.f, -24)), uint16_t(0x0001)); // smallest subnormal
        QCOMPARE(fp32ToFp16(std::ldexp(1023.f, -24)), uint16_t(0x03ff)); // largest subnormal
        QCOMPARE(fp16ToFp32(0x3555), 0.333251953125f);
        QCOMPARE(fp16ToFp32(0x0001), std::ldexp(1.f, -24));
        QCOMPARE(fp16ToFp32(0x8001), -std::ldexp(1.f, -24));
        QCOMPARE(fp16ToFp32(0x03ff), std::ldexp(1023.f, -24));
        QCOMPARE(fp16ToFp32(0x7bff), 65504.f);
        QCOMPARE(fp16ToFp32(0xc000), -2.f);
    }

    void fp16RoundsTiesToEven()
    {
        // 1 + 2^-11 lies halfway between 1 (even mantissa) and 1 + 2^-10: goes down
        QCOMPARE(fp32ToFp16(1.f + std::ldexp(1.f, -11)), uint16_t(0x3c00));
        // 1 + 3*2^-11 lies halfway between mantissa 1 (odd) and 2 (even): goes up
        QCOMPARE(fp32ToFp16(1.f + 3 * std::ldexp(1.f, -11)), uint16_t(0x3c02));
        // just above the halfway point rounds up
        QCOMPARE(fp32ToFp16(std::nextafter(1.f + std::ldexp(1.f, -11), 2.f)), uint16_t(0x3c01));
        // subnormal ties: 2^-25 is half the smallest subnormal -> 0 (even); 3*2^-25 -> 2 (even)
        QCOMPARE(fp32ToFp16(std::ldexp(1.f, -25)), uint16_t(0x0000));
        QCOMPARE(fp32ToFp16(std::nextafter(std::ldexp(1.f, -25), 1.f)), uint16_t(0x0001));
        QCOMPARE(fp32ToFp16(std::ldexp(3.f, -25)), uint16_t(0x0002));
        QCOMPARE(fp32ToFp16(-std::ldexp(3.f, -25)), uint16_t(0x8002));
        // halfway between the largest subnormal and the smallest normal: to the even normal
        QCOMPARE(fp32ToFp16(std::ldexp(2047.f, -25)), uint16_t(0x0400));
        // tiny values flush to signed zero
        QCOMPARE(fp32ToFp16(1e-30f), uint16_t(0x0000));
        QCOMPARE(fp32ToFp16(-1e-30f), uint16_t(0x8000));
    }

    void fp16OverflowInfNan()
    {
        QCOMPARE(fp32ToFp16(65519.f), uint16_t(0x7bff));   // below the halfway point to 65536
        QCOMPARE(fp32ToFp16(65520.f), uint16_t(0x7c00));   // halfway: ties to even = infinity
        QCOMPARE(fp32ToFp16(1e10f), uint16_t(0x7c00));
        QCOMPARE(fp32ToFp16(-1e10f), uint16_t(0xfc00));
        QCOMPARE(fp32ToFp16(std::numeric_limits<float>::infinity()), uint16_t(0x7c00));
        QCOMPARE(fp32ToFp16(-std::numeric_limits<float>::infinity()), uint16_t(0xfc00));
        const uint16_t qnan = fp32ToFp16(std::numeric_limits<float>::quiet_NaN());
        QCOMPARE(qnan & 0x7c00, 0x7c00);
        QVERIFY((qnan & 0x03ff) != 0);
        // a signalling NaN whose payload lives only in low bits must not become infinity
        const uint16_t snan = fp32ToFp16(bits(0x7f800001u));
        QCOMPARE(snan & 0x7e00, 0x7e00);
        QVERIFY(std::isnan(fp16ToFp32(snan)));
        QVERIFY(std::isinf(fp16ToFp32(0x7c00)) && fp16ToFp32(0x7c00) > 0);
        QVERIFY(std::isinf(fp16ToFp32(0xfc00)) && fp16ToFp32(0xfc00) < 0);
        QVERIFY(std::isnan(fp16ToFp32(0x7e00)));
    }

    void fp16ExhaustiveRoundTrip()
    {
        for (uint32_t h = 0; h < 0x10000; ++h) {
            const float f = fp16ToFp32(uint16_t(h));
            const bool isNan = (h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0;
            if (isNan) {
                QVERIFY2(std::isnan(f), qPrintable(QString::number(h, 16)));
                continue;
            }
            QVERIFY2(fp32ToFp16(f) == h, qPrintable(QString::number(h, 16)));
        }
    }

    void fp16MatchesCompilerConversion()
    {
#if defined(__FLT16_MAX__)
        std::mt19937 rng(7);
        int checked = 0;
        for (int i = 0; i < 400000; ++i) {
            // random bit patterns cover every exponent, including the subnormal/overflow edges
            uint32_t b = rng();
            if (i % 2) // and half of them concentrated near the half range
                b = (b & 0x807fffffu) | (uint32_t(100 + rng() % 46) << 23);
            const float f = bits(b);
            if (std::isnan(f))
                continue;
            const _Float16 h = static_cast<_Float16>(f);
            QVERIFY2(fp32ToFp16(f) == std::bit_cast<uint16_t>(h), qPrintable(QString::number(b, 16)));
            QCOMPARE(fp16ToFp32(std::bit_cast<uint16_t>(h)), static_cast<float>(h));
            ++checked;
        }
        QVERIFY(checked > 300000);
#else
        QSKIP("this compiler has no _Float16 to compare with");
#endif
    }

    void bf16Conversions()
    {
        QCOMPARE(fp32ToBf16(1.f), uint16_t(0x3f80));
        QCOMPARE(bf16ToFp32(0x3f80), 1.f);
        QCOMPARE(bf16ToFp32(0xc040), -3.f);
        QCOMPARE(fp32ToBf16(bits(0x3f808000u)), uint16_t(0x3f80)); // tie, even stays
        QCOMPARE(fp32ToBf16(bits(0x3f818000u)), uint16_t(0x3f82)); // tie, odd rounds up
        QCOMPARE(fp32ToBf16(bits(0x3f808001u)), uint16_t(0x3f81)); // above the tie
        QCOMPARE(fp32ToBf16(bits(0x3f807fffu)), uint16_t(0x3f80)); // below the tie
        QCOMPARE(fp32ToBf16(bits(0x7f7fffffu)), uint16_t(0x7f80)); // max float rounds to inf
        QCOMPARE(fp32ToBf16(std::numeric_limits<float>::infinity()), uint16_t(0x7f80));
        QCOMPARE(fp32ToBf16(-0.f), uint16_t(0x8000));
        QCOMPARE(fp32ToBf16(bits(0x00000001u)), uint16_t(0x0000)); // tiniest subnormal
        const uint16_t nan = fp32ToBf16(bits(0x7f800001u)); // payload only in dropped bits
        QVERIFY(std::isnan(bf16ToFp32(nan)));
        for (uint32_t h = 0; h < 0x10000; ++h) {
            const float f = bf16ToFp32(uint16_t(h));
            if (!std::isnan(f))
                QVERIFY2(fp32ToBf16(f) == h, qPrintable(QString::number(h, 16)));
        }
    }
};

QTEST_APPLESS_MAIN(HalfTest)
#include "test_half.moc"
