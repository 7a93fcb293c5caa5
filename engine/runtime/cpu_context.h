#pragma once
// Internal: one sequence on the CPU backend. Holds the KV cache (per layer, [position][kvDim] in
// F16 or F32) and the activation buffers, grown to the largest batch seen so a decode step
// allocates nothing.
#include "model/model.h"
#include "runtime/backend.h"
#include "runtime/matmul.h"
#include "runtime/thread_pool.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

namespace tenfold {

class CpuContext final : public InferenceContext {
public:
    CpuContext(std::shared_ptr<const Model> model, const ContextParams& params, int nThreads,
               std::shared_ptr<std::atomic<uint64_t>> memoryCounter);
    ~CpuContext() override;

    int contextSize() const override { return nCtx_; }
    int position() const override { return pos_; }
    void decode(std::span<const int32_t> tokens, bool allLogits, std::vector<float>& logits,
                const std::atomic<bool>* cancel = nullptr) override;
    void decodeRows(std::span<const int32_t> tokens, int firstRow, std::vector<float>& logits,
                    const std::atomic<bool>* cancel = nullptr) override;
    void truncate(int nPos) override;
    void decodeExit(std::span<const int32_t> tokens, int position, int exitLayer,
                    std::vector<float>& logits) override;
    std::vector<OpTiming> lastTimings() const override { return timings_; }
    // Like decode() without logits, also copying the hidden state (the residual stream, before
    // any norm) of every token after each of `afterLayers` layers into hidden: for each listed
    // layer in order, tokens.size() rows of nEmbd floats. For fitting exit adapters.
    void decodeCapture(std::span<const int32_t> tokens, std::span<const int> afterLayers,
                       std::vector<float>& hidden);
    int decodeEarlyExit(int32_t token, std::span<const int> exits, float threshold,
                        std::vector<float>& logits) override;
    std::vector<uint8_t> exportKv(int n) const override;
    void importKv(int n, std::span<const uint8_t> data) override;

    // A pipeline stage (engine/dist): layers [fromLayer, toLayer) for tokens at position()..
    // When fromLayer is 0 the tokens are embedded; otherwise `hidden` holds their residual stream
    // on entry (tokens.size() rows of nEmbd floats; later stages see the token ids only for the
    // range check). On return `hidden` holds the stream after layer toLayer - 1 and position()
    // has advanced. It runs the very code decode() runs, so a split pass gives the same bits.
    // The layers must lie inside the context's [firstLayer, endLayer).
    void decodeLayers(std::span<const int32_t> tokens, int fromLayer, int toLayer,
                      std::vector<float>& hidden, const std::atomic<bool>* cancel = nullptr);
    // decode()'s output head (final norm, output matrix) on rows firstRow.. of `rows` rows of a
    // residual stream that has been through every layer: (rows - firstRow) * nVocab logits.
    void outputHead(std::span<const float> hidden, int rows, int firstRow, std::vector<float>& logits);
    int firstLayer() const { return layerBegin_; }
    int endLayer() const { return layerEnd_; }

    // Sees the input rows of every weight matrix product before it runs: x is [rows, w.ne0] with
    // row stride ldx. For statistics of the activations (the importance matrix of calibrated
    // quantization, GPTQ's Hessians). Empty: no call, nothing costs.
    using MatmulObserver = std::function<void(const WeightTensor& w, const float* x, int rows, int64_t ldx)>;
    void setMatmulObserver(MatmulObserver observer) { observer_ = std::move(observer); }

    // Tests: force the GEMM (1) or mat-vec (0) matmul path; -1 automatic.
    void forceMatmulPath(int gemm) { matmul_.forcePath(gemm); }
    int threads() const { return pool_.size(); }
    uint64_t bytesHeld() const { return bytes_; }

private:
    void reserveBatch(int T);
    // Throws UnsupportedError naming `what` when the context holds only some layers' cache.
    void requireAllLayers(const char* what) const;
    // The final norm and output matrix on x_ rows firstRow..T-1.
    void head(int T, int firstRow, std::vector<float>& logits, const std::atomic<bool>* cancel);
    // Layers [fromLayer, toLayer) for tokens at positions start..; fromLayer 0 embeds them first,
    // a later one continues from the residual stream x_ holds.
    void runLayers(std::span<const int32_t> tokens, const std::atomic<bool>* cancel, int start,
                   int fromLayer, int toLayer);
    // h' = W unitRms(h) + b on n rows of hidden states, in place (model.h ExitAdapter).
    void applyExitAdapter(const ExitAdapter& adapter, float* rows, int n);
    // One token's exit head (adapter when fitted, final norm, output head) on x_ row 0.
    void exitHead(int layer, std::vector<float>& logits);
    // Keys and values of layers [fromLayer, nLayer) at position `position` from x_ row 0.
    void fillSkippedLayers(int position, int fromLayer);
    void check(std::span<const int32_t> tokens, int start) const;
    // Logits of rows firstRow..n-1, for tokens at positions start.. through layers 0..nLayers-1.
    void forward(std::span<const int32_t> tokens, int firstRow, std::vector<float>& logits,
                 const std::atomic<bool>* cancel, int start, int nLayers);
    // matmul_.run, shown to the observer first.
    void runMatmul(std::span<const MatmulJob> jobs, const float* x, int T, int64_t ldx);
    template <class F>
    void op(const char* name, int layer, const std::atomic<bool>* cancel, F&& fn);
    template <class F>
    void rowsParallel(int T, F&& perRow)
    {
        if (T == 1) {
            perRow(0);
            return;
        }
        pool_.parallelFor(T, 1, [&perRow](int64_t b, int64_t e, int) {
            for (int64_t t = b; t < e; ++t)
                perRow(int(t));
        });
    }

    std::shared_ptr<const Model> model_;
    LlamaHParams hp_;
    int nCtx_;
    int layerBegin_ = 0, layerEnd_ = 0; // the layers whose KV cache this context holds
    GGMLType kvType_;
    bool profile_;
    ThreadPool pool_;
    Matmul matmul_;
    int pos_ = 0;
    size_t kvElemBytes_;
    std::vector<std::vector<uint8_t>> kCache_, vCache_;

    int batchCap_ = 0;
    std::vector<float> x_, xn_, q_, k_, v_, attn_, tmp_, gate_, up_, ffn_, cos_, sin_;
    std::vector<int32_t> positions_;
    std::vector<std::vector<float>> scores_; // per thread, nCtx floats
    std::vector<OpTiming> timings_;
    std::vector<float> exitRow_;               // early exit: the exited state being mapped
    std::span<const int> captureLayers_;       // decodeCapture's request, empty otherwise
    std::vector<float>* captureOut_ = nullptr;
    MatmulObserver observer_;
    uint64_t bytes_ = 0;
    std::shared_ptr<std::atomic<uint64_t>> memoryCounter_;
};

} // namespace tenfold
