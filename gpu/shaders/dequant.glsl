// Element access into GGUF weight rows, with the block layouts the CPU uses (engine/tensor/).
// The weight buffer is bound as 32-bit words at binding WEIGHT_BINDING; rows start at byte
// offsets (row * rowBytes), which for every block type is even, so 16-bit fields are aligned.
// One TYPE_* define picks the layout.
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightBuf { uint wq[]; };

uint loadByte(uint off) { return (wq[off >> 2] >> ((off & 3u) * 8u)) & 0xFFu; }
uint loadU16(uint off) { return (wq[off >> 2] >> ((off & 2u) * 8u)) & 0xFFFFu; } // off even
float loadF16(uint off) { return unpackHalf2x16(loadU16(off)).x; }
int loadI8(uint off) { return int(loadByte(off) << 24) >> 24; }

#if defined(TYPE_IQ4_NL) || defined(TYPE_IQ4_XS)
// The 16 levels a 4-bit index of the non-linear types selects (engine/tensor/quant_blocks.h).
const float IQ4_LEVELS[16] = float[16](-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0,
                                       1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);
#endif
#if defined(TYPE_IQ4_XS)
// d:f16, scales_h:u16, scales_l[4], qs[128]. Sub-block s's 6-bit scale: low 4 bits in nibble s%2
// of scales_l[s/2], top 2 bits at bits 2s of scales_h; multiplier = scale - 32.
float iq4xsScale(uint b, uint s)
{
    const uint lo = (loadByte(b + 4u + s / 2u) >> (4u * (s & 1u))) & 15u;
    const uint hi = (loadU16(b + 2u) >> (2u * s)) & 3u;
    return float(int(lo | (hi << 4)) - 32);
}
#endif

#if defined(TYPE_F32)
#define QK 1u
float weightAt(uint rowByte, uint i) { return uintBitsToFloat(wq[(rowByte >> 2) + i]); }
#elif defined(TYPE_F16)
#define QK 1u
float weightAt(uint rowByte, uint i) { return loadF16(rowByte + 2u * i); }
#elif defined(TYPE_BF16)
#define QK 1u
float weightAt(uint rowByte, uint i) { return uintBitsToFloat(loadU16(rowByte + 2u * i) << 16); }
#elif defined(TYPE_Q8_0)
// d:f16, qs:int8[32]
#define QK 32u
float weightAt(uint rowByte, uint i)
{
    uint b = rowByte + (i / 32u) * 34u;
    return loadF16(b) * float(loadI8(b + 2u + (i % 32u)));
}
#elif defined(TYPE_Q4_0)
// d:f16, qs[16]: element j<16 in the low nibble of qs[j], j>=16 in the high nibble of qs[j-16]
#define QK 32u
float weightAt(uint rowByte, uint i)
{
    uint b = rowByte + (i / 32u) * 18u, j = i % 32u;
    uint q = (loadByte(b + 2u + (j & 15u)) >> ((j >> 4) * 4u)) & 15u;
    return loadF16(b) * (float(q) - 8.0);
}
#elif defined(TYPE_Q4_1)
// d:f16, m:f16, qs[16]
#define QK 32u
float weightAt(uint rowByte, uint i)
{
    uint b = rowByte + (i / 32u) * 20u, j = i % 32u;
    uint q = (loadByte(b + 4u + (j & 15u)) >> ((j >> 4) * 4u)) & 15u;
    return loadF16(b) * float(q) + loadF16(b + 2u);
}
#elif defined(TYPE_Q5_0)
// d:f16, qh:u32 (bit j = 5th bit of element j), qs[16]
#define QK 32u
float weightAt(uint rowByte, uint i)
{
    uint b = rowByte + (i / 32u) * 22u, j = i % 32u;
    uint qh = loadU16(b + 2u) | (loadU16(b + 4u) << 16);
    uint q = ((loadByte(b + 6u + (j & 15u)) >> ((j >> 4) * 4u)) & 15u) | (((qh >> j) & 1u) << 4);
    return loadF16(b) * (float(q) - 16.0);
}
#elif defined(TYPE_Q5_1)
// d:f16, m:f16, qh:u32, qs[16]
#define QK 32u
float weightAt(uint rowByte, uint i)
{
    uint b = rowByte + (i / 32u) * 24u, j = i % 32u;
    uint qh = loadU16(b + 4u) | (loadU16(b + 6u) << 16);
    uint q = ((loadByte(b + 8u + (j & 15u)) >> ((j >> 4) * 4u)) & 15u) | (((qh >> j) & 1u) << 4);
    return loadF16(b) * float(q) + loadF16(b + 2u);
}
#elif defined(TYPE_Q2_K)
// scales[16] (low nibble scale, high nibble min), qs[64], d:f16, dmin:f16
#define QK 256u
float weightAt(uint rowByte, uint i)
{
    uint b = rowByte + (i / 256u) * 84u, e = i % 256u;
    uint half_ = e / 128u, r = e % 128u, j = r / 32u, l = r % 32u;
    uint sc = loadByte(b + half_ * 8u + j * 2u + l / 16u);
    uint q = (loadByte(b + 16u + half_ * 32u + l) >> (2u * j)) & 3u;
    return loadF16(b + 80u) * float(sc & 15u) * float(q) - loadF16(b + 82u) * float(sc >> 4);
}
#elif defined(TYPE_Q3_K)
// hmask[32], qs[64], scales[12] (16 packed 6-bit scales, offset 32), d:f16
#define QK 256u
float weightAt(uint rowByte, uint i)
{
    uint b = rowByte + (i / 256u) * 110u, e = i % 256u;
    uint half_ = e / 128u, r = e % 128u, j = r / 32u, l = r % 32u;
    uint s = half_ * 8u + j * 2u + l / 16u;
    uint lo = s < 8u ? (loadByte(b + 96u + s) & 15u) : (loadByte(b + 96u + s - 8u) >> 4);
    uint hi = (loadByte(b + 96u + 8u + (s % 4u)) >> (2u * (s / 4u))) & 3u;
    float scale = float(int(lo | (hi << 4)) - 32);
    int q = int((loadByte(b + 32u + half_ * 32u + l) >> (2u * j)) & 3u);
    if ((loadByte(b + l) & (1u << (half_ * 4u + j))) == 0u)
        q -= 4;
    return loadF16(b + 108u) * scale * float(q);
}
#elif defined(TYPE_Q4_K) || defined(TYPE_Q5_K)
// d:f16, dmin:f16, scales[12] (8 packed 6-bit scale/min pairs), [Q5_K: qh[32]], qs[128]
#define QK 256u
#if defined(TYPE_Q4_K)
#define KBLOCK 144u
#define QS_OFF 16u
#else
#define KBLOCK 176u
#define QS_OFF 48u
#endif
float weightAt(uint rowByte, uint i)
{
    uint b = rowByte + (i / 256u) * KBLOCK, e = i % 256u;
    uint c = e / 64u, sub = (e % 64u) / 32u, l = e % 32u, s = c * 2u + sub;
    uint sc, mn;
    if (s < 4u) {
        sc = loadByte(b + 4u + s) & 63u;
        mn = loadByte(b + 4u + s + 4u) & 63u;
    } else {
        sc = (loadByte(b + 4u + s + 4u) & 15u) | ((loadByte(b + 4u + s - 4u) >> 6) << 4);
        mn = (loadByte(b + 4u + s + 4u) >> 4) | ((loadByte(b + 4u + s) >> 6) << 4);
    }
    uint q = (loadByte(b + QS_OFF + c * 32u + l) >> (sub * 4u)) & 15u;
#if defined(TYPE_Q5_K)
    if ((loadByte(b + 16u + l) & (1u << (2u * c + sub))) != 0u)
        q += 16u;
#endif
    return loadF16(b) * float(sc) * float(q) - loadF16(b + 2u) * float(mn);
}
#elif defined(TYPE_Q6_K)
// ql[128], qh[64], scales:int8[16], d:f16
#define QK 256u
float weightAt(uint rowByte, uint i)
{
    uint b = rowByte + (i / 256u) * 210u, e = i % 256u;
    uint half_ = e / 128u, r = e % 128u, g = r / 32u, l = r % 32u;
    uint lo = (loadByte(b + half_ * 64u + l + (g & 1u) * 32u) >> ((g >> 1) * 4u)) & 15u;
    uint hi = (loadByte(b + 128u + half_ * 32u + l) >> (2u * g)) & 3u;
    float scale = float(loadI8(b + 192u + half_ * 8u + l / 16u + 2u * g));
    return loadF16(b + 208u) * scale * float(int(lo | (hi << 4)) - 32);
}
#elif defined(TYPE_IQ4_NL)
// d:f16, qs[16]: index j<16 in the low nibble of qs[j], j>=16 in the high nibble; d * level[index]
#define QK 32u
float weightAt(uint rowByte, uint i)
{
    uint b = rowByte + (i / 32u) * 18u, j = i % 32u;
    uint q = (loadByte(b + 2u + (j & 15u)) >> ((j >> 4) * 4u)) & 15u;
    return loadF16(b) * IQ4_LEVELS[q];
}
#elif defined(TYPE_IQ4_XS)
// 8 sub-blocks of 32, each with its 16 bytes of indices at qs + 16s in IQ4_NL's nibble order
#define QK 256u
float weightAt(uint rowByte, uint i)
{
    uint b = rowByte + (i / 256u) * 136u, e = i % 256u, s = e / 32u, j = e % 32u;
    uint q = (loadByte(b + 8u + s * 16u + (j & 15u)) >> ((j >> 4) * 4u)) & 15u;
    return loadF16(b) * iq4xsScale(b, s) * IQ4_LEVELS[q];
}
#elif defined(TYPE_PAL2) || defined(TYPE_PAL3) || defined(TYPE_PAL4)
// A palette weight (engine/model/model.h PaletteWeight, docs/COMPRESSION.md), uploaded by
// gpu_model.cpp as one buffer: words 0..3 = indexRowBytes, groupRows, the table's first word, the
// row scales' first word (0: no row scales); row r's packed indices at byte 16 + r * indexRowBytes
// (the host passes rowBytes = indexRowBytes, so rowByte / indexRowBytes is the row); the table,
// 2^bits floats per group of groupRows rows, and the optional row scales as F32 words.
#if defined(TYPE_PAL2)
#define PAL_BITS 2u
#elif defined(TYPE_PAL3)
#define PAL_BITS 3u
#else
#define PAL_BITS 4u
#endif
#define QK 1u
// The row's palette entry `q` times its row scale.
float paletteValue(uint row, uint q)
{
    const float v = uintBitsToFloat(wq[wq[2] + (row / wq[1]) * (1u << PAL_BITS) + q]);
    return wq[3] != 0u ? v * uintBitsToFloat(wq[wq[3] + row]) : v;
}
float weightAt(uint rowByte, uint i)
{
    const uint bit = i * PAL_BITS;
    uint v = loadByte(16u + rowByte + (bit >> 3)) >> (bit & 7u);
    if ((bit & 7u) + PAL_BITS > 8u) // a 3-bit index straddling two bytes
        v |= loadByte(16u + rowByte + (bit >> 3) + 1u) << (8u - (bit & 7u));
    const uint q = v & ((1u << PAL_BITS) - 1u);
    return paletteValue(rowByte / wq[0], q);
}
#else
#error "no TYPE_* define"
#endif

// Four consecutive elements i..i+3 of a row (i a multiple of 4; the row length too): one scale
// lookup and one 32-bit quant load per four weights instead of per weight. Within a block,
// four such elements always share their scale and sit in consecutive bytes.
uint load4(uint off) { return loadU16(off) | (loadU16(off + 2u) << 16); } // off even
vec4 bytes4(uint w) { return vec4(w & 0xFFu, (w >> 8) & 0xFFu, (w >> 16) & 0xFFu, w >> 24); }
vec4 nibbles4(uint w, uint shift) { return bytes4((w >> shift) & 0x0F0F0F0Fu); }
vec4 crumbs4(uint w, uint shift) { return bytes4((w >> shift) & 0x03030303u); } // 2-bit fields
vec4 bits4(uint v) { return vec4(v & 1u, (v >> 1) & 1u, (v >> 2) & 1u, (v >> 3) & 1u); }
#if defined(TYPE_IQ4_NL) || defined(TYPE_IQ4_XS)
vec4 levels4(uint w, uint shift) // four nibbles -> their table levels
{
    const uint v = (w >> shift) & 0x0F0F0F0Fu;
    return vec4(IQ4_LEVELS[v & 0xFFu], IQ4_LEVELS[(v >> 8) & 0xFFu], IQ4_LEVELS[(v >> 16) & 0xFFu], IQ4_LEVELS[v >> 24]);
}
#endif

#if defined(TYPE_F32)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint o = (rowByte >> 2) + i;
    return vec4(uintBitsToFloat(wq[o]), uintBitsToFloat(wq[o + 1u]), uintBitsToFloat(wq[o + 2u]), uintBitsToFloat(wq[o + 3u]));
}
#elif defined(TYPE_F16)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint o = (rowByte + 2u * i) >> 2;
    return vec4(unpackHalf2x16(wq[o]), unpackHalf2x16(wq[o + 1u]));
}
#elif defined(TYPE_BF16)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint o = (rowByte + 2u * i) >> 2;
    const uint a = wq[o], b = wq[o + 1u];
    return vec4(uintBitsToFloat(a << 16), uintBitsToFloat(a & 0xFFFF0000u), uintBitsToFloat(b << 16), uintBitsToFloat(b & 0xFFFF0000u));
}
#elif defined(TYPE_Q8_0)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint b = rowByte + (i / 32u) * 34u;
    const int w = int(load4(b + 2u + (i % 32u)));
    return loadF16(b) * vec4(bitfieldExtract(w, 0, 8), bitfieldExtract(w, 8, 8), bitfieldExtract(w, 16, 8), bitfieldExtract(w, 24, 8));
}
#elif defined(TYPE_Q4_0)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint b = rowByte + (i / 32u) * 18u, j = i % 32u;
    return loadF16(b) * (nibbles4(load4(b + 2u + (j & 15u)), (j >> 4) * 4u) - 8.0);
}
#elif defined(TYPE_Q4_1)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint b = rowByte + (i / 32u) * 20u, j = i % 32u;
    return loadF16(b) * nibbles4(load4(b + 4u + (j & 15u)), (j >> 4) * 4u) + loadF16(b + 2u);
}
#elif defined(TYPE_Q5_0)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint b = rowByte + (i / 32u) * 22u, j = i % 32u;
    const uint qh = loadU16(b + 2u) | (loadU16(b + 4u) << 16);
    const vec4 q = nibbles4(load4(b + 6u + (j & 15u)), (j >> 4) * 4u) + 16.0 * bits4(qh >> j);
    return loadF16(b) * (q - 16.0);
}
#elif defined(TYPE_Q5_1)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint b = rowByte + (i / 32u) * 24u, j = i % 32u;
    const uint qh = loadU16(b + 4u) | (loadU16(b + 6u) << 16);
    const vec4 q = nibbles4(load4(b + 8u + (j & 15u)), (j >> 4) * 4u) + 16.0 * bits4(qh >> j);
    return loadF16(b) * q + loadF16(b + 2u);
}
#elif defined(TYPE_Q2_K)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint b = rowByte + (i / 256u) * 84u, e = i % 256u;
    const uint half_ = e / 128u, r = e % 128u, j = r / 32u, l = r % 32u;
    const uint sc = loadByte(b + half_ * 8u + j * 2u + l / 16u);
    const vec4 q = crumbs4(load4(b + 16u + half_ * 32u + l), 2u * j);
    return loadF16(b + 80u) * float(sc & 15u) * q - loadF16(b + 82u) * float(sc >> 4);
}
#elif defined(TYPE_Q3_K)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint b = rowByte + (i / 256u) * 110u, e = i % 256u;
    const uint half_ = e / 128u, r = e % 128u, j = r / 32u, l = r % 32u;
    const uint s = half_ * 8u + j * 2u + l / 16u;
    const uint lo = s < 8u ? (loadByte(b + 96u + s) & 15u) : (loadByte(b + 96u + s - 8u) >> 4);
    const uint hi = (loadByte(b + 96u + 8u + (s % 4u)) >> (2u * (s / 4u))) & 3u;
    const float scale = float(int(lo | (hi << 4)) - 32);
    const vec4 q = crumbs4(load4(b + 32u + half_ * 32u + l), 2u * j);
    // a clear hmask bit subtracts 4
    const vec4 h = bytes4((load4(b + l) >> (half_ * 4u + j)) & 0x01010101u);
    return loadF16(b + 108u) * scale * (q - 4.0 * (1.0 - h));
}
#elif defined(TYPE_Q4_K) || defined(TYPE_Q5_K)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint b = rowByte + (i / 256u) * KBLOCK, e = i % 256u;
    const uint c = e / 64u, sub = (e % 64u) / 32u, l = e % 32u, s = c * 2u + sub;
    uint sc, mn;
    if (s < 4u) {
        sc = loadByte(b + 4u + s) & 63u;
        mn = loadByte(b + 4u + s + 4u) & 63u;
    } else {
        sc = (loadByte(b + 4u + s + 4u) & 15u) | ((loadByte(b + 4u + s - 4u) >> 6) << 4);
        mn = (loadByte(b + 4u + s + 4u) >> 4) | ((loadByte(b + 4u + s) >> 6) << 4);
    }
    vec4 q = nibbles4(load4(b + QS_OFF + c * 32u + l), sub * 4u);
#if defined(TYPE_Q5_K)
    q += 16.0 * bytes4((load4(b + 16u + l) >> (2u * c + sub)) & 0x01010101u);
#endif
    return loadF16(b) * float(sc) * q - loadF16(b + 2u) * float(mn);
}
#elif defined(TYPE_Q6_K)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint b = rowByte + (i / 256u) * 210u, e = i % 256u;
    const uint half_ = e / 128u, r = e % 128u, g = r / 32u, l = r % 32u;
    const vec4 lo = nibbles4(load4(b + half_ * 64u + l + (g & 1u) * 32u), (g >> 1) * 4u);
    const vec4 hi = crumbs4(load4(b + 128u + half_ * 32u + l), 2u * g);
    const float scale = float(loadI8(b + 192u + half_ * 8u + l / 16u + 2u * g));
    return loadF16(b + 208u) * scale * (lo + 16.0 * hi - 32.0);
}
#elif defined(TYPE_IQ4_NL)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint b = rowByte + (i / 32u) * 18u, j = i % 32u;
    return loadF16(b) * levels4(load4(b + 2u + (j & 15u)), (j >> 4) * 4u);
}
#elif defined(TYPE_IQ4_XS)
vec4 weightAt4(uint rowByte, uint i)
{
    const uint b = rowByte + (i / 256u) * 136u, e = i % 256u, s = e / 32u, j = e % 32u;
    return (loadF16(b) * iq4xsScale(b, s)) * levels4(load4(b + 8u + s * 16u + (j & 15u)), (j >> 4) * 4u);
}
#elif defined(TYPE_PAL2) || defined(TYPE_PAL3) || defined(TYPE_PAL4)
// Four indices share one byte (2-bit), 12 bits at bit 0 or 4 of two bytes (3-bit) or two bytes (4-bit); an odd index row length leaves rows at odd
// bytes, so the bytes are read one by one. One division, one table base and one scale per four.
vec4 weightAt4(uint rowByte, uint i)
{
    const uint row = rowByte / wq[0];
    const uint base = wq[2] + (row / wq[1]) * (1u << PAL_BITS);
    const float s = wq[3] != 0u ? uintBitsToFloat(wq[wq[3] + row]) : 1.0;
    const uint at = 16u + rowByte + (i * PAL_BITS >> 3);
#if defined(TYPE_PAL2)
    const uint v = loadByte(at);
    return s * vec4(uintBitsToFloat(wq[base + (v & 3u)]), uintBitsToFloat(wq[base + ((v >> 2) & 3u)]),
                    uintBitsToFloat(wq[base + ((v >> 4) & 3u)]), uintBitsToFloat(wq[base + (v >> 6)]));
#elif defined(TYPE_PAL3)
    const uint v = (loadByte(at) | (loadByte(at + 1u) << 8)) >> ((i * PAL_BITS) & 7u);
    return s * vec4(uintBitsToFloat(wq[base + (v & 7u)]), uintBitsToFloat(wq[base + ((v >> 3) & 7u)]),
                    uintBitsToFloat(wq[base + ((v >> 6) & 7u)]), uintBitsToFloat(wq[base + ((v >> 9) & 7u)]));
#else
    const uint v = loadByte(at) | (loadByte(at + 1u) << 8);
    return s * vec4(uintBitsToFloat(wq[base + (v & 15u)]), uintBitsToFloat(wq[base + ((v >> 4) & 15u)]),
                    uintBitsToFloat(wq[base + ((v >> 8) & 15u)]), uintBitsToFloat(wq[base + (v >> 12)]));
#endif
}
#endif
