#pragma once
// Row conversion between any two tensor types, through f32 (dequantize, then quantize with the
// round-to-nearest quantizer of kernels()). Used to quantize a model, to turn activations into a
// weight type's vecDotType, and to read weights as floats.
#include "tensor/ggml_type.h"
#include "tensor/half.h"

#include <cstdint>

namespace tenfold {

// n must be a multiple of both types' block sizes (throws InvalidArgument otherwise).
void convertRow(GGMLType from, const void* src, GGMLType to, void* dst, int64_t n);

} // namespace tenfold
