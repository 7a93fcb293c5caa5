#include "vulkan_batched_context.h"

#include "core/error.h"
#include "model/model.h"
#include "vk/device.h"

#include <algorithm>
#include <cstring>

namespace tenfold {
namespace {
constexpr size_t kMaxRecordedPasses = 8;
constexpr int kMaxBatch = 256;
} // namespace

using vk::Buffer;

VulkanBatchedContext::VulkanBatchedContext(std::shared_ptr<vk::Device> device,
                                           std::shared_ptr<const Model> model,
                                           std::shared_ptr<vk::GpuModel> weights,
                                           const BatchedParams& params)
    : device_(std::move(device)), model_(std::move(model)), w_(std::move(weights)), profile_(params.profile)
{
    const LlamaHParams& hp = model_->hparams();
    const int maxLen = params.maxSequenceLength > 0 ? params.maxSequenceLength : hp.nCtxTrain;
    if (maxLen <= 0)
        throw InvalidArgument("Vulkan backend: sequence length must be positive");
    if (params.blockSize <= 0 || params.blockSize > 4096)
        throw InvalidArgument("KV block size must be 1..4096 positions, got " + std::to_string(params.blockSize));
    const uint32_t kvDim = uint32_t(hp.nHeadKv * hp.headDim);
    const uint64_t blockBytesAllLayers = uint64_t(params.blockSize) * kvDim * 2 * 2 * uint64_t(hp.nLayer);
    uint64_t blocks = params.kvBudgetBytes > 0
                          ? params.kvBudgetBytes / blockBytesAllLayers
                          : uint64_t(std::max(params.maxSequences, 1)) *
                                uint64_t((maxLen + params.blockSize - 1) / params.blockSize);
    if (blocks == 0)
        throw InvalidArgument("a KV budget of " + std::to_string(params.kvBudgetBytes) +
                              " bytes holds no block of " + std::to_string(blockBytesAllLayers) + " bytes");
    const uint64_t maxRange = device_->maxStorageBufferRange();
    const uint64_t cacheBytes = blocks * uint64_t(params.blockSize) * kvDim * 2 * uint64_t(hp.nLayer);
    if (cacheBytes > maxRange)
        throw UnsupportedError("Vulkan backend: a KV pool of " + std::to_string(cacheBytes >> 20) +
                               " MiB exceeds the device's storage-buffer range; use a shorter context "
                               "or fewer parallel sequences");
    table_ = std::make_unique<KvBlockTable>(int(blocks), params.blockSize, maxLen);
    maxBlocks_ = uint32_t((maxLen + params.blockSize - 1) / params.blockSize);
    layerWords_ = blocks * uint64_t(params.blockSize) * kvDim / 2;
    ops_ = std::make_unique<vk::GpuOps>(*device_);

    const uint64_t vocabBytes = uint64_t(hp.nVocab) * sizeof(float);
    batch_ = int(std::clamp<uint64_t>(maxRange / std::max<uint64_t>(vocabBytes, 1), 1, kMaxBatch));
    const uint32_t B = uint32_t(batch_);
    const uint32_t qDim = uint32_t(hp.nHead * hp.headDim);
    const auto D = Buffer::Kind::Device, H = Buffer::Kind::Host;
    auto& dev = *device_;
    // rows: positions [B], output row indices [B], block tables [B][maxBlocks]
    rows_ = Buffer(dev, (uint64_t(B) * 2 + uint64_t(B) * maxBlocks_) * 4, H);
    tokens_ = Buffer(dev, B * 4, H);
    logitsHost_ = Buffer(dev, uint64_t(B) * vocabBytes, H);
    embedHost_ = Buffer(dev, uint64_t(B) * hp.nEmbd * 4, H);
    x_ = Buffer(dev, uint64_t(B) * hp.nEmbd * 4, D);
    xn_ = Buffer(dev, uint64_t(B) * hp.nEmbd * 4, D);
    q_ = Buffer(dev, uint64_t(B) * qDim * 4, D);
    attn_ = Buffer(dev, uint64_t(B) * qDim * 4, D);
    k_ = Buffer(dev, uint64_t(B) * kvDim * 4, D);
    v_ = Buffer(dev, uint64_t(B) * kvDim * 4, D);
    gate_ = Buffer(dev, uint64_t(B) * hp.nFF * 4, D);
    up_ = Buffer(dev, uint64_t(B) * hp.nFF * 4, D);
    logits_ = Buffer(dev, uint64_t(B) * vocabBytes, D);
    kCache_ = Buffer(dev, cacheBytes, D);
    vCache_ = Buffer(dev, cacheBytes, D);
    bytes_ = 2 * cacheBytes + uint64_t(B) * (2 * vocabBytes + uint64_t(hp.nEmbd) * 12 + uint64_t(qDim) * 8 +
                                             uint64_t(kvDim) * 8 + uint64_t(hp.nFF) * 8);
}

VulkanBatchedContext::~VulkanBatchedContext() = default;

int VulkanBatchedContext::vocabSize() const { return model_->hparams().nVocab; }
int VulkanBatchedContext::embeddingSize() const { return model_->hparams().nEmbd; }

vk::Sequence& VulkanBatchedContext::passFor(uint32_t nTokens, uint32_t nLogits, uint32_t nEmbed)
{
    const uint64_t key = (uint64_t(nTokens) << 40) | (uint64_t(nLogits) << 20) | uint64_t(nEmbed);
    for (auto it = passes_.begin(); it != passes_.end(); ++it)
        if (it->first == key) {
            passes_.splice(passes_.begin(), passes_, it);
            return *passes_.front().second;
        }
    if (passes_.size() >= kMaxRecordedPasses)
        passes_.pop_back();
    auto s = std::make_unique<vk::Sequence>(*device_, profile_);
    record(*s, nTokens, nLogits, nEmbed);
    passes_.emplace_front(key, std::move(s));
    return *passes_.front().second;
}

void VulkanBatchedContext::record(vk::Sequence& s, uint32_t n, uint32_t nLogits, uint32_t nEmbed)
{
    const LlamaHParams& hp = model_->hparams();
    const uint32_t E = uint32_t(hp.nEmbd), hd = uint32_t(hp.headDim);
    const uint32_t qDim = uint32_t(hp.nHead) * hd, kvDim = uint32_t(hp.nHeadKv) * hd, ff = uint32_t(hp.nFF);
    const uint32_t V = uint32_t(hp.nVocab), B = uint32_t(batch_);
    const vk::GpuOps::PagedRows paged{&rows_, uint32_t(table_->blockSize()), maxBlocks_, 2 * B};
    auto& ops = *ops_;

    s.begin();
    ops.embed(s, *w_->tokenEmbedding, tokens_, n, x_);
    s.barrier();
    // As the single-sequence pass (vulkan_context.cpp), with positions and cache slots per row.
    const bool fuseNorm = n < vk::GpuOps::kTiledMinTokens;
    const vk::KeyRope keyRope{true, hd, hp.ropeFreqBase, hp.ropeFreqScale, hp.ropeNeox};
    const auto kindAuto = vk::GpuOps::MatMulKind::Auto;
    for (size_t il = 0; il < w_->layers.size(); ++il) {
        const vk::GpuLayer& L = w_->layers[il];
        const int layer = int(il);
        const uint32_t cacheOff = uint32_t(layerWords_ * il);
        vk::MatMulInput attnIn;
        const vk::Buffer* attnSrc = &xn_;
        if (fuseNorm) {
            attnIn = vk::MatMulInput::rmsNorm(*L.attnNorm, hp.rmsEps);
            attnSrc = &x_;
        } else {
            ops.rmsNorm(s, layer, x_, 0, n, E, *L.attnNorm, xn_, 0, hp.rmsEps);
            s.barrier();
        }
        ops.matmul(s, layer, *L.wq, *attnSrc, 0, E, n, q_, 0, qDim, false, L.bq.get(), kindAuto, attnIn);
        ops.matmul(s, layer, *L.wk, *attnSrc, 0, E, n, k_, 0, kvDim, false, L.bk.get(), kindAuto, attnIn);
        ops.matmul(s, layer, *L.wv, *attnSrc, 0, E, n, v_, 0, kvDim, false, L.bv.get(), kindAuto, attnIn);
        s.barrier();
        ops.ropeRows(s, layer, q_, rows_, n, uint32_t(hp.nHead), hd, qDim, hp.ropeFreqBase, hp.ropeFreqScale,
                     hp.ropeNeox);
        ops.kvAppendPaged(s, layer, k_, v_, kCache_, vCache_, paged, n, kvDim, cacheOff, keyRope);
        s.barrier();
        ops.attentionPaged(s, layer, q_, kCache_, vCache_, attn_, paged, n, uint32_t(hp.nHead),
                           uint32_t(hp.nHeadKv), hd, cacheOff);
        s.barrier();
        ops.matmul(s, layer, *L.wo, attn_, 0, qDim, n, x_, 0, E, true, nullptr);
        s.barrier();
        vk::MatMulInput ffnIn;
        const vk::Buffer* ffnSrc = &xn_;
        if (fuseNorm) {
            ffnIn = vk::MatMulInput::rmsNorm(*L.ffnNorm, hp.rmsEps);
            ffnSrc = &x_;
        } else {
            ops.rmsNorm(s, layer, x_, 0, n, E, *L.ffnNorm, xn_, 0, hp.rmsEps);
            s.barrier();
        }
        ops.matmul(s, layer, *L.ffnGate, *ffnSrc, 0, E, n, gate_, 0, ff, false, nullptr, kindAuto, ffnIn);
        ops.matmul(s, layer, *L.ffnUp, *ffnSrc, 0, E, n, up_, 0, ff, false, nullptr, kindAuto, ffnIn);
        s.barrier();
        ops.matmul(s, layer, *L.ffnDown, gate_, 0, ff, n, x_, 0, E, true, nullptr, kindAuto,
                   vk::MatMulInput::swiglu(up_));
        s.barrier();
    }
    const uint32_t outRows = nLogits + nEmbed;
    if (outRows > 0) {
        // The wanted rows (logits rows first, then embedding rows) gathered into gate_ (free
        // now, and at least nEmbd wide), then normed into xn_.
        ops.gatherRows(s, x_, rows_, B, outRows, E, gate_);
        s.barrier();
        ops.rmsNorm(s, -1, gate_, 0, outRows, E, *w_->outputNorm, xn_, 0, hp.rmsEps);
        s.barrier();
        if (nLogits > 0) {
            ops.matmul(s, -1, *w_->output, xn_, 0, E, nLogits, logits_, 0, V, false, nullptr);
            s.barrier();
            s.copy(logits_, 0, logitsHost_, 0, uint64_t(nLogits) * V * sizeof(float));
        }
        if (nEmbed > 0)
            s.copy(xn_, uint64_t(nLogits) * E * 4, embedHost_, 0, uint64_t(nEmbed) * E * 4);
    }
    s.end();
}

void VulkanBatchedContext::runChunk(std::span<const BatchRow> rows, std::span<const uint32_t> positions,
                                    std::vector<float>& logits, std::vector<float>* embeddings)
{
    const LlamaHParams& hp = model_->hparams();
    const uint32_t n = uint32_t(rows.size()), B = uint32_t(batch_);
    std::vector<uint32_t> words(size_t(B) * 2 + size_t(n) * maxBlocks_, 0);
    std::vector<int32_t> tokens(n);
    uint32_t nLogits = 0, nEmbed = 0;
    for (uint32_t t = 0; t < n; ++t) {
        tokens[t] = rows[t].token;
        words[t] = positions[t];
        nLogits += rows[t].logits;
        nEmbed += rows[t].embedding;
        const std::vector<int>& blocks = table_->blocks(rows[t].seq);
        const uint32_t used = positions[t] / uint32_t(table_->blockSize()) + 1;
        for (uint32_t b = 0; b < used; ++b)
            words[2 * size_t(B) + size_t(t) * maxBlocks_ + b] = uint32_t(blocks[b]);
    }
    uint32_t li = 0, ei = nLogits;
    for (uint32_t t = 0; t < n; ++t) {
        if (rows[t].logits)
            words[B + li++] = t;
        if (rows[t].embedding)
            words[B + ei++] = t;
    }
    vk::Sequence& pass = passFor(n, nLogits, nEmbed);
    rows_.upload(words.data(), words.size() * 4);
    tokens_.upload(tokens.data(), n * 4);
    pass.submit();
    if (profile_) {
        const std::vector<OpTiming> t = pass.timings();
        timings_.insert(timings_.end(), t.begin(), t.end());
    }
    const size_t V = size_t(hp.nVocab), E = size_t(hp.nEmbd);
    if (nLogits > 0) {
        const size_t at = logits.size();
        logits.resize(at + nLogits * V);
        logitsHost_.download(logits.data() + at, nLogits * V * sizeof(float));
    }
    if (nEmbed > 0 && embeddings) {
        const size_t at = embeddings->size();
        embeddings->resize(at + nEmbed * E);
        embedHost_.download(embeddings->data() + at, nEmbed * E * 4);
    }
}

// The pool is [layer][slot][kvDim] halves (slot = block * blockSize + row): a block's rows are
// contiguous, so a sequence moves to or from the host one block-sized copy per layer and block,
// through a host staging buffer.
std::vector<uint8_t> VulkanBatchedContext::exportSequence(SeqId seq, int length) const
{
    if (!table_->contains(seq) || length < 0 || length > table_->length(seq))
        throw InvalidArgument("cannot export " + std::to_string(length) + " positions of sequence " +
                              std::to_string(seq));
    const LlamaHParams& hp = model_->hparams();
    const uint64_t rowBytes = uint64_t(hp.nHeadKv) * hp.headDim * 2, part = uint64_t(length) * rowBytes;
    const uint64_t layerBytes = layerWords_ * 4;
    const int bs = table_->blockSize();
    std::vector<uint8_t> out(size_t(part) * 2 * size_t(hp.nLayer));
    if (part == 0)
        return out;
    const std::vector<int>& blocks = table_->blocks(seq);
    Buffer staging(*device_, out.size(), Buffer::Kind::Host);
    vk::Sequence s(*device_, false);
    s.begin();
    for (int l = 0; l < hp.nLayer; ++l)
        for (int p0 = 0; p0 < length; p0 += bs) {
            const uint64_t n = uint64_t(std::min(bs, length - p0)) * rowBytes;
            const uint64_t from = uint64_t(l) * layerBytes + uint64_t(blocks[size_t(p0 / bs)]) * uint64_t(bs) * rowBytes;
            const uint64_t to = 2 * part * uint64_t(l) + uint64_t(p0) * rowBytes;
            s.copy(kCache_, from, staging, to, n);
            s.copy(vCache_, from, staging, to + part, n);
        }
    s.end();
    s.submit();
    staging.download(out.data(), out.size());
    return out;
}

SeqId VulkanBatchedContext::importSequence(int length, std::span<const uint8_t> data)
{
    const LlamaHParams& hp = model_->hparams();
    const uint64_t rowBytes = uint64_t(hp.nHeadKv) * hp.headDim * 2, part = uint64_t(std::max(0, length)) * rowBytes;
    if (length < 0 || length > table_->maxSequenceLength() || data.size() != part * 2 * uint64_t(hp.nLayer))
        throw InvalidArgument("a KV state of " + std::to_string(data.size()) + " bytes does not hold " +
                              std::to_string(length) + " positions of this model");
    const SeqId seq = table_->open();
    const std::pair<SeqId, int> append{seq, length};
    KvBlockTable::Plan plan;
    try {
        plan = table_->plan(std::span(&append, 1));
    } catch (...) {
        table_->close(seq);
        throw;
    }
    table_->commit(plan);
    if (part == 0)
        return seq;
    const std::vector<int>& blocks = table_->blocks(seq);
    const uint64_t layerBytes = layerWords_ * 4;
    const int bs = table_->blockSize();
    try {
        Buffer staging(*device_, data.size(), Buffer::Kind::Host);
        staging.upload(data.data(), data.size());
        vk::Sequence s(*device_, false);
        s.begin();
        for (int l = 0; l < hp.nLayer; ++l)
            for (int p0 = 0; p0 < length; p0 += bs) {
                const uint64_t n = uint64_t(std::min(bs, length - p0)) * rowBytes;
                const uint64_t to = uint64_t(l) * layerBytes + uint64_t(blocks[size_t(p0 / bs)]) * uint64_t(bs) * rowBytes;
                const uint64_t from = 2 * part * uint64_t(l) + uint64_t(p0) * rowBytes;
                s.copy(staging, from, kCache_, to, n);
                s.copy(staging, from + part, vCache_, to, n);
            }
        s.end();
        s.submit();
    } catch (...) {
        table_->close(seq); // the device failed: give the blocks back
        throw;
    }
    return seq;
}

void VulkanBatchedContext::decode(std::span<const BatchRow> rows, std::vector<float>& logits,
                                  std::vector<float>* embeddings, const std::atomic<bool>* cancel)
{
    const LlamaHParams& hp = model_->hparams();
    timings_.clear();
    KvBlockTable::Plan plan = table_->planRows(rows, hp.nVocab, embeddings != nullptr);
    const std::vector<uint32_t> positions(plan.positions.begin(), plan.positions.end());
    try {
        if (!plan.copies.empty()) {
            // Copy-on-write of shared, partly filled blocks, every layer's keys and values.
            const uint64_t rowBytes = uint64_t(hp.nHeadKv) * hp.headDim * 2;
            const uint64_t layerBytes = layerWords_ * 4;
            vk::Sequence copy(*device_, false);
            copy.begin();
            for (const auto& c : plan.copies)
                for (int l = 0; l < hp.nLayer; ++l) {
                    const uint64_t from = uint64_t(l) * layerBytes + uint64_t(c.from) * table_->blockSize() * rowBytes;
                    const uint64_t to = uint64_t(l) * layerBytes + uint64_t(c.to) * table_->blockSize() * rowBytes;
                    copy.copy(kCache_, from, kCache_, to, uint64_t(c.rows) * rowBytes);
                    copy.copy(vCache_, from, vCache_, to, uint64_t(c.rows) * rowBytes);
                }
            copy.end();
            copy.submit();
        }
        logits.clear();
        if (embeddings)
            embeddings->clear();
        // Chunks of at most batch_ rows; a later chunk sees the earlier chunks' keys and values.
        for (size_t done = 0; done < rows.size();) {
            if (cancel && cancel->load())
                throw Cancelled();
            const size_t n = std::min(rows.size() - done, size_t(batch_));
            runChunk(rows.subspan(done, n), std::span<const uint32_t>(positions).subspan(done, n), logits,
                     embeddings);
            done += n;
        }
    } catch (...) {
        table_->rollback(plan);
        throw;
    }
    table_->commit(plan);
}

} // namespace tenfold
