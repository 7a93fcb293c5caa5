// The Llama-family forward pass over a batch of rows from many sequences (see cpu_context.cpp for
// the single-sequence version it mirrors):
//   x = embed(tokens); per layer: x += Wo attn(rope(Wq n(x)), rope(Wk n(x)), Wv n(x)) with each
//   row attending to its own sequence's blocks; x += Wdown(silu(Wgate n(x)) * Wup n(x))
//   logits = Wout n(x) for the rows that ask.
#include "runtime/cpu_batched_context.h"

#include "runtime/cpu_ops.h"
#include "runtime/palette_matvec.h"
#include "runtime/host_memory.h"
#include "tensor/kernels.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>

namespace tenfold {
namespace {

constexpr size_t kKvElemBytes = 2; // F16 cache

int sequenceLimit(const BatchedParams& p, const LlamaHParams& hp)
{
    const int len = p.maxSequenceLength > 0 ? p.maxSequenceLength : hp.nCtxTrain;
    if (len <= 0)
        throw InvalidArgument("sequence length must be positive, got " + std::to_string(len));
    return len;
}

int layerEnd(const BatchedParams& p, const LlamaHParams& hp)
{
    const int end = p.endLayer > 0 ? p.endLayer : hp.nLayer;
    if (p.firstLayer < 0 || p.firstLayer >= end || end > hp.nLayer)
        throw InvalidArgument("layers " + std::to_string(p.firstLayer) + ".." + std::to_string(end - 1) +
                              " are not a range of the model's " + std::to_string(hp.nLayer) + " layers");
    return end;
}

int poolBlocks(const BatchedParams& p, const LlamaHParams& hp, int maxLen)
{
    if (p.blockSize <= 0 || p.blockSize > 4096)
        throw InvalidArgument("KV block size must be 1..4096 positions, got " +
                              std::to_string(p.blockSize));
    const uint64_t blockBytesAllLayers = uint64_t(p.blockSize) * uint64_t(hp.nHeadKv) *
                                         uint64_t(hp.headDim) * kKvElemBytes * 2 *
                                         uint64_t(hp.nLayer);
    uint64_t blocks = 0;
    if (p.kvBudgetBytes > 0) {
        blocks = p.kvBudgetBytes / blockBytesAllLayers;
    } else {
        if (p.maxSequences <= 0)
            throw InvalidArgument("maxSequences must be positive, got " +
                                  std::to_string(p.maxSequences));
        blocks = uint64_t(p.maxSequences) * uint64_t((maxLen + p.blockSize - 1) / p.blockSize);
    }
    if (blocks == 0)
        throw InvalidArgument("a KV budget of " + std::to_string(p.kvBudgetBytes) +
                              " bytes holds no block of " + std::to_string(blockBytesAllLayers) +
                              " bytes");
    const uint64_t limit = physicalMemoryBytes();
    if (blocks > uint64_t(INT32_MAX) || (limit > 0 && blocks * blockBytesAllLayers > limit))
        throw InvalidArgument("a KV pool of " + std::to_string(blocks) + " blocks needs " +
                              std::to_string(blocks * blockBytesAllLayers) +
                              " bytes, more than this machine's " + std::to_string(limit) +
                              "; use a smaller context or fewer parallel sequences");
    return int(blocks);
}

} // namespace

CpuBatchedContext::CpuBatchedContext(std::shared_ptr<const Model> model,
                                     const BatchedParams& params, int nThreads,
                                     std::shared_ptr<std::atomic<uint64_t>> memoryCounter)
    : model_(std::move(model)),
      hp_(model_->hparams()),
      layerBegin_(params.firstLayer),
      layerEnd_(layerEnd(params, hp_)),
      table_(poolBlocks(params, hp_, sequenceLimit(params, hp_)), params.blockSize,
             sequenceLimit(params, hp_)),
      pool_(params.nThreads > 0 ? params.nThreads : nThreads),
      matmul_(pool_.size()),
      kvDim_(size_t(hp_.nHeadKv) * size_t(hp_.headDim)),
      blockBytes_(size_t(params.blockSize) * kvDim_ * kKvElemBytes),
      memoryCounter_(std::move(memoryCounter)),
      profile_(params.profile)
{
    // One repacked copy per model, not per context, of the weights the model itself holds.
    matmul_.shareRepacks(model_->derivedWeights(),
                         [m = model_.get()](const uint8_t* p, size_t n) { return m->holdsWeightBytes(p, n); });
    const size_t poolBytes = size_t(table_.totalBlocks()) * blockBytes_;
    const int ownLayers = layerEnd_ - layerBegin_;
    kPool_.resize(size_t(ownLayers));
    vPool_.resize(size_t(ownLayers));
    for (int l = 0; l < ownLayers; ++l) {
        kPool_[size_t(l)].resize(poolBytes);
        vPool_[size_t(l)].resize(poolBytes);
    }
    maxBlocksPerSeq_ = (table_.maxSequenceLength() + params.blockSize - 1) / params.blockSize;
    scores_.resize(size_t(pool_.size()));
    for (auto& s : scores_)
        s.resize(size_t(table_.maxSequenceLength()) + 8);
    bytes_ = 2 * poolBytes * size_t(ownLayers) +
             size_t(pool_.size()) * size_t(table_.maxSequenceLength()) * 4;
    if (memoryCounter_)
        memoryCounter_->fetch_add(bytes_);
    reserveBatch(1);
}

CpuBatchedContext::~CpuBatchedContext()
{
    if (memoryCounter_)
        memoryCounter_->fetch_sub(bytes_);
}

void CpuBatchedContext::reserveBatch(int T)
{
    if (T <= batchCap_)
        return;
    const uint64_t before = bytes_;
    const size_t t = size_t(T);
    const size_t qDim = size_t(hp_.nHead) * size_t(hp_.headDim);
    auto grow = [this](auto& v, size_t n) {
        bytes_ += (n - std::min(n, v.size())) * sizeof(v[0]);
        v.resize(n);
    };
    grow(x_, t * size_t(hp_.nEmbd));
    grow(xn_, t * size_t(hp_.nEmbd));
    grow(tmp_, t * size_t(hp_.nEmbd));
    grow(q_, t * qDim);
    grow(attn_, t * qDim);
    grow(k_, t * kvDim_);
    grow(v_, t * kvDim_);
    grow(gate_, t * size_t(hp_.nFF));
    grow(up_, t * size_t(hp_.nFF));
    grow(ffn_, t * size_t(hp_.nFF));
    grow(cos_, t * size_t(hp_.ropeDim / 2));
    grow(sin_, t * size_t(hp_.ropeDim / 2));
    grow(positions_, t);
    grow(kRows_, t * size_t(maxBlocksPerSeq_));
    grow(vRows_, t * size_t(maxBlocksPerSeq_));
    accountBytes(before);
    batchCap_ = T;
}

void CpuBatchedContext::accountBytes(uint64_t before)
{
    if (memoryCounter_ && bytes_ > before)
        memoryCounter_->fetch_add(bytes_ - before);
}

std::vector<uint8_t> CpuBatchedContext::exportSequence(SeqId seq, int length) const
{
    if (layerBegin_ != 0 || layerEnd_ != hp_.nLayer)
        throw InvalidArgument("a pipeline stage holds only some layers' KV; it cannot export a sequence");
    if (!table_.contains(seq) || length < 0 || length > table_.length(seq))
        throw InvalidArgument("cannot export " + std::to_string(length) + " positions of sequence " +
                              std::to_string(seq));
    const std::vector<int>& blocks = table_.blocks(seq);
    const size_t rowBytes = kvDim_ * kKvElemBytes, part = size_t(length) * rowBytes;
    const int bs = table_.blockSize();
    std::vector<uint8_t> out(part * 2 * size_t(hp_.nLayer));
    for (int l = 0; l < hp_.nLayer; ++l) {
        uint8_t* k = out.data() + 2 * part * size_t(l);
        for (int p0 = 0; p0 < length; p0 += bs) { // one block's rows at a time: they are contiguous
            const size_t n = size_t(std::min(bs, length - p0)) * rowBytes;
            const int b = blocks[size_t(p0 / bs)];
            std::memcpy(k + size_t(p0) * rowBytes, blockData(const_cast<std::vector<uint8_t>&>(kPool_[size_t(l)]), b), n);
            std::memcpy(k + part + size_t(p0) * rowBytes, blockData(const_cast<std::vector<uint8_t>&>(vPool_[size_t(l)]), b), n);
        }
    }
    return out;
}

SeqId CpuBatchedContext::importSequence(int length, std::span<const uint8_t> data)
{
    if (layerBegin_ != 0 || layerEnd_ != hp_.nLayer)
        throw InvalidArgument("a pipeline stage holds only some layers' KV; it cannot import a sequence");
    const size_t rowBytes = kvDim_ * kKvElemBytes, part = size_t(std::max(0, length)) * rowBytes;
    if (length < 0 || length > table_.maxSequenceLength() || data.size() != part * 2 * size_t(hp_.nLayer))
        throw InvalidArgument("a KV state of " + std::to_string(data.size()) + " bytes does not hold " +
                              std::to_string(length) + " positions of this model");
    const SeqId seq = table_.open();
    const std::pair<SeqId, int> append{seq, length};
    KvBlockTable::Plan plan;
    try {
        plan = table_.plan(std::span(&append, 1));
    } catch (...) {
        table_.close(seq);
        throw;
    }
    table_.commit(plan);
    const std::vector<int>& blocks = table_.blocks(seq);
    const int bs = table_.blockSize();
    for (int l = 0; l < hp_.nLayer; ++l) {
        const uint8_t* k = data.data() + 2 * part * size_t(l);
        for (int p0 = 0; p0 < length; p0 += bs) {
            const size_t n = size_t(std::min(bs, length - p0)) * rowBytes;
            const int b = blocks[size_t(p0 / bs)];
            std::memcpy(blockData(kPool_[size_t(l)], b), k + size_t(p0) * rowBytes, n);
            std::memcpy(blockData(vPool_[size_t(l)], b), k + part + size_t(p0) * rowBytes, n);
        }
    }
    return seq;
}

template <class F>
void CpuBatchedContext::appendRows(std::span<const BatchRow> rows, bool haveEmbeddingOutput, F&& fn)
{
    KvBlockTable::Plan plan = table_.planRows(rows, hp_.nVocab, haveEmbeddingOutput);
    try {
        // Copy-on-write: a sequence about to write into a block it shares gets its own copy of
        // the rows written so far.
        for (const auto& c : plan.copies) {
            const size_t bytes = size_t(c.rows) * kvDim_ * kKvElemBytes;
            for (size_t l = 0; l < kPool_.size(); ++l) {
                std::memcpy(blockData(kPool_[l], c.to), blockData(kPool_[l], c.from), bytes);
                std::memcpy(blockData(vPool_[l], c.to), blockData(vPool_[l], c.from), bytes);
            }
        }
        reserveBatch(int(rows.size()));
        std::copy(plan.positions.begin(), plan.positions.end(), positions_.begin());
        timings_.clear();
        fn();
    } catch (...) {
        table_.rollback(plan);
        throw;
    }
    table_.commit(plan);
}

void CpuBatchedContext::checkRows(std::span<const BatchRow> rows, bool haveEmbeddingOutput) const
{
    KvBlockTable::Plan plan = table_.planRows(rows, hp_.nVocab, haveEmbeddingOutput);
    table_.rollback(plan);
}

void CpuBatchedContext::decode(std::span<const BatchRow> rows, std::vector<float>& logits,
                               std::vector<float>* embeddings, const std::atomic<bool>* cancel)
{
    if (layerBegin_ != 0 || layerEnd_ != hp_.nLayer)
        throw InvalidArgument("a pipeline stage runs decodeLayers, not decode");
    appendRows(rows, embeddings != nullptr, [&] {
        runLayers(rows, nullptr, cancel);
        if (cancel && cancel->load(std::memory_order_relaxed))
            throw Cancelled();
        head(rows, logits, embeddings);
    });
}

void CpuBatchedContext::decodeLayers(std::span<const BatchRow> rows, std::vector<float>& stream,
                                     const std::atomic<bool>* cancel)
{
    const size_t E = size_t(hp_.nEmbd);
    if (layerBegin_ > 0 && stream.size() != rows.size() * E)
        throw InvalidArgument("a stream of " + std::to_string(stream.size()) + " floats for " +
                              std::to_string(rows.size()) + " rows of width " + std::to_string(E));
    appendRows(rows, true, [&] {
        runLayers(rows, layerBegin_ == 0 ? nullptr : stream.data(), cancel);
        stream.assign(x_.begin(), x_.begin() + std::ptrdiff_t(rows.size() * E));
    });
}

void CpuBatchedContext::outputHead(std::span<const BatchRow> rows, std::span<const float> stream,
                                   std::vector<float>& logits, std::vector<float>* embeddings)
{
    const size_t E = size_t(hp_.nEmbd);
    if (stream.size() != rows.size() * E)
        throw InvalidArgument("a stream of " + std::to_string(stream.size()) + " floats for " +
                              std::to_string(rows.size()) + " rows of width " + std::to_string(E));
    reserveBatch(int(rows.size()));
    std::copy(stream.begin(), stream.end(), x_.begin());
    head(rows, logits, embeddings);
}

template <class F>
void CpuBatchedContext::op(const char* name, int layer, F&& fn)
{
    if (!profile_) {
        fn();
        return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const auto t1 = std::chrono::steady_clock::now();
    timings_.push_back({name, layer, std::chrono::duration<double, std::micro>(t1 - t0).count()});
}

// The layers of this context on the residual stream: the rows' token embeddings when input is
// null (the first stage), else input (rows x nEmbd floats). Leaves the stream in x_; positions_
// were set by appendRows.
void CpuBatchedContext::runLayers(std::span<const BatchRow> rows, const float* input,
                                  const std::atomic<bool>* cancel)
{
    const int T = int(rows.size());
    const int E = hp_.nEmbd, H = hp_.nHead, Hkv = hp_.nHeadKv, D = hp_.headDim, FF = hp_.nFF;
    const int qDim = H * D, kvDim = Hkv * D, halfRot = hp_.ropeDim / 2;
    const int groupSize = H / Hkv;
    const int bs = table_.blockSize();
    const float scale = 1.0f / std::sqrt(float(D));
    const Model& m = *model_;
    auto check = [cancel] {
        if (cancel && cancel->load(std::memory_order_relaxed))
            throw Cancelled();
    };
    auto rowsParallel = [this, T](auto&& perRow) {
        if (T == 1) {
            perRow(0);
            return;
        }
        pool_.parallelFor(T, 1, [&perRow](int64_t b, int64_t e, int) {
            for (int64_t t = b; t < e; ++t)
                perRow(int(t));
        });
    };

    op("embed", -1, [&] {
        const WeightTensor& emb = m.tokenEmbedding();
        if (input) {
            std::copy(input, input + size_t(T) * size_t(E), x_.begin());
        } else if (emb.palette) {
            for (int t = 0; t < T; ++t)
                paletteDecodeRow(*emb.palette, rows[size_t(t)].token, x_.data() + size_t(t) * E, E);
        } else {
            const auto dequantize = kernels(emb.type).dequantizeRow;
            for (int t = 0; t < T; ++t)
                dequantize(emb.row(rows[size_t(t)].token), x_.data() + size_t(t) * E, E);
        }
        ropeTable(positions_.data(), T, hp_.ropeDim, hp_.ropeFreqBase, hp_.ropeFreqScale, cos_.data(),
                  sin_.data());
    });

    for (int il = layerBegin_; il < layerEnd_; ++il) {
        const LayerWeights& L = m.layers()[size_t(il)];
        auto& kPool = kPool_[size_t(il - layerBegin_)];
        auto& vPool = vPool_[size_t(il - layerBegin_)];
        check();
        op("attn_norm", il, [&] {
            rowsParallel([&](int t) {
                rmsNorm(x_.data() + size_t(t) * E, reinterpret_cast<const float*>(L.attnNorm.data),
                        xn_.data() + size_t(t) * E, E, hp_.rmsEps);
            });
        });
        op("matmul_qkv", il, [&] {
            const MatmulJob jobs[3] = {{&L.wq, q_.data(), qDim},
                                       {&L.wk, k_.data(), kvDim},
                                       {&L.wv, v_.data(), kvDim}};
            matmul_.run(pool_, jobs, xn_.data(), T, E);
        });
        check();
        op("rope_kv_store", il, [&] {
            rowsParallel([&](int t) {
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
                const int pos = positions_[size_t(t)];
                const std::vector<int>& blocks = table_.blocks(rows[size_t(t)].seq);
                const size_t at = size_t(pos % bs) * kvDim_ * kKvElemBytes;
                storeCacheRow(k, blockData(kPool, blocks[size_t(pos / bs)]) + at, GGMLType::F16, kvDim);
                storeCacheRow(v, blockData(vPool, blocks[size_t(pos / bs)]) + at, GGMLType::F16, kvDim);
                const void** kr = kRows_.data() + size_t(t) * size_t(maxBlocksPerSeq_);
                const void** vr = vRows_.data() + size_t(t) * size_t(maxBlocksPerSeq_);
                const int used = pos / bs + 1;
                for (int b = 0; b < used; ++b) {
                    kr[b] = blockData(kPool, blocks[size_t(b)]);
                    vr[b] = blockData(vPool, blocks[size_t(b)]);
                }
            });
        });
        check();
        // Every row's keys and values are stored before any row attends: a row sees the batch's
        // earlier rows of its own sequence.
        op("attention", il, [&] {
            pool_.parallelFor(int64_t(T) * H, 1, [&](int64_t b, int64_t e, int slot) {
                float* scores = scores_[size_t(slot)].data();
                for (int64_t i = b; i < e; ++i) {
                    const int t = int(i / H), h = int(i % H), g = h / groupSize;
                    const size_t r = size_t(t) * size_t(maxBlocksPerSeq_);
                    attendBlocks(q_.data() + size_t(t) * qDim + size_t(h) * D, kRows_.data() + r,
                                 vRows_.data() + r, int64_t(g) * D, bs, GGMLType::F16, kvDim,
                                 positions_[size_t(t)] + 1, D, scale, scores,
                                 attn_.data() + size_t(t) * qDim + size_t(h) * D);
                }
            });
        });
        op("matmul_wo", il, [&] {
            const MatmulJob job{&L.wo, tmp_.data(), E};
            matmul_.run(pool_, {&job, 1}, attn_.data(), T, qDim);
        });
        check();
        op("residual_ffn_norm", il, [&] {
            rowsParallel([&](int t) {
                float* x = x_.data() + size_t(t) * E;
                addInPlace(x, tmp_.data() + size_t(t) * E, E);
                rmsNorm(x, reinterpret_cast<const float*>(L.ffnNorm.data), xn_.data() + size_t(t) * E,
                        E, hp_.rmsEps);
            });
        });
        op("matmul_gate_up", il, [&] {
            const MatmulJob jobs[2] = {{&L.ffnGate, gate_.data(), FF}, {&L.ffnUp, up_.data(), FF}};
            matmul_.run(pool_, jobs, xn_.data(), T, E);
        });
        check();
        op("swiglu", il, [&] {
            rowsParallel([&](int t) {
                const size_t o = size_t(t) * FF;
                swiglu(gate_.data() + o, up_.data() + o, ffn_.data() + o, FF);
            });
        });
        op("matmul_down", il, [&] {
            const MatmulJob job{&L.ffnDown, tmp_.data(), E};
            matmul_.run(pool_, {&job, 1}, ffn_.data(), T, FF);
        });
        op("residual", il, [&] {
            rowsParallel([&](int t) {
                addInPlace(x_.data() + size_t(t) * E, tmp_.data() + size_t(t) * E, E);
            });
        });
    }
}

void CpuBatchedContext::head(std::span<const BatchRow> rows, std::vector<float>& logits,
                             std::vector<float>* embeddings)
{
    const int T = int(rows.size());
    const int E = hp_.nEmbd;
    const Model& m = *model_;
    // Final norm of the rows that want an output; logits rows packed at the front of xn_.
    const float* outNorm = reinterpret_cast<const float*>(m.outputNorm().data);
    int nLogits = 0, nEmbed = 0;
    op("output_norm", -1, [&] {
        for (int t = 0; t < T; ++t) {
            const BatchRow& r = rows[size_t(t)];
            if (r.logits)
                rmsNorm(x_.data() + size_t(t) * E, outNorm, xn_.data() + size_t(nLogits++) * E, E,
                        hp_.rmsEps);
            if (r.embedding)
                ++nEmbed;
        }
        if (embeddings) {
            embeddings->resize(size_t(nEmbed) * size_t(E));
            int e = 0;
            for (int t = 0; t < T; ++t)
                if (rows[size_t(t)].embedding)
                    rmsNorm(x_.data() + size_t(t) * E, outNorm,
                            embeddings->data() + size_t(e++) * E, E, hp_.rmsEps);
        }
    });
    logits.resize(size_t(nLogits) * size_t(hp_.nVocab));
    if (nLogits > 0)
        op("matmul_output", -1, [&] {
            const MatmulJob job{&m.output(), logits.data(), hp_.nVocab};
            matmul_.run(pool_, {&job, 1}, xn_.data(), nLogits, E);
        });
}

} // namespace tenfold
