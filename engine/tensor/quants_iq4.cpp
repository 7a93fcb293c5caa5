// Scalar reference kernels for IQ4_NL and IQ4_XS (quant_iq4.h): dequantizers, the scale-searching
// quantizers (importance-weighted or not) and the dot products with Q8_0 (IQ4_NL) and Q8_K
// (IQ4_XS) activations. The quantizer's float operations are kept in the order the format's
// reference quantizer uses, so that the same float input gives the same bytes.
#include "core/error.h"
#include "tensor/half.h"
#include "tensor/kernels_impl.h"
#include "tensor/quant_blocks.h"
#include "tensor/quant_iq4.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tenfold {
namespace quant {

int nearestIQ4Index(float x)
{
    if (x <= float(kIQ4Values[0]))
        return 0;
    if (x >= float(kIQ4Values[15]))
        return 15;
    int below = 0, above = 15; // kIQ4Values[below] <= x < kIQ4Values[above]
    while (above - below > 1) {
        const int mid = (below + above) / 2;
        if (x < float(kIQ4Values[mid]))
            above = mid;
        else
            below = mid;
    }
    return x - float(kIQ4Values[below]) < float(kIQ4Values[above]) - x ? below : above;
}

namespace {

constexpr float kGroupMaxEps = 1e-15f; // a sub-block this small is all zeros
constexpr int kSearchSteps = 7;        // scales tried on each side of the table's end

// Weighted fit of x ~ scale * kIQ4Values[idx(x * inverse)]: returns sum w x q and sum w q^2.
struct Fit {
    float sumQX = 0, sumQ2 = 0;
};
Fit fitAt(const float* x, const float* w, float inverse)
{
    Fit f;
    for (int j = 0; j < kQK; ++j) {
        const float q = float(kIQ4Values[nearestIQ4Index(inverse * x[j])]);
        f.sumQX += w[j] * q * x[j];
        f.sumQ2 += w[j] * q * q;
    }
    return f;
}

// The searched scale of one 32-element sub-block under weights w (0 for a zero sub-block).
float searchSubScale(const float* x, const float* w)
{
    float amax = 0, extreme = 0; // the first element of largest magnitude, with its sign
    for (int j = 0; j < kQK; ++j)
        if (std::fabs(x[j]) > amax) {
            amax = std::fabs(x[j]);
            extreme = x[j];
        }
    if (amax < kGroupMaxEps)
        return 0.f;
    // Start: the extreme on +127 (beyond the top level 113, so it clips), then least squares.
    const float start = -extreme / float(kIQ4Values[0]);
    Fit f = fitAt(x, w, 1 / start);
    float scale = f.sumQX / f.sumQ2;
    float best = scale * f.sumQX; // the fit's gain sum(w x q)^2 / sum(w q^2); larger is better
    // Then the extreme on -(127 - step) for step in [-7, 7]: the table's long negative end.
    for (int step = -kSearchSteps; step <= kSearchSteps; ++step) {
        f = fitAt(x, w, float(step + kIQ4Values[0]) / extreme);
        if (f.sumQ2 > 0 && f.sumQX * f.sumQX > best * f.sumQ2) {
            scale = f.sumQX / f.sumQ2;
            best = scale * f.sumQX;
        }
    }
    return scale;
}

// Per-element weights of one sub-block: x^2 without an importance matrix, else
// importance * sqrt(sigma2 + x^2).
void subBlockWeights(const float* x, const float* importance, float sigma2, float* w)
{
    for (int j = 0; j < kQK; ++j)
        w[j] = importance ? importance[j] * std::sqrt(sigma2 + x[j] * x[j]) : x[j] * x[j];
}

float twiceMeanSquare(const float* x, int n)
{
    float sum = 0;
    for (int j = 0; j < n; ++j)
        sum += x[j] * x[j];
    return sum * (2.f / float(n));
}

void packIndices(const uint8_t* L, uint8_t* qs)
{
    for (int j = 0; j < kQK / 2; ++j)
        qs[j] = uint8_t(L[j] | (L[j + 16] << 4));
}

void assignIndices(const float* x, float inverse, uint8_t* L)
{
    for (int j = 0; j < kQK; ++j)
        L[j] = uint8_t(nearestIQ4Index(inverse * x[j]));
}

void quantizeBlockNL(const float* x, const float* importance, BlockIQ4_NL& b)
{
    float w[kQK];
    subBlockWeights(x, importance, importance ? twiceMeanSquare(x, kQK) : 0.f, w);
    const float scale = searchSubScale(x, w);
    b.d = fp32ToFp16(scale);
    uint8_t L[kQK];
    assignIndices(x, scale != 0 ? 1 / scale : 0.f, L); // with the unrounded scale
    packIndices(L, b.qs);
}

void quantizeBlockXS(const float* x, const float* importance, BlockIQ4_XS& b)
{
    const float sigma2 = importance ? twiceMeanSquare(x, kQKK) : 0.f;
    float scales[8], w[kQK];
    float largest = 0, largestAbs = 0; // the sub-scale of largest magnitude, with its sign
    for (int s = 0; s < 8; ++s) {
        subBlockWeights(x + kQK * s, importance ? importance + kQK * s : nullptr, sigma2, w);
        scales[s] = searchSubScale(x + kQK * s, w);
        if (std::fabs(scales[s]) > largestAbs) {
            largestAbs = std::fabs(scales[s]);
            largest = scales[s];
        }
    }
    // 6-bit sub-scales: the largest maps to -32 (so d takes the opposite sign), the rest in [-32, 31].
    const float d = -largest / 32;
    const float id = d != 0 ? 1 / d : 0.f;
    b.d = fp32ToFp16(d); // an all-zero block stores -0 (sign kept), as the reference does
    b.scalesH = 0;
    std::memset(b.scalesL, 0, sizeof b.scalesL);
    for (int s = 0; s < 8; ++s) {
        const int l = std::clamp(nearestInt(id * scales[s]), -32, 31);
        const float dl = d * float(l);
        uint8_t L[kQK];
        assignIndices(x + kQK * s, dl != 0 ? 1 / dl : 0.f, L);
        packIndices(L, b.qs + 16 * s);
        const int stored = l + 32;
        b.scalesL[s / 2] |= uint8_t((stored & 0xF) << (4 * (s % 2)));
        b.scalesH |= uint16_t((stored >> 4) << (2 * s));
    }
}

} // namespace

void quantizeIQ4RowWeighted(GGMLType type, const float* x, void* dst, int64_t n, const float* importance)
{
    if (type == GGMLType::IQ4_NL) {
        auto* b = static_cast<BlockIQ4_NL*>(dst);
        for (int64_t i = 0; i < n / kQK; ++i)
            quantizeBlockNL(x + kQK * i, importance ? importance + kQK * i : nullptr, b[i]);
    } else if (type == GGMLType::IQ4_XS) {
        auto* b = static_cast<BlockIQ4_XS*>(dst);
        for (int64_t i = 0; i < n / kQKK; ++i)
            quantizeBlockXS(x + kQKK * i, importance ? importance + kQKK * i : nullptr, b[i]);
    } else {
        throw InvalidArgument(std::string("quantizeIQ4RowWeighted: ") + typeName(type) + " is not IQ4_NL or IQ4_XS");
    }
}

} // namespace quant

namespace ref {

void dequantizeIQ4_NL(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockIQ4_NL*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = fp16ToFp32(b[i].d);
        for (int j = 0; j < kQK / 2; ++j) {
            dst[j] = d * float(kIQ4Values[b[i].qs[j] & 0xF]);
            dst[j + 16] = d * float(kIQ4Values[b[i].qs[j] >> 4]);
        }
    }
}

void quantizeIQ4_NL(const float* src, void* dst, int64_t n)
{
    quant::quantizeIQ4RowWeighted(GGMLType::IQ4_NL, src, dst, n, nullptr);
}

void dequantizeIQ4_XS(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockIQ4_XS*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = fp16ToFp32(b[i].d);
        for (int s = 0; s < 8; ++s, dst += kQK) {
            const float dl = d * float(iq4xsSubScale(b[i], s) - 32);
            const uint8_t* qs = b[i].qs + 16 * s;
            for (int j = 0; j < kQK / 2; ++j) {
                dst[j] = dl * float(kIQ4Values[qs[j] & 0xF]);
                dst[j + 16] = dl * float(kIQ4Values[qs[j] >> 4]);
            }
        }
    }
}

void quantizeIQ4_XS(const float* src, void* dst, int64_t n)
{
    quant::quantizeIQ4RowWeighted(GGMLType::IQ4_XS, src, dst, n, nullptr);
}

// Each 32-element (sub-)block's integer dot is exact, then scaled; blocks summed in double.
namespace {
int subBlockDot(const uint8_t* qs, const int8_t* a)
{
    int sum = 0;
    for (int j = 0; j < kQK / 2; ++j)
        sum += kIQ4Values[qs[j] & 0xF] * a[j] + kIQ4Values[qs[j] >> 4] * a[j + 16];
    return sum;
}
} // namespace

float dotIQ4_NL(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockIQ4_NL*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQK; ++i)
        sum += double(subBlockDot(x[i].qs, y[i].qs)) * fp16ToFp32(x[i].d) * fp16ToFp32(y[i].d);
    return float(sum);
}

float dotIQ4_XS(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockIQ4_XS*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        int scaled = 0;
        for (int s = 0; s < 8; ++s)
            scaled += (iq4xsSubScale(x[i], s) - 32) * subBlockDot(x[i].qs + 16 * s, y[i].qs + kQK * s);
        sum += double(y[i].d) * double(fp16ToFp32(x[i].d)) * scaled;
    }
    return float(sum);
}

} // namespace ref
} // namespace tenfold
