#pragma once
// The importance matrix of calibrated quantization: for every weight matrix, the mean square of
// each input column's activation over a calibration text. Quantizing a weight row, an error in
// column j costs in proportion to E[x_j^2] (the output error is sum_j (w_j - q_j) x_j), so the
// quantizer's scale search weights each element by it (quant_weighted.h).
//
// Files move both ways with the reference engine's `imatrix.dat` (its legacy binary format, all
// little-endian):
//   int32 nEntries
//   nEntries x { int32 nameLength, name bytes, int32 nCall, int32 nValues, float values[nValues] }
//   int32 lastCall, int32 datasetLength, dataset bytes          (optional trailer)
// where values[j] = mean(x_j^2) * nCall (nCall: the number of evaluation calls, one per chunk),
// so mean(x_j^2) = values[j] / nCall. Like the reference, the output projection is not collected.
#include <atomic>
#include <charconv>
#include <system_error>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tenfold {

class Model;

class ImportanceMatrix {
public:
    struct Entry {
        int calls = 0;              // chunks that reached this tensor
        int64_t rows = 0;           // activation rows summed
        std::vector<double> sumSq;  // per input column: sum of x^2
    };

    // Adds rows [rows, cols] (row stride ldx) of one product's input to `tensor`'s entry.
    void accumulate(const std::string& tensor, const float* x, int rows, int64_t cols, int64_t ldx);
    // One more call (chunk) for every entry touched since the last endCall().
    void endCall();

    // Mean x^2 per input column of `tensor`; empty if the matrix has no entry for it.
    std::vector<float> columnWeights(const std::string& tensor) const;
    bool contains(const std::string& tensor) const { return entries_.count(tensor) != 0; }
    const std::map<std::string, Entry>& entries() const { return entries_; }
    size_t size() const { return entries_.size(); }
    int chunks() const { return chunks_; }
    const std::string& dataset() const { return dataset_; }
    void setDataset(std::string name) { dataset_ = std::move(name); }

    // The reference engine's imatrix.dat. read throws FormatError (file, byte, problem) for a
    // truncated or malformed file and IoError when it cannot be opened; write is atomic.
    static ImportanceMatrix read(const std::filesystem::path& path);
    void write(const std::filesystem::path& path) const;

private:
    std::map<std::string, Entry> entries_;
    std::vector<std::string> touched_;
    int chunks_ = 0;
    std::string dataset_;
};

struct ImatrixOptions {
    int nCtx = 512;     // window length, as the perplexity method: first token BOS, all rows count
    int maxChunks = 0;  // 0: every full window
    int nThreads = 0;   // 0: one per core
    std::function<void(int done, int total)> progress;
    const std::atomic<bool>* cancel = nullptr; // Cancelled is thrown between windows
    // collectHessians only: the output head's Hessian too (every row's logits are computed, so
    // each window costs one full-width head product more). Keyed by the head's tensor name
    // (token_embd.weight when the head is tied).
    bool outputHead = false;
    // >= 0: only blk.<onlyLayer>.* matrices are collected (layer-by-layer pruning wants one layer
    // at a time; the model still runs whole).
    int onlyLayer = -1;
    bool wants(std::string_view tensor) const
    {
        if (onlyLayer < 0)
            return true;
        // "blk.<n>." with n == onlyLayer; called for every product, so nothing is built.
        if (!tensor.starts_with("blk."))
            return false;
        int n = -1;
        const char* end = tensor.data() + tensor.size();
        const auto [p, ec] = std::from_chars(tensor.data() + 4, end, n);
        return ec == std::errc() && p != end && *p == '.' && n == onlyLayer;
    }
};

// Runs the model over the text's windows on the CPU and collects every layer matrix's input
// statistics. tokens: the whole text tokenized once with a leading BOS. Throws InvalidArgument
// when the text holds no full window (saying how many tokens one needs).
ImportanceMatrix collectImportanceMatrix(std::shared_ptr<const Model> model, std::span<const int32_t> tokens,
                                         const ImatrixOptions& options);

} // namespace tenfold
