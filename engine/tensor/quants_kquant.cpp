// Scalar reference dequantizers and round-to-nearest quantizers for the K-quants (super-blocks of
// 256) and Q8_K. Element order and scale packing follow quant_blocks.h (ggml's layouts); the
// quantizers mirror ggml's reference ones (no importance matrix), built on quant_search.h.
#include "tensor/half.h"
#include "tensor/kernels_impl.h"
#include "tensor/quant_blocks.h"
#include "tensor/quant_search.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tenfold::ref {
namespace {

constexpr float kGroupMaxEps = 1e-15f;

// Writes 6-bit scale/min pairs for the 8 groups of a Q4_K / Q5_K block (inverse of scaleMinK4).
void packScaleMinK4(const uint8_t scale[8], const uint8_t min[8], uint8_t out[12])
{
    for (int j = 0; j < 8; ++j) {
        const uint8_t ls = scale[j], lm = min[j];
        if (j < 4) {
            out[j] = ls;
            out[j + 4] = lm;
        } else {
            out[j + 4] = uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
            out[j - 4] |= uint8_t((ls >> 4) << 6);
            out[j] |= uint8_t((lm >> 4) << 6);
        }
    }
}

// Shared first half of Q4_K / Q5_K: per group of 32, a weighted scale/min search (weights favour
// large elements: rms + |x|), then the 8 scales and mins are quantized to 6 bits against the
// block's largest. Fills scales/d/dmin and the final levels L (0..nmax) re-derived from the
// stored, rounded scales. With an importance matrix (256 column weights) the search weighs
// element l by importance[l] * sqrt(sigma^2 + x_l^2), sigma^2 twice the block's mean square, as
// the reference engine's calibrated K-quants do.
void quantizeScaleMinBlock(const float* x, int nmax, float rmin, int nstep, uint8_t packed[12], uint16_t& dOut,
                           uint16_t& dminOut, uint8_t L[kQKK], const float* importance = nullptr)
{
    float scales[8], mins[8], weights[32];
    float maxScale = 0, maxMin = 0;
    float sigma2 = 0;
    if (importance) {
        for (int l = 0; l < kQKK; ++l)
            sigma2 += x[l] * x[l];
        sigma2 = 2 * sigma2 / kQKK;
    }
    for (int j = 0; j < 8; ++j) {
        const float* g = x + 32 * j;
        float sumX2 = 0;
        for (int l = 0; l < 32; ++l)
            sumX2 += g[l] * g[l];
        const float avX = std::sqrt(sumX2 / 32);
        for (int l = 0; l < 32; ++l)
            weights[l] = importance ? importance[32 * j + l] * std::sqrt(sigma2 + g[l] * g[l]) : avX + std::fabs(g[l]);
        scales[j] = quant::searchScaleMin(32, nmax, g, weights, L + 32 * j, &mins[j], rmin, 0.1f, nstep, false);
        maxScale = std::max(maxScale, scales[j]);
        maxMin = std::max(maxMin, mins[j]);
    }
    const float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
    const float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
        ls[j] = uint8_t(std::min(63, nearestInt(invScale * scales[j])));
        lm[j] = uint8_t(std::min(63, nearestInt(invMin * mins[j])));
    }
    std::memset(packed, 0, 12);
    packScaleMinK4(ls, lm, packed);
    dOut = fp32ToFp16(maxScale / 63.f);
    dminOut = fp32ToFp16(maxMin / 63.f);

    const float d = fp16ToFp32(dOut), dmin = fp16ToFp32(dminOut);
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        scaleMinK4(j, packed, sc, m);
        const float dl = d * float(sc);
        if (dl == 0)
            continue; // keep the search's levels; they multiply a zero scale anyway
        const float ml = dmin * float(m);
        for (int l = 0; l < 32; ++l)
            L[32 * j + l] = uint8_t(std::clamp(nearestInt((x[32 * j + l] + ml) / dl), 0, nmax));
    }
}

} // namespace

// ---- Q2_K -------------------------------------------------------------------------------------

void dequantizeQ2_K(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ2_K*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = fp16ToFp32(b[i].d), dmin = fp16ToFp32(b[i].dmin);
        const uint8_t* q = b[i].qs;
        int g = 0;
        for (int half = 0; half < 2; ++half, q += 32)
            for (int shift = 0; shift < 8; shift += 2)
                for (int part = 0; part < 2; ++part, ++g) {
                    const float dl = d * float(b[i].scales[g] & 0xF);
                    const float ml = dmin * float(b[i].scales[g] >> 4);
                    for (int l = 0; l < 16; ++l)
                        *dst++ = dl * float((q[l + 16 * part] >> shift) & 3) - ml;
                }
    }
}

void quantizeQ2_K(const float* src, void* dst, int64_t n)
{
    auto* b = static_cast<BlockQ2_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        uint8_t L[kQKK];
        float scales[16], mins[16], weights[16];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 16; ++j) {
            for (int l = 0; l < 16; ++l)
                weights[l] = std::fabs(src[16 * j + l]);
            scales[j] = quant::searchScaleMin(16, 3, src + 16 * j, weights, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, true);
            maxScale = std::max(maxScale, scales[j]);
            maxMin = std::max(maxMin, mins[j]);
        }
        // 4-bit scales and mins relative to the block's largest
        std::memset(b[i].scales, 0, 16);
        b[i].d = fp32ToFp16(0.f);
        b[i].dmin = fp32ToFp16(0.f);
        if (maxScale > 0) {
            const float iscale = 15.f / maxScale;
            for (int j = 0; j < 16; ++j)
                b[i].scales[j] = uint8_t(nearestInt(iscale * scales[j]));
            b[i].d = fp32ToFp16(maxScale / 15.f);
        }
        if (maxMin > 0) {
            const float iscale = 15.f / maxMin;
            for (int j = 0; j < 16; ++j)
                b[i].scales[j] |= uint8_t(nearestInt(iscale * mins[j]) << 4);
            b[i].dmin = fp32ToFp16(maxMin / 15.f);
        }
        const float d = fp16ToFp32(b[i].d), dmin = fp16ToFp32(b[i].dmin);
        for (int j = 0; j < 16; ++j) {
            const float dl = d * float(b[i].scales[j] & 0xF);
            if (dl == 0)
                continue;
            const float ml = dmin * float(b[i].scales[j] >> 4);
            for (int l = 0; l < 16; ++l)
                L[16 * j + l] = uint8_t(std::clamp(nearestInt((src[16 * j + l] + ml) / dl), 0, 3));
        }
        for (int half = 0; half < 2; ++half)
            for (int l = 0; l < 32; ++l) {
                const uint8_t* h = L + 128 * half;
                b[i].qs[32 * half + l] = uint8_t(h[l] | (h[l + 32] << 2) | (h[l + 64] << 4) | (h[l + 96] << 6));
            }
    }
}

// ---- Q3_K -------------------------------------------------------------------------------------

void dequantizeQ3_K(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ3_K*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = fp16ToFp32(b[i].d);
        int8_t sc[16];
        unpackQ3KScales(b[i].scales, sc);
        const uint8_t* q = b[i].qs;
        uint8_t hbit = 1;
        int g = 0;
        for (int half = 0; half < 2; ++half, q += 32)
            for (int shift = 0; shift < 8; shift += 2, hbit = uint8_t(hbit << 1))
                for (int part = 0; part < 2; ++part, ++g) {
                    const float dl = d * float(sc[g]);
                    for (int l = 16 * part; l < 16 * part + 16; ++l) {
                        const int v = ((q[l] >> shift) & 3) - ((b[i].hmask[l] & hbit) ? 0 : 4);
                        *dst++ = dl * float(v);
                    }
                }
    }
}

void quantizeQ3_K(const float* src, void* dst, int64_t n)
{
    auto* b = static_cast<BlockQ3_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        int8_t L[kQKK];
        float scales[16];
        float maxScale = 0, amax = 0;
        for (int j = 0; j < 16; ++j) {
            scales[j] = quant::searchScaleQ3(16, 4, src + 16 * j, L + 16 * j);
            if (std::fabs(scales[j]) > amax) {
                amax = std::fabs(scales[j]);
                maxScale = scales[j];
            }
        }
        std::memset(b[i].scales, 0, 12);
        if (maxScale != 0) {
            // signed 6-bit scales; the signed extreme maps to -32
            const float iscale = -32.f / maxScale;
            for (int j = 0; j < 16; ++j) {
                const int l = std::clamp(nearestInt(iscale * scales[j]), -32, 31) + 32;
                if (j < 8)
                    b[i].scales[j] = uint8_t(l & 0xF);
                else
                    b[i].scales[j - 8] |= uint8_t((l & 0xF) << 4);
                b[i].scales[8 + j % 4] |= uint8_t((l >> 4) << (2 * (j / 4)));
            }
            b[i].d = fp32ToFp16(1 / iscale);
        } else {
            b[i].d = fp32ToFp16(0.f);
        }
        int8_t sc[16];
        unpackQ3KScales(b[i].scales, sc);
        const float d = fp16ToFp32(b[i].d);
        for (int j = 0; j < 16; ++j) {
            const float dl = d * float(sc[j]);
            if (dl == 0)
                continue;
            for (int l = 0; l < 16; ++l)
                L[16 * j + l] = int8_t(std::clamp(nearestInt(src[16 * j + l] / dl), -4, 3) + 4);
        }
        // high bit of element e goes to bit e/32 of hmask[e%32]
        std::memset(b[i].hmask, 0, 32);
        for (int e = 0; e < kQKK; ++e)
            if (L[e] > 3) {
                b[i].hmask[e % 32] |= uint8_t(1u << (e / 32));
                L[e] = int8_t(L[e] - 4);
            }
        for (int half = 0; half < 2; ++half)
            for (int l = 0; l < 32; ++l) {
                const int8_t* h = L + 128 * half;
                b[i].qs[32 * half + l] = uint8_t(h[l] | (h[l + 32] << 2) | (h[l + 64] << 4) | (h[l + 96] << 6));
            }
    }
}

// ---- Q4_K -------------------------------------------------------------------------------------

void dequantizeQ4_K(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ4_K*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = fp16ToFp32(b[i].d), dmin = fp16ToFp32(b[i].dmin);
        for (int chunk = 0; chunk < 4; ++chunk) {
            const uint8_t* q = b[i].qs + 32 * chunk;
            for (int part = 0; part < 2; ++part) {
                uint8_t sc, m;
                scaleMinK4(2 * chunk + part, b[i].scales, sc, m);
                const float dl = d * float(sc), ml = dmin * float(m);
                for (int l = 0; l < 32; ++l)
                    *dst++ = dl * float(part ? (q[l] >> 4) : (q[l] & 0xF)) - ml;
            }
        }
    }
}

void quantizeQ4_K(const float* src, void* dst, int64_t n) { quantizeQ4_KWeighted(src, dst, n, nullptr); }

void quantizeQ4_KWeighted(const float* src, void* dst, int64_t n, const float* importance)
{
    auto* b = static_cast<BlockQ4_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        uint8_t L[kQKK];
        quantizeScaleMinBlock(src, 15, -1.f, 20, b[i].scales, b[i].d, b[i].dmin, L,
                              importance ? importance + i * kQKK : nullptr);
        for (int chunk = 0; chunk < 4; ++chunk)
            for (int l = 0; l < 32; ++l)
                b[i].qs[32 * chunk + l] = uint8_t(L[64 * chunk + l] | (L[64 * chunk + l + 32] << 4));
    }
}

// ---- Q5_K -------------------------------------------------------------------------------------

void dequantizeQ5_K(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ5_K*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = fp16ToFp32(b[i].d), dmin = fp16ToFp32(b[i].dmin);
        for (int chunk = 0; chunk < 4; ++chunk) {
            const uint8_t* q = b[i].qs + 32 * chunk;
            for (int part = 0; part < 2; ++part) {
                const int group = 2 * chunk + part;
                uint8_t sc, m;
                scaleMinK4(group, b[i].scales, sc, m);
                const float dl = d * float(sc), ml = dmin * float(m);
                for (int l = 0; l < 32; ++l) {
                    const int low = part ? (q[l] >> 4) : (q[l] & 0xF);
                    const int high = (b[i].qh[l] >> group) & 1;
                    *dst++ = dl * float(low | (high << 4)) - ml;
                }
            }
        }
    }
}

void quantizeQ5_K(const float* src, void* dst, int64_t n) { quantizeQ5_KWeighted(src, dst, n, nullptr); }

void quantizeQ5_KWeighted(const float* src, void* dst, int64_t n, const float* importance)
{
    auto* b = static_cast<BlockQ5_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        uint8_t L[kQKK];
        quantizeScaleMinBlock(src, 31, -0.5f, 15, b[i].scales, b[i].d, b[i].dmin, L,
                              importance ? importance + i * kQKK : nullptr);
        std::memset(b[i].qh, 0, 32);
        for (int chunk = 0; chunk < 4; ++chunk)
            for (int l = 0; l < 32; ++l) {
                const int lo = L[64 * chunk + l], hi = L[64 * chunk + l + 32];
                b[i].qs[32 * chunk + l] = uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
                b[i].qh[l] |= uint8_t(((lo >> 4) << (2 * chunk)) | ((hi >> 4) << (2 * chunk + 1)));
            }
    }
}

// ---- Q6_K -------------------------------------------------------------------------------------

void dequantizeQ6_K(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ6_K*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = fp16ToFp32(b[i].d);
        for (int half = 0; half < 2; ++half, dst += 128) {
            const uint8_t* ql = b[i].ql + 64 * half;
            const uint8_t* qh = b[i].qh + 32 * half;
            const int8_t* sc = b[i].scales + 8 * half;
            for (int l = 0; l < 32; ++l) {
                const int g = l / 16;
                const int q0 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q1 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                dst[l] = d * float(sc[g]) * float(q0);
                dst[l + 32] = d * float(sc[g + 2]) * float(q1);
                dst[l + 64] = d * float(sc[g + 4]) * float(q2);
                dst[l + 96] = d * float(sc[g + 6]) * float(q3);
            }
        }
    }
}

void quantizeQ6_K(const float* src, void* dst, int64_t n)
{
    auto* b = static_cast<BlockQ6_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        int8_t L[kQKK];
        float scales[16];
        float maxScale = 0, maxAbsScale = 0;
        for (int g = 0; g < 16; ++g) {
            scales[g] = quant::searchScaleSymmetric(16, 32, src + 16 * g, L + 16 * g);
            if (std::fabs(scales[g]) > maxAbsScale) {
                maxAbsScale = std::fabs(scales[g]);
                maxScale = scales[g];
            }
        }
        if (maxAbsScale < kGroupMaxEps) {
            std::memset(&b[i], 0, sizeof(BlockQ6_K));
            continue;
        }
        // signed 8-bit scales; the signed extreme maps to -128
        const float iscale = -128.f / maxScale;
        b[i].d = fp32ToFp16(1 / iscale);
        for (int g = 0; g < 16; ++g)
            b[i].scales[g] = int8_t(std::min(127, nearestInt(iscale * scales[g])));
        const float d = fp16ToFp32(b[i].d);
        for (int g = 0; g < 16; ++g) {
            const float dl = d * float(b[i].scales[g]);
            if (dl == 0)
                continue;
            for (int l = 0; l < 16; ++l)
                L[16 * g + l] = int8_t(std::clamp(nearestInt(src[16 * g + l] / dl), -32, 31) + 32);
        }
        for (int half = 0; half < 2; ++half) {
            const int8_t* h = L + 128 * half;
            uint8_t* ql = b[i].ql + 64 * half;
            uint8_t* qh = b[i].qh + 32 * half;
            for (int l = 0; l < 32; ++l) {
                ql[l] = uint8_t((h[l] & 0xF) | ((h[l + 64] & 0xF) << 4));
                ql[l + 32] = uint8_t((h[l + 32] & 0xF) | ((h[l + 96] & 0xF) << 4));
                qh[l] = uint8_t((h[l] >> 4) | ((h[l + 32] >> 4) << 2) | ((h[l + 64] >> 4) << 4) | ((h[l + 96] >> 4) << 6));
            }
        }
    }
}

// ---- Q8_K -------------------------------------------------------------------------------------

void dequantizeQ8_K(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ8_K*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i)
        for (int j = 0; j < kQKK; ++j)
            *dst++ = b[i].d * float(b[i].qs[j]);
}

void quantizeQ8_K(const float* src, void* dst, int64_t n)
{
    auto* b = static_cast<BlockQ8_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        float max = 0, amax = 0;
        for (int j = 0; j < kQKK; ++j)
            if (std::fabs(src[j]) > amax) {
                amax = std::fabs(src[j]);
                max = src[j];
            }
        if (amax == 0) {
            std::memset(&b[i], 0, sizeof(BlockQ8_K));
            continue;
        }
        // the signed extreme maps to -127 (ggml's choice; keeps results bit-compatible)
        const float iscale = -127.f / max;
        for (int j = 0; j < kQKK; ++j)
            b[i].qs[j] = int8_t(std::min(127, nearestInt(iscale * src[j])));
        for (int g = 0; g < 16; ++g) {
            int sum = 0;
            for (int l = 0; l < 16; ++l)
                sum += b[i].qs[16 * g + l];
            b[i].bsums[g] = int16_t(sum);
        }
        b[i].d = 1 / iscale;
    }
}

} // namespace tenfold::ref
