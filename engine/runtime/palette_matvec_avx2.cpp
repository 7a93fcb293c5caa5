// AVX2/FMA palette dot product; same contract as paletteRowDotRef (palette_matvec.h).
#include "runtime/palette_matvec.h"

#include "tensor/simd_avx2.h"

#include <cstring>

namespace tenfold::avx2 {

float paletteRowDot(const PaletteWeight& p, int64_t row, const float* x, int64_t n)
{
    const uint8_t* idx = p.indices + size_t(row) * p.indexRowBytes;
    const float* tab = p.palette(row);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t j = 0;
    if (p.bits == 4) {
        const __m256 lo = _mm256_loadu_ps(tab), hi = _mm256_loadu_ps(tab + 8);
        const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
        const __m256i mask = _mm256_set1_epi32(15);
        auto eight = [&](int64_t at) {
            uint32_t packed;
            std::memcpy(&packed, idx + at / 2, 4); // element at + k sits at bits 4k
            const __m256i i = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(int(packed)), shifts), mask);
            const __m256 w = _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, i), _mm256_permutevar8x32_ps(hi, i),
                                              _mm256_castsi256_ps(_mm256_slli_epi32(i, 28)));
            return w;
        };
        for (; j + 16 <= n; j += 16) {
            acc0 = _mm256_fmadd_ps(eight(j), _mm256_loadu_ps(x + j), acc0);
            acc1 = _mm256_fmadd_ps(eight(j + 8), _mm256_loadu_ps(x + j + 8), acc1);
        }
        for (; j + 8 <= n; j += 8)
            acc0 = _mm256_fmadd_ps(eight(j), _mm256_loadu_ps(x + j), acc0);
    } else if (p.bits == 3) {
        // Eight indices fill three bytes exactly (element at + k at bits 3k), so a group of
        // eight starts at byte at * 3 / 8 and the 24 bits are shifted per lane.
        const __m256 t = _mm256_loadu_ps(tab);
        const __m256i shifts = _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21);
        const __m256i mask = _mm256_set1_epi32(7);
        auto eight = [&](int64_t at) {
            // Assembled in registers: a 3-byte memcpy into a 4-byte word went through the stack
            // and stalled on store forwarding (9x slower decode, measured).
            const uint8_t* b = idx + at / 8 * 3;
            const uint32_t packed = uint32_t(b[0]) | (uint32_t(b[1]) << 8) | (uint32_t(b[2]) << 16);
            const __m256i i = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(int(packed)), shifts), mask);
            return _mm256_permutevar8x32_ps(t, i);
        };
        for (; j + 16 <= n; j += 16) {
            acc0 = _mm256_fmadd_ps(eight(j), _mm256_loadu_ps(x + j), acc0);
            acc1 = _mm256_fmadd_ps(eight(j + 8), _mm256_loadu_ps(x + j + 8), acc1);
        }
        for (; j + 8 <= n; j += 8)
            acc0 = _mm256_fmadd_ps(eight(j), _mm256_loadu_ps(x + j), acc0);
    } else if (p.bits == 2) {
        const __m256 t = _mm256_castps128_ps256(_mm_loadu_ps(tab)); // lanes 4-7 never indexed
        const __m256i shifts = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
        const __m256i mask = _mm256_set1_epi32(3);
        for (; j + 8 <= n; j += 8) {
            uint16_t packed;
            std::memcpy(&packed, idx + j / 4, 2);
            const __m256i i = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(int(packed)), shifts), mask);
            acc0 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(t, i), _mm256_loadu_ps(x + j), acc0);
        }
    }
    float sum = tensor_avx2::hsum(_mm256_add_ps(acc0, acc1));
    for (; j < n; ++j)
        sum += tab[paletteIndex(idx, p.bits, j)] * x[j];
    return p.rowScale ? sum * p.rowScale[row] : sum;
}

} // namespace tenfold::avx2
