#pragma once
// What the CPU we run on offers, for run-time kernel selection. The SIMD translation units
// (*_avx2.cpp) are compiled for AVX2/FMA/F16C and may only be entered when this says so;
// kernels() (kernels.h) already makes that choice for the row kernels.
namespace tenfold {

// True when the CPU has AVX2, FMA and F16C (checked once, cached).
bool cpuHasAvx2FmaF16c();

} // namespace tenfold
