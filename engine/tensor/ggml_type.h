#pragma once
// Tensor element types with the numbering and block layouts of the GGUF ecosystem, so files made
// by other tools load here and files written here load elsewhere.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tenfold {

enum class GGMLType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ4_NL = 20,
    IQ4_XS = 23,
    I8 = 24, // raw bytes (Tenfold uses it for packed palette indices; never a weight by itself)
    BF16 = 30,
};

struct TypeTraits {
    GGMLType type;
    const char* name;   // "Q4_0", as other tools spell it
    int64_t blockSize;  // elements per block (1 for F32/F16/BF16)
    size_t blockBytes;  // bytes per block
    bool quantized;
    bool weightType;    // may be stored in a model file and used as a weight here
};

// nullptr for a raw value that names no type this build knows (e.g. read from a hostile file).
const TypeTraits* findTypeTraits(uint32_t raw);
const TypeTraits& typeTraits(GGMLType t);
std::optional<GGMLType> typeFromName(std::string_view name); // case-insensitive
inline const char* typeName(GGMLType t) { return typeTraits(t).name; }

// Bytes needed for n elements; n must be a multiple of the block size (throws InvalidArgument).
size_t rowBytes(GGMLType t, int64_t n);

} // namespace tenfold
