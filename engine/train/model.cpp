#include "train/model.h"

#include "core/error.h"
#include "train/fast_ops.h"
#include "train/ops.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace tenfold::train {

ParamLayout::ParamLayout(const TrainConfig& c)
{
    if (c.vocab < 1 || c.dim < 1 || c.nLayers < 0 || c.nHead < 1 || c.nHeadKv < 1 ||
        c.ffnDim < 1 || c.nHead % c.nHeadKv != 0 || c.hd() < 1 || c.rd() % 2 != 0 ||
        c.rd() > c.hd() || (!c.headDim && c.dim % c.nHead != 0))
        throw InvalidArgument("train: inconsistent model configuration");
    const int hd = c.hd();
    tokenEmbd = add("token_embd.weight", c.vocab, c.dim, true);
    for (int l = 0; l < c.nLayers; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        Layer L;
        L.attnNorm = add(p + "attn_norm.weight", 1, c.dim, false);
        L.wq = add(p + "attn_q.weight", int64_t(c.nHead) * hd, c.dim, true);
        L.wk = add(p + "attn_k.weight", int64_t(c.nHeadKv) * hd, c.dim, true);
        L.wv = add(p + "attn_v.weight", int64_t(c.nHeadKv) * hd, c.dim, true);
        L.wo = add(p + "attn_output.weight", c.dim, int64_t(c.nHead) * hd, true);
        L.ffnNorm = add(p + "ffn_norm.weight", 1, c.dim, false);
        L.gate = add(p + "ffn_gate.weight", c.ffnDim, c.dim, true);
        L.up = add(p + "ffn_up.weight", c.ffnDim, c.dim, true);
        L.down = add(p + "ffn_down.weight", c.dim, c.ffnDim, true);
        layers.push_back(L);
    }
    outputNorm = add("output_norm.weight", 1, c.dim, false);
    output = c.tiedEmbeddings ? tokenEmbd : add("output.weight", c.vocab, c.dim, true);
}

size_t ParamLayout::add(const std::string& name, int64_t rows, int64_t cols, bool decay)
{
    ParamView v{name, count_, rows, cols, decay};
    count_ += v.size();
    views_.push_back(v);
    return v.offset;
}

const ParamView& ParamLayout::find(const std::string& name) const
{
    for (const auto& v : views_)
        if (v.name == name)
            return v;
    throw InvalidArgument("train: no parameter named " + name);
}

std::vector<uint8_t> ParamLayout::decayMask() const
{
    std::vector<uint8_t> m(count_, 0);
    for (const auto& v : views_)
        std::fill(m.begin() + v.offset, m.begin() + v.offset + v.size(), v.decay ? 1 : 0);
    return m;
}

namespace {

uint64_t splitmix64(uint64_t& s)
{
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double uniform01(uint64_t& s) // (0, 1]: never 0, so log() below is finite
{
    return (double(splitmix64(s) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

} // namespace

template <class S>
void initParams(const ParamLayout& layout, S* params, uint64_t seed, double stddev)
{
    uint64_t state = seed;
    const double residScale = 1.0 / std::sqrt(2.0 * std::max<size_t>(1, layout.layers.size()));
    for (const auto& v : layout.views()) {
        S* p = params + v.offset;
        if (!v.decay) { // norm gains
            std::fill(p, p + v.size(), S(1));
            continue;
        }
        const bool resid = v.name.ends_with("attn_output.weight") ||
                           v.name.ends_with("ffn_down.weight");
        const double sd = stddev * (resid ? residScale : 1.0);
        for (size_t i = 0; i < v.size(); ++i) {
            const double u1 = uniform01(state), u2 = uniform01(state);
            p[i] = S(sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
        }
    }
}

template void initParams<float>(const ParamLayout&, float*, uint64_t, double);
template void initParams<double>(const ParamLayout&, double*, uint64_t, double);

template <class S>
TinyLlama<S>::TinyLlama(const TrainConfig& c) : cfg_(c), layout_(c)
{
}

template <class S>
void TinyLlama<S>::useFastPaths(bool on, ThreadPool* pool)
{
    if (on && !std::is_same_v<S, float>)
        throw InvalidArgument("train: the fast paths are float only");
    fast_ = on;
    pool_ = pool;
}

template <class S>
void TinyLlama<S>::linF(S* y, const S* x, const S* W, int T, int I, int O)
{
    if constexpr (std::is_same_v<S, float>)
        if (fast_)
            return linearForwardFast(y, x, W, T, I, O, pool_);
    linearForward(y, x, W, T, I, O);
}

template <class S>
void TinyLlama<S>::linB(S* dx, S* dW, const S* dy, const S* x, const S* W, int T, int I, int O)
{
    if constexpr (std::is_same_v<S, float>)
        if (fast_)
            return linearBackwardFast(dx, dW, dy, x, W, T, I, O, pool_);
    linearBackward(dx, dW, dy, x, W, T, I, O);
}

template <class S>
const S* TinyLlama<S>::forward(const S* P, const int32_t* tokens, int T)
{
    if (T < 1)
        throw InvalidArgument("train: forward needs at least one token");
    for (int t = 0; t < T; ++t)
        if (tokens[t] < 0 || tokens[t] >= cfg_.vocab)
            throw InvalidArgument("train: token outside the vocabulary");
    const int C = cfg_.dim, F = cfg_.ffnDim, hd = cfg_.hd(), rd = cfg_.rd();
    const int nH = cfg_.nHead, nKv = cfg_.nHeadKv, V = cfg_.vocab;
    const int qd = nH * hd, kvd = nKv * hd;
    const S eps = S(cfg_.normEps);
    T_ = T;
    tokens_.assign(tokens, tokens + T);

    std::vector<int32_t> pos(T);
    for (int t = 0; t < T; ++t)
        pos[t] = t;
    cos_.assign(size_t(T) * rd / 2, S(0));
    sin_.assign(size_t(T) * rd / 2, S(0));
    ropeTable(pos.data(), T, rd, cfg_.ropeBase, cfg_.ropeScale, cos_.data(), sin_.data());

    acts_.resize(cfg_.nLayers);
    std::vector<S> x(size_t(T) * C), tmp(size_t(T) * std::max(C, qd));
    embeddingForward(x.data(), tokens, P + layout_.tokenEmbd, T, C);
    for (int l = 0; l < cfg_.nLayers; ++l) {
        const auto& L = layout_.layers[l];
        LayerActs& a = acts_[l];
        a.xIn = x;
        a.n1.resize(size_t(T) * C);
        a.rstd1.resize(T);
        rmsNormForward(a.n1.data(), a.rstd1.data(), x.data(), P + L.attnNorm, T, C, eps);
        a.q.resize(size_t(T) * qd);
        a.k.resize(size_t(T) * kvd);
        a.v.resize(size_t(T) * kvd);
        linF(a.q.data(), a.n1.data(), P + L.wq, T, C, qd);
        linF(a.k.data(), a.n1.data(), P + L.wk, T, C, kvd);
        linF(a.v.data(), a.n1.data(), P + L.wv, T, C, kvd);
        // in place: RoPE is linear, the backward needs only the tables, not the input
        ropeForward(a.q.data(), a.q.data(), T, nH, hd, rd, cos_.data(), sin_.data(), cfg_.ropeNeox);
        ropeForward(a.k.data(), a.k.data(), T, nKv, hd, rd, cos_.data(), sin_.data(),
                    cfg_.ropeNeox);
        a.att.resize(size_t(nH) * T * T);
        a.attnOut.resize(size_t(T) * qd);
        if constexpr (std::is_same_v<S, float>) {
            if (fast_)
                attentionForwardFast(a.attnOut.data(), a.att.data(), a.q.data(), a.k.data(),
                                     a.v.data(), T, nH, nKv, hd, pool_);
            else
                attentionForward(a.attnOut.data(), a.att.data(), a.q.data(), a.k.data(),
                                 a.v.data(), T, nH, nKv, hd);
        } else {
            attentionForward(a.attnOut.data(), a.att.data(), a.q.data(), a.k.data(), a.v.data(),
                             T, nH, nKv, hd);
        }
        linF(tmp.data(), a.attnOut.data(), P + L.wo, T, qd, C);
        for (size_t i = 0; i < x.size(); ++i)
            x[i] += tmp[i];
        a.xMid = x;
        a.n2.resize(size_t(T) * C);
        a.rstd2.resize(T);
        rmsNormForward(a.n2.data(), a.rstd2.data(), x.data(), P + L.ffnNorm, T, C, eps);
        a.gate.resize(size_t(T) * F);
        a.up.resize(size_t(T) * F);
        a.h.resize(size_t(T) * F);
        linF(a.gate.data(), a.n2.data(), P + L.gate, T, C, F);
        linF(a.up.data(), a.n2.data(), P + L.up, T, C, F);
        swigluForward(a.h.data(), a.gate.data(), a.up.data(), a.h.size());
        linF(tmp.data(), a.h.data(), P + L.down, T, F, C);
        for (size_t i = 0; i < x.size(); ++i)
            x[i] += tmp[i];
    }
    xFinal_ = x;
    nF_.resize(size_t(T) * C);
    rstdF_.resize(T);
    rmsNormForward(nF_.data(), rstdF_.data(), x.data(), P + layout_.outputNorm, T, C, eps);
    logits_.resize(size_t(T) * V);
    linF(logits_.data(), nF_.data(), P + layout_.output, T, C, V);
    return logits_.data();
}

template <class S>
S TinyLlama<S>::crossEntropy(const int32_t* targets)
{
    for (int t = 0; t < T_; ++t)
        if (targets[t] < 0 || targets[t] >= cfg_.vocab)
            throw InvalidArgument("train: target outside the vocabulary");
    targets_.assign(targets, targets + T_);
    probs_.resize(logits_.size());
    return crossEntropyForward(probs_.data(), logits_.data(), targets, T_, cfg_.vocab);
}

template <class S>
void TinyLlama<S>::backward(const S* params, S* grads)
{
    if (int(targets_.size()) != T_ || probs_.size() != logits_.size())
        throw InvalidArgument("train: backward before crossEntropy");
    std::vector<S> dlogits(logits_.size(), S(0));
    crossEntropyBackward(dlogits.data(), probs_.data(), targets_.data(), T_, cfg_.vocab);
    backwardFromLogits(params, dlogits.data(), grads);
}

template <class S>
void TinyLlama<S>::backwardFromLogits(const S* P, const S* dlogits, S* G)
{
    const int T = T_, C = cfg_.dim, F = cfg_.ffnDim, hd = cfg_.hd(), rd = cfg_.rd();
    const int nH = cfg_.nHead, nKv = cfg_.nHeadKv, V = cfg_.vocab;
    const int qd = nH * hd, kvd = nKv * hd;

    // head and final norm: dx is the gradient of the residual stream, carried down the layers
    std::vector<S> dnF(size_t(T) * C, S(0)), dx(size_t(T) * C, S(0));
    linB(dnF.data(), G + layout_.output, dlogits, nF_.data(), P + layout_.output, T, C,
                   V);
    rmsNormBackward(dx.data(), G + layout_.outputNorm, dnF.data(), xFinal_.data(),
                    P + layout_.outputNorm, rstdF_.data(), T, C);

    std::vector<S> dh(size_t(T) * F), dgate(size_t(T) * F), dup(size_t(T) * F);
    std::vector<S> dn(size_t(T) * C), dattn(size_t(T) * qd), dq(size_t(T) * qd);
    std::vector<S> dk(size_t(T) * kvd), dv(size_t(T) * kvd), dqPre(size_t(T) * qd),
        dkPre(size_t(T) * kvd);
    for (int l = cfg_.nLayers - 1; l >= 0; --l) {
        const auto& L = layout_.layers[l];
        const LayerActs& a = acts_[l];
        // x_out = x_mid + down(swiglu(gate(n2), up(n2))): dx reaches x_mid directly and via FFN
        std::fill(dh.begin(), dh.end(), S(0));
        linB(dh.data(), G + L.down, dx.data(), a.h.data(), P + L.down, T, F, C);
        std::fill(dgate.begin(), dgate.end(), S(0));
        std::fill(dup.begin(), dup.end(), S(0));
        swigluBackward(dgate.data(), dup.data(), dh.data(), a.gate.data(), a.up.data(), dh.size());
        std::fill(dn.begin(), dn.end(), S(0));
        linB(dn.data(), G + L.gate, dgate.data(), a.n2.data(), P + L.gate, T, C, F);
        linB(dn.data(), G + L.up, dup.data(), a.n2.data(), P + L.up, T, C, F);
        rmsNormBackward(dx.data(), G + L.ffnNorm, dn.data(), a.xMid.data(), P + L.ffnNorm,
                        a.rstd2.data(), T, C); // dx is now d(x_mid)
        // x_mid = x_in + wo(attention(rope(q), rope(k), v))
        std::fill(dattn.begin(), dattn.end(), S(0));
        linB(dattn.data(), G + L.wo, dx.data(), a.attnOut.data(), P + L.wo, T, qd, C);
        std::fill(dq.begin(), dq.end(), S(0));
        std::fill(dk.begin(), dk.end(), S(0));
        std::fill(dv.begin(), dv.end(), S(0));
        if constexpr (std::is_same_v<S, float>) {
            if (fast_)
                attentionBackwardFast(dq.data(), dk.data(), dv.data(), dattn.data(), a.att.data(),
                                      a.q.data(), a.k.data(), a.v.data(), T, nH, nKv, hd, pool_);
            else
                attentionBackward(dq.data(), dk.data(), dv.data(), dattn.data(), a.att.data(),
                                  a.q.data(), a.k.data(), a.v.data(), T, nH, nKv, hd);
        } else {
            attentionBackward(dq.data(), dk.data(), dv.data(), dattn.data(), a.att.data(),
                              a.q.data(), a.k.data(), a.v.data(), T, nH, nKv, hd);
        }
        std::fill(dqPre.begin(), dqPre.end(), S(0));
        std::fill(dkPre.begin(), dkPre.end(), S(0));
        ropeBackward(dqPre.data(), dq.data(), T, nH, hd, rd, cos_.data(), sin_.data(),
                     cfg_.ropeNeox);
        ropeBackward(dkPre.data(), dk.data(), T, nKv, hd, rd, cos_.data(), sin_.data(),
                     cfg_.ropeNeox);
        std::fill(dn.begin(), dn.end(), S(0));
        linB(dn.data(), G + L.wq, dqPre.data(), a.n1.data(), P + L.wq, T, C, qd);
        linB(dn.data(), G + L.wk, dkPre.data(), a.n1.data(), P + L.wk, T, C, kvd);
        linB(dn.data(), G + L.wv, dv.data(), a.n1.data(), P + L.wv, T, C, kvd);
        rmsNormBackward(dx.data(), G + L.attnNorm, dn.data(), a.xIn.data(), P + L.attnNorm,
                        a.rstd1.data(), T, C); // dx is now d(x_in)
    }
    // tied: the embedding also received the head's gradient above (same offset)
    embeddingBackward(G + layout_.tokenEmbd, dx.data(), tokens_.data(), T, C);
}

template class TinyLlama<float>;
template class TinyLlama<double>;

} // namespace tenfold::train
