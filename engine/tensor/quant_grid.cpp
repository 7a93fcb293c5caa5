#include "tensor/quant_grid.h"

#include "tensor/half.h"
#include "tensor/kernels_impl.h"
#include "tensor/quant_iq4.h"
#include "tensor/quant_blocks.h"
#include "tensor/quant_search.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

namespace tenfold::quant {
namespace {

float roundHalf(float v) { return fp16ToFp32(fp32ToFp16(v)); }

// Symmetric types: value = d * r with r in [rlo, rhi]; stored q = r - rlo... expressed as a Grid.
struct Symmetric {
    int rlo, rhi, bias; // bias: q = r + bias (Q4_0: 8, Q5_0: 16, Q8_0: 0)
};

Symmetric symmetricOf(GGMLType type)
{
    switch (type) {
    case GGMLType::Q4_0: return {-8, 7, 8};
    case GGMLType::Q5_0: return {-16, 15, 16};
    default: return {-127, 127, 0}; // Q8_0
    }
}

Grid symmetricGrid(const Symmetric& s, float d)
{
    Grid g;
    g.d = d;
    g.m = -float(s.bias) * d;
    g.qmin = s.rlo + s.bias;
    g.qmax = s.rhi + s.bias;
    return g;
}

// The error is summed in float: 32 terms, and the search only compares candidates.
float weightedError(const Grid& g, const float* x, const float* w)
{
    if (g.d == 0) {
        float e = 0;
        for (int j = 0; j < kQK; ++j)
            e += w[j] * (x[j] - g.m) * (x[j] - g.m);
        return e;
    }
    const float id = 1.0f / g.d;
    float e = 0;
    for (int j = 0; j < kQK; ++j) {
        // (clamped first: nearestInt needs |v| < 2^22, a subnormal d can overshoot that)
        const int q = std::clamp(nearestInt(std::clamp((x[j] - g.m) * id, -1e6f, 1e6f)), g.qmin, g.qmax);
        const float diff = x[j] - (g.d * float(q) + g.m);
        e += w[j] * diff * diff;
    }
    return e;
}

Grid fitSymmetric(GGMLType type, const float* x, const float* w)
{
    const Symmetric s = symmetricOf(type);
    float mx = 0, amax = 0;
    for (int j = 0; j < kQK; ++j)
        if (std::fabs(x[j]) > amax) {
            amax = std::fabs(x[j]);
            mx = x[j];
        }
    if (amax == 0)
        return symmetricGrid(s, 0);
    // Round-to-nearest's own grid first (the extreme on the wider end, as the reference
    // quantizers put it), so the search can only improve on it under the weights.
    Grid best = symmetricGrid(s, roundHalf(type == GGMLType::Q8_0 ? amax / 127.f : mx / float(s.rlo)));
    float bestError = weightedError(best, x, w);
    auto consider = [&](float d0) {
        if (!(std::fabs(d0) > 0) || !std::isfinite(d0))
            return;
        float d = d0;
        // Levels from this scale, then the weighted least-squares scale for those levels; twice,
        // since the refit can move some elements to a nearer level.
        for (int pass = 0; pass < 2; ++pass) {
            const float id = 1.0f / d;
            float sxr = 0, srr = 0;
            for (int j = 0; j < kQK; ++j) {
                const float r = float(std::clamp(nearestInt(std::clamp(x[j] * id, -1e6f, 1e6f)), s.rlo, s.rhi));
                sxr += w[j] * x[j] * r;
                srr += w[j] * r * r;
            }
            if (srr <= 0 || sxr == 0)
                break;
            d = float(sxr / srr);
        }
        const Grid g = symmetricGrid(s, roundHalf(d));
        if (g.d == 0)
            return;
        const float e = weightedError(g, x, w);
        if (e < bestError) {
            bestError = e;
            best = g;
        }
    };
    for (int k = -10; k <= 10; ++k) {
        consider(mx / (float(s.rlo) + 0.1f * float(k)));
        consider(mx / (float(s.rhi) + 0.1f * float(k)));
    }
    return best;
}

Grid fitAsymmetric(GGMLType type, const float* x, const float* w)
{
    const int nmax = type == GGMLType::Q4_1 ? 15 : 31;
    auto grid = [nmax](float d, float m) {
        Grid g;
        g.d = roundHalf(d);
        g.m = roundHalf(m);
        g.qmin = 0;
        g.qmax = nmax;
        return g;
    };
    float lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) {
        lo = std::min(lo, x[j]);
        hi = std::max(hi, x[j]);
    }
    Grid best = grid((hi - lo) / float(nmax), lo); // round-to-nearest's grid
    float bestError = weightedError(best, x, w);
    uint8_t L[kQK];
    float minOut = 0;
    const float d = searchScaleMin(kQK, nmax, x, w, L, &minOut, -1.0f, 0.1f, 20, false);
    if (d > 0) {
        const Grid g = grid(d, -minOut);
        const float e = weightedError(g, x, w);
        if (e < bestError) {
            bestError = e;
            best = g;
        }
    }
    return best;
}

// IQ4_NL: the reference-style weighted scale search of quant_iq4.h on this one block; its scale
// is the grid (the levels are the fixed table).
Grid fitNonLinear(const float* x, const float* w)
{
    BlockIQ4_NL b;
    quantizeIQ4RowWeighted(GGMLType::IQ4_NL, x, &b, kQK, w);
    Grid g;
    g.nonLinear = true;
    g.d = fp16ToFp32(b.d);
    g.qmin = 0;
    g.qmax = 15;
    return g;
}

} // namespace

int nearestNonLinearLevel(const Grid& g, float x) { return g.d == 0 ? 8 : nearestIQ4Index(x / g.d); }
float nonLinearValue(const Grid& g, int q) { return g.d * float(kIQ4Values[q]); }

bool hasGroupGrid(GGMLType type)
{
    switch (type) {
    case GGMLType::IQ4_NL:
    case GGMLType::Q4_0:
    case GGMLType::Q4_1:
    case GGMLType::Q5_0:
    case GGMLType::Q5_1:
    case GGMLType::Q8_0: return true;
    default: return false;
    }
}

Grid fitGroup(GGMLType type, const float* x, const float* weights)
{
    float ones[kQK];
    if (!weights) {
        std::fill_n(ones, kQK, 1.0f);
        weights = ones;
    }
    if (type == GGMLType::IQ4_NL)
        return fitNonLinear(x, weights);
    if (type == GGMLType::Q4_1 || type == GGMLType::Q5_1)
        return fitAsymmetric(type, x, weights);
    return fitSymmetric(type, x, weights);
}

void packBlock(GGMLType type, const Grid& g, const int* q, void* block)
{
    switch (type) {
    case GGMLType::Q4_0: {
        auto* b = static_cast<BlockQ4_0*>(block);
        b->d = fp32ToFp16(g.d);
        for (int j = 0; j < kQK / 2; ++j)
            b->qs[j] = uint8_t(q[j] | (q[j + 16] << 4));
        return;
    }
    case GGMLType::IQ4_NL: {
        auto* b = static_cast<BlockIQ4_NL*>(block);
        b->d = fp32ToFp16(g.d);
        for (int j = 0; j < kQK / 2; ++j)
            b->qs[j] = uint8_t(q[j] | (q[j + 16] << 4));
        return;
    }
    case GGMLType::Q4_1: {
        auto* b = static_cast<BlockQ4_1*>(block);
        b->d = fp32ToFp16(g.d);
        b->m = fp32ToFp16(g.m);
        for (int j = 0; j < kQK / 2; ++j)
            b->qs[j] = uint8_t(q[j] | (q[j + 16] << 4));
        return;
    }
    case GGMLType::Q5_0:
    case GGMLType::Q5_1: {
        uint8_t qs[kQK / 2];
        uint32_t qh = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            qs[j] = uint8_t((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
            qh |= uint32_t(q[j] >> 4) << j;
            qh |= uint32_t(q[j + 16] >> 4) << (j + 16);
        }
        if (type == GGMLType::Q5_0) {
            auto* b = static_cast<BlockQ5_0*>(block);
            b->d = fp32ToFp16(g.d);
            std::memcpy(b->qh, &qh, 4);
            std::memcpy(b->qs, qs, sizeof qs);
        } else {
            auto* b = static_cast<BlockQ5_1*>(block);
            b->d = fp32ToFp16(g.d);
            b->m = fp32ToFp16(g.m);
            std::memcpy(b->qh, &qh, 4);
            std::memcpy(b->qs, qs, sizeof qs);
        }
        return;
    }
    case GGMLType::Q8_0: {
        auto* b = static_cast<BlockQ8_0*>(block);
        b->d = fp32ToFp16(g.d);
        for (int j = 0; j < kQK; ++j)
            b->qs[j] = int8_t(q[j]);
        return;
    }
    default: break;
    }
}

bool hasWeightedSearch(GGMLType type)
{
    return hasGroupGrid(type) || type == GGMLType::Q4_K || type == GGMLType::Q5_K;
}

void quantizeRowWeighted(GGMLType type, const float* x, void* dst, int64_t n, const float* importance)
{
    if (type == GGMLType::Q4_K)
        return ref::quantizeQ4_KWeighted(x, dst, n, importance);
    if (type == GGMLType::Q5_K)
        return ref::quantizeQ5_KWeighted(x, dst, n, importance);
    const size_t blockBytes = typeTraits(type).blockBytes;
    auto* out = static_cast<uint8_t*>(dst);
    int q[kQK];
    for (int64_t b = 0; b < n / kQK; ++b) {
        const float* xb = x + b * kQK;
        const Grid g = fitGroup(type, xb, importance ? importance + b * kQK : nullptr);
        for (int j = 0; j < kQK; ++j)
            q[j] = nearestLevel(g, xb[j]);
        packBlock(type, g, q, out + size_t(b) * blockBytes);
    }
}

} // namespace tenfold::quant
