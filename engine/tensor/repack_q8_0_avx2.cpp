// Q8_0 products over the 8-row interleaved layout (repack_q8_0.h) with AVX2. Lane r of every
// vector is row r: per 32-weight block, eight 32-byte loads give the 8 rows' quants, each meets the
// activation's 4 bytes broadcast to every lane through vpmaddubsw as |w| x (a with w's sign) (two
// products of at most 128 * 127 stay inside int16), and one vpmaddwd with ones makes each lane's
// int32 sum. The 8 scales convert in one vcvtph2ps; no horizontal sums, one weight stream. A
// block's loads serve up to 4 activation rows.
#include "tensor/repack_q8_0.h"
#include "tensor/repack_q4_0_terms.h"

#include <immintrin.h>

namespace tenfold::avx2 {
namespace {

template <int NC>
void groupCols(int64_t blocks, const BlockQ8_0x8* w, const BlockQ8_0* const* act, const Rows8Terms& terms, int c0,
               float* out, size_t outStride)
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[NC];
    for (int c = 0; c < NC; ++c)
        acc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
        __m256i s[NC];
        for (int c = 0; c < NC; ++c)
            s[c] = _mm256_setzero_si256();
        for (int k = 0; k < 8; ++k) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs + 32 * k));
            const __m256i qa = _mm256_sign_epi8(q, q); // |w| (|-128| reads as 128 unsigned)
            for (int c = 0; c < NC; ++c) {
                const __m256i a4 = _mm256_set1_epi32(loadI32(act[c][b].qs + 4 * k));
                const __m256i p = _mm256_maddubs_epi16(qa, _mm256_sign_epi8(a4, q));
                s[c] = _mm256_add_epi32(s[c], _mm256_madd_epi16(p, ones));
            }
        }
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].d)));
        for (int c = 0; c < NC; ++c)
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(terms.scale(c0 + c, b))), _mm256_cvtepi32_ps(s[c]),
                                     acc[c]);
    }
    for (int c = 0; c < NC; ++c)
        _mm256_storeu_ps(out + size_t(c) * outStride, acc[c]);
}

} // namespace

void rowsQ8_0x8(int64_t n, const void* w8, int nGroups, const void* a, size_t aStride, int nCols, float* out,
                size_t outStride)
{
    forEachRows8Tile<BlockQ8_0x8, 0, groupCols<1>, groupCols<2>, groupCols<3>, groupCols<4>>(n, w8, nGroups, a, aStride,
                                                                                          nCols, out, outStride);
}

} // namespace tenfold::avx2
