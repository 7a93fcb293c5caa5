#pragma once
// Block layouts of the quantized types, byte for byte as the GGUF ecosystem (ggml) stores them.
// Scales are raw f16 bit patterns (uint16_t) except Q8_K's f32. Rows are arrays of these blocks.
#include <bit>
#include <cstdint>
#include <cstring>

namespace tenfold {

constexpr int kQK = 32;   // elements per block of the legacy quants (Q4_0 .. Q8_1)
constexpr int kQKK = 256; // elements per K-quant super-block

// value = (q - 8) * d; element j in the low nibble of qs[j], element j+16 in its high nibble
struct BlockQ4_0 {
    uint16_t d;
    uint8_t qs[kQK / 2];
};
// value = q * d + m; nibble order as Q4_0
struct BlockQ4_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qs[kQK / 2];
};
// value = (q - 16) * d; low 4 bits as Q4_0, bit 4 of element j is bit j of the little-endian qh
struct BlockQ5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[kQK / 2];
};
// value = q * d + m; bits as Q5_0
struct BlockQ5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[kQK / 2];
};
// value = q * d
struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[kQK];
};
// value = q * d; s = d * sum(q), used by dot products with a min term
struct BlockQ8_1 {
    uint16_t d;
    uint16_t s;
    int8_t qs[kQK];
};

// 16 groups of 16: value = d * (scales[g] & 15) * q - dmin * (scales[g] >> 4), q 2-bit.
// Within each 128-element half, qs byte l (of 32) holds elements l, l+32, l+64, l+96 at bit
// shifts 0, 2, 4, 6 -- so group order is (shift 0: l<16, l>=16), (shift 2: ...), ...
struct BlockQ2_K {
    uint8_t scales[kQKK / 16];
    uint8_t qs[kQKK / 4];
    uint16_t d;
    uint16_t dmin;
};
// 16 groups of 16: value = d * (scale6[g] - 32) * (q2 - (hbit ? 0 : 4)). The 2-bit part is packed
// like Q2_K; the high bit of element e is bit e/32 of hmask[e % 32]. The 6-bit scales: low 4 bits
// in nibbles of scales[0..7] (groups 0-7 low nibbles, 8-15 high nibbles), top 2 bits of group g at
// bit 2*(g/4) of scales[8 + g%4].
struct BlockQ3_K {
    uint8_t hmask[kQKK / 8];
    uint8_t qs[kQKK / 4];
    uint8_t scales[12];
    uint16_t d;
};
// 8 groups of 32: value = d * sc[g] * q - dmin * m[g], q 4-bit, sc/m 6-bit packed in 12 bytes (see
// scaleMinK4). Each 64-element chunk c uses qs[32c..32c+31]: low nibbles are group 2c, high 2c+1.
struct BlockQ4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qs[kQKK / 2];
};
// As Q4_K plus a fifth bit: element l of chunk c (low/high nibble group) takes bit 2c / 2c+1 of qh[l].
struct BlockQ5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qh[kQKK / 8];
    uint8_t qs[kQKK / 2];
};
// 16 groups of 16: value = d * scales[g] * (q - 32), q 6-bit. Per 128-element half h (ql += 64h,
// qh += 32h), for l < 32: element l = ql[l] low | qh[l] bits 0-1, l+32 = ql[l+32] low | bits 2-3,
// l+64 = ql[l] high | bits 4-5, l+96 = ql[l+32] high | bits 6-7.
struct BlockQ6_K {
    uint8_t ql[kQKK / 2];
    uint8_t qh[kQKK / 4];
    int8_t scales[kQKK / 16];
    uint16_t d;
};
// Activations for K-quant dot products: value = d * q; bsums[g] = sum of q over group g of 16.
struct BlockQ8_K {
    float d;
    int8_t qs[kQKK];
    int16_t bsums[kQKK / 16];
};

// The non-linear 4-bit types share one table of 16 levels, denser near zero where weights
// cluster: value = scale * kIQ4Values[index].
inline constexpr int8_t kIQ4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                          1,    13,   25,  38,  53,  69,  89,  113};
// IQ4_NL: value = d * kIQ4Values[q]; nibble order as Q4_0 (element j low nibble of qs[j], j+16 high).
struct BlockIQ4_NL {
    uint16_t d;
    uint8_t qs[kQK / 2];
};
// IQ4_XS: 8 sub-blocks of 32, value = d * (ls - 32) * kIQ4Values[q] with a 6-bit ls per sub-block
// (iq4xsSubScale). Sub-block s holds its 32 indices in qs[16s..16s+15] in IQ4_NL's nibble order.
struct BlockIQ4_XS {
    uint16_t d;
    uint16_t scalesH; // top 2 bits of sub-block s's ls at bits 2s, 2s+1
    uint8_t scalesL[kQKK / 64]; // low 4 bits: sub-block s in the low (s even) / high (s odd) nibble of byte s/2
    uint8_t qs[kQKK / 2];
};

// The 6-bit stored scale (0..63, i.e. the multiplier plus 32) of sub-block s (0..7) of an IQ4_XS block.
inline int iq4xsSubScale(const BlockIQ4_XS& b, int s)
{
    return ((b.scalesL[s / 2] >> (4 * (s % 2))) & 0xF) | (((b.scalesH >> (2 * s)) & 3) << 4);
}

static_assert(sizeof(BlockIQ4_NL) == 18 && sizeof(BlockIQ4_XS) == 136);
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 &&
              sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144 &&
              sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);

// 6-bit scale and min of group j (0..7) of a Q4_K / Q5_K block. Bytes 0-3 hold sc[0..3] in their
// low 6 bits, bytes 4-7 hold m[0..3]; groups 4-7 keep their low 4 bits in the nibbles of bytes
// 8-11 and their top 2 bits in the spare top bits of bytes 0-7.
inline void scaleMinK4(int j, const uint8_t* q, uint8_t& scale, uint8_t& min)
{
    if (j < 4) {
        scale = q[j] & 63;
        min = q[j + 4] & 63;
    } else {
        scale = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        min = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// The 16 signed 6-bit scales of a Q3_K block, already offset by -32. Works on 4 groups per
// 32-bit word: groups 4k..4k+3 take their low nibbles from bytes 0-3 (k=0) / 4-7 (k=1), low
// nibble for k<2 and high nibble for k>=2, and their top two bits from bits 2k..2k+1 of bytes 8-11.
inline void unpackQ3KScales(const uint8_t* packed, int8_t out[16])
{
    uint32_t lowWords[2], highWord;
    std::memcpy(lowWords, packed, 8);
    std::memcpy(&highWord, packed + 8, 4);
    for (int k = 0; k < 4; ++k) {
        const uint32_t low = (lowWords[k % 2] >> (4 * (k / 2))) & 0x0F0F0F0Fu;
        const uint32_t high = ((highWord >> (2 * k)) & 0x03030303u) << 4;
        // each byte is now 0..63; subtracting 32 per byte cannot borrow across bytes after +0x80 bias
        const uint32_t biased = ((low | high) + 0x60606060u) ^ 0x80808080u; // (v - 32) as int8
        std::memcpy(out + 4 * k, &biased, 4);
    }
}

// Round to nearest, ties to even, for |x| < 2^22 (the quantizers' range): the float trick ggml
// uses, so our quantizers choose the same integers as theirs.
inline int nearestInt(float x)
{
    const float shifted = x + 12582912.f; // 1.5 * 2^23
    return int(std::bit_cast<uint32_t>(shifted) & 0x007fffffu) - 0x00400000;
}

} // namespace tenfold
