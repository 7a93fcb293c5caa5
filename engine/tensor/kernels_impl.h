#pragma once
// Internal to engine/tensor: the scalar reference kernels (kernels_ref_*.cpp, quants_*.cpp) and
// the hook through which the AVX2 translation units fill their table. Other modules use kernels.h.
#include "tensor/kernels.h"

#include <cstddef>
#include <cstdint>

namespace tenfold::ref {

// Shapes: n elements per row; blocks are laid out as in quant_blocks.h.
#define TENFOLD_DECLARE_TYPE(T)                                                       \
    void dequantize##T(const void* src, float* dst, int64_t n);                       \
    void quantize##T(const float* src, void* dst, int64_t n);

TENFOLD_DECLARE_TYPE(F32)
TENFOLD_DECLARE_TYPE(F16)
TENFOLD_DECLARE_TYPE(BF16)
TENFOLD_DECLARE_TYPE(Q4_0)
TENFOLD_DECLARE_TYPE(Q4_1)
TENFOLD_DECLARE_TYPE(Q5_0)
TENFOLD_DECLARE_TYPE(Q5_1)
TENFOLD_DECLARE_TYPE(Q8_0)
TENFOLD_DECLARE_TYPE(Q8_1)
TENFOLD_DECLARE_TYPE(Q2_K)
TENFOLD_DECLARE_TYPE(Q3_K)
TENFOLD_DECLARE_TYPE(Q4_K)
TENFOLD_DECLARE_TYPE(Q5_K)
TENFOLD_DECLARE_TYPE(Q6_K)
TENFOLD_DECLARE_TYPE(Q8_K)
TENFOLD_DECLARE_TYPE(IQ4_NL)
TENFOLD_DECLARE_TYPE(IQ4_XS)
#undef TENFOLD_DECLARE_TYPE

// Dot products, weight type x activation type.
float dotF32(int64_t n, const void* w, const void* a);
float dotF16(int64_t n, const void* w, const void* a);
float dotBF16(int64_t n, const void* w, const void* a);
float dotQ4_0(int64_t n, const void* w, const void* a); // x Q8_0
float dotQ4_1(int64_t n, const void* w, const void* a); // x Q8_0
float dotQ5_0(int64_t n, const void* w, const void* a); // x Q8_0
float dotQ5_1(int64_t n, const void* w, const void* a); // x Q8_0
float dotQ8_0(int64_t n, const void* w, const void* a); // x Q8_0
float dotQ8_1(int64_t n, const void* w, const void* a); // x Q8_1
float dotQ2_K(int64_t n, const void* w, const void* a); // x Q8_K
float dotQ3_K(int64_t n, const void* w, const void* a); // x Q8_K
// Q4_K / Q5_K with an importance matrix (n column weights; null: exactly quantizeQ4_K/Q5_K).
void quantizeQ4_KWeighted(const float* src, void* dst, int64_t n, const float* importance);
void quantizeQ5_KWeighted(const float* src, void* dst, int64_t n, const float* importance);
float dotQ4_K(int64_t n, const void* w, const void* a); // x Q8_K
float dotQ5_K(int64_t n, const void* w, const void* a); // x Q8_K
float dotQ6_K(int64_t n, const void* w, const void* a); // x Q8_K
float dotQ8_K(int64_t n, const void* w, const void* a); // x Q8_K
float dotIQ4_NL(int64_t n, const void* w, const void* a); // x Q8_0
float dotIQ4_XS(int64_t n, const void* w, const void* a); // x Q8_K

} // namespace tenfold::ref

namespace tenfold {

// Indexes the kernel tables; every type of ggml_type.h has a slot.
constexpr int kKernelSlots = 31;
using KernelTable = TypeKernels[kKernelSlots];

// Overwrite the entries the AVX2 code accelerates (kernels_avx2.cpp, tile_avx2.cpp,
// dequant_avx2.cpp). Only call
// after checking the CPU supports AVX2, FMA and F16C.
void installAvx2Kernels(KernelTable& table);
void installAvx2TileKernels(KernelTable& table);
void installAvx2Dequantizers(KernelTable& table);
void installAvx2IQ4Kernels(KernelTable& table); // kernels_iq4_avx2.cpp: IQ4_NL, IQ4_XS
// kernels_avx512.cpp, on top of a copy of the AVX2 table; only after cpuLevelDetected() says
// Avx512Vnni. tile_avx512.cpp adds the small-batch tiles (Q4_K, Q6_K, Q8_0, Q4_0) the same way.
void installAvx512VnniKernels(KernelTable& table);
void installAvx512VnniTileKernels(KernelTable& table);
void installAvx512IQ4Kernels(KernelTable& table); // kernels_iq4_avx512.cpp: IQ4_NL dot and rows

} // namespace tenfold
