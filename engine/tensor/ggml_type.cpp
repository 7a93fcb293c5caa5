#include "tensor/ggml_type.h"

#include "core/error.h"

#include <array>
#include <cctype>
#include <string>

namespace tenfold {
namespace {

// Block layouts as the GGUF ecosystem defines them (bytes per block in comments).
constexpr std::array kTypes = {
    TypeTraits{GGMLType::F32, "F32", 1, 4, false, true},
    TypeTraits{GGMLType::F16, "F16", 1, 2, false, true},
    TypeTraits{GGMLType::Q4_0, "Q4_0", 32, 2 + 16, true, true},          // d, 32 x 4-bit
    TypeTraits{GGMLType::Q4_1, "Q4_1", 32, 2 + 2 + 16, true, true},      // d, m, 32 x 4-bit
    TypeTraits{GGMLType::Q5_0, "Q5_0", 32, 2 + 4 + 16, true, true},      // d, high bits, 4-bit
    TypeTraits{GGMLType::Q5_1, "Q5_1", 32, 2 + 2 + 4 + 16, true, true},  // d, m, high bits, 4-bit
    TypeTraits{GGMLType::Q8_0, "Q8_0", 32, 2 + 32, true, true},          // d, 32 x int8
    TypeTraits{GGMLType::Q8_1, "Q8_1", 32, 2 + 2 + 32, true, false},     // d, s, 32 x int8
    TypeTraits{GGMLType::Q2_K, "Q2_K", 256, 16 + 64 + 2 + 2, true, true},
    TypeTraits{GGMLType::Q3_K, "Q3_K", 256, 32 + 64 + 12 + 2, true, true},
    TypeTraits{GGMLType::Q4_K, "Q4_K", 256, 2 + 2 + 12 + 128, true, true},
    TypeTraits{GGMLType::Q5_K, "Q5_K", 256, 2 + 2 + 12 + 32 + 128, true, true},
    TypeTraits{GGMLType::Q6_K, "Q6_K", 256, 128 + 64 + 16 + 2, true, true},
    TypeTraits{GGMLType::Q8_K, "Q8_K", 256, 4 + 256 + 32, true, false},  // activations only
    TypeTraits{GGMLType::IQ4_NL, "IQ4_NL", 32, 2 + 16, true, true},      // d, 32 x 4-bit table index
    TypeTraits{GGMLType::IQ4_XS, "IQ4_XS", 256, 2 + 2 + 4 + 128, true, true}, // d, 8 x 6-bit scales, indices
    TypeTraits{GGMLType::BF16, "BF16", 1, 2, false, true},
    TypeTraits{GGMLType::I8, "I8", 1, 1, false, false},
};

} // namespace

const TypeTraits* findTypeTraits(uint32_t raw)
{
    for (const auto& t : kTypes)
        if (uint32_t(t.type) == raw)
            return &t;
    return nullptr;
}

const TypeTraits& typeTraits(GGMLType t)
{
    if (const TypeTraits* tr = findTypeTraits(uint32_t(t)))
        return *tr;
    throw InvalidArgument("unknown tensor type id " + std::to_string(uint32_t(t)));
}

std::optional<GGMLType> typeFromName(std::string_view name)
{
    for (const auto& t : kTypes) {
        std::string_view n = t.name;
        if (n.size() != name.size())
            continue;
        bool same = true;
        for (size_t i = 0; i < n.size() && same; ++i)
            same = std::toupper(static_cast<unsigned char>(name[i])) == n[i];
        if (same)
            return t.type;
    }
    return std::nullopt;
}

size_t rowBytes(GGMLType t, int64_t n)
{
    const TypeTraits& tr = typeTraits(t);
    if (n < 0 || n % tr.blockSize != 0)
        throw InvalidArgument(std::string("row of ") + std::to_string(n) + " elements is not a multiple of " +
                              tr.name + "'s block size " + std::to_string(tr.blockSize));
    return size_t(n / tr.blockSize) * tr.blockBytes;
}

} // namespace tenfold
