// The two kernel tables and the run-time choice between them.
#include "tensor/kernels.h"

#include "core/error.h"
#include "tensor/convert.h"
#include "tensor/cpu_features.h"
#include "tensor/kernels_impl.h"
#include "tensor/repack_q4_0.h"
#include "tensor/repack_q8_0.h"

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
    TENFOLD_SLOT(IQ4_NL, Q8_0)
    TENFOLD_SLOT(IQ4_XS, Q8_K)
#undef TENFOLD_SLOT
}

// Reference decode mat-vec: one vecDot per row.
template <float (*Dot)(int64_t, const void*, const void*)>
void loopRows(int64_t n, const void* w, size_t wStride, int nRows, const void* a, float* out)
{
    for (int r = 0; r < nRows; ++r)
        out[r] = Dot(n, static_cast<const char*>(w) + size_t(r) * wStride, a);
}

void addReferenceRows(KernelTable& t)
{
#define TENFOLD_ROWS(T) t[int(GGMLType::T)].vecDotRows = loopRows<ref::dot##T>;
    TENFOLD_ROWS(F32) TENFOLD_ROWS(F16) TENFOLD_ROWS(BF16) TENFOLD_ROWS(Q4_0) TENFOLD_ROWS(Q4_1)
    TENFOLD_ROWS(Q5_0) TENFOLD_ROWS(Q5_1) TENFOLD_ROWS(Q8_0) TENFOLD_ROWS(Q8_1) TENFOLD_ROWS(Q2_K)
    TENFOLD_ROWS(Q3_K) TENFOLD_ROWS(Q4_K) TENFOLD_ROWS(Q5_K) TENFOLD_ROWS(Q6_K) TENFOLD_ROWS(Q8_K)
    TENFOLD_ROWS(IQ4_NL) TENFOLD_ROWS(IQ4_XS)
#undef TENFOLD_ROWS
    t[int(GGMLType::Q4_0)].vecDotRows8 = rowsQ4_0x8Ref;
    t[int(GGMLType::Q4_0)].repackRows8 = repackQ4_0x8;
    t[int(GGMLType::Q8_0)].vecDotRows8 = rowsQ8_0x8Ref;
    t[int(GGMLType::Q8_0)].repackRows8 = repackQ8_0x8;
}

CpuLevel pinnedLevel(CpuLevel detected)
{
    const char* forced = std::getenv("TENFOLD_CPU_KERNELS");
    if (!forced || !*forced)
        return detected;
    for (int l = 0; l < kCpuLevels; ++l)
        if (std::string(forced) == cpuLevelKey(CpuLevel(l)))
            return CpuLevel(std::min(l, int(detected))); // never above what the CPU has
    return detected; // an unknown name changes nothing (tenfold-cli bench prints the level used)
}

struct Tables {
    KernelTable levels[kCpuLevels];
    CpuLevel detected = CpuLevel::Scalar;
    CpuLevel inUse = CpuLevel::Scalar;

    Tables()
    {
        detected = cpuLevelDetected();
        KernelTable& scalar = levels[int(CpuLevel::Scalar)];
        buildReferenceTable(scalar);
        addReferenceRows(scalar);
        if (detected >= CpuLevel::Avx2) {
            KernelTable& avx2 = levels[int(CpuLevel::Avx2)];
            std::copy(std::begin(scalar), std::end(scalar), std::begin(avx2));
            // The reference rows loop would call the scalar dots; callers loop over the SIMD
            // vecDot instead until a level brings its own rows kernel.
            for (TypeKernels& k : avx2)
                k.vecDotRows = nullptr;
            installAvx2Kernels(avx2);
            installAvx2TileKernels(avx2);
            installAvx2Dequantizers(avx2);
            installAvx2IQ4Kernels(avx2);
            avx2[int(GGMLType::Q4_0)].vecDotRows8 = avx2::rowsQ4_0x8;
            avx2[int(GGMLType::Q8_0)].vecDotRows8 = avx2::rowsQ8_0x8;
        }
        if (detected >= CpuLevel::Avx512Vnni) {
            KernelTable& avx512 = levels[int(CpuLevel::Avx512Vnni)];
            std::copy(std::begin(levels[int(CpuLevel::Avx2)]), std::end(levels[int(CpuLevel::Avx2)]),
                      std::begin(avx512));
            installAvx512VnniKernels(avx512);
            installAvx512VnniTileKernels(avx512);
            installAvx512IQ4Kernels(avx512);
            avx512[int(GGMLType::Q4_0)].vecDotRows8 = avx512::rowsQ4_0x8;
            avx512[int(GGMLType::Q8_0)].vecDotRows8 = avx512::rowsQ8_0x8;
        }
        inUse = pinnedLevel(detected);
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

CpuLevel cpuLevelDetected()
{
    // libgcc's __builtin_cpu_supports reports an AVX-512 feature only when the OS saves the
    // AVX-512 register state (XGETBV), so a kernel that CPUID allows but the OS does not is never
    // chosen.
    static const CpuLevel level = [] {
        if (!cpuHasAvx2FmaF16c())
            return CpuLevel::Scalar;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("avx512vnni"))
            return CpuLevel::Avx512Vnni;
        return CpuLevel::Avx2;
    }();
    return level;
}

const char* cpuLevelName(CpuLevel level)
{
    switch (level) {
    case CpuLevel::Avx2: return "AVX2+FMA+F16C";
    case CpuLevel::Avx512Vnni: return "AVX-512+VNNI";
    default: return "scalar";
    }
}

const char* cpuLevelKey(CpuLevel level)
{
    switch (level) {
    case CpuLevel::Avx2: return "avx2";
    case CpuLevel::Avx512Vnni: return "avx512";
    default: return "scalar";
    }
}

const TypeKernels& kernels(GGMLType t) { return lookup(tables().levels[int(tables().inUse)], t); }
const TypeKernels& referenceKernels(GGMLType t) { return lookup(tables().levels[int(CpuLevel::Scalar)], t); }
const TypeKernels& kernelsAt(CpuLevel level, GGMLType t)
{
    if (int(level) < 0 || level > tables().detected)
        throw UnsupportedError(std::string("this CPU lacks the ") + cpuLevelName(level) + " kernels");
    return lookup(tables().levels[int(level)], t);
}
CpuLevel cpuKernelLevelInUse() { return tables().inUse; }
const char* cpuKernelLevel() { return cpuLevelName(tables().inUse); }

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
