#include "vulkan_context.h"

#include "core/error.h"
#include "model/model.h"
#include "vk/device.h"

#include <algorithm>
#include <cstring>

namespace tenfold {
namespace {
constexpr size_t kMaxRecordedPasses = 6;
constexpr int kMaxBatch = 256;
} // namespace

using vk::Buffer;

VulkanInferenceContext::VulkanInferenceContext(std::shared_ptr<vk::Device> device, std::shared_ptr<const Model> model,
                                               std::shared_ptr<vk::GpuModel> weights, const ContextParams& params)
    : device_(std::move(device)), model_(std::move(model)), w_(std::move(weights))
{
    const LlamaHParams& hp = model_->hparams();
    if (params.kvType != GGMLType::F16)
        throw UnsupportedError(std::string("Vulkan backend: KV cache type ") + typeName(params.kvType) +
                               " is not supported (F16 only)");
    nCtx_ = params.nCtx > 0 ? params.nCtx : hp.nCtxTrain;
    if (nCtx_ <= 0)
        throw InvalidArgument("Vulkan backend: context size must be positive");
    profile_ = params.profile;
    ops_ = std::make_unique<vk::GpuOps>(*device_);

    const uint64_t maxRange = device_->maxStorageBufferRange();
    const uint64_t vocabBytes = uint64_t(hp.nVocab) * sizeof(float);
    batch_ = int(std::clamp<uint64_t>(maxRange / std::max<uint64_t>(vocabBytes, 1), 1, kMaxBatch));
    batch_ = std::min(batch_, nCtx_);

    const uint32_t B = uint32_t(batch_);
    const uint32_t qDim = uint32_t(hp.nHead * hp.headDim), kvDim = uint32_t(hp.nHeadKv * hp.headDim);
    const uint64_t cacheBytes = uint64_t(hp.nLayer) * uint64_t(nCtx_) * kvDim * 2;
    if (cacheBytes > maxRange)
        throw UnsupportedError("Vulkan backend: a KV cache of " + std::to_string(cacheBytes >> 20) +
                               " MiB exceeds the device's storage-buffer range; use a shorter context");
    const auto D = Buffer::Kind::Device, H = Buffer::Kind::Host;
    auto& dev = *device_;
    params_ = Buffer(dev, 16, H);
    tokens_ = Buffer(dev, B * 4, H);
    logitsHost_ = Buffer(dev, uint64_t(B) * vocabBytes, H);
    argmaxDev_ = Buffer(dev, 8, D);
    argmaxHost_ = Buffer(dev, 8, H);
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
    // Record the single-token pass now: it builds the pipelines decode needs (from the on-disk
    // cache when warm), so the first generated token does not pay for shader compilation.
    passFor(1, LogitsMode::Last);
}

VulkanInferenceContext::~VulkanInferenceContext() = default;

void VulkanInferenceContext::truncate(int nPos)
{
    if (nPos < 0)
        throw InvalidArgument("truncate: negative position " + std::to_string(nPos));
    // Entries past the new end are simply overwritten by later tokens.
    position_ = std::min(position_, nPos);
}

// The cache is [layer][nCtx][kvDim] halves on the device; the exported form is per layer the
// first n rows of keys, then of values, staged through a host buffer.
std::vector<uint8_t> VulkanInferenceContext::exportKv(int n) const
{
    if (n < 0 || n > position_)
        throw InvalidArgument("cannot export " + std::to_string(n) + " KV positions; the cache holds " +
                              std::to_string(position_));
    const LlamaHParams& hp = model_->hparams();
    const uint64_t part = uint64_t(n) * uint64_t(hp.nHeadKv) * uint64_t(hp.headDim) * 2;
    const uint64_t layerBytes = uint64_t(nCtx_) * uint64_t(hp.nHeadKv) * uint64_t(hp.headDim) * 2;
    std::vector<uint8_t> out(size_t(part) * 2 * size_t(hp.nLayer));
    if (part == 0)
        return out;
    Buffer staging(*device_, out.size(), Buffer::Kind::Host);
    vk::Sequence s(*device_, false);
    s.begin();
    for (int l = 0; l < hp.nLayer; ++l) {
        s.copy(kCache_, uint64_t(l) * layerBytes, staging, 2 * part * uint64_t(l), part);
        s.copy(vCache_, uint64_t(l) * layerBytes, staging, 2 * part * uint64_t(l) + part, part);
    }
    s.end();
    s.submit();
    staging.download(out.data(), out.size());
    return out;
}

void VulkanInferenceContext::importKv(int n, std::span<const uint8_t> data)
{
    const LlamaHParams& hp = model_->hparams();
    const uint64_t part = uint64_t(n) * uint64_t(hp.nHeadKv) * uint64_t(hp.headDim) * 2;
    const uint64_t layerBytes = uint64_t(nCtx_) * uint64_t(hp.nHeadKv) * uint64_t(hp.headDim) * 2;
    if (n < 0 || n > nCtx_ || data.size() != part * 2 * uint64_t(hp.nLayer))
        throw InvalidArgument("a KV state of " + std::to_string(data.size()) + " bytes does not hold " +
                              std::to_string(n) + " positions of this model (context " + std::to_string(nCtx_) + ")");
    if (part > 0) {
        Buffer staging(*device_, data.size(), Buffer::Kind::Host);
        staging.upload(data.data(), data.size());
        vk::Sequence s(*device_, false);
        s.begin();
        for (int l = 0; l < hp.nLayer; ++l) {
            s.copy(staging, 2 * part * uint64_t(l), kCache_, uint64_t(l) * layerBytes, part);
            s.copy(staging, 2 * part * uint64_t(l) + part, vCache_, uint64_t(l) * layerBytes, part);
        }
        s.end();
        s.submit();
    }
    position_ = n;
}

vk::Sequence& VulkanInferenceContext::passFor(uint32_t nTokens, LogitsMode mode)
{
    const uint64_t key = (uint64_t(nTokens) << 2) | uint64_t(mode);
    for (auto it = passes_.begin(); it != passes_.end(); ++it)
        if (it->first == key) {
            passes_.splice(passes_.begin(), passes_, it);
            return *passes_.front().second;
        }
    if (passes_.size() >= kMaxRecordedPasses)
        passes_.pop_back();
    auto s = std::make_unique<vk::Sequence>(*device_, profile_);
    record(*s, nTokens, mode);
    ++recordCount_;
    passes_.emplace_front(key, std::move(s));
    return *passes_.front().second;
}

void VulkanInferenceContext::record(vk::Sequence& s, uint32_t n, LogitsMode mode)
{
    const LlamaHParams& hp = model_->hparams();
    const uint32_t E = uint32_t(hp.nEmbd), hd = uint32_t(hp.headDim);
    const uint32_t qDim = uint32_t(hp.nHead) * hd, kvDim = uint32_t(hp.nHeadKv) * hd, ff = uint32_t(hp.nFF);
    const uint32_t V = uint32_t(hp.nVocab);
    const uint64_t layerWords = uint64_t(nCtx_) * kvDim / 2;
    auto& ops = *ops_;

    s.begin();
    ops.embed(s, *w_->tokenEmbedding, tokens_, n, x_);
    s.barrier();
    // Decode-sized batches fuse each RMSNorm into the projections that read it (the mat-vec
    // normalizes its input row itself); prompt batches use the tiled mat-mul and a separate norm.
    const bool fuseNorm = n < vk::GpuOps::kTiledMinTokens;
    const vk::KeyRope keyRope{true, hd, hp.ropeFreqBase, hp.ropeFreqScale, hp.ropeNeox};
    for (size_t il = 0; il < w_->layers.size(); ++il) {
        const vk::GpuLayer& L = w_->layers[il];
        const int layer = int(il);
        const uint32_t cacheOff = uint32_t(layerWords * il);
        // Attention block. q, k, v read the same input and write different buffers: no
        // barriers between them; the same holds for rope(q) and the (rotating) KV append.
        vk::MatMulInput attnIn;
        const vk::Buffer* attnSrc = &xn_;
        if (fuseNorm) {
            attnIn = vk::MatMulInput::rmsNorm(*L.attnNorm, hp.rmsEps);
            attnSrc = &x_;
        } else {
            ops.rmsNorm(s, layer, x_, 0, n, E, *L.attnNorm, xn_, 0, hp.rmsEps);
            s.barrier();
        }
        const auto kindAuto = vk::GpuOps::MatMulKind::Auto;
        ops.matmul(s, layer, *L.wq, *attnSrc, 0, E, n, q_, 0, qDim, false, L.bq.get(), kindAuto, attnIn);
        ops.matmul(s, layer, *L.wk, *attnSrc, 0, E, n, k_, 0, kvDim, false, L.bk.get(), kindAuto, attnIn);
        ops.matmul(s, layer, *L.wv, *attnSrc, 0, E, n, v_, 0, kvDim, false, L.bv.get(), kindAuto, attnIn);
        s.barrier();
        ops.rope(s, layer, q_, params_, n, uint32_t(hp.nHead), hd, qDim, hp.ropeFreqBase, hp.ropeFreqScale, hp.ropeNeox);
        ops.kvAppend(s, layer, k_, v_, kCache_, vCache_, params_, n, kvDim, cacheOff, keyRope);
        s.barrier();
        ops.attention(s, layer, q_, kCache_, vCache_, attn_, params_, n, uint32_t(hp.nHead), uint32_t(hp.nHeadKv),
                      hd, cacheOff);
        s.barrier();
        ops.matmul(s, layer, *L.wo, attn_, 0, qDim, n, x_, 0, E, true, nullptr); // x += Wo attn
        s.barrier();
        // Feed-forward block; SwiGLU is fused into the down projection's input.
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
                   vk::MatMulInput::swiglu(up_)); // x += Wdown (silu(gate) * up)
        s.barrier();
    }
    if (mode != LogitsMode::None) {
        // Only the rows whose logits are wanted go through the final norm and projection.
        const uint32_t first = mode == LogitsMode::All ? 0 : n - 1;
        const uint32_t rows = n - first;
        if (rows < vk::GpuOps::kTiledMinTokens) {
            ops.matmul(s, -1, *w_->output, x_, first * E, E, rows, logits_, 0, V, false, nullptr,
                       vk::GpuOps::MatMulKind::Vec, vk::MatMulInput::rmsNorm(*w_->outputNorm, hp.rmsEps));
        } else {
            ops.rmsNorm(s, -1, x_, first * E, rows, E, *w_->outputNorm, xn_, 0, hp.rmsEps);
            s.barrier();
            ops.matmul(s, -1, *w_->output, xn_, 0, E, rows, logits_, 0, V, false, nullptr);
        }
        s.barrier();
        ops.argmax(s, logits_, (rows - 1) * V, V, argmaxDev_);
        s.barrier();
        s.copy(logits_, 0, logitsHost_, 0, uint64_t(rows) * V * sizeof(float));
        s.copy(argmaxDev_, 0, argmaxHost_, 0, 8);
    }
    s.end();
}

void VulkanInferenceContext::decode(std::span<const int32_t> tokens, bool allLogits, std::vector<float>& logits,
                                    const std::atomic<bool>* cancel)
{
    const LlamaHParams& hp = model_->hparams();
    if (tokens.empty())
        throw InvalidArgument("decode: no tokens");
    if (position_ + int64_t(tokens.size()) > nCtx_)
        throw InvalidArgument("decode: " + std::to_string(tokens.size()) + " tokens at position " +
                              std::to_string(position_) + " overflow the context of " + std::to_string(nCtx_));
    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] < 0 || tokens[i] >= hp.nVocab)
            throw InvalidArgument("decode: token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                                  " is outside the vocabulary of " + std::to_string(hp.nVocab));
    const int start = position_;
    const size_t V = size_t(hp.nVocab);
    logits.assign(allLogits ? tokens.size() * V : V, 0.0f);
    timings_.clear();
    size_t done = 0;
    while (done < tokens.size()) {
        if (cancel && cancel->load()) {
            position_ = start;
            throw Cancelled();
        }
        const uint32_t n = uint32_t(std::min<size_t>(size_t(batch_), tokens.size() - done));
        const bool last = done + n == tokens.size();
        const LogitsMode mode = allLogits ? LogitsMode::All : (last ? LogitsMode::Last : LogitsMode::None);
        vk::Sequence& pass = passFor(n, mode);
        const uint32_t pos0 = uint32_t(position_);
        params_.upload(&pos0, sizeof(pos0));
        tokens_.upload(tokens.data() + done, n * sizeof(int32_t));
        try {
            pass.submit();
        } catch (...) {
            position_ = start;
            throw;
        }
        position_ += int(n);
        if (mode == LogitsMode::All)
            logitsHost_.download(logits.data() + done * V, n * V * sizeof(float));
        else if (mode == LogitsMode::Last)
            logitsHost_.download(logits.data(), V * sizeof(float));
        if (mode != LogitsMode::None) {
            uint32_t am = 0;
            argmaxHost_.download(&am, sizeof(am));
            lastArgmax_ = int32_t(am);
        }
        if (profile_) {
            auto t = pass.timings();
            timings_.insert(timings_.end(), t.begin(), t.end());
        }
        done += n;
    }
    if (cancel && cancel->load()) {
        position_ = start;
        throw Cancelled();
    }
}

} // namespace tenfold
