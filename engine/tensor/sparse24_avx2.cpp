// The 2:4 F16 mat-vec with AVX2 (compiled with -mavx2 -mfma -mf16c; entered only when the CPU has
// them). Four groups (16 columns, 8 values) per step: the two code bytes index a table of lane
// permutations that pull each group's two x elements out of an 8-float load, a blend joins the
// halves, and one FMA multiplies them with the 8 values converted from F16.
#include "tensor/sparse24.h"

#include <immintrin.h>

#include <array>

namespace tenfold {
namespace {

struct PermTable {
    alignas(32) int32_t idx[256][8];
    PermTable()
    {
        for (int b = 0; b < 256; ++b) {
            const int lo = b & 15, hi = b >> 4;
            const int lanes[4] = {lo & 3, lo >> 2, 4 + (hi & 3), 4 + (hi >> 2)};
            for (int i = 0; i < 4; ++i)
                idx[b][i] = idx[b][i + 4] = lanes[i];
        }
    }
};

const PermTable& table()
{
    static const PermTable t;
    return t;
}

inline float hsum(__m256 v)
{
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 h = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
}

} // namespace

void sparse24MatVecAvx2(const Sparse24F16& w, const float* x, float* y, int64_t r0, int64_t r1)
{
    const PermTable& t = table();
    const int64_t cols = w.cols, steps = cols / 16;
    for (int64_t r = r0; r < r1; ++r) {
        const uint16_t* v = w.values.data() + r * cols / 2;
        const uint8_t* c = w.codes.data() + r * cols / 8;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        int64_t k = 0;
        for (; k + 1 < steps; k += 2) {
            const __m256 a0 = _mm256_permutevar8x32_ps(
                _mm256_loadu_ps(x + 16 * k), _mm256_load_si256(reinterpret_cast<const __m256i*>(t.idx[c[2 * k]])));
            const __m256 b0 = _mm256_permutevar8x32_ps(
                _mm256_loadu_ps(x + 16 * k + 8), _mm256_load_si256(reinterpret_cast<const __m256i*>(t.idx[c[2 * k + 1]])));
            const __m256 v0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + 8 * k)));
            acc0 = _mm256_fmadd_ps(v0, _mm256_blend_ps(a0, b0, 0xF0), acc0);
            const __m256 a1 = _mm256_permutevar8x32_ps(
                _mm256_loadu_ps(x + 16 * k + 16), _mm256_load_si256(reinterpret_cast<const __m256i*>(t.idx[c[2 * k + 2]])));
            const __m256 b1 = _mm256_permutevar8x32_ps(
                _mm256_loadu_ps(x + 16 * k + 24), _mm256_load_si256(reinterpret_cast<const __m256i*>(t.idx[c[2 * k + 3]])));
            const __m256 v1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + 8 * k + 8)));
            acc1 = _mm256_fmadd_ps(v1, _mm256_blend_ps(a1, b1, 0xF0), acc1);
        }
        for (; k < steps; ++k) {
            const __m256 a0 = _mm256_permutevar8x32_ps(
                _mm256_loadu_ps(x + 16 * k), _mm256_load_si256(reinterpret_cast<const __m256i*>(t.idx[c[2 * k]])));
            const __m256 b0 = _mm256_permutevar8x32_ps(
                _mm256_loadu_ps(x + 16 * k + 8), _mm256_load_si256(reinterpret_cast<const __m256i*>(t.idx[c[2 * k + 1]])));
            const __m256 v0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + 8 * k)));
            acc0 = _mm256_fmadd_ps(v0, _mm256_blend_ps(a0, b0, 0xF0), acc0);
        }
        float sum = hsum(_mm256_add_ps(acc0, acc1));
        if (cols % 16) { // the last 8 columns: two groups, one code byte
            const int64_t g = cols / 4 - 2;
            const unsigned b = c[g / 2];
            const float* xs = x + 4 * g;
            const uint16_t* vs = v + 2 * g;
            const float vals[4] = {_cvtsh_ss(vs[0]), _cvtsh_ss(vs[1]), _cvtsh_ss(vs[2]), _cvtsh_ss(vs[3])};
            sum += vals[0] * xs[b & 3] + vals[1] * xs[(b >> 2) & 3] + vals[2] * xs[4 + ((b >> 4) & 3)] +
                   vals[3] * xs[4 + (b >> 6)];
        }
        y[r] = sum;
    }
}

} // namespace tenfold
