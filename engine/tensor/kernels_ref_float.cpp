// Scalar reference kernels for the float types F32, F16 and BF16 (block size 1).
#include "tensor/half.h"
#include "tensor/kernels_impl.h"

#include <cstring>

namespace tenfold::ref {

void dequantizeF32(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * sizeof(float)); }
void quantizeF32(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * sizeof(float)); }

void dequantizeF16(const void* src, float* dst, int64_t n)
{
    const auto* h = static_cast<const uint16_t*>(src);
    for (int64_t i = 0; i < n; ++i)
        dst[i] = fp16ToFp32(h[i]);
}

void quantizeF16(const float* src, void* dst, int64_t n)
{
    auto* h = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i)
        h[i] = fp32ToFp16(src[i]);
}

void dequantizeBF16(const void* src, float* dst, int64_t n)
{
    const auto* h = static_cast<const uint16_t*>(src);
    for (int64_t i = 0; i < n; ++i)
        dst[i] = bf16ToFp32(h[i]);
}

void quantizeBF16(const float* src, void* dst, int64_t n)
{
    auto* h = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i)
        h[i] = fp32ToBf16(src[i]);
}

// The float dots accumulate in double: the reference should be the more accurate side, so a
// SIMD kernel that disagrees is the one in doubt.
float dotF32(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const float*>(w);
    const auto* y = static_cast<const float*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i)
        sum += double(x[i]) * double(y[i]);
    return float(sum);
}

float dotF16(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const uint16_t*>(w);
    const auto* y = static_cast<const uint16_t*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i)
        sum += double(fp16ToFp32(x[i])) * double(fp16ToFp32(y[i]));
    return float(sum);
}

float dotBF16(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const uint16_t*>(w);
    const auto* y = static_cast<const uint16_t*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i)
        sum += double(bf16ToFp32(x[i])) * double(bf16ToFp32(y[i]));
    return float(sum);
}

} // namespace tenfold::ref
