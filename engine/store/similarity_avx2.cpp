// AVX2/FMA cosine similarities for the semantic response cache (same contract as
// similaritiesReference in response_cache.h): four rows per pass over the query.
#include <immintrin.h>

#include <cstdint>

namespace tenfold {
namespace {

inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

} // namespace

void similaritiesAvx2(const float* q, const float* rows, int64_t nRows, int dim, float* out)
{
    const int vec = dim & ~7;
    int64_t r = 0;
    for (; r + 4 <= nRows; r += 4) {
        const float* a = rows + r * dim;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (int d = 0; d < vec; d += 8) {
            const __m256 qv = _mm256_loadu_ps(q + d);
            s0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(a + d), s0);
            s1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(a + dim + d), s1);
            s2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(a + 2 * dim + d), s2);
            s3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(a + 3 * dim + d), s3);
        }
        float t[4] = {hsum(s0), hsum(s1), hsum(s2), hsum(s3)};
        for (int d = vec; d < dim; ++d)
            for (int k = 0; k < 4; ++k)
                t[k] += q[d] * a[k * dim + d];
        for (int k = 0; k < 4; ++k)
            out[r + k] = t[k];
    }
    for (; r < nRows; ++r) {
        const float* a = rows + r * dim;
        __m256 s = _mm256_setzero_ps();
        for (int d = 0; d < vec; d += 8)
            s = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(a + d), s);
        float t = hsum(s);
        for (int d = vec; d < dim; ++d)
            t += q[d] * a[d];
        out[r] = t;
    }
}

} // namespace tenfold
