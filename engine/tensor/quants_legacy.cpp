// Scalar reference kernels for the 32-element block quants Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1.
// Quantizers are the plain round-to-nearest ones of the GGUF ecosystem, operation for operation,
// so that a row quantized here is bit-identical to one quantized by ggml's reference code.
#include "tensor/half.h"
#include "tensor/kernels_impl.h"
#include "tensor/quant_blocks.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

namespace tenfold::ref {
namespace {

// The element with the largest magnitude, keeping its sign (Q4_0 / Q5_0 map it to -8 / -16).
float signedAbsMax(const float* x, int n)
{
    float amax = 0, max = 0;
    for (int j = 0; j < n; ++j)
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    return max;
}

uint32_t loadQh(const uint8_t qh[4])
{
    uint32_t v;
    std::memcpy(&v, qh, 4);
    return v; // little-endian: bit j belongs to element j
}

} // namespace

// ---- Q4_0 -------------------------------------------------------------------------------------

void dequantizeQ4_0(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ4_0*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = fp16ToFp32(b[i].d);
        for (int j = 0; j < kQK / 2; ++j) {
            dst[j] = float((b[i].qs[j] & 0xF) - 8) * d;
            dst[j + 16] = float((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void quantizeQ4_0(const float* src, void* dst, int64_t n)
{
    auto* b = static_cast<BlockQ4_0*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        const float d = signedAbsMax(src, kQK) / -8.f;
        const float id = d != 0 ? 1.f / d : 0.f;
        b[i].d = fp32ToFp16(d);
        for (int j = 0; j < kQK / 2; ++j) {
            // truncation of a value >= 0.5 is floor(x + 0.5): round to nearest, as ggml does
            const int lo = std::min(15, int(src[j] * id + 8.5f));
            const int hi = std::min(15, int(src[j + 16] * id + 8.5f));
            b[i].qs[j] = uint8_t(lo | (hi << 4));
        }
    }
}

// ---- Q4_1 -------------------------------------------------------------------------------------

void dequantizeQ4_1(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ4_1*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = fp16ToFp32(b[i].d), m = fp16ToFp32(b[i].m);
        for (int j = 0; j < kQK / 2; ++j) {
            dst[j] = float(b[i].qs[j] & 0xF) * d + m;
            dst[j + 16] = float(b[i].qs[j] >> 4) * d + m;
        }
    }
}

void quantizeQ4_1(const float* src, void* dst, int64_t n)
{
    auto* b = static_cast<BlockQ4_1*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < kQK; ++j) {
            min = std::min(min, src[j]);
            max = std::max(max, src[j]);
        }
        const float d = (max - min) / 15.f;
        const float id = d != 0 ? 1.f / d : 0.f;
        b[i].d = fp32ToFp16(d);
        b[i].m = fp32ToFp16(min);
        for (int j = 0; j < kQK / 2; ++j) {
            const int lo = std::min(15, int((src[j] - min) * id + 0.5f));
            const int hi = std::min(15, int((src[j + 16] - min) * id + 0.5f));
            b[i].qs[j] = uint8_t(lo | (hi << 4));
        }
    }
}

// ---- Q5_0 -------------------------------------------------------------------------------------

void dequantizeQ5_0(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ5_0*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = fp16ToFp32(b[i].d);
        const uint32_t qh = loadQh(b[i].qh);
        for (int j = 0; j < kQK / 2; ++j) {
            const int lo = (b[i].qs[j] & 0xF) | int(((qh >> j) & 1u) << 4);
            const int hi = (b[i].qs[j] >> 4) | int(((qh >> (j + 16)) & 1u) << 4);
            dst[j] = float(lo - 16) * d;
            dst[j + 16] = float(hi - 16) * d;
        }
    }
}

void quantizeQ5_0(const float* src, void* dst, int64_t n)
{
    auto* b = static_cast<BlockQ5_0*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        const float d = signedAbsMax(src, kQK) / -16.f;
        const float id = d != 0 ? 1.f / d : 0.f;
        b[i].d = fp32ToFp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            const int lo = std::min(31, int(src[j] * id + 16.5f));
            const int hi = std::min(31, int(src[j + 16] * id + 16.5f));
            b[i].qs[j] = uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
            qh |= uint32_t(lo >> 4) << j;
            qh |= uint32_t(hi >> 4) << (j + 16);
        }
        std::memcpy(b[i].qh, &qh, 4);
    }
}

// ---- Q5_1 -------------------------------------------------------------------------------------

void dequantizeQ5_1(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ5_1*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = fp16ToFp32(b[i].d), m = fp16ToFp32(b[i].m);
        const uint32_t qh = loadQh(b[i].qh);
        for (int j = 0; j < kQK / 2; ++j) {
            const int lo = (b[i].qs[j] & 0xF) | int(((qh >> j) & 1u) << 4);
            const int hi = (b[i].qs[j] >> 4) | int(((qh >> (j + 16)) & 1u) << 4);
            dst[j] = float(lo) * d + m;
            dst[j + 16] = float(hi) * d + m;
        }
    }
}

void quantizeQ5_1(const float* src, void* dst, int64_t n)
{
    auto* b = static_cast<BlockQ5_1*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < kQK; ++j) {
            min = std::min(min, src[j]);
            max = std::max(max, src[j]);
        }
        const float d = (max - min) / 31.f;
        const float id = d != 0 ? 1.f / d : 0.f;
        b[i].d = fp32ToFp16(d);
        b[i].m = fp32ToFp16(min);
        uint32_t qh = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            const int lo = std::min(31, int((src[j] - min) * id + 0.5f));
            const int hi = std::min(31, int((src[j + 16] - min) * id + 0.5f));
            b[i].qs[j] = uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
            qh |= uint32_t(lo >> 4) << j;
            qh |= uint32_t(hi >> 4) << (j + 16);
        }
        std::memcpy(b[i].qh, &qh, 4);
    }
}

// ---- Q8_0 / Q8_1 ------------------------------------------------------------------------------

void dequantizeQ8_0(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ8_0*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = fp16ToFp32(b[i].d);
        for (int j = 0; j < kQK; ++j)
            dst[j] = float(b[i].qs[j]) * d;
    }
}

void quantizeQ8_0(const float* src, void* dst, int64_t n)
{
    auto* b = static_cast<BlockQ8_0*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        float amax = 0;
        for (int j = 0; j < kQK; ++j)
            amax = std::max(amax, std::fabs(src[j]));
        const float d = amax / 127.f;
        const float id = d != 0 ? 1.f / d : 0.f;
        b[i].d = fp32ToFp16(d);
        for (int j = 0; j < kQK; ++j)
            b[i].qs[j] = int8_t(std::round(src[j] * id)); // half away from zero, as ggml's roundf
    }
}

void dequantizeQ8_1(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ8_1*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = fp16ToFp32(b[i].d);
        for (int j = 0; j < kQK; ++j)
            dst[j] = float(b[i].qs[j]) * d;
    }
}

void quantizeQ8_1(const float* src, void* dst, int64_t n)
{
    auto* b = static_cast<BlockQ8_1*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        float amax = 0;
        for (int j = 0; j < kQK; ++j)
            amax = std::max(amax, std::fabs(src[j]));
        const float d = amax / 127.f;
        const float id = d != 0 ? 1.f / d : 0.f;
        b[i].d = fp32ToFp16(d);
        int sum = 0;
        for (int j = 0; j < kQK; ++j) {
            b[i].qs[j] = int8_t(std::round(src[j] * id));
            sum += b[i].qs[j];
        }
        b[i].s = fp32ToFp16(float(sum) * d);
    }
}

// ---- dot products: each block's integer dot is exact, then scaled; blocks summed in double ----

float dotQ4_0(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ4_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQK; ++i) {
        int sumi = 0;
        for (int j = 0; j < kQK / 2; ++j)
            sumi += ((x[i].qs[j] & 0xF) - 8) * y[i].qs[j] + ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + 16];
        sum += double(sumi) * fp16ToFp32(x[i].d) * fp16ToFp32(y[i].d);
    }
    return float(sum);
}

float dotQ4_1(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ4_1*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQK; ++i) {
        int sumi = 0, sumA = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            sumi += (x[i].qs[j] & 0xF) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + 16];
            sumA += y[i].qs[j] + y[i].qs[j + 16];
        }
        const double da = fp16ToFp32(y[i].d);
        sum += da * (double(sumi) * fp16ToFp32(x[i].d) + double(sumA) * fp16ToFp32(x[i].m));
    }
    return float(sum);
}

float dotQ5_0(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ5_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQK; ++i) {
        const uint32_t qh = loadQh(x[i].qh);
        int sumi = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            const int lo = ((x[i].qs[j] & 0xF) | int(((qh >> j) & 1u) << 4)) - 16;
            const int hi = ((x[i].qs[j] >> 4) | int(((qh >> (j + 16)) & 1u) << 4)) - 16;
            sumi += lo * y[i].qs[j] + hi * y[i].qs[j + 16];
        }
        sum += double(sumi) * fp16ToFp32(x[i].d) * fp16ToFp32(y[i].d);
    }
    return float(sum);
}

float dotQ5_1(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ5_1*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQK; ++i) {
        const uint32_t qh = loadQh(x[i].qh);
        int sumi = 0, sumA = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            const int lo = (x[i].qs[j] & 0xF) | int(((qh >> j) & 1u) << 4);
            const int hi = (x[i].qs[j] >> 4) | int(((qh >> (j + 16)) & 1u) << 4);
            sumi += lo * y[i].qs[j] + hi * y[i].qs[j + 16];
            sumA += y[i].qs[j] + y[i].qs[j + 16];
        }
        const double da = fp16ToFp32(y[i].d);
        sum += da * (double(sumi) * fp16ToFp32(x[i].d) + double(sumA) * fp16ToFp32(x[i].m));
    }
    return float(sum);
}

float dotQ8_0(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ8_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQK; ++i) {
        int sumi = 0;
        for (int j = 0; j < kQK; ++j)
            sumi += x[i].qs[j] * y[i].qs[j];
        sum += double(sumi) * fp16ToFp32(x[i].d) * fp16ToFp32(y[i].d);
    }
    return float(sum);
}

float dotQ8_1(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ8_1*>(w);
    const auto* y = static_cast<const BlockQ8_1*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQK; ++i) {
        int sumi = 0;
        for (int j = 0; j < kQK; ++j)
            sumi += x[i].qs[j] * y[i].qs[j];
        sum += double(sumi) * fp16ToFp32(x[i].d) * fp16ToFp32(y[i].d);
    }
    return float(sum);
}

} // namespace tenfold::ref
