// AVX2 tile kernels for prompt processing: up to 4 weight rows x 4 activation rows per call.
// Each weight block is loaded (and for quants, unpacked) once and used against every activation
// row of the tile, which cuts weight memory traffic -- the bottleneck of a matrix product -- by
// the number of columns. Results equal per-pair vecDot up to float summation order.
#include "tensor/half.h"
#include "tensor/kernels_impl.h"
#include "tensor/quant_blocks.h"
#include "tensor/simd_avx2.h"

#include <algorithm>
#include <vector>

namespace tenfold {
namespace {
using namespace tensor_avx2;

using TileFn = void (*)(int64_t n, const char* w, size_t wStride, const char* a, size_t aStride, float* out,
                        size_t outStride);

// ---- F16 x F32 (activations widened once per product by the matmul) ---------------------------
// One weight row against up to 3 activation rows, each pair summed in exactly the order of the
// decode dot (kernels_avx2.cpp floatDot: four 8-lane accumulators over 32-element steps, then
// 8-element steps into the first, the same horizontal sum, then a scalar tail), so a batch gives
// the same bits as token-by-token decoding. Per 32 elements: 4 weight conversions for 4C FMAs.
template <int C>
void f16F32Row(int64_t n, const uint16_t* wRow, const float* const* aRows, float* out, size_t outStride)
{
    __m256 acc[C][4];
    for (auto& pair : acc)
        for (auto& v : pair)
            v = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; ++k) {
            const __m256 wv = loadF16(wRow + i + 8 * k);
            for (int c = 0; c < C; ++c)
                acc[c][k] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(aRows[c] + i + 8 * k), acc[c][k]);
        }
    for (; i + 8 <= n; i += 8) {
        const __m256 wv = loadF16(wRow + i);
        for (int c = 0; c < C; ++c)
            acc[c][0] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(aRows[c] + i), acc[c][0]);
    }
    for (int c = 0; c < C; ++c) {
        float s = hsum(_mm256_add_ps(_mm256_add_ps(acc[c][0], acc[c][1]), _mm256_add_ps(acc[c][2], acc[c][3])));
        for (int64_t k = i; k < n; ++k)
            s += fp16ToFp32(wRow[k]) * aRows[c][k];
        out[size_t(c) * outStride] = s;
    }
}

void tileF16F32Act(int64_t n, const void* w, size_t wStride, int nRows, const float* a, size_t aStride, int nCols,
                   float* out, size_t outStride)
{
    static_assert(kF32ActTileCols == 3, "the switch below covers 1 to 3 columns");
    if (nRows <= 0 || nCols <= 0)
        return;
    nCols = std::min(nCols, kF32ActTileCols);
    const float* aRows[kF32ActTileCols];
    for (int c = 0; c < nCols; ++c)
        aRows[c] = reinterpret_cast<const float*>(reinterpret_cast<const char*>(a) + size_t(c) * aStride);
    // 16 ymm registers: 12 accumulators for 3 columns, one weight vector, one activation vector.
    for (int r = 0; r < std::min(nRows, 4); ++r) {
        const auto* wRow = reinterpret_cast<const uint16_t*>(static_cast<const char*>(w) + size_t(r) * wStride);
        switch (nCols) {
        case 1: f16F32Row<1>(n, wRow, aRows, out + r, outStride); break;
        case 2: f16F32Row<2>(n, wRow, aRows, out + r, outStride); break;
        default: f16F32Row<3>(n, wRow, aRows, out + r, outStride); break;
        }
    }
}

// ---- F16 x F16 --------------------------------------------------------------------------------
// The generic tile (F16 activations, up to 4 x 4): the activation rows widened into a per-thread
// buffer, then the tile above. The matmul widens once per product and calls that one directly.
void tileF16(int64_t n, const void* w, size_t wStride, int nRows, const void* a, size_t aStride, int nCols, float* out,
             size_t outStride)
{
    if (nRows <= 0 || nCols <= 0)
        return;
    nCols = std::min(nCols, 4);
    thread_local std::vector<float> wide;
    wide.resize(size_t(n) * size_t(nCols));
    for (int c = 0; c < nCols; ++c) {
        const auto* h = reinterpret_cast<const uint16_t*>(static_cast<const char*>(a) + size_t(c) * aStride);
        float* dst = wide.data() + size_t(c) * size_t(n);
        int64_t i = 0;
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(dst + i, loadF16(h + i));
        for (; i < n; ++i)
            dst[i] = fp16ToFp32(h[i]);
    }
    for (int c0 = 0; c0 < nCols; c0 += kF32ActTileCols)
        tileF16F32Act(n, w, wStride, nRows, wide.data() + size_t(c0) * size_t(n), size_t(n) * sizeof(float),
                      std::min(kF32ActTileCols, nCols - c0), out + size_t(c0) * outStride, outStride);
}

// ---- 32-element block quants x Q8_0 -----------------------------------------------------------
// Signed kinds (Q8_0, Q4_0, Q5_0) unpack to int8 levels; the kinds with an offset (Q4_1, Q5_1)
// unpack to unsigned levels and add m * da * sum(a) per block, with sum(a) computed once per
// activation block and shared by all rows.
enum class LegacyKind { Q8_0, Q4_0, Q5_0, Q4_1, Q5_1 };

template <LegacyKind K>
constexpr bool kHasMin = K == LegacyKind::Q4_1 || K == LegacyKind::Q5_1;

template <LegacyKind K>
constexpr size_t legacyBlockBytes()
{
    switch (K) {
    case LegacyKind::Q8_0: return sizeof(BlockQ8_0);
    case LegacyKind::Q4_0: return sizeof(BlockQ4_0);
    case LegacyKind::Q5_0: return sizeof(BlockQ5_0);
    case LegacyKind::Q4_1: return sizeof(BlockQ4_1);
    default: return sizeof(BlockQ5_1);
    }
}

// Levels of one weight block (int8 for signed kinds, uint8 for kinds with a min), d and m.
template <LegacyKind K>
inline __m256i unpackLegacy(const char* blk, float& d, float& m)
{
    if constexpr (K == LegacyKind::Q8_0) {
        const auto* b = reinterpret_cast<const BlockQ8_0*>(blk);
        d = halfToFloat(b->d);
        return load256(b->qs);
    } else if constexpr (K == LegacyKind::Q4_0) {
        const auto* b = reinterpret_cast<const BlockQ4_0*>(blk);
        d = halfToFloat(b->d);
        return _mm256_sub_epi8(unpackNibbles32(b->qs), _mm256_set1_epi8(8));
    } else if constexpr (K == LegacyKind::Q5_0) {
        const auto* b = reinterpret_cast<const BlockQ5_0*>(blk);
        d = halfToFloat(b->d);
        const __m256i highClear = _mm256_andnot_si256(bitsToBytes(b->qh), _mm256_set1_epi8(int8_t(0xF0)));
        return _mm256_or_si256(unpackNibbles32(b->qs), highClear);
    } else if constexpr (K == LegacyKind::Q4_1) {
        const auto* b = reinterpret_cast<const BlockQ4_1*>(blk);
        d = halfToFloat(b->d);
        m = halfToFloat(b->m);
        return unpackNibbles32(b->qs);
    } else {
        const auto* b = reinterpret_cast<const BlockQ5_1*>(blk);
        d = halfToFloat(b->d);
        m = halfToFloat(b->m);
        return _mm256_or_si256(unpackNibbles32(b->qs), _mm256_and_si256(bitsToBytes(b->qh), _mm256_set1_epi8(0x10)));
    }
}

template <LegacyKind K, int R, int C>
void tileLegacy(int64_t n, const char* w, size_t wStride, const char* a, size_t aStride, float* out, size_t outStride)
{
    constexpr size_t wBlock = legacyBlockBytes<K>();
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
            acc[r][c] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK; ++i) {
        __m256i wq[R];
        __m256 wdv[R], wmv[R];
        for (int r = 0; r < R; ++r) {
            float d, m = 0;
            wq[r] = unpackLegacy<K>(w + r * wStride + size_t(i) * wBlock, d, m);
            wdv[r] = _mm256_set1_ps(d);
            wmv[r] = _mm256_set1_ps(m);
        }
        for (int c = 0; c < C; ++c) {
            const auto* ab = reinterpret_cast<const BlockQ8_0*>(a + c * aStride) + i;
            const __m256i aq = load256(ab->qs);
            const __m256 adv = _mm256_set1_ps(halfToFloat(ab->d));
            if constexpr (kHasMin<K>) {
                const __m256 sumA = _mm256_mul_ps(adv, _mm256_cvtepi32_ps(dotU8I8(_mm256_set1_epi8(1), aq)));
                for (int r = 0; r < R; ++r) {
                    const __m256 p = _mm256_cvtepi32_ps(dotU8I8(wq[r], aq));
                    acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(wdv[r], adv), p, acc[r][c]);
                    acc[r][c] = _mm256_fmadd_ps(wmv[r], sumA, acc[r][c]);
                }
            } else {
                for (int r = 0; r < R; ++r)
                    acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(wdv[r], adv), _mm256_cvtepi32_ps(dotI8I8(wq[r], aq)), acc[r][c]);
            }
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
            out[size_t(c) * outStride + size_t(r)] = hsum(acc[r][c]);
}

// ---- Q4_K / Q5_K / Q6_K x Q8_K -------------------------------------------------------------------
// A weight block unpacked once: unsigned levels in element order, the 16-bit scale vector of each
// 32-element chunk, and what the per-column offset correction needs.
struct UnpackedK {
    alignas(32) uint8_t levels[kQKK];
    __m256i chunkScales[8];
    __m256i groupScales16; // Q6_K: the 16 group scales, for the -32 offset
    uint8_t mins[8];       // Q4_K
    float d, dmin;
};

void unpackQ4K(const BlockQ4_K& b, UnpackedK& u)
{
    const __m256i mask4 = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < 4; ++c) {
        const __m256i q = load256(b.qs + 32 * c);
        _mm256_store_si256(reinterpret_cast<__m256i*>(u.levels + 64 * c), _mm256_and_si256(q, mask4));
        _mm256_store_si256(reinterpret_cast<__m256i*>(u.levels + 64 * c + 32),
                           _mm256_and_si256(_mm256_srli_epi16(q, 4), mask4));
    }
    for (int g = 0; g < 8; ++g) {
        uint8_t sc;
        scaleMinK4(g, b.scales, sc, u.mins[g]);
        u.chunkScales[g] = _mm256_set1_epi16(sc);
    }
    u.d = halfToFloat(b.d);
    u.dmin = halfToFloat(b.dmin);
}

void unpackQ5K(const BlockQ5_K& b, UnpackedK& u)
{
    const __m256i mask4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    const __m256i hb = load256(b.qh);
    for (int c = 0; c < 4; ++c) {
        const __m256i q = load256(b.qs + 32 * c);
        const __m256i hLo = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * c), one), 4);
        const __m256i hHi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * c + 1), one), 4);
        _mm256_store_si256(reinterpret_cast<__m256i*>(u.levels + 64 * c), _mm256_or_si256(_mm256_and_si256(q, mask4), hLo));
        _mm256_store_si256(reinterpret_cast<__m256i*>(u.levels + 64 * c + 32),
                           _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), mask4), hHi));
    }
    for (int g = 0; g < 8; ++g) {
        uint8_t sc;
        scaleMinK4(g, b.scales, sc, u.mins[g]);
        u.chunkScales[g] = _mm256_set1_epi16(sc);
    }
    u.d = halfToFloat(b.d);
    u.dmin = halfToFloat(b.dmin);
}

void unpackQ6K(const BlockQ6_K& b, UnpackedK& u)
{
    const __m256i mask4 = _mm256_set1_epi8(0x0F), mask2 = _mm256_set1_epi8(3);
    for (int half = 0; half < 2; ++half) {
        const __m256i qa = load256(b.ql + 64 * half);
        const __m256i qb = load256(b.ql + 64 * half + 32);
        const __m256i qh = load256(b.qh + 32 * half);
        auto* dst = reinterpret_cast<__m256i*>(u.levels + 128 * half);
        _mm256_store_si256(dst + 0, _mm256_or_si256(_mm256_and_si256(qa, mask4),
                                                    _mm256_slli_epi16(_mm256_and_si256(qh, mask2), 4)));
        _mm256_store_si256(dst + 1, _mm256_or_si256(_mm256_and_si256(qb, mask4),
                                                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), mask2), 4)));
        _mm256_store_si256(dst + 2, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qa, 4), mask4),
                                                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), mask2), 4)));
        _mm256_store_si256(dst + 3, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qb, 4), mask4),
                                                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), mask2), 4)));
    }
    for (int k = 0; k < 8; ++k)
        u.chunkScales[k] = splitBroadcast16(b.scales[2 * k], b.scales[2 * k + 1]);
    u.groupScales16 = _mm256_cvtepi8_epi16(load128(b.scales));
    u.d = halfToFloat(b.d);
    u.dmin = 0;
}

inline __m256i levelDot(const UnpackedK& u, const int8_t* aq, __m256i sumi)
{
    for (int k = 0; k < 8; ++k) {
        const __m256i p = _mm256_maddubs_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(u.levels + 32 * k)),
                                               load256(aq + 32 * k));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, u.chunkScales[k]));
    }
    return sumi;
}

enum class KKind { Q4_K, Q5_K, Q6_K };

template <KKind K, int R, int C>
void tileKQuant(int64_t n, const char* w, size_t wStride, const char* a, size_t aStride, float* out, size_t outStride)
{
    constexpr bool kQ6 = K == KKind::Q6_K;
    const size_t wBlock = kQ6 ? sizeof(BlockQ6_K) : K == KKind::Q5_K ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
    __m256 acc[R][C];
    float minSum[R][C] = {};
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
            acc[r][c] = _mm256_setzero_ps();
    UnpackedK u[R];
    for (int64_t i = 0; i < n / kQKK; ++i) {
        for (int r = 0; r < R; ++r) {
            const char* blk = w + r * wStride + size_t(i) * wBlock;
            if constexpr (kQ6)
                unpackQ6K(*reinterpret_cast<const BlockQ6_K*>(blk), u[r]);
            else if constexpr (K == KKind::Q5_K)
                unpackQ5K(*reinterpret_cast<const BlockQ5_K*>(blk), u[r]);
            else
                unpackQ4K(*reinterpret_cast<const BlockQ4_K*>(blk), u[r]);
        }
        for (int c = 0; c < C; ++c) {
            const auto* ab = reinterpret_cast<const BlockQ8_K*>(a + c * aStride) + i;
            for (int r = 0; r < R; ++r) {
                __m256i sumi = _mm256_setzero_si256();
                if constexpr (kQ6) // levels are stored +32
                    sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(_mm256_madd_epi16(u[r].groupScales16, load256(ab->bsums)), 5));
                sumi = levelDot(u[r], ab->qs, sumi);
                acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(ab->d * u[r].d), _mm256_cvtepi32_ps(sumi), acc[r][c]);
                if constexpr (!kQ6) {
                    int m = 0;
                    for (int g = 0; g < 8; ++g)
                        m += u[r].mins[g] * (ab->bsums[2 * g] + ab->bsums[2 * g + 1]);
                    minSum[r][c] += ab->d * u[r].dmin * float(m);
                }
            }
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
            out[size_t(c) * outStride + size_t(r)] = hsum(acc[r][c]) - minSum[r][c];
}

// ---- dispatch over tile shapes ----------------------------------------------------------------

template <template <int, int> class Kernel, int MaxC>
struct ShapeTable {
    TileFn fns[4][MaxC];
    constexpr ShapeTable() : fns{}
    {
        fill<1>();
    }
    template <int R>
    constexpr void fill()
    {
        fillC<R, 1>();
        if constexpr (R < 4)
            fill<R + 1>();
    }
    template <int R, int C>
    constexpr void fillC()
    {
        fns[R - 1][C - 1] = Kernel<R, C>::run;
        if constexpr (C < MaxC)
            fillC<R, C + 1>();
    }
};

template <int R, int C> struct Q8_0Kernel { static constexpr TileFn run = tileLegacy<LegacyKind::Q8_0, R, C>; };
template <int R, int C> struct Q4_0Kernel { static constexpr TileFn run = tileLegacy<LegacyKind::Q4_0, R, C>; };
template <int R, int C> struct Q5_0Kernel { static constexpr TileFn run = tileLegacy<LegacyKind::Q5_0, R, C>; };
template <int R, int C> struct Q4_1Kernel { static constexpr TileFn run = tileLegacy<LegacyKind::Q4_1, R, C>; };
template <int R, int C> struct Q5_1Kernel { static constexpr TileFn run = tileLegacy<LegacyKind::Q5_1, R, C>; };
template <int R, int C> struct Q4_KKernel { static constexpr TileFn run = tileKQuant<KKind::Q4_K, R, C>; };
template <int R, int C> struct Q5_KKernel { static constexpr TileFn run = tileKQuant<KKind::Q5_K, R, C>; };
template <int R, int C> struct Q6_KKernel { static constexpr TileFn run = tileKQuant<KKind::Q6_K, R, C>; };

// Splits the requested columns into pieces of at most MaxC (register budget of the kernel).
template <template <int, int> class Kernel, int MaxC>
void tileEntry(int64_t n, const void* w, size_t wStride, int nRows, const void* a, size_t aStride, int nCols,
               float* out, size_t outStride)
{
    static constexpr ShapeTable<Kernel, MaxC> table;
    if (nRows <= 0 || nCols <= 0)
        return;
    nRows = std::min(nRows, 4);
    nCols = std::min(nCols, 4);
    for (int c0 = 0; c0 < nCols; c0 += MaxC) {
        const int cols = std::min(MaxC, nCols - c0);
        table.fns[nRows - 1][cols - 1](n, static_cast<const char*>(w), wStride,
                                       static_cast<const char*>(a) + size_t(c0) * aStride, aStride,
                                       out + size_t(c0) * outStride, outStride);
    }
}

} // namespace

void installAvx2TileKernels(KernelTable& t)
{
    t[int(GGMLType::F16)].vecDotTile = tileF16;
    t[int(GGMLType::F16)].vecDotTileF32Act = tileF16F32Act;
    t[int(GGMLType::Q8_0)].vecDotTile = tileEntry<Q8_0Kernel, 2>;
    t[int(GGMLType::Q4_0)].vecDotTile = tileEntry<Q4_0Kernel, 2>;
    t[int(GGMLType::Q5_0)].vecDotTile = tileEntry<Q5_0Kernel, 2>;
    t[int(GGMLType::Q4_1)].vecDotTile = tileEntry<Q4_1Kernel, 2>;
    t[int(GGMLType::Q5_1)].vecDotTile = tileEntry<Q5_1Kernel, 2>;
    t[int(GGMLType::Q4_K)].vecDotTile = tileEntry<Q4_KKernel, 4>;
    t[int(GGMLType::Q5_K)].vecDotTile = tileEntry<Q5_KKernel, 4>;
    t[int(GGMLType::Q6_K)].vecDotTile = tileEntry<Q6_KKernel, 4>;
}

} // namespace tenfold
