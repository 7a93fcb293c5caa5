// The two kernel tables and the run-time choice between them.
#include "tensor/kernels.h"

#include "core/error.h"
#include "tensor/convert.h"
#include "tensor/cpu_features.h"
#include "tensor/kernels_impl.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace tenfold {
namespace {

// Reference tile: the definition the SIMD tiles must match, one vecDot per (row, column).
template <float (*Dot)(int64_t, const void*, const void*)>
void loopTile(int64_t n, const void* w, size_t wStride, int nRows, const void* a, size_t aStride, int nCols,
              float* out, size_t outStride)
{
    for (int c = 0; c < nCols; ++c)
        for (int r = 0; r < nRows; ++r)
            out[size_t(c) * outStride + size_t(r)] =
                Dot(n, static_cast<const char*>(w) + size_t(r) * wStride, static_cast<const char*>(a) + size_t(c) * aStride);
}

void buildReferenceTable(KernelTable& t)
{
#define TENFOLD_SLOT(T, DOT_TYPE)                                                            \
    t[int(GGMLType::T)] = TypeKernels{ref::dequantize##T, ref::quantize##T, GGMLType::DOT_TYPE, \
                                      ref::dot##T, loopTile<ref::dot##T>};
    TENFOLD_SLOT(F32, F32)
    TENFOLD_SLOT(F16, F16)
    TENFOLD_SLOT(BF16, BF16)
    TENFOLD_SLOT(Q4_0, Q8_0)
    TENFOLD_SLOT(Q4_1, Q8_0)
    TENFOLD_SLOT(Q5_0, Q8_0)
    TENFOLD_SLOT(Q5_1, Q8_0)
    TENFOLD_SLOT(Q8_0, Q8_0)
    TENFOLD_SLOT(Q8_1, Q8_1)
    TENFOLD_SLOT(Q2_K, Q8_K)
    TENFOLD_SLOT(Q3_K, Q8_K)
    TENFOLD_SLOT(Q4_K, Q8_K)
    TENFOLD_SLOT(Q5_K, Q8_K)
    TENFOLD_SLOT(Q6_K, Q8_K)
    TENFOLD_SLOT(Q8_K, Q8_K)
#undef TENFOLD_SLOT
}

struct Tables {
    KernelTable reference;
    KernelTable best;
    const char* level = "scalar";

    Tables()
    {
        buildReferenceTable(reference);
        std::copy(std::begin(reference), std::end(reference), std::begin(best));
        const char* forced = std::getenv("TENFOLD_CPU_KERNELS");
        const bool forceScalar = forced && std::string(forced) == "scalar";
        if (cpuHasAvx2FmaF16c() && !forceScalar) {
            installAvx2Kernels(best);
            installAvx2TileKernels(best);
            installAvx2Dequantizers(best);
            level = "AVX2+FMA+F16C";
        }
    }
};

const Tables& tables()
{
    static const Tables instance;
    return instance;
}

const TypeKernels& lookup(const KernelTable& table, GGMLType t)
{
    const uint32_t slot = uint32_t(t);
    if (slot >= uint32_t(kKernelSlots) || !table[slot].dequantizeRow)
        throw UnsupportedError("no CPU kernels for tensor type id " + std::to_string(slot));
    return table[slot];
}

} // namespace

bool cpuHasAvx2FmaF16c()
{
    // Probing the CPU is the only safe way to use the AVX2 translation units: they are compiled
    // with -mavx2 -mfma -mf16c and would fault on older CPUs.
    static const bool has = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }();
    return has;
}

const TypeKernels& kernels(GGMLType t) { return lookup(tables().best, t); }
const TypeKernels& referenceKernels(GGMLType t) { return lookup(tables().reference, t); }
const char* cpuKernelLevel() { return tables().level; }

void convertRow(GGMLType from, const void* src, GGMLType to, void* dst, int64_t n)
{
    const TypeTraits& fromTraits = typeTraits(from);
    const TypeTraits& toTraits = typeTraits(to);
    if (n < 0 || n % fromTraits.blockSize != 0 || n % toTraits.blockSize != 0)
        throw InvalidArgument("convertRow: " + std::to_string(n) + " elements do not fill whole blocks of " +
                              fromTraits.name + " and " + toTraits.name);
    if (from == to) {
        std::memcpy(dst, src, rowBytes(from, n));
        return;
    }
    const TypeKernels& in = kernels(from);
    const TypeKernels& out = kernels(to);
    if (from == GGMLType::F32) {
        out.quantizeRow(static_cast<const float*>(src), dst, n);
        return;
    }
    if (to == GGMLType::F32) {
        in.dequantizeRow(src, static_cast<float*>(dst), n);
        return;
    }
    // Through a float buffer in chunks that are whole blocks of every type (256 is a multiple of
    // all block sizes).
    constexpr int64_t kChunk = 4096;
    thread_local std::vector<float> buffer(kChunk);
    const auto* s = static_cast<const char*>(src);
    auto* d = static_cast<char*>(dst);
    for (int64_t done = 0; done < n;) {
        int64_t count = std::min(kChunk, n - done);
        in.dequantizeRow(s + rowBytes(from, done), buffer.data(), count);
        out.quantizeRow(buffer.data(), d + rowBytes(to, done), count);
        done += count;
    }
}

} // namespace tenfold
