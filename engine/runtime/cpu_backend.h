#pragma once
#include "runtime/backend.h"

namespace tenfold {

// The CPU backend: weights stay memory-mapped, kernels from kernels() (SIMD chosen at run time).
// nThreads 0: one per core.
std::unique_ptr<Backend> createCpuBackend(int nThreads = 0);

} // namespace tenfold
