#pragma once
// Round-to-nearest quantization of a GGUF model into one target type, streamed tensor by tensor:
// the input stays memory-mapped and only one chunk of output rows is held at a time, so a model
// bigger than half the RAM still quantizes.
//
// Which type each tensor gets (chooseTensorType):
//  - tensors with one dimension (norms, biases) stay F32: they are tiny and precision-critical;
//  - every other tensor gets the target type if its row length ne[0] is a multiple of the type's
//    block size;
//  - otherwise it falls back to a type whose block fits, with similar bits per weight, the way
//    the reference engine (b4748) does it: Q2_K and Q3_K -> IQ4_NL, Q4_K -> Q5_0, Q5_K -> Q5_1,
//    Q6_K -> Q8_0, IQ4_XS -> IQ4_NL (all 32-element blocks; e.g. ref-main's 384-wide rows). A
//    row length that is not a multiple of 32 either falls back to F16.
// By default no tensor is deliberately kept at higher precision. The reference engine's mixes keep
// the output projection at Q6_K; QuantizeOptions::outputType reproduces that (the output
// projection is output.weight, or token_embd.weight when the model ties them), with the same
// fallback rule. See docs/BENCHMARKS.md for what it changes.
#include "gguf/gguf_value.h"
#include "tensor/ggml_type.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tenfold {

class ImportanceMatrix;
struct HessianSet;

GGMLType chooseTensorType(const std::vector<int64_t>& ne, GGMLType target);

// The general.file_type value other tools use for a model mostly in `t` (e.g. 7 for Q8_0).
uint32_t fileTypeFor(GGMLType t);

// How the weights are rounded onto the type's grid (all write the same standard blocks):
//  - Rtn: round to nearest, bit-identical to the reference engine's plain quantizers;
//  - Imatrix: for the 32-element block types, each block's scale is searched to minimise the
//    rounding error weighted by the importance matrix (quant_grid.h); tensors it has no entry for
//    get the same search unweighted. Q4_K, Q5_K, IQ4_NL and IQ4_XS get their own weighted
//    searches; Q2_K, Q3_K and Q6_K are rounded to nearest.
//  - Gptq: the 32-element block types (and IQ4_NL) go through GPTQ with the calibration Hessians
//    (gptq.h); tensors without one, and the K-quants, fall back to Imatrix's search.
enum class QuantMethod { Rtn, Imatrix, Gptq };
const char* methodName(QuantMethod m);

struct QuantizeOptions {
    GGMLType target = GGMLType::Q8_0;
    QuantMethod method = QuantMethod::Rtn;
    const ImportanceMatrix* imatrix = nullptr; // Imatrix (optional for Gptq)
    const HessianSet* hessians = nullptr;      // Gptq: required
    double gptqDamp = 0.01;
    // Per-tensor types by name (a budgeted mix, a preset's rules); the block-size fallback of
    // chooseTensorType still applies. Tensors not listed get target (or outputType).
    std::map<std::string, GGMLType> tensorTypes;
    std::optional<GGMLType> outputType; // type for the output projection; unset: target
    std::optional<uint32_t> fileType;   // general.file_type; unset: fileTypeFor(target) (a preset's)
    int nThreads = 0; // 0: one per core
    // Called before each tensor (index, count, name, chosen type).
    std::function<void(size_t, size_t, const std::string&, GGMLType)> onTensor;
};

struct QuantizedTensor {
    std::string name;
    GGMLType from = GGMLType::F32;
    GGMLType to = GGMLType::F32;
    QuantMethod method = QuantMethod::Rtn; // what this tensor actually got
    uint64_t bytesBefore = 0;
    uint64_t bytesAfter = 0;
};

struct QuantizeReport {
    uint64_t fileBytesBefore = 0;
    uint64_t fileBytesAfter = 0;
    std::vector<QuantizedTensor> tensors;
};

struct GGUFTensorInfo;
class GGUFFile;

// The metadata of a file quantized from `src` into `target`: the source's, with
// general.file_type (fileType, or the one of `target`) and general.quantization_version set.
std::vector<std::pair<std::string, GGUFValue>> quantizedMetadata(const GGUFFile& src, GGMLType target,
                                                                 std::optional<uint32_t> fileType = {});
// The method tensor t gets when going to `to`: calibrated methods apply to the 32-element block
// types of 2-D tensors; GPTQ only where a Hessian of the right size exists.
QuantMethod methodFor(const QuantizeOptions& options, const GGUFTensorInfo& t, GGMLType to);
// One tensor into `to` by `method`, handed to sink in consecutive pieces of whole rows (a copy
// when the type does not change).
void quantizeTensor(const GGUFTensorInfo& t, GGMLType to, QuantMethod method, const QuantizeOptions& options,
                    int nThreads, const std::function<void(const uint8_t*, size_t)>& sink);

// Throws IoError/FormatError for the input, UnsupportedError for a target that cannot hold
// weights (Q8_1, Q8_K), IoError when the output cannot be written. `in` and `out` must differ.
QuantizeReport quantizeModel(const std::filesystem::path& in, const std::filesystem::path& out,
                             const QuantizeOptions& options);

} // namespace tenfold
