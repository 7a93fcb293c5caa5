#pragma once
// One row between float and any weight type, through the tensor kernels' dequantize/quantize
// (round-to-nearest). F32 is a plain copy, since its table entry need not exist.
#include "tensor/ggml_type.h"

#include <cstdint>

namespace tenfold {

// src: n elements of `type` -> dst: n floats. Throws UnsupportedError if `type` has no
// dequantizer.
void rowToFloat(GGMLType type, const void* src, float* dst, int64_t n);
// src: n floats -> dst: n elements of `type`.
void rowFromFloat(GGMLType type, const float* src, void* dst, int64_t n);

} // namespace tenfold
