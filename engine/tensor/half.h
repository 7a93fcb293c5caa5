#pragma once
// Scalar IEEE half (binary16) and bfloat16 conversions.
//
// f32 -> f16 rounds to nearest, ties to even, for every input: normals, values that round into or
// within the subnormal range, overflow to infinity (|x| >= 65520), and NaN (kept a quiet NaN with
// the sign and the top payload bits). This must agree bit for bit with the F16C instruction
// vcvtps2ph (imm 0), which the AVX2 kernels use, so that scalar and SIMD rows are identical.
// f32 -> bf16 also rounds to nearest even; NaN stays a quiet NaN.
#include <bit>
#include <cstdint>

namespace tenfold {

inline float fp16ToFp32(uint16_t h)
{
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    const uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1f) // inf / nan: widen the payload
        return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
    if (exponent == 0) {
        // zero or subnormal: mantissa * 2^-24, exact in f32
        const float magnitude = float(mantissa) * 5.9604644775390625e-8f;
        return std::bit_cast<float>(sign | std::bit_cast<uint32_t>(magnitude));
    }
    // normal: rebias the exponent from 15 to 127 (difference 112)
    return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

inline uint16_t fp32ToFp16(float f)
{
    const uint32_t bits = std::bit_cast<uint32_t>(f);
    const uint16_t sign = uint16_t((bits >> 16) & 0x8000u);
    const uint32_t magnitude = bits & 0x7fffffffu;
    if (magnitude > 0x7f800000u) // NaN: force quiet, keep the top 9 payload bits
        return uint16_t(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
    if (magnitude >= 0x477ff000u) // >= 65520 rounds past the largest half (65504): infinity
        return uint16_t(sign | 0x7c00u);
    if (magnitude >= 0x38800000u) {
        // Normal half (>= 2^-14). Rebias the exponent (subtract 112 << 23) and round the 13 dropped
        // mantissa bits: adding 0xfff plus the lowest kept bit gives ties-to-even; a carry out of
        // the mantissa correctly bumps the exponent.
        const uint32_t keptLowBit = (magnitude >> 13) & 1u;
        return uint16_t(sign | ((magnitude - 0x38000000u + 0xfffu + keptLowBit) >> 13));
    }
    // Subnormal half or zero (< 2^-14): adding 0.5 makes the FPU round |f| to a multiple of 2^-24
    // (the ulp of 0.5 is 2^-24, the half subnormal step) with its own ties-to-even; the result's
    // low mantissa bits are the half's. A result of 0x400 is the smallest normal, also correct.
    const float shifted = std::bit_cast<float>(magnitude) + 0.5f;
    return uint16_t(sign | (std::bit_cast<uint32_t>(shifted) - 0x3f000000u));
}

inline float bf16ToFp32(uint16_t h) { return std::bit_cast<float>(uint32_t(h) << 16); }

inline uint16_t fp32ToBf16(float f)
{
    const uint32_t bits = std::bit_cast<uint32_t>(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN: truncate and force quiet
        return uint16_t((bits >> 16) | 0x40u);
    const uint32_t keptLowBit = (bits >> 16) & 1u;
    return uint16_t((bits + 0x7fffu + keptLowBit) >> 16);
}

} // namespace tenfold
