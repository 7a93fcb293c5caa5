// The Llama-family forward pass on the CPU:
//   x = embed(tokens)
//   per layer: x += Wo attn(rope(Wq n(x)), rope(Wk n(x)), Wv n(x));  x += Wdown(silu(Wgate n(x)) * Wup n(x))
//   logits = Wout n(x)
#include "runtime/cpu_context.h"

#include "core/error.h"
#include "runtime/cpu_ops.h"
#include "runtime/palette_matvec.h"
#include "runtime/host_memory.h"
#include "tensor/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace tenfold {

CpuContext::CpuContext(std::shared_ptr<const Model> model, const ContextParams& params,
                       int nThreads, std::shared_ptr<std::atomic<uint64_t>> memoryCounter)
    : model_(std::move(model)),
      hp_(model_->hparams()),
      nCtx_(params.nCtx > 0 ? params.nCtx : hp_.nCtxTrain),
      layerBegin_(params.firstLayer),
      layerEnd_(params.endLayer > 0 ? params.endLayer : hp_.nLayer),
      kvType_(params.kvType),
      profile_(params.profile),
      pool_(params.nThreads > 0 ? params.nThreads : nThreads),
      matmul_(pool_.size()),
      memoryCounter_(std::move(memoryCounter))
{
    // One repacked copy per model, not per context, of the weights the model itself holds.
    matmul_.shareRepacks(model_->derivedWeights(),
                         [m = model_.get()](const uint8_t* p, size_t n) { return m->holdsWeightBytes(p, n); });
    if (kvType_ != GGMLType::F16 && kvType_ != GGMLType::F32)
        throw UnsupportedError(std::string("KV cache type ") + typeName(kvType_) +
                               " is not supported by the CPU backend (use F16 or F32)");
    if (nCtx_ <= 0)
        throw InvalidArgument("context size must be positive, got " + std::to_string(nCtx_));
    if (layerBegin_ < 0 || layerBegin_ >= layerEnd_ || layerEnd_ > hp_.nLayer)
        throw InvalidArgument("layer range " + std::to_string(layerBegin_) + ".." +
                              std::to_string(layerEnd_) + " is not inside the model's " +
                              std::to_string(hp_.nLayer) + " layers");
    const int heldLayers = layerEnd_ - layerBegin_;
    kvElemBytes_ = kvType_ == GGMLType::F16 ? 2 : 4;
    const size_t kvDim = size_t(hp_.nHeadKv) * size_t(hp_.headDim);
    // The cache is allocated (and zero-filled) up front: refuse a size the machine cannot hold
    // with a message naming it, rather than bad_alloc or the OOM killer halfway through.
    uint64_t kvTotal = 0;
    const bool overflow = __builtin_mul_overflow(uint64_t(nCtx_), uint64_t(kvDim), &kvTotal) ||
                          __builtin_mul_overflow(kvTotal, uint64_t(kvElemBytes_), &kvTotal) ||
                          __builtin_mul_overflow(kvTotal, uint64_t(2) * uint64_t(heldLayers),
                                                 &kvTotal);
    const uint64_t limit = physicalMemoryBytes();
    if (overflow || (limit > 0 && kvTotal > limit))
        throw InvalidArgument("context size " + std::to_string(nCtx_) + " needs " +
                              (overflow ? std::string("more than 2^64") : std::to_string(kvTotal)) +
                              " bytes of KV cache, more than this machine's " +
                              std::to_string(limit) + " bytes of memory; use a smaller context");
    const size_t layerBytes = size_t(nCtx_) * kvDim * kvElemBytes_;
    kCache_.resize(size_t(hp_.nLayer));
    vCache_.resize(size_t(hp_.nLayer));
    // A pipeline stage leaves the other layers' caches empty.
    for (int l = layerBegin_; l < layerEnd_; ++l) {
        kCache_[size_t(l)].resize(layerBytes);
        vCache_[size_t(l)].resize(layerBytes);
    }
    scores_.resize(size_t(pool_.size()));
    for (auto& s : scores_)
        s.resize(size_t(nCtx_) + 8);
    bytes_ = 2 * layerBytes * size_t(heldLayers) + size_t(pool_.size()) * size_t(nCtx_) * 4;
    reserveBatch(1);
    if (memoryCounter_)
        memoryCounter_->fetch_add(bytes_);
}

CpuContext::~CpuContext()
{
    if (memoryCounter_)
        memoryCounter_->fetch_sub(bytes_);
}

void CpuContext::reserveBatch(int T)
{
    if (T <= batchCap_)
        return;
    const size_t t = size_t(T);
    const size_t qDim = size_t(hp_.nHead) * size_t(hp_.headDim);
    const size_t kvDim = size_t(hp_.nHeadKv) * size_t(hp_.headDim);
    const uint64_t before = uint64_t(x_.capacity() + xn_.capacity() + q_.capacity() +
                                     k_.capacity() + v_.capacity() + attn_.capacity() +
                                     tmp_.capacity() + gate_.capacity() + up_.capacity() +
                                     ffn_.capacity()) * 4;
    x_.resize(t * size_t(hp_.nEmbd));
    xn_.resize(t * size_t(hp_.nEmbd));
    tmp_.resize(t * size_t(hp_.nEmbd));
    q_.resize(t * qDim);
    attn_.resize(t * qDim);
    k_.resize(t * kvDim);
    v_.resize(t * kvDim);
    gate_.resize(t * size_t(hp_.nFF));
    up_.resize(t * size_t(hp_.nFF));
    ffn_.resize(t * size_t(hp_.nFF));
    cos_.resize(t * size_t(hp_.ropeDim / 2));
    sin_.resize(t * size_t(hp_.ropeDim / 2));
    positions_.resize(t);
    const uint64_t after = uint64_t(x_.capacity() + xn_.capacity() + q_.capacity() +
                                    k_.capacity() + v_.capacity() + attn_.capacity() +
                                    tmp_.capacity() + gate_.capacity() + up_.capacity() +
                                    ffn_.capacity()) * 4;
    if (memoryCounter_)
        memoryCounter_->fetch_add(after - before);
    bytes_ += after - before;
    batchCap_ = T;
}

void CpuContext::truncate(int nPos)
{
    if (nPos < 0)
        throw InvalidArgument("truncate position must not be negative, got " + std::to_string(nPos));
    pos_ = std::min(pos_, nPos);
}

void CpuContext::requireAllLayers(const char* what) const
{
    if (layerBegin_ != 0 || layerEnd_ != hp_.nLayer)
        throw UnsupportedError(std::string(what) + " needs every layer, but this context is a pipeline "
                               "stage holding layers " + std::to_string(layerBegin_) + ".." +
                               std::to_string(layerEnd_ - 1));
}

std::vector<uint8_t> CpuContext::exportKv(int n) const
{
    requireAllLayers("saving the KV cache");
    if (n < 0 || n > pos_)
        throw InvalidArgument("cannot export " + std::to_string(n) + " KV positions; the cache holds " +
                              std::to_string(pos_));
    const size_t rowBytes = size_t(hp_.nHeadKv) * size_t(hp_.headDim) * kvElemBytes_;
    const size_t part = size_t(n) * rowBytes;
    std::vector<uint8_t> out(part * 2 * size_t(hp_.nLayer));
    uint8_t* at = out.data();
    for (int l = 0; l < hp_.nLayer; ++l) {
        std::memcpy(at, kCache_[size_t(l)].data(), part);
        std::memcpy(at + part, vCache_[size_t(l)].data(), part);
        at += 2 * part;
    }
    return out;
}

void CpuContext::importKv(int n, std::span<const uint8_t> data)
{
    requireAllLayers("restoring the KV cache");
    const size_t rowBytes = size_t(hp_.nHeadKv) * size_t(hp_.headDim) * kvElemBytes_;
    const size_t part = size_t(n) * rowBytes;
    if (n < 0 || n > nCtx_ || data.size() != part * 2 * size_t(hp_.nLayer))
        throw InvalidArgument("a KV state of " + std::to_string(data.size()) + " bytes does not hold " +
                              std::to_string(n) + " positions of this model (context " +
                              std::to_string(nCtx_) + ")");
    const uint8_t* at = data.data();
    for (int l = 0; l < hp_.nLayer; ++l) {
        std::memcpy(kCache_[size_t(l)].data(), at, part);
        std::memcpy(vCache_[size_t(l)].data(), at + part, part);
        at += 2 * part;
    }
    pos_ = n;
}

void CpuContext::check(std::span<const int32_t> tokens, int start) const
{
    if (tokens.empty())
        throw InvalidArgument("decode needs at least one token");
    if (int64_t(start) + int64_t(tokens.size()) > nCtx_)
        throw InvalidArgument(std::to_string(tokens.size()) + " tokens at position " +
                              std::to_string(start) + " exceed the context size of " +
                              std::to_string(nCtx_) + " tokens");
    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] < 0 || tokens[i] >= hp_.nVocab)
            throw InvalidArgument("token id " + std::to_string(tokens[i]) + " at index " +
                                  std::to_string(i) + " is outside the vocabulary of " +
                                  std::to_string(hp_.nVocab));
}

void CpuContext::decode(std::span<const int32_t> tokens, bool allLogits,
                        std::vector<float>& logits, const std::atomic<bool>* cancel)
{
    requireAllLayers("decode");
    check(tokens, pos_);
    timings_.clear();
    // The cache rows beyond pos_ are scratch until the pass completes, so a cancelled or failed
    // pass leaves the context exactly as it was.
    forward(tokens, allLogits ? 0 : int(tokens.size()) - 1, logits, cancel, pos_, hp_.nLayer);
    pos_ += int(tokens.size());
}

void CpuContext::decodeRows(std::span<const int32_t> tokens, int firstRow,
                            std::vector<float>& logits, const std::atomic<bool>* cancel)
{
    requireAllLayers("decode");
    check(tokens, pos_);
    if (firstRow < 0 || firstRow >= int(tokens.size()))
        throw InvalidArgument("first logits row " + std::to_string(firstRow) +
                              " is outside the batch of " + std::to_string(tokens.size()));
    timings_.clear();
    forward(tokens, firstRow, logits, cancel, pos_, hp_.nLayer);
    pos_ += int(tokens.size());
}

void CpuContext::decodeExit(std::span<const int32_t> tokens, int position, int exitLayer,
                            std::vector<float>& logits)
{
    requireAllLayers("an early-exit pass");
    if (exitLayer < 1 || exitLayer > hp_.nLayer)
        throw InvalidArgument("exit layer " + std::to_string(exitLayer) + " is outside 1.." +
                              std::to_string(hp_.nLayer));
    if (position < pos_)
        throw InvalidArgument("an early-exit pass at position " + std::to_string(position) +
                              " would overwrite the " + std::to_string(pos_) + " cached positions");
    check(tokens, position);
    timings_.clear();
    forward(tokens, int(tokens.size()) - 1, logits, nullptr, position, exitLayer);
}

void CpuContext::decodeCapture(std::span<const int32_t> tokens, std::span<const int> afterLayers,
                               std::vector<float>& hidden)
{
    requireAllLayers("capturing hidden states");
    check(tokens, pos_);
    for (int l : afterLayers)
        if (l < 1 || l > hp_.nLayer)
            throw InvalidArgument("capture layer " + std::to_string(l) + " is outside 1.." +
                                  std::to_string(hp_.nLayer));
    hidden.assign(afterLayers.size() * tokens.size() * size_t(hp_.nEmbd), 0.0f);
    captureLayers_ = afterLayers;
    captureOut_ = &hidden;
    std::vector<float> logits;
    try {
        forward(tokens, int(tokens.size()) - 1, logits, nullptr, pos_, hp_.nLayer);
    } catch (...) {
        captureLayers_ = {};
        captureOut_ = nullptr;
        throw;
    }
    captureLayers_ = {};
    captureOut_ = nullptr;
    pos_ += int(tokens.size());
}

template <class F>
void CpuContext::op(const char* name, int layer, const std::atomic<bool>* cancel, F&& fn)
{
    if (cancel && cancel->load(std::memory_order_relaxed))
        throw Cancelled();
    if (!profile_) {
        fn();
        return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const auto t1 = std::chrono::steady_clock::now();
    timings_.push_back({name, layer, std::chrono::duration<double, std::micro>(t1 - t0).count()});
}

void CpuContext::forward(std::span<const int32_t> tokens, int firstRow,
                         std::vector<float>& logits, const std::atomic<bool>* cancel, int start,
                         int nLayers)
{
    const int T = int(tokens.size());
    const int E = hp_.nEmbd;
    const Model& m = *model_;
    runLayers(tokens, cancel, start, 0, nLayers);

    // An early exit with a fitted adapter maps the hidden state toward the last layer's first.
    const ExitAdapter* adapter = nLayers < hp_.nLayer ? m.exitAdapter(nLayers) : nullptr;
    if (adapter) {
        op("exit_adapter", -1, cancel, [&] {
            applyExitAdapter(*adapter, x_.data() + size_t(firstRow) * E, T - firstRow);
        });
    }

    head(T, firstRow, logits, cancel);
}

void CpuContext::decodeLayers(std::span<const int32_t> tokens, int fromLayer, int toLayer,
                              std::vector<float>& hidden, const std::atomic<bool>* cancel)
{
    if (fromLayer < layerBegin_ || toLayer > layerEnd_ || fromLayer >= toLayer)
        throw InvalidArgument("layers " + std::to_string(fromLayer) + ".." + std::to_string(toLayer - 1) +
                              " are not inside this stage's " + std::to_string(layerBegin_) + ".." +
                              std::to_string(layerEnd_ - 1));
    check(tokens, pos_);
    const size_t n = tokens.size() * size_t(hp_.nEmbd);
    if (fromLayer > 0 && hidden.size() != n)
        throw InvalidArgument("a stage starting at layer " + std::to_string(fromLayer) + " needs " +
                              std::to_string(n) + " floats of hidden state, got " +
                              std::to_string(hidden.size()));
    timings_.clear();
    reserveBatch(int(tokens.size()));
    if (fromLayer > 0)
        std::memcpy(x_.data(), hidden.data(), n * sizeof(float));
    runLayers(tokens, cancel, pos_, fromLayer, toLayer);
    hidden.assign(x_.begin(), x_.begin() + std::ptrdiff_t(n));
    pos_ += int(tokens.size());
}

void CpuContext::outputHead(std::span<const float> hidden, int rows, int firstRow,
                            std::vector<float>& logits)
{
    const size_t n = size_t(rows) * size_t(hp_.nEmbd);
    if (rows <= 0 || firstRow < 0 || firstRow >= rows || hidden.size() != n)
        throw InvalidArgument("the output head needs rows * nEmbd = " + std::to_string(n) +
                              " floats and a first row inside " + std::to_string(rows) + " rows, got " +
                              std::to_string(hidden.size()) + " floats and row " + std::to_string(firstRow));
    reserveBatch(rows);
    std::memcpy(x_.data(), hidden.data(), n * sizeof(float));
    head(rows, firstRow, logits, nullptr);
}

void CpuContext::head(int T, int firstRow, std::vector<float>& logits, const std::atomic<bool>* cancel)
{
    const int E = hp_.nEmbd;
    const Model& m = *model_;
    const int first = firstRow;
    const int rows = T - first;
    op("output_norm", -1, cancel, [&] {
        rowsParallel(rows, [&](int r) {
            const size_t t = size_t(first + r);
            rmsNorm(x_.data() + t * E, reinterpret_cast<const float*>(m.outputNorm().data),
                    xn_.data() + t * E, E, hp_.rmsEps);
        });
    });
    op("matmul_output", -1, cancel, [&] {
        logits.resize(size_t(rows) * size_t(hp_.nVocab));
        const MatmulJob job{&m.output(), logits.data(), hp_.nVocab};
        runMatmul({&job, 1}, xn_.data() + size_t(first) * E, rows, E);
    });
}

void CpuContext::runMatmul(std::span<const MatmulJob> jobs, const float* x, int T, int64_t ldx)
{
    if (observer_)
        for (const MatmulJob& job : jobs)
            observer_(*job.w, x, T, ldx);
    matmul_.run(pool_, jobs, x, T, ldx);
}

void CpuContext::applyExitAdapter(const ExitAdapter& adapter, float* rows, int n)
{
    const int E = hp_.nEmbd;
    // The adapter reads unit-RMS inputs (passes/exit_adapters.cpp says why).
    for (int r = 0; r < n; ++r) {
        float* x = rows + size_t(r) * E;
        double ss = 0;
        for (int i = 0; i < E; ++i)
            ss += double(x[i]) * x[i];
        const float inv = ss > 0 ? float(1.0 / std::sqrt(ss / E)) : 1.0f;
        for (int i = 0; i < E; ++i)
            x[i] *= inv;
    }
    const MatmulJob job{&adapter.weight, tmp_.data(), E};
    runMatmul({&job, 1}, rows, n, E);
    const float* b = reinterpret_cast<const float*>(adapter.bias.data);
    for (int r = 0; r < n; ++r) {
        float* x = rows + size_t(r) * E;
        const float* y = tmp_.data() + size_t(r) * E;
        for (int i = 0; i < E; ++i)
            x[i] = y[i] + b[i];
    }
}

void CpuContext::runLayers(std::span<const int32_t> tokens, const std::atomic<bool>* cancel, int start,
                           int fromLayer, int toLayer)
{
    const int T = int(tokens.size());
    reserveBatch(T);
    const int E = hp_.nEmbd, H = hp_.nHead, Hkv = hp_.nHeadKv, D = hp_.headDim, FF = hp_.nFF;
    const int qDim = H * D, kvDim = Hkv * D, halfRot = hp_.ropeDim / 2;
    const int groupSize = H / Hkv;
    const float scale = 1.0f / std::sqrt(float(D));
    const Model& m = *model_;
    const int nLayers = toLayer;

    op("embed", -1, cancel, [&] {
        // A pass that resumes at a later layer (early exit) keeps the residual stream in x_.
        if (fromLayer == 0) {
            const WeightTensor& emb = m.tokenEmbedding();
            if (emb.palette) {
                for (int t = 0; t < T; ++t)
                    paletteDecodeRow(*emb.palette, tokens[size_t(t)], x_.data() + size_t(t) * E, E);
            } else {
                const auto dequantize = kernels(emb.type).dequantizeRow;
                for (int t = 0; t < T; ++t)
                    dequantize(emb.row(tokens[size_t(t)]), x_.data() + size_t(t) * E, E);
            }
        }
        for (int t = 0; t < T; ++t)
            positions_[size_t(t)] = start + t;
        ropeTable(positions_.data(), T, hp_.ropeDim, hp_.ropeFreqBase, hp_.ropeFreqScale,
                  cos_.data(), sin_.data());
    });

    for (int il = fromLayer; il < nLayers; ++il) {
        const LayerWeights& L = m.layers()[size_t(il)];
        uint8_t* kc = kCache_[size_t(il)].data();
        uint8_t* vc = vCache_[size_t(il)].data();

        op("attn_norm", il, cancel, [&] {
            rowsParallel(T, [&](int t) {
                rmsNorm(x_.data() + size_t(t) * E, reinterpret_cast<const float*>(L.attnNorm.data),
                        xn_.data() + size_t(t) * E, E, hp_.rmsEps);
            });
        });
        op("matmul_qkv", il, cancel, [&] {
            const MatmulJob jobs[3] = {{&L.wq, q_.data(), qDim},
                                       {&L.wk, k_.data(), kvDim},
                                       {&L.wv, v_.data(), kvDim}};
            runMatmul(jobs, xn_.data(), T, E);
        });
        op("rope_kv_store", il, cancel, [&] {
            rowsParallel(T, [&](int t) {
                float* q = q_.data() + size_t(t) * qDim;
                float* k = k_.data() + size_t(t) * kvDim;
                float* v = v_.data() + size_t(t) * kvDim;
                if (L.bq.present())
                    addInPlace(q, reinterpret_cast<const float*>(L.bq.data), qDim);
                if (L.bk.present())
                    addInPlace(k, reinterpret_cast<const float*>(L.bk.data), kvDim);
                if (L.bv.present())
                    addInPlace(v, reinterpret_cast<const float*>(L.bv.data), kvDim);
                const float* c = cos_.data() + size_t(t) * halfRot;
                const float* s = sin_.data() + size_t(t) * halfRot;
                rope(q, H, D, hp_.ropeDim, c, s, hp_.ropeNeox);
                rope(k, Hkv, D, hp_.ropeDim, c, s, hp_.ropeNeox);
                const size_t at = size_t(start + t) * size_t(kvDim) * kvElemBytes_;
                storeCacheRow(k, kc + at, kvType_, kvDim);
                storeCacheRow(v, vc + at, kvType_, kvDim);
            });
        });
        op("attention", il, cancel, [&] {
            // Tasks are (token, head) pairs; later tokens see more keys, which the pool's
            // dynamic chunks even out.
            pool_.parallelFor(int64_t(T) * H, 1, [&](int64_t b, int64_t e, int slot) {
                float* scores = scores_[size_t(slot)].data();
                for (int64_t i = b; i < e; ++i) {
                    const int t = int(i / H), h = int(i % H), g = h / groupSize;
                    const size_t off = size_t(g) * size_t(D) * kvElemBytes_;
                    attendOne(q_.data() + size_t(t) * qDim + size_t(h) * D, kc + off, vc + off,
                              kvType_, kvDim, start + t + 1, D, scale, scores,
                              attn_.data() + size_t(t) * qDim + size_t(h) * D);
                }
            });
        });
        op("matmul_wo", il, cancel, [&] {
            const MatmulJob job{&L.wo, tmp_.data(), E};
            runMatmul({&job, 1}, attn_.data(), T, qDim);
        });
        op("residual_ffn_norm", il, cancel, [&] {
            rowsParallel(T, [&](int t) {
                float* x = x_.data() + size_t(t) * E;
                addInPlace(x, tmp_.data() + size_t(t) * E, E);
                rmsNorm(x, reinterpret_cast<const float*>(L.ffnNorm.data),
                        xn_.data() + size_t(t) * E, E, hp_.rmsEps);
            });
        });
        op("matmul_gate_up", il, cancel, [&] {
            const MatmulJob jobs[2] = {{&L.ffnGate, gate_.data(), FF}, {&L.ffnUp, up_.data(), FF}};
            runMatmul(jobs, xn_.data(), T, E);
        });
        op("swiglu", il, cancel, [&] {
            rowsParallel(T, [&](int t) {
                const size_t o = size_t(t) * FF;
                swiglu(gate_.data() + o, up_.data() + o, ffn_.data() + o, FF);
            });
        });
        op("matmul_down", il, cancel, [&] {
            const MatmulJob job{&L.ffnDown, tmp_.data(), E};
            runMatmul({&job, 1}, ffn_.data(), T, FF);
        });
        op("residual", il, cancel, [&] {
            rowsParallel(T, [&](int t) {
                addInPlace(x_.data() + size_t(t) * E, tmp_.data() + size_t(t) * E, E);
            });
        });
        for (size_t c = 0; c < captureLayers_.size(); ++c)
            if (captureLayers_[c] == il + 1)
                std::memcpy(captureOut_->data() + c * size_t(T) * size_t(E), x_.data(),
                            size_t(T) * size_t(E) * sizeof(float));
    }
}

} // namespace tenfold
