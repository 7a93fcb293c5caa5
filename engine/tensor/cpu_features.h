#pragma once
// What the CPU we run on offers, for run-time kernel selection. The SIMD translation units
// (*_avx2.cpp, *_avx512.cpp) are compiled for their instruction sets and may only be entered when
// this says so; kernels() (kernels.h) already makes that choice for the row kernels.
namespace tenfold {

// Kernel levels, each a superset of the one before.
enum class CpuLevel {
    Scalar = 0,     // plain C++: the reference, runs anywhere
    Avx2 = 1,       // AVX2 + FMA + F16C
    Avx512Vnni = 2, // Avx2 + AVX-512 F/BW/VL/DQ + AVX-512 VNNI (8-bit dot products)
};
constexpr int kCpuLevels = 3;

// "scalar", "AVX2+FMA+F16C", "AVX-512+VNNI"; and the names TENFOLD_CPU_KERNELS takes:
// "scalar", "avx2", "avx512".
const char* cpuLevelName(CpuLevel level);
const char* cpuLevelKey(CpuLevel level);

// The highest level this CPU and the OS (saved AVX-512 register state) support; checked once.
CpuLevel cpuLevelDetected();

// True when the CPU has AVX2, FMA and F16C (checked once, cached).
bool cpuHasAvx2FmaF16c();

} // namespace tenfold
