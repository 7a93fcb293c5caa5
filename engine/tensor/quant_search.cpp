#include "tensor/quant_search.h"

#include "tensor/quant_blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tenfold::quant {
namespace {
constexpr float kGroupMaxEps = 1e-15f; // a group this small is all zeros

// The element of largest magnitude, keeping its sign (the first among equals). A group whose
// magnitudes all stay below kGroupMaxEps gets all-zero levels in L and 0 as the result.
float signedExtremeOrClear(int n, const float* x, int8_t* L)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i)
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    if (amax < kGroupMaxEps) {
        std::memset(L, 0, size_t(n));
        return 0.f;
    }
    return max;
}
} // namespace

float searchScaleMin(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* minOut,
                     float rmin, float rdelta, int nstep, bool useMad)
{
    float min = x[0], max = x[0];
    float sumW = weights[0];
    float sumX = sumW * x[0];
    for (int i = 1; i < n; ++i) {
        min = std::min(min, x[i]);
        max = std::max(max, x[i]);
        sumW += weights[i];
        sumX += weights[i] * x[i];
    }
    if (min > 0)
        min = 0; // the offset only ever shifts down: values are q*scale - min with min >= 0
    if (max == min) {
        std::memset(L, 0, size_t(n));
        *minOut = -min;
        return 0.f;
    }
    auto errorOf = [&](float diff) { return useMad ? std::fabs(diff) : diff * diff; };

    float iscale = float(nmax) / (max - min);
    float scale = 1 / iscale;
    float bestError = 0;
    for (int i = 0; i < n; ++i) {
        const int l = std::clamp(nearestInt(iscale * (x[i] - min)), 0, nmax);
        L[i] = uint8_t(l);
        bestError += weights[i] * errorOf(scale * float(l) + min - x[i]);
    }
    if (nstep < 1) {
        *minOut = -min;
        return scale;
    }
    uint8_t Laux[256];
    for (int step = 0; step <= nstep; ++step) {
        iscale = (rmin + rdelta * float(step) + float(nmax)) / (max - min);
        float sumL = 0, sumL2 = 0, sumXL = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearestInt(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = uint8_t(l);
            const float w = weights[i];
            sumL += w * float(l);
            sumL2 += w * float(l) * float(l);
            sumXL += w * float(l) * x[i];
        }
        // weighted least squares for x ~ s*l + m over this assignment
        const float det = sumW * sumL2 - sumL * sumL;
        if (det <= 0)
            continue;
        float thisScale = (sumW * sumXL - sumX * sumL) / det;
        float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
        if (thisMin > 0) {
            thisMin = 0;
            thisScale = sumXL / sumL2;
        }
        float error = 0;
        for (int i = 0; i < n; ++i)
            error += weights[i] * errorOf(thisScale * float(Laux[i]) + thisMin - x[i]);
        if (error < bestError) {
            std::memcpy(L, Laux, size_t(n));
            bestError = error;
            scale = thisScale;
            min = thisMin;
        }
    }
    *minOut = -min;
    return scale;
}

float searchScaleSymmetric(int n, int nmax, const float* x, int8_t* L)
{
    const float max = signedExtremeOrClear(n, x, L);
    if (max == 0.f)
        return 0.f;
    // The signed extreme maps to -nmax so the asymmetric range [-nmax, nmax-1] covers it fully.
    auto levelAt = [&](float iscale, int i) { return std::clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1); };
    float iscale = -float(nmax) / max;
    float sumLX = 0, sumL2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = levelAt(iscale, i);
        L[i] = int8_t(l + nmax);
        const float w = x[i] * x[i];
        sumLX += w * x[i] * float(l);
        sumL2 += w * float(l) * float(l);
    }
    float scale = sumL2 != 0 ? sumLX / sumL2 : 0.f;
    // The fit's explained energy is sumLX^2 / sumL2; maximize it over the grid.
    float best = scale * sumLX;
    for (int step = -9; step <= 9; ++step) {
        if (step == 0)
            continue;
        iscale = -(float(nmax) + 0.1f * float(step)) / max;
        sumLX = sumL2 = 0;
        for (int i = 0; i < n; ++i) {
            const int l = levelAt(iscale, i);
            const float w = x[i] * x[i];
            sumLX += w * x[i] * float(l);
            sumL2 += w * float(l) * float(l);
        }
        if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
            for (int i = 0; i < n; ++i)
                L[i] = int8_t(nmax + levelAt(iscale, i));
            scale = sumLX / sumL2;
            best = scale * sumLX;
        }
    }
    return scale;
}

float searchScaleQ3(int n, int nmax, const float* x, int8_t* L)
{
    const float max = signedExtremeOrClear(n, x, L);
    if (max == 0.f)
        return 0.f;
    const float iscale = -float(nmax) / max;
    float sumLX = 0, sumL2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = std::clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1);
        L[i] = int8_t(l);
        const float w = x[i] * x[i];
        sumLX += w * x[i] * float(l);
        sumL2 += w * float(l) * float(l);
    }
    for (int sweep = 0; sweep < 5; ++sweep) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            const float w = x[i] * x[i];
            float slx = sumLX - w * x[i] * float(L[i]);
            if (slx <= 0)
                continue;
            float sl2 = sumL2 - w * float(L[i]) * float(L[i]);
            const int newL = std::clamp(nearestInt(x[i] * sl2 / slx), -nmax, nmax - 1);
            if (newL == L[i])
                continue;
            slx += w * x[i] * float(newL);
            sl2 += w * float(newL) * float(newL);
            if (sl2 > 0 && slx * slx * sumL2 > sumLX * sumLX * sl2) {
                L[i] = int8_t(newL);
                sumLX = slx;
                sumL2 = sl2;
                ++changed;
            }
        }
        if (!changed)
            break;
    }
    for (int i = 0; i < n; ++i)
        L[i] = int8_t(L[i] + nmax);
    return sumLX / sumL2;
}

} // namespace tenfold::quant
