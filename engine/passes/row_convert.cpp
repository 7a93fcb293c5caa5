#include "passes/row_convert.h"

#include "core/error.h"
#include "tensor/kernels.h"

#include <cstring>
#include <string>

namespace tenfold {

void rowToFloat(GGMLType type, const void* src, float* dst, int64_t n)
{
    if (type == GGMLType::F32) {
        std::memcpy(dst, src, size_t(n) * sizeof(float));
        return;
    }
    const auto fn = kernels(type).dequantizeRow;
    if (!fn)
        throw UnsupportedError(std::string("no dequantizer for tensor type ") + typeName(type));
    fn(src, dst, n);
}

void rowFromFloat(GGMLType type, const float* src, void* dst, int64_t n)
{
    if (type == GGMLType::F32) {
        std::memcpy(dst, src, size_t(n) * sizeof(float));
        return;
    }
    const auto fn = kernels(type).quantizeRow;
    if (!fn)
        throw UnsupportedError(std::string("no quantizer for tensor type ") + typeName(type));
    fn(src, dst, n);
}

} // namespace tenfold
