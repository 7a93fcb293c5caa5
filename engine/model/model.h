#pragma once
// A Llama-family decoder in memory: hyperparameters, tokenizer and weight views. Weights loaded
// from GGUF point into the file's mapping (no second copy); a llama2.c import owns its weights.
#include "model/derived_weights.h"
#include "tensor/ggml_type.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tenfold {

class GGUFFile;
class Tokenizer;

struct LlamaHParams {
    std::string architecture;  // GGUF general.architecture: llama, mistral, qwen2, ...
    int32_t nVocab = 0;
    int32_t nCtxTrain = 0;
    int32_t nEmbd = 0;
    int32_t nLayer = 0;
    int32_t nHead = 0;
    int32_t nHeadKv = 0;
    int32_t nFF = 0;
    int32_t headDim = 0;       // nEmbd / nHead unless the file says otherwise
    int32_t ropeDim = 0;       // leading dims of each head that RoPE rotates (== headDim usually)
    float ropeFreqBase = 10000.0f;
    float ropeFreqScale = 1.0f; // 1 / linear scaling factor
    bool ropeNeox = false;      // NeoX: rotate (i, i + d/2) pairs; normal: adjacent (2i, 2i+1)
    float rmsEps = 1e-5f;
    bool tiedOutput = false;    // output projection shares token_embd
};

struct LowRankFactors;
struct PaletteWeight;

// A 2-D weight: ne0 = row length (input features), ne1 = rows (output features).
// A low-rank factorised weight (tenfold.low_rank, docs/COMPRESSION.md) has no data of its own:
// W = A B with A = lowRank->a [ne1 x r] and B = lowRank->b [r x ne0]; the runtimes run it as
// two products (x B^T, then A^T). A palette weight (tenfold.palette) stores per element a 2-, 3- or
// 4-bit index into a small table of values shared by a group of rows; the kernels decode it on
// the fly (runtime/palette_matvec.h).
struct WeightTensor {
    std::string name;
    GGMLType type = GGMLType::F32;
    int64_t ne0 = 0;
    int64_t ne1 = 1;
    const uint8_t* data = nullptr; // nullptr when absent (optional biases)
    size_t rowBytes = 0;
    uint64_t sourceOffset = 0;     // file byte of the tensor's GGUF info entry, for error messages
    std::shared_ptr<const LowRankFactors> lowRank; // set for a factorised weight (data is null)
    std::shared_ptr<const PaletteWeight> palette;  // set for a palette weight (data is null)
    bool present() const { return data != nullptr || lowRank != nullptr || palette != nullptr; }
    bool factorised() const { return lowRank != nullptr; }
    const uint8_t* row(int64_t r) const { return data + size_t(r) * rowBytes; }
    // Bytes the weight occupies (both factors for a factorised one).
    uint64_t storageBytes() const;
};

struct LowRankFactors {
    int64_t rank = 0;
    WeightTensor a; // ne0 = rank, ne1 = output features
    WeightTensor b; // ne0 = input features, ne1 = rank
};

// Element (r, j) of a palette weight is table[(r / groupRows) * 2^bits + index(r, j)] (times
// rowScale[r] when the file has row scales), index(r, j)
// being bits-wide fields packed from the low bits up in indices + r * indexRowBytes.
struct PaletteWeight {
    int bits = 4;               // 2, 3 or 4 (3-bit indices straddle bytes; rows are multiples of 8)
    int64_t groupRows = 1;      // rows sharing one palette
    int64_t groups = 1;
    const uint8_t* indices = nullptr;
    size_t indexRowBytes = 0;   // ne0 * bits / 8
    const float* table = nullptr; // [groups x 2^bits]
    const float* rowScale = nullptr; // optional [rows]: element = rowScale[r] * table value
    int entries() const { return 1 << bits; }
    const float* palette(int64_t row) const { return table + (row / groupRows) * entries(); }
};

// Index j of a packed index row: `bits` per index from the low bit of byte 0 up; a 3-bit index
// may straddle two bytes. (runtime/reference_forward.cpp decodes bit by bit instead, as the oracle.)
inline int paletteIndex(const uint8_t* row, int bits, int64_t j)
{
    const int64_t bit = j * bits;
    unsigned v = row[bit >> 3] >> (bit & 7);
    if ((bit & 7) + bits > 8)
        v |= unsigned(row[(bit >> 3) + 1]) << (8 - (bit & 7));
    return int(v & ((1u << bits) - 1));
}

inline uint64_t WeightTensor::storageBytes() const
{
    if (palette)
        return uint64_t(palette->indexRowBytes) * uint64_t(ne1) +
               uint64_t(palette->groups) * uint64_t(palette->entries()) * 4 + (palette->rowScale ? uint64_t(ne1) * 4 : 0);
    if (lowRank)
        return uint64_t(lowRank->a.rowBytes) * uint64_t(lowRank->a.ne1) +
               uint64_t(lowRank->b.rowBytes) * uint64_t(lowRank->b.ne1);
    return data ? uint64_t(rowBytes) * uint64_t(ne1) : 0;
}

struct LayerWeights {
    WeightTensor attnNorm, wq, wk, wv, wo;
    WeightTensor bq, bk, bv;  // Qwen2 QKV biases (F32, 1-D); absent for Llama
    WeightTensor ffnNorm, ffnGate, ffnUp, ffnDown;
};

// An early-exit head's adapter (tuned-lens style): the hidden state after `layer` layers, scaled
// to unit RMS, is mapped by h' = W h + b before the final norm and the output head, so the first layers' guess of the
// next token comes closer to the full model's. Stored in GGUF as the tensors
// tenfold.exit.<layer>.weight [nEmbd x nEmbd] and tenfold.exit.<layer>.bias [nEmbd] (F32); see
// docs/GGUF_EXTENSIONS.md.
struct ExitAdapter {
    int layer = 0;
    WeightTensor weight; // ne0 = ne1 = nEmbd, F32
    WeightTensor bias;   // ne0 = nEmbd, F32
};

class Model {
public:
    // Throws IoError/FormatError for bad files, UnsupportedError naming an unsupported
    // architecture or tensor type.
    static std::shared_ptr<Model> loadGGUF(const std::filesystem::path& path);
    // From a file already opened (and parsed) by the caller; the model keeps it alive.
    static std::shared_ptr<Model> loadGGUF(std::shared_ptr<const GGUFFile> file);
    // llama2.c checkpoint (.bin, shared or separate classifier) + tokenizer.bin.
    static std::shared_ptr<Model> loadLlama2c(const std::filesystem::path& checkpoint,
                                              const std::filesystem::path& tokenizer);
    ~Model();

    const LlamaHParams& hparams() const { return hp_; }
    const Tokenizer& tokenizer() const { return *tokenizer_; }
    const WeightTensor& tokenEmbedding() const { return tokEmbd_; }
    const WeightTensor& outputNorm() const { return outputNorm_; }
    const WeightTensor& output() const { return output_; } // == token_embd when tied
    const std::vector<LayerWeights>& layers() const { return layers_; }
    // The fitted exit adapters the file carries (none for ordinary files), by layer.
    const std::vector<ExitAdapter>& exitAdapters() const { return exitAdapters_; }
    const ExitAdapter* exitAdapter(int layer) const;
    const GGUFFile* gguf() const { return gguf_.get(); }    // null for llama2.c imports
    std::string displayName() const;
    uint64_t parameterCount() const;
    uint64_t weightBytes() const;
    // Whether [p, p + n) lies in bytes the model holds for its whole life and never changes (its
    // file, or the buffers of an import). Caches keyed by a weight's address (the CPU matmul's
    // repacked and huge-page copies) take only such weights: a pass that swaps a heap buffer
    // into a weight (the budgeted quantization's probe) may reuse an address for other bytes.
    bool holdsWeightBytes(const uint8_t* p, size_t n) const;
    // A 64-bit identity of the weights (shapes, types, hyperparameters and a sample of every
    // tensor's bytes), for caches that must never serve one model's state to another: two
    // different files, or a re-quantized one, differ. Computed once, cheap (a few MB read).
    uint64_t fingerprint() const;
    // Bytes of KV cache for nCtx positions at the given element type.
    uint64_t kvCacheBytes(int nCtx, GGMLType kvType) const;

    // Writes the model (metadata, tokenizer, weights) as GGUF v3.
    void writeGGUF(const std::filesystem::path& path) const;

    // Runtime copies of these weights in other layouts, shared by every context on the model.
    const std::shared_ptr<DerivedWeightCache>& derivedWeights() const { return derived_; }

private:
    Model();
    friend class ModelBuilder;
    LlamaHParams hp_;
    std::unique_ptr<Tokenizer> tokenizer_;
    std::shared_ptr<const GGUFFile> gguf_;
    std::vector<std::vector<uint8_t>> ownedBuffers_; // imported / converted weights
    WeightTensor tokEmbd_, outputNorm_, output_;
    mutable std::atomic<uint64_t> fingerprint_{0};
    std::vector<LayerWeights> layers_;
    std::vector<ExitAdapter> exitAdapters_;
    std::shared_ptr<DerivedWeightCache> derived_ = std::make_shared<DerivedWeightCache>();
};

} // namespace tenfold
