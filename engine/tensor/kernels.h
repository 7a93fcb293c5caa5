#pragma once
// Per-type row kernels: dequantize, reference round-to-nearest quantize, and the dot product of a
// weight row with an activation row stored in that weight type's activation type.
//
// One table per CPU level (cpu_features.h). referenceKernels() holds plain scalar loops (the test
// oracle and the fallback); kernels() holds the table of the highest level the CPU supports,
// picked once at run time (scalar, AVX2+FMA+F16C, AVX-512+VNNI). All give the same results within
// a per-type tolerance; tests check every level the machine has. Quantizers and dequantizers
// agree bit for bit; dots and tiles within float summation error. TENFOLD_CPU_KERNELS=scalar|
// avx2|avx512 pins a level (never one above what the CPU has), to test and benchmark each.
//
// Related: tensor/half.h (fp16/bf16 scalar conversions), tensor/convert.h (convertRow between any
// two types), tensor/quant_blocks.h (the block structs, for code that reads blocks directly).
#include "tensor/convert.h"
#include "tensor/ggml_type.h"
#include "tensor/half.h"

#include <cstdint>

namespace tenfold {

// The most activation rows one vecDotTileF32Act call takes.
constexpr int kF32ActTileCols = 3;

struct TypeKernels {
    // src: n/blockSize blocks -> dst: n floats. n is a multiple of the block size.
    void (*dequantizeRow)(const void* src, float* dst, int64_t n) = nullptr;
    // src: n floats -> dst: n/blockSize blocks, round-to-nearest (no importance weighting;
    // IQ4_NL/IQ4_XS search each block's scale instead, see quant_iq4.h).
    void (*quantizeRow)(const float* src, void* dst, int64_t n) = nullptr;
    // The type activations are converted to before a dot product with a weight row of this type
    // (F32 for F32, F16 for F16, BF16 for BF16, Q8_0 for the 32-block quants and IQ4_NL, Q8_K
    // for K-quants and IQ4_XS).
    GGMLType vecDotType = GGMLType::F32;
    // sum_i w[i]*a[i] over n elements; w in this type, a in vecDotType.
    float (*vecDot)(int64_t n, const void* w, const void* a) = nullptr;
    // A small tile for prompt processing, reusing each loaded weight block across activations:
    // out[c * outStride + r] = dot(w row r, a row c) for r < nRows, c < nCols (both <= 4).
    // Rows are wStride / aStride bytes apart. May be null; callers then loop over vecDot.
    // Present in kernels() for F16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K on AVX2
    // CPUs (Q4_K, Q6_K, Q8_0 and Q4_0 replaced by VNNI tiles on AVX-512 VNNI CPUs), and for every type
    // in referenceKernels() (there one vecDot per pair: the definition).
    void (*vecDotTile)(int64_t n, const void* w, size_t wStride, int nRows, const void* a,
                       size_t aStride, int nCols, float* out, size_t outStride) = nullptr;
    // vecDotTile for F16 weights with the activation rows already widened to F32 (each value an
    // F16 one, so results are vecDot's up to summation order): the matmul widens them once per
    // product instead of once per tile, and the tile's inner loop converts only weights. Rows
    // aStride bytes apart; up to 4 weight rows x kF32ActTileCols activation rows. Set for F16 on
    // AVX2 and AVX-512 CPUs, where each result has vecDot's bits exactly (the same summation
    // order), so batches agree with token-by-token decoding; null elsewhere.
    void (*vecDotTileF32Act)(int64_t n, const void* w, size_t wStride, int nRows, const float* a,
                             size_t aStride, int nCols, float* out, size_t outStride) = nullptr;
    // Decode's mat-vec: out[r] = dot(w row r, a) for r < nRows, rows wStride bytes apart, with the
    // activation's per-block work done once for all rows. May be null; callers then loop over
    // vecDot. Set in referenceKernels() (a loop of vecDot: the definition), on AVX2 CPUs for Q4_0
    // and on AVX-512 VNNI CPUs for Q4_0 and IQ4_NL.
    void (*vecDotRows)(int64_t n, const void* w, size_t wStride, int nRows, const void* a,
                       float* out) = nullptr;
    // Products with weights repacked 8 rows at a time (tensor/repack_q4_0.h, repack_q8_0.h; Q4_0
    // and Q8_0): out[c * outStride + 8 g + r] = dot(row r of group g, activation row c) for
    // g < nGroups and c < nCols, groups of 8 * rowBytes(n) bytes one after another, activation
    // rows aStride bytes apart. Set in referenceKernels() (the definition on the interleaved
    // layout) and on AVX2 and AVX-512 VNNI CPUs; the CPU matmul repacks a matrix with
    // repackRows8 the first time it meets it when this is set.
    void (*vecDotRows8)(int64_t n, const void* w8, int nGroups, const void* a, size_t aStride, int nCols, float* out,
                        size_t outStride) = nullptr;
    void (*repackRows8)(const void* src, size_t srcStride, int64_t rows, int64_t n, void* dst) = nullptr;
    // Activation rows from which the CPU matmul (runtime/matmul.h) switches from these kernels
    // (vecDotTile) to dequantizing F32 panels for its GEMM; 0 leaves it to the matmul's default.
    // Set where a level's tiles were measured faster than the GEMM for larger batches.
    int gemmMinRows = 0;
};

enum class CpuLevel;

const TypeKernels& kernels(GGMLType t);          // best available on this CPU
const TypeKernels& referenceKernels(GGMLType t); // scalar reference
// The table of one level; throws UnsupportedError for a level this CPU lacks (tests walk levels).
const TypeKernels& kernelsAt(CpuLevel level, GGMLType t);

// The level kernels() uses, and its name: "AVX-512+VNNI", "AVX2+FMA+F16C" or "scalar".
CpuLevel cpuKernelLevelInUse();
const char* cpuKernelLevel();

} // namespace tenfold
