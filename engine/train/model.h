#pragma once
// A trainable Llama decoder built from the reference ops (train/ops.h): token embedding, L
// layers of [RMSNorm -> GQA attention with RoPE -> residual -> RMSNorm -> SwiGLU FFN ->
// residual], final RMSNorm, and an output head that is either the embedding (tied) or its own
// matrix. Every parameter lives in one flat buffer described by a ParamLayout of named views
// (GGUF tensor names), so a gradient buffer or an optimizer state of the same size shares the
// layout for free. One sequence per forward; a batch is several forwards whose backwards
// accumulate into the same gradient buffer.
#include <cstdint>
#include <string>
#include <vector>

namespace tenfold {
class ThreadPool;
}

namespace tenfold::train {

struct TrainConfig {
    int vocab = 0;
    int dim = 0;       // residual width C
    int nLayers = 0;
    int nHead = 0;
    int nHeadKv = 0;   // divides nHead (GQA); == nHead for plain multi-head attention
    int headDim = 0;   // 0: dim / nHead
    int ffnDim = 0;
    int ropeDim = 0;   // 0: headDim
    bool ropeNeox = false;
    double ropeBase = 10000.0;
    double ropeScale = 1.0; // freqScale: positions are multiplied by it
    double normEps = 1e-5;
    bool tiedEmbeddings = false; // output head = token_embd
    int hd() const { return headDim ? headDim : dim / nHead; }
    int rd() const { return ropeDim ? ropeDim : hd(); }
};

// One named tensor inside the flat buffer: `rows` rows of `cols` values starting at `offset`
// (a vector has rows == 1). `decay`: matrices take AdamW weight decay; norm gains do not.
struct ParamView {
    std::string name;
    size_t offset = 0;
    int64_t rows = 0, cols = 0;
    bool decay = true;
    size_t size() const { return size_t(rows) * size_t(cols); }
};

class ParamLayout {
public:
    // Throws InvalidArgument for an inconsistent configuration.
    explicit ParamLayout(const TrainConfig& c);
    const std::vector<ParamView>& views() const { return views_; }
    size_t count() const { return count_; }
    // The view of that name; throws InvalidArgument when there is none.
    const ParamView& find(const std::string& name) const;
    // Per-parameter weight-decay flags (1 = decay), for AdamW.
    std::vector<uint8_t> decayMask() const;

    // Offsets of each layer's tensors, for the model's own loops.
    struct Layer {
        size_t attnNorm, wq, wk, wv, wo, ffnNorm, gate, up, down;
    };
    size_t tokenEmbd = 0, outputNorm = 0, output = 0; // output == tokenEmbd when tied
    std::vector<Layer> layers;

private:
    size_t add(const std::string& name, int64_t rows, int64_t cols, bool decay);
    std::vector<ParamView> views_;
    size_t count_ = 0;
};

// Deterministic initialisation from a seed (its own Box-Muller over splitmix64, so the numbers
// do not depend on the standard library): matrices N(0, stddev^2), output projections (wo,
// ffn_down) scaled by 1/sqrt(2 L) as in GPT-2, norm gains 1.
template <class S>
void initParams(const ParamLayout& layout, S* params, uint64_t seed, double stddev = 0.02);

template <class S>
class TinyLlama {
public:
    explicit TinyLlama(const TrainConfig& c);
    const TrainConfig& config() const { return cfg_; }
    const ParamLayout& layout() const { return layout_; }
    // float only: run the linear layers and attention through train/fast_ops.h on `pool`
    // (null: one thread) instead of the reference loops. The reference stays the default.
    void useFastPaths(bool on, ThreadPool* pool = nullptr);

    // Runs tokens[T] at positions 0..T-1 and keeps every activation the backward needs. Returns
    // the logits [T, vocab]. Throws InvalidArgument for a token outside the vocabulary or T < 1.
    const S* forward(const S* params, const int32_t* tokens, int T);
    const S* logits() const { return logits_.data(); }
    int tokens() const { return T_; }

    // Mean cross-entropy of the last forward's logits against targets[T] (probabilities kept).
    S crossEntropy(const int32_t* targets);
    // grads += d(crossEntropy)/d(params) for the last forward and crossEntropy.
    void backward(const S* params, S* grads);
    // grads += d(loss)/d(params), given dlogits[T, vocab] = d(loss)/d(logits) of any loss
    // (distillation mixes cross-entropy and KL here).
    void backwardFromLogits(const S* params, const S* dlogits, S* grads);

private:
    struct LayerActs {
        std::vector<S> xIn, n1, rstd1, q, k, v, att, attnOut, xMid, n2, rstd2, gate, up, h;
    };
    void linF(S* y, const S* x, const S* W, int T, int I, int O);
    void linB(S* dx, S* dW, const S* dy, const S* x, const S* W, int T, int I, int O);
    TrainConfig cfg_;
    ParamLayout layout_;
    bool fast_ = false;
    ThreadPool* pool_ = nullptr;
    int T_ = 0;
    std::vector<int32_t> tokens_, targets_;
    std::vector<S> cos_, sin_;
    std::vector<LayerActs> acts_;
    std::vector<S> xFinal_, nF_, rstdF_, logits_, probs_;
};

extern template class TinyLlama<float>;
extern template class TinyLlama<double>;

} // namespace tenfold::train
