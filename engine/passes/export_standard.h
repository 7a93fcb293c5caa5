#pragma once
// The nearest standard GGUF of a file with Tenfold compression extensions (docs/COMPRESSION.md),
// so other engines load it: low-rank factor pairs NAME.lr_a / NAME.lr_b are multiplied back out
// into NAME, palette tensors are decoded, and every weight matrix is then quantized to the
// target type (round to nearest, with chooseTensorType's block-size fallback). The extension
// metadata (tenfold.low_rank.*, tenfold.palette.*) is dropped. A file without extensions is
// simply quantized.
#include "tensor/ggml_type.h"

#include <cstdint>
#include <filesystem>

namespace tenfold {

struct ExportReport {
    uint64_t fileBytesBefore = 0;
    uint64_t fileBytesAfter = 0;
    int factorisedMerged = 0; // low-rank pairs multiplied out
    int palettesDecoded = 0;
};

// Throws IoError/FormatError for the input (a factor without its partner, shapes that do not
// chain), UnsupportedError for a target that cannot hold weights; the output is written atomically.
ExportReport exportStandard(const std::filesystem::path& in, const std::filesystem::path& out, GGMLType target,
                            int nThreads = 0);

} // namespace tenfold
