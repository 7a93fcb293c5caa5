// AVX-512 VNNI tile kernels for small batches (batched decode, short prompts): up to 4 weight
// rows x 4 activation rows per call, each weight block decoded once per tile and used against
// every activation row. Compiled with AVX-512 flags; reached only through kernels() after
// cpuLevelDetected() says Avx512Vnni.
//
// Why 512-bit vectors here when the decode mat-vec (kernels_avx512.cpp) uses 256-bit ones: a
// tile is bound by integer multiply throughput, not memory, and on the EPYC (Zen 5) this was
// written on, a loop of independent 512-bit VPDPBUSDs took only about 1.2x the time of the same
// loop on 256-bit vectors, so each instruction does nearly twice the work. The 32 vector
// registers leave room for a 4x4 tile's 16 accumulators plus one row's decoded block. (Shapes
// 1x8, 2x8, 1x16, 2x4 and 4x2 measured no faster than 4x4 for Q4_K at 16 activation rows.)
//
// VPDPBUSD multiplies unsigned by signed bytes, so weights go in as unsigned levels and
// activations (Q8_0 / Q8_K, signed) as they are:
//  - Q4_K: levels are 0..15 with a per-32 scale and min. The 8 lanes a 32-group produces are
//    packed to int16 with the next group's (|sum| <= 4*15*128 fits) and multiplied by the group
//    scales with VPDPWSSD, so one multiply instruction applies the scales of two groups. The
//    mins pair with the activation's precomputed 16-element sums (bsums).
//  - Q6_K: levels 0..63 (value q - 32) with a signed scale per 16; four groups per packed vector,
//    the -32 offset from the activation's bsums (details at tileQ6K).
//  - Q8_0 / Q4_0: levels are stored with an offset (w + 128 for Q8_0 by flipping the sign bit,
//    the nibble q = value + 8 for Q4_0), whose contribution offset * sum(a) is the same for
//    every weight row, so it is computed once per activation block as each dot's starting sum.
//    Two 32-blocks fill one 512-bit vector.
// Results equal per-pair vecDot up to float summation order.
#include "tensor/half.h"
#include "tensor/kernels_impl.h"
#include "tensor/quant_blocks.h"
#include "tensor/simd_avx2.h"

// GCC 12's AVX-512 headers pass deliberately undefined vectors (_mm512_undefined_*) as the
// pass-through operand of insert/extract/reduce builtins, which -Wuninitialized reports inside
// the header; the values are never read.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>

namespace tenfold {
namespace {

using TileFn = void (*)(int64_t n, const char* w, size_t wStride, const char* a, size_t aStride, float* out,
                        size_t outStride);

inline float half(uint16_t h) { return _cvtsh_ss(h); }

inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

// Per-16-bit-element right shifts that leave the low 256 bits (Q4_K: the 32 low nibbles of a
// chunk) and shift the high 256 bits by 4 (its high nibbles).
inline __m512i nibbleShiftHalves() { return _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1); }
// The same per 128-bit lane for Q4_0 blocks, whose 16 bytes hold elements 0-15 in their low
// nibbles and 16-31 in their high ones: lanes 0 and 2 unshifted, 1 and 3 shifted by 4.
inline __m512i nibbleShiftLanes()
{
    return _mm512_set_epi64(0x0004000400040004, 0x0004000400040004, 0, 0, 0x0004000400040004, 0x0004000400040004, 0, 0);
}

// ---- Q4_K x Q8_K --------------------------------------------------------------------------------

// PSHUFB controls that spread the 8 group scales (bytes 0-7, repeated in every 128-bit lane) to
// the int16 layout of packs(P_c, P_c+1) for chunk pair j: in lanes 0-1 the first four int16 come
// from chunk c's low group (2c), the next four from chunk c+1's low group (2c+2); lanes 2-3 the
// same for the high groups (2c+1, 2c+3).
struct Q4KScaleControls {
    alignas(64) uint8_t bytes[2][64];
    constexpr Q4KScaleControls() : bytes{}
    {
        for (int j = 0; j < 2; ++j)
            for (int lane = 0; lane < 4; ++lane)
                for (int e = 0; e < 8; ++e) {
                    const int group = 4 * j + (e >= 4 ? 2 : 0) + (lane >= 2 ? 1 : 0);
                    bytes[j][16 * lane + 2 * e] = uint8_t(group);
                    bytes[j][16 * lane + 2 * e + 1] = 0x80; // zero high byte
                }
    }
};
constexpr Q4KScaleControls kQ4KScaleControls;

// One Q4_K weight block, decoded for the whole tile's columns.
struct DecodedQ4K {
    __m512i levels[4]; // chunk c: 32 low nibbles (group 2c), then 32 high nibbles (group 2c+1)
    __m512i scales[2]; // int16 group scales laid out as packs(P_2j, P_2j+1) needs them
    __m256i mins;      // int16 m_g, each twice, against the activation's 16 bsums
    __m512 d, dmin;
};

inline void decodeQ4K(const BlockQ4_K& b, DecodedQ4K& out)
{
    // The 12 packed bytes to 8 scales (sc) and 8 mins (mn), 6 bits each (scaleMinK4, 4 at a time).
    uint32_t u[3];
    std::memcpy(u, b.scales, 12);
    const uint32_t sc0 = u[0] & 0x3f3f3f3fu;
    const uint32_t sc1 = (u[2] & 0x0f0f0f0fu) | (((u[0] >> 6) & 0x03030303u) << 4);
    const uint32_t mn0 = u[1] & 0x3f3f3f3fu;
    const uint32_t mn1 = ((u[2] >> 4) & 0x0f0f0f0fu) | (((u[1] >> 6) & 0x03030303u) << 4);
    const __m512i sc = _mm512_set1_epi64(int64_t(uint64_t(sc0) | uint64_t(sc1) << 32));
    out.scales[0] = _mm512_shuffle_epi8(sc, _mm512_load_si512(kQ4KScaleControls.bytes[0]));
    out.scales[1] = _mm512_shuffle_epi8(sc, _mm512_load_si512(kQ4KScaleControls.bytes[1]));
    const __m128i mn = _mm_cvtsi64_si128(int64_t(uint64_t(mn0) | uint64_t(mn1) << 32));
    out.mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(mn, _mm_set_epi8(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0)));
    const __m512i shifts = nibbleShiftHalves(), mask4 = _mm512_set1_epi8(0x0F);
    for (int c = 0; c < 4; ++c) {
        const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c)));
        out.levels[c] = _mm512_and_si512(_mm512_srlv_epi16(q, shifts), mask4);
    }
    out.d = _mm512_set1_ps(half(b.d));
    out.dmin = _mm512_set1_ps(half(b.dmin));
}

// d * sum_g sc_g * dot_g - dmin * sum_g m_g * bsum_g of one decoded block against one activation
// block, spread over 16 float lanes (the caller sums lanes at the end).
inline __m512 blockDotQ4K(const DecodedQ4K& w, const BlockQ8_K& a)
{
    const __m512i zero = _mm512_setzero_si512();
    __m512i p[4];
    for (int c = 0; c < 4; ++c)
        p[c] = _mm512_dpbusd_epi32(zero, w.levels[c], _mm512_loadu_si512(a.qs + 64 * c));
    __m512i s = _mm512_dpwssd_epi32(zero, _mm512_packs_epi32(p[0], p[1]), w.scales[0]);
    s = _mm512_dpwssd_epi32(s, _mm512_packs_epi32(p[2], p[3]), w.scales[1]);
    const __m256i m = _mm256_madd_epi16(w.mins, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums)));
    const __m512 mins = _mm512_zextps256_ps512(_mm256_cvtepi32_ps(m));
    return _mm512_fnmadd_ps(mins, w.dmin, _mm512_mul_ps(_mm512_cvtepi32_ps(s), w.d));
}

template <int R, int C>
void tileQ4K(int64_t n, const char* w, size_t wStride, const char* a, size_t aStride, float* out, size_t outStride)
{
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
            acc[r][c] = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / kQKK; ++i) {
        for (int r = 0; r < R; ++r) {
            DecodedQ4K dw;
            decodeQ4K(reinterpret_cast<const BlockQ4_K*>(w + r * wStride)[i], dw);
            for (int c = 0; c < C; ++c) {
                const BlockQ8_K& ab = reinterpret_cast<const BlockQ8_K*>(a + c * aStride)[i];
                acc[r][c] = _mm512_fmadd_ps(blockDotQ4K(dw, ab), _mm512_set1_ps(ab.d), acc[r][c]);
            }
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
            out[size_t(c) * outStride + size_t(r)] = hsum(acc[r][c]);
}

// ---- Q6_K x Q8_K --------------------------------------------------------------------------------
// Levels are 0..63 for the value q - 32, with a signed 8-bit scale per 16 elements. A 64-element
// vector's VPDPBUSD lanes cover four 16-groups (four lanes each, |sum| <= 4*63*128 fits int16),
// so two vectors pack to int16 and VPDPWSSD applies four groups' scales per 128-bit lane. The -32
// offset is 32 * sum_g scale_g * bsum_g, from the activation's 16-element sums.

// VPERMW indexes spreading the 16 int16 group scales to the layout of packs(P_2m, P_2m+1):
// 128-bit lane k holds group 8m + k four times, then group 8m + 4 + k four times.
struct Q6KScaleIndexes {
    alignas(64) uint16_t index[2][32];
    constexpr Q6KScaleIndexes() : index{}
    {
        for (int m = 0; m < 2; ++m)
            for (int lane = 0; lane < 4; ++lane)
                for (int e = 0; e < 8; ++e)
                    index[m][8 * lane + e] = uint16_t(8 * m + (e >= 4 ? 4 : 0) + lane);
    }
};
constexpr Q6KScaleIndexes kQ6KScaleIndexes;

struct DecodedQ6K {
    __m512i levels[4]; // elements 64z .. 64z+63, unsigned 0..63
    __m512i scales[2]; // int16 group scales laid out as packs(P_2m, P_2m+1) needs them
    __m256i scales16;  // the 16 group scales as int16, against bsums
    __m512 d;
};

inline void decodeQ6K(const BlockQ6_K& b, DecodedQ6K& out)
{
    const __m512i mask4 = _mm512_set1_epi8(0x0F), mask2 = _mm512_set1_epi8(3);
    // qh bits per 32-element quarter of a half: elements 0-31 bits 0-1, 32-63 bits 2-3, 64-95
    // bits 4-5, 96-127 bits 6-7; one vector holds two quarters, so its halves shift differently.
    const __m512i shiftLow = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m512i shiftHigh = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
    for (int h = 0; h < 2; ++h) {
        const __m512i ql = _mm512_loadu_si512(b.ql + 64 * h);
        const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h)));
        const __m512i hiLow = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shiftLow), mask2), 4);
        const __m512i hiHigh = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shiftHigh), mask2), 4);
        out.levels[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, mask4), hiLow);
        out.levels[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), mask4), hiHigh);
    }
    out.scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    const __m512i wide = _mm512_castsi256_si512(out.scales16);
    out.scales[0] = _mm512_permutexvar_epi16(_mm512_load_si512(kQ6KScaleIndexes.index[0]), wide);
    out.scales[1] = _mm512_permutexvar_epi16(_mm512_load_si512(kQ6KScaleIndexes.index[1]), wide);
    out.d = _mm512_set1_ps(half(b.d));
}

// d * sum_g scale_g * (dot_g - 32 * bsum_g), spread over 16 float lanes.
inline __m512 blockDotQ6K(const DecodedQ6K& w, const BlockQ8_K& a)
{
    const __m512i zero = _mm512_setzero_si512();
    __m512i p[4];
    for (int z = 0; z < 4; ++z)
        p[z] = _mm512_dpbusd_epi32(zero, w.levels[z], _mm512_loadu_si512(a.qs + 64 * z));
    __m512i s = _mm512_dpwssd_epi32(zero, _mm512_packs_epi32(p[0], p[1]), w.scales[0]);
    s = _mm512_dpwssd_epi32(s, _mm512_packs_epi32(p[2], p[3]), w.scales[1]);
    const __m256i offset = _mm256_slli_epi32(
        _mm256_madd_epi16(w.scales16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums))), 5);
    s = _mm512_sub_epi32(s, _mm512_zextsi256_si512(offset));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(s), w.d);
}

template <int R, int C>
void tileQ6K(int64_t n, const char* w, size_t wStride, const char* a, size_t aStride, float* out, size_t outStride)
{
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
            acc[r][c] = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / kQKK; ++i) {
        for (int r = 0; r < R; ++r) {
            DecodedQ6K dw;
            decodeQ6K(reinterpret_cast<const BlockQ6_K*>(w + r * wStride)[i], dw);
            for (int c = 0; c < C; ++c) {
                const BlockQ8_K& ab = reinterpret_cast<const BlockQ8_K*>(a + c * aStride)[i];
                acc[r][c] = _mm512_fmadd_ps(blockDotQ6K(dw, ab), _mm512_set1_ps(ab.d), acc[r][c]);
            }
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
            out[size_t(c) * outStride + size_t(r)] = hsum(acc[r][c]);
}

// ---- Q8_0 / Q4_0 x Q8_0 -------------------------------------------------------------------------

enum class LegacyKind { Q8_0, Q4_0 };

template <LegacyKind K>
constexpr size_t kLegacyBlockBytes = K == LegacyKind::Q8_0 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);

// The stored offset of each kind's unsigned levels (see the header comment).
template <LegacyKind K>
constexpr int kLegacyOffset = K == LegacyKind::Q8_0 ? 128 : 8;

// Two blocks' worth of 32-element vectors: blocks i and i+1 in the two 256-bit halves, or block
// i and zeros when only one is left (zero levels and zero activations add nothing).
inline __m512i joinHalves(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }
inline __m512 joinScales(float lo, float hi)
{
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(lo)), _mm256_set1_ps(hi), 1);
}
inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Unsigned levels and scales of weight blocks i (and i+1 when `two`).
template <LegacyKind K>
inline __m512i legacyLevels(const char* blk, bool two, __m512& d)
{
    constexpr size_t kBytes = kLegacyBlockBytes<K>;
    const char* next = blk + kBytes;
    if constexpr (K == LegacyKind::Q8_0) {
        const auto* b0 = reinterpret_cast<const BlockQ8_0*>(blk);
        const auto* b1 = reinterpret_cast<const BlockQ8_0*>(next);
        d = joinScales(half(b0->d), two ? half(b1->d) : 0.f);
        const __m512i q = joinHalves(load256(b0->qs), two ? load256(b1->qs) : _mm256_set1_epi8(int8_t(0x80)));
        return _mm512_xor_si512(q, _mm512_set1_epi8(int8_t(0x80))); // w + 128 as unsigned
    } else {
        const auto* b0 = reinterpret_cast<const BlockQ4_0*>(blk);
        const auto* b1 = reinterpret_cast<const BlockQ4_0*>(next);
        d = joinScales(half(b0->d), two ? half(b1->d) : 0.f);
        const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b0->qs));
        const __m128i q1 = two ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(b1->qs)) : _mm_setzero_si128();
        const __m512i q = joinHalves(_mm256_broadcastsi128_si256(q0), _mm256_broadcastsi128_si256(q1));
        return _mm512_and_si512(_mm512_srlv_epi16(q, nibbleShiftLanes()), _mm512_set1_epi8(0x0F));
    }
}

template <LegacyKind K, int R, int C>
void tileLegacy(int64_t n, const char* w, size_t wStride, const char* a, size_t aStride, float* out, size_t outStride)
{
    constexpr size_t kBytes = kLegacyBlockBytes<K>;
    const __m512i offset = _mm512_set1_epi8(int8_t(uint8_t(kLegacyOffset<K>)));
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
            acc[r][c] = _mm512_setzero_ps();
    const int64_t blocks = n / kQK;
    for (int64_t i = 0; i < blocks; i += 2) {
        const bool two = i + 1 < blocks;
        // Activation side, shared by every row: levels, -offset * sum(a) per lane, scales.
        __m512i aq[C], base[C];
        __m512 ad[C];
        for (int c = 0; c < C; ++c) {
            const auto* ab = reinterpret_cast<const BlockQ8_0*>(a + c * aStride) + i;
            aq[c] = joinHalves(load256(ab[0].qs), two ? load256(ab[1].qs) : _mm256_setzero_si256());
            base[c] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), offset, aq[c]));
            ad[c] = joinScales(half(ab[0].d), two ? half(ab[1].d) : 0.f);
        }
        for (int r = 0; r < R; ++r) {
            __m512 wd;
            const __m512i wq = legacyLevels<K>(w + r * wStride + size_t(i) * kBytes, two, wd);
            for (int c = 0; c < C; ++c) {
                const __m512i p = _mm512_dpbusd_epi32(base[c], wq, aq[c]);
                acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(wd, ad[c]), acc[r][c]);
            }
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
            out[size_t(c) * outStride + size_t(r)] = hsum(acc[r][c]);
}

// ---- dispatch over tile shapes ------------------------------------------------------------------

template <template <int, int> class Kernel>
constexpr std::array<std::array<TileFn, 4>, 4> shapeTable()
{
    return {{{Kernel<1, 1>::run, Kernel<1, 2>::run, Kernel<1, 3>::run, Kernel<1, 4>::run},
             {Kernel<2, 1>::run, Kernel<2, 2>::run, Kernel<2, 3>::run, Kernel<2, 4>::run},
             {Kernel<3, 1>::run, Kernel<3, 2>::run, Kernel<3, 3>::run, Kernel<3, 4>::run},
             {Kernel<4, 1>::run, Kernel<4, 2>::run, Kernel<4, 3>::run, Kernel<4, 4>::run}}};
}

template <int R, int C> struct Q4_KTile { static constexpr TileFn run = tileQ4K<R, C>; };
template <int R, int C> struct Q6_KTile { static constexpr TileFn run = tileQ6K<R, C>; };
template <int R, int C> struct Q8_0Tile { static constexpr TileFn run = tileLegacy<LegacyKind::Q8_0, R, C>; };
template <int R, int C> struct Q4_0Tile { static constexpr TileFn run = tileLegacy<LegacyKind::Q4_0, R, C>; };

template <template <int, int> class Kernel>
void tileEntry(int64_t n, const void* w, size_t wStride, int nRows, const void* a, size_t aStride, int nCols,
               float* out, size_t outStride)
{
    static constexpr auto table = shapeTable<Kernel>();
    if (nRows <= 0 || nCols <= 0)
        return;
    table[size_t(std::min(nRows, 4) - 1)][size_t(std::min(nCols, 4) - 1)](
        n, static_cast<const char*>(w), wStride, static_cast<const char*>(a), aStride, out, outStride);
}

// Decode's single dot (one weight row, one activation row) for the K-quants: the 1x1 tile. Its
// VPDPBUSD / VPDPWSSD pair does in about 30 instructions per 256-element block what the AVX2 dot
// (maddubs, madd and a broadcast scale per 32 elements) needs about 70 for, which is what kept
// Q4_K decode on one thread below the memory's speed.
template <TileFn Fn>
float tileDot(int64_t n, const void* w, const void* a)
{
    float out = 0.0f;
    Fn(n, static_cast<const char*>(w), 0, static_cast<const char*>(a), 0, &out, 0);
    return out;
}

// F16 weights x activations the matmul widened to F32 once per product (vecDotTileF32Act), 32
// elements a step, the weights converted once per tile row. Each (row, column) pair sums in
// exactly the order of the decode dot (kernels_avx2.cpp floatDot: four 8-lane accumulators over
// 32-element steps, then 8-element steps into the first, the same horizontal sum, then a scalar
// tail): its two zmm accumulators are that dot's four ymm ones side by side. So a product gives
// the same bits at any batch size, and a batch (a prompt, a speculative check) agrees with
// token-by-token decoding instead of tipping near-ties the other way. 4x3: 24 accumulators.
using F16F32Fn = void (*)(int64_t n, const uint16_t* const* wRows, size_t wStride, const float* const* aRows,
                          float* out, size_t outStride);

template <int R, int C>
void f16F32Tile(int64_t n, const uint16_t* const* wRows, size_t wStride, const float* const* aRows, float* out,
                size_t outStride)
{
    // No lambda for the steps: GCC 12 stored lambda-captured accumulators to the stack on every
    // step (half the speed at 16 activation rows).
    __m512 lo[R][C], hi[R][C]; // elements 0-15 and 16-31 of each 32-element step
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
            lo[r][c] = hi[r][c] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 a0[C], a1[C];
        for (int c = 0; c < C; ++c) {
            a0[c] = _mm512_loadu_ps(aRows[c] + i);
            a1[c] = _mm512_loadu_ps(aRows[c] + i + 16);
        }
        for (int r = 0; r < R; ++r) {
            const __m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wRows[r] + i)));
            const __m512 w1 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wRows[r] + i + 16)));
            // The next tile's rows: the hardware prefetchers follow one stream well, not 4
            // interleaved ones, and without this the first tile of a row group waits on DRAM.
            _mm_prefetch(reinterpret_cast<const char*>(wRows[r] + i) + 4 * wStride, _MM_HINT_T0);
            for (int c = 0; c < C; ++c) {
                lo[r][c] = _mm512_fmadd_ps(w0, a0[c], lo[r][c]);
                hi[r][c] = _mm512_fmadd_ps(w1, a1[c], hi[r][c]);
            }
        }
    }
    for (; i + 8 <= n; i += 8) { // into the low 8 lanes only, as the decode dot's first accumulator
        const __mmask16 m = 0x00FF;
        __m512 av[C];
        for (int c = 0; c < C; ++c)
            av[c] = _mm512_maskz_loadu_ps(m, aRows[c] + i);
        for (int r = 0; r < R; ++r) {
            const __m512 wv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, wRows[r] + i));
            for (int c = 0; c < C; ++c)
                lo[r][c] = _mm512_mask3_fmadd_ps(wv, av[c], lo[r][c], m);
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) {
            const __m256 s01 = _mm256_add_ps(_mm512_castps512_ps256(lo[r][c]), _mm512_extractf32x8_ps(lo[r][c], 1));
            const __m256 s23 = _mm256_add_ps(_mm512_castps512_ps256(hi[r][c]), _mm512_extractf32x8_ps(hi[r][c], 1));
            float s = tensor_avx2::hsum(_mm256_add_ps(s01, s23));
            for (int64_t k = i; k < n; ++k)
                s += fp16ToFp32(wRows[r][k]) * aRows[c][k];
            out[size_t(c) * outStride + size_t(r)] = s;
        }
}

template <int R>
constexpr std::array<F16F32Fn, kF32ActTileCols> f16F32Row()
{
    return {f16F32Tile<R, 1>, f16F32Tile<R, 2>, f16F32Tile<R, 3>};
}

void tileF16F32Act(int64_t n, const void* w, size_t wStride, int nRows, const float* a, size_t aStride, int nCols,
                   float* out, size_t outStride)
{
    static constexpr std::array<std::array<F16F32Fn, kF32ActTileCols>, 4> table = {
        f16F32Row<1>(), f16F32Row<2>(), f16F32Row<3>(), f16F32Row<4>()};
    if (nRows <= 0 || nCols <= 0)
        return;
    nRows = std::min(nRows, 4);
    nCols = std::min(nCols, kF32ActTileCols);
    const uint16_t* wRows[4];
    const float* aRows[kF32ActTileCols];
    for (int r = 0; r < nRows; ++r)
        wRows[r] = reinterpret_cast<const uint16_t*>(static_cast<const char*>(w) + size_t(r) * wStride);
    for (int c = 0; c < nCols; ++c)
        aRows[c] = reinterpret_cast<const float*>(reinterpret_cast<const char*>(a) + size_t(c) * aStride);
    table[size_t(nRows - 1)][size_t(nCols - 1)](n, wRows, wStride, aRows, out, outStride);
}

// The largest batch the Q4_0 tile takes before the matmul's GEMM (see gemmMinRows below).
constexpr int kVnniTileMaxRows = 63;

} // namespace

void installAvx512VnniTileKernels(KernelTable& t)
{
    t[int(GGMLType::Q4_K)].vecDotTile = tileEntry<Q4_KTile>;
    t[int(GGMLType::F16)].vecDotTileF32Act = tileF16F32Act;
    // The F16 tile beat the dequantize-to-F32 GEMM up to 64 activation rows and tied or lost
    // at 128 (TinyLlama F16, 2026-12-02, Zen 4: one core 64 vs 52 GFLOP/s at 64 rows, 61 vs 62
    // at 128; two cores 104 vs 89, 99 vs 110); the switch sits halfway. On AVX2 the GEMM already
    // wins at 64 rows, so that level keeps the default threshold.
    t[int(GGMLType::F16)].gemmMinRows = 96;
    t[int(GGMLType::Q8_0)].vecDotTile = tileEntry<Q8_0Tile>;
    t[int(GGMLType::Q4_0)].vecDotTile = tileEntry<Q4_0Tile>;
    t[int(GGMLType::Q6_K)].vecDotTile = tileEntry<Q6_KTile>;
    t[int(GGMLType::Q4_K)].vecDot = tileDot<tileQ4K<1, 1>>;
    t[int(GGMLType::Q6_K)].vecDot = tileDot<tileQ6K<1, 1>>;
    // Q4_K, Q6_K and Q8_0 tiles beat the dequantize-to-F32 GEMM at every batch measured (TinyLlama
    // on a 2-core Zen 5 EPYC: Q4_K 2.5-4x at 8 to 512 rows, pp512 59 vs 30 tokens/s; Q8_0 pp512 46
    // vs 33), so they take every batch size, prompts included: prompt activations are then
    // rounded to 8 bits per block as in decode (and as the reference engine does), which the
    // inference tests bound with their Q8-activation bound. Q4_0's GEMM stayed faster on long
    // prompts (pp512 70 vs 53), so Q4_0 uses its tile up to 63 rows (batched decode, short
    // chunks). Since 2026-12-01 both serve only Q4_0 matrices that are not repacked (rows not a
    // multiple of 8, or TENFOLD_Q4_0_REPACK=0); the rest take the 8-row kernels of
    // repack_q4_0.h at every batch size. TENFOLD_MATMUL_PATH=matvec|gemm pins either path.
    for (GGMLType type : {GGMLType::Q4_K, GGMLType::Q6_K, GGMLType::Q8_0})
        t[int(type)].gemmMinRows = std::numeric_limits<int>::max();
    t[int(GGMLType::Q4_0)].gemmMinRows = kVnniTileMaxRows + 1;
}

} // namespace tenfold
