#include "runtime/reference_forward.h"

#include "core/error.h"
#include "model/model.h"
#include "tensor/kernels.h"

#include <cmath>
#include <string>

namespace tenfold {
namespace {

std::vector<double> decodeVector(const WeightTensor& t)
{
    std::vector<double> out;
    if (!t.present())
        return out;
    if (t.palette) {
        // Element by element from the indices and the tables: independent of palette_matvec.
        const PaletteWeight& p = *t.palette;
        for (int64_t r = 0; r < t.ne1; ++r)
            for (int64_t j = 0; j < t.ne0; ++j) {
                int i = 0; // bit by bit, so a 3-bit index that straddles two bytes needs no special case
                for (int b = 0; b < p.bits; ++b) {
                    const int64_t bit = j * p.bits + b;
                    i |= ((p.indices[size_t(r) * p.indexRowBytes + size_t(bit / 8)] >> (bit % 8)) & 1) << b;
                }
                out.push_back(double(p.palette(r)[i]) * (p.rowScale ? double(p.rowScale[r]) : 1.0));
            }
        return out;
    }
    if (t.factorised()) {
        // The dense product of the factors: the oracle the runtimes' two-step product is checked against.
        const std::vector<double> a = decodeVector(t.lowRank->a), b = decodeVector(t.lowRank->b);
        const int64_t r = t.lowRank->rank;
        out.assign(size_t(t.ne0 * t.ne1), 0.0);
        for (int64_t i = 0; i < t.ne1; ++i)
            for (int64_t k = 0; k < r; ++k) {
                const double aik = a[size_t(i * r + k)];
                for (int64_t j = 0; j < t.ne0; ++j)
                    out[size_t(i * t.ne0 + j)] += aik * b[size_t(k * t.ne0 + j)];
            }
        return out;
    }
    std::vector<float> row(size_t(t.ne0));
    out.reserve(size_t(t.ne0 * t.ne1));
    for (int64_t r = 0; r < t.ne1; ++r) {
        referenceKernels(t.type).dequantizeRow(t.row(r), row.data(), t.ne0);
        out.insert(out.end(), row.begin(), row.end());
    }
    return out;
}

// y[rows] = W[rows][cols] x[cols]
void matVec(const std::vector<double>& w, int64_t rows, int64_t cols, const double* x, double* y)
{
    for (int64_t r = 0; r < rows; ++r) {
        const double* wr = w.data() + size_t(r * cols);
        double sum = 0;
        for (int64_t c = 0; c < cols; ++c)
            sum += wr[c] * x[c];
        y[r] = sum;
    }
}

// y = x / sqrt(mean(x^2) + eps) * w, over n
void rmsNorm(const double* x, const std::vector<double>& w, double eps, double* y, int n)
{
    double ss = 0;
    for (int i = 0; i < n; ++i)
        ss += x[i] * x[i];
    const double scale = 1.0 / std::sqrt(ss / n + eps);
    for (int i = 0; i < n; ++i)
        y[i] = x[i] * scale * w[size_t(i)];
}

// Rotates the first ropeDim dims of each of nHeads heads [nHeads][headDim] by position pos:
// pair i (i < ropeDim/2) turns by pos * scale * base^(-2i/ropeDim). Normal mode pairs dims
// (2i, 2i+1); NeoX mode pairs (i, i + ropeDim/2).
void rope(double* x, int nHeads, int headDim, int ropeDim, int pos, double base, double scale, bool neox)
{
    const int half = ropeDim / 2;
    for (int h = 0; h < nHeads; ++h) {
        double* v = x + size_t(h) * headDim;
        for (int i = 0; i < half; ++i) {
            const double theta = pos * scale * std::pow(base, -2.0 * i / ropeDim);
            const double c = std::cos(theta), s = std::sin(theta);
            const int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
            const double x0 = v[a], x1 = v[b];
            v[a] = x0 * c - x1 * s;
            v[b] = x0 * s + x1 * c;
        }
    }
}

} // namespace

ReferenceForward::ReferenceForward(std::shared_ptr<const Model> model) : model_(std::move(model))
{
    const Model& m = *model_;
    auto matrix = [](const WeightTensor& t) {
        Matrix mx;
        mx.rows = t.ne1;
        mx.cols = t.ne0;
        mx.w = decodeVector(t);
        return mx;
    };
    embedding_ = matrix(m.tokenEmbedding());
    output_ = matrix(m.output());
    outputNorm_ = decodeVector(m.outputNorm());
    for (const LayerWeights& L : m.layers()) {
        Layer l;
        l.attnNorm = decodeVector(L.attnNorm);
        l.ffnNorm = decodeVector(L.ffnNorm);
        l.bq = decodeVector(L.bq);
        l.bk = decodeVector(L.bk);
        l.bv = decodeVector(L.bv);
        l.wq = matrix(L.wq);
        l.wk = matrix(L.wk);
        l.wv = matrix(L.wv);
        l.wo = matrix(L.wo);
        l.gate = matrix(L.ffnGate);
        l.up = matrix(L.ffnUp);
        l.down = matrix(L.ffnDown);
        layers_.push_back(std::move(l));
    }
}

ReferenceForward::~ReferenceForward() = default;

int ReferenceForward::vocabSize() const { return model_->hparams().nVocab; }

void ReferenceForward::truncate(int nPos)
{
    if (nPos < 0 || nPos > pos_)
        throw InvalidArgument("cannot truncate the reference pass at " + std::to_string(nPos) +
                              " of " + std::to_string(pos_) + " positions");
    const auto& hp = model_->hparams();
    const size_t kvDim = size_t(hp.nHeadKv) * size_t(hp.headDim);
    for (Layer& l : layers_) {
        l.k.resize(size_t(nPos) * kvDim);
        l.v.resize(size_t(nPos) * kvDim);
    }
    pos_ = nPos;
}

std::vector<double> ReferenceForward::decode(std::span<const int32_t> tokens)
{
    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] < 0 || tokens[i] >= vocabSize())
            throw InvalidArgument("token id " + std::to_string(tokens[i]) + " at index " +
                                  std::to_string(i) + " is outside the vocabulary of " +
                                  std::to_string(vocabSize()));
    std::vector<double> all;
    all.reserve(tokens.size() * size_t(vocabSize()));
    for (int32_t t : tokens) {
        const std::vector<double> row = forwardOne(t, pos_);
        all.insert(all.end(), row.begin(), row.end());
        ++pos_;
    }
    return all;
}

std::vector<double> ReferenceForward::forwardOne(int32_t token, int pos)
{
    const LlamaHParams& hp = model_->hparams();
    const int E = hp.nEmbd, H = hp.nHead, Hkv = hp.nHeadKv, D = hp.headDim, FF = hp.nFF;
    const int qDim = H * D, kvDim = Hkv * D, group = H / Hkv;
    const double eps = hp.rmsEps;

    // x[E] = embedding row of the token
    std::vector<double> x(embedding_.w.begin() + ptrdiff_t(size_t(token) * size_t(E)),
                          embedding_.w.begin() + ptrdiff_t(size_t(token + 1) * size_t(E)));
    const auto zeros = [](int n) { return std::vector<double>(static_cast<size_t>(n), 0.0); };
    std::vector<double> xn = zeros(E), q = zeros(qDim), k = zeros(kvDim), v = zeros(kvDim);
    std::vector<double> att = zeros(qDim), o = zeros(E), gate = zeros(FF), up = zeros(FF);
    std::vector<double> scores = zeros(pos + 1);

    for (Layer& l : layers_) {
        // attention block: xn = norm(x); q,k,v = W xn (+ b); rope(q, k); cache k, v
        rmsNorm(x.data(), l.attnNorm, eps, xn.data(), E);
        matVec(l.wq.w, qDim, E, xn.data(), q.data());
        matVec(l.wk.w, kvDim, E, xn.data(), k.data());
        matVec(l.wv.w, kvDim, E, xn.data(), v.data());
        for (size_t i = 0; i < l.bq.size(); ++i)
            q[i] += l.bq[i];
        for (size_t i = 0; i < l.bk.size(); ++i)
            k[i] += l.bk[i];
        for (size_t i = 0; i < l.bv.size(); ++i)
            v[i] += l.bv[i];
        rope(q.data(), H, D, hp.ropeDim, pos, hp.ropeFreqBase, hp.ropeFreqScale, hp.ropeNeox);
        rope(k.data(), Hkv, D, hp.ropeDim, pos, hp.ropeFreqBase, hp.ropeFreqScale, hp.ropeNeox);
        l.k.insert(l.k.end(), k.begin(), k.end());
        l.v.insert(l.v.end(), v.begin(), v.end());

        // att[h] = sum_p softmax_p(q[h] . k[p][g] / sqrt(D)) v[p][g], g = h / group, p <= pos
        for (int h = 0; h < H; ++h) {
            const int g = h / group;
            const double* qh = q.data() + size_t(h) * D;
            double maxScore = -INFINITY;
            for (int p = 0; p <= pos; ++p) {
                const double* kp = l.k.data() + size_t(p) * kvDim + size_t(g) * D;
                double dot = 0;
                for (int d = 0; d < D; ++d)
                    dot += qh[d] * kp[d];
                scores[size_t(p)] = dot / std::sqrt(double(D));
                maxScore = std::max(maxScore, scores[size_t(p)]);
            }
            double denom = 0;
            for (int p = 0; p <= pos; ++p)
                denom += (scores[size_t(p)] = std::exp(scores[size_t(p)] - maxScore));
            double* out = att.data() + size_t(h) * D;
            for (int d = 0; d < D; ++d)
                out[d] = 0;
            for (int p = 0; p <= pos; ++p) {
                const double* vp = l.v.data() + size_t(p) * kvDim + size_t(g) * D;
                const double w = scores[size_t(p)] / denom;
                for (int d = 0; d < D; ++d)
                    out[d] += w * vp[d];
            }
        }
        matVec(l.wo.w, E, qDim, att.data(), o.data());
        for (int i = 0; i < E; ++i)
            x[size_t(i)] += o[size_t(i)];

        // feed-forward block: x += down(silu(gate xn) * (up xn)), xn = norm(x)
        rmsNorm(x.data(), l.ffnNorm, eps, xn.data(), E);
        matVec(l.gate.w, FF, E, xn.data(), gate.data());
        matVec(l.up.w, FF, E, xn.data(), up.data());
        for (int i = 0; i < FF; ++i) {
            const double gi = gate[size_t(i)];
            gate[size_t(i)] = gi / (1.0 + std::exp(-gi)) * up[size_t(i)];
        }
        matVec(l.down.w, E, FF, gate.data(), o.data());
        for (int i = 0; i < E; ++i)
            x[size_t(i)] += o[size_t(i)];
    }
    rmsNorm(x.data(), outputNorm_, eps, xn.data(), E);
    std::vector<double> logits(size_t(output_.rows));
    matVec(output_.w, output_.rows, E, xn.data(), logits.data());
    return logits;
}

} // namespace tenfold
