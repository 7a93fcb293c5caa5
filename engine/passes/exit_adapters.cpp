#include "passes/exit_adapters.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "model/model_builder.h"
#include "runtime/cpu_backend.h"
#include "runtime/cpu_context.h"
#include "tensor/kernels.h"

#include <Eigen/Dense>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace tenfold {
namespace {

using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::unique_ptr<CpuContext> cpuContext(const std::shared_ptr<const Model>& model, int window, int threads)
{
    auto backend = createCpuBackend(threads);
    ContextParams cp;
    cp.nCtx = window;
    std::unique_ptr<InferenceContext> ctx = backend->createContext(model, cp);
    auto* cpu = dynamic_cast<CpuContext*>(ctx.get());
    if (!cpu)
        throw UnsupportedError("fitting exit adapters needs the CPU backend");
    ctx.release();
    return std::unique_ptr<CpuContext>(cpu);
}

int checkedWindow(const Model& m, int window)
{
    return std::max(2, std::min(window, m.hparams().nCtxTrain > 0 ? m.hparams().nCtxTrain : window));
}

// The output head as an F32 matrix [vocab][nEmbd] and the final norm's weights.
struct Head {
    MatF w;
    std::vector<float> norm;
    float eps;
    explicit Head(const Model& m)
    {
        const WeightTensor& out = m.output();
        w.resize(out.ne1, out.ne0);
        for (int64_t r = 0; r < out.ne1; ++r)
            kernels(out.type).dequantizeRow(out.row(r), w.data() + r * out.ne0, out.ne0);
        const auto* n = reinterpret_cast<const float*>(m.outputNorm().data);
        norm.assign(n, n + m.hparams().nEmbd);
        eps = m.hparams().rmsEps;
    }
    // log-softmax rows of head(norm(h)) for h [T][E].
    MatD logProbs(const MatF& h) const
    {
        MatF hn = h;
        for (Eigen::Index t = 0; t < hn.rows(); ++t) {
            double ss = 0;
            for (Eigen::Index i = 0; i < hn.cols(); ++i)
                ss += double(hn(t, i)) * hn(t, i);
            const float scale = float(1.0 / std::sqrt(ss / double(hn.cols()) + eps));
            for (Eigen::Index i = 0; i < hn.cols(); ++i)
                hn(t, i) *= scale * norm[size_t(i)];
        }
        MatD logits = (hn * w.transpose()).cast<double>();
        for (Eigen::Index t = 0; t < logits.rows(); ++t) {
            const double mx = logits.row(t).maxCoeff();
            const double lse = mx + std::log((logits.row(t).array() - mx).exp().sum());
            logits.row(t).array() -= lse;
        }
        return logits;
    }
};

// Rows scaled to unit RMS. The head starts with RMSNorm, so only a hidden state's direction
// matters: adapters map unit-RMS inputs to unit-RMS targets, and least squares then weighs every
// token alike instead of favouring the few with large activations.
template <class M>
void unitRms(M& m)
{
    for (Eigen::Index t = 0; t < m.rows(); ++t) {
        const double r = std::sqrt(m.row(t).squaredNorm() / double(m.cols()));
        if (r > 0)
            m.row(t) /= r;
    }
}

} // namespace

std::vector<ExitFit> fitExitAdapters(const std::shared_ptr<const Model>& model, std::span<const int32_t> tokens,
                                     const ExitFitOptions& options, const std::function<void(double)>& progress,
                                     const std::atomic<bool>* cancel)
{
    const int L = model->hparams().nLayer, E = model->hparams().nEmbd;
    if (options.layers.empty())
        throw InvalidArgument("no exit layer to fit");
    for (int k : options.layers)
        if (k < 1 || k >= L)
            throw InvalidArgument("exit layer " + std::to_string(k) + " is outside 1.." + std::to_string(L - 1));
    if (int64_t(tokens.size()) < int64_t(E) + 1)
        throw InvalidArgument("fitting an exit adapter for a model " + std::to_string(E) + " wide needs at least " +
                              std::to_string(E + 1) + " calibration tokens (more is better: 20 x that); got " +
                              std::to_string(tokens.size()));
    const int window = checkedWindow(*model, options.window);
    auto ctx = cpuContext(model, window, options.threads);
    std::vector<int> captured = options.layers;
    captured.push_back(L);
    const size_t K = options.layers.size();
    // Normal equations per layer: G = X~^T X~ and R = X~^T Y with X~ = [h_k, 1], Y = h_L.
    std::vector<MatD> G(K, MatD::Zero(E + 1, E + 1)), R(K, MatD::Zero(E + 1, E));
    std::vector<float> hidden;
    for (size_t at = 0; at < tokens.size(); at += size_t(window)) {
        if (cancel && cancel->load())
            throw Cancelled();
        const auto chunk = tokens.subspan(at, std::min(size_t(window), tokens.size() - at));
        ctx->truncate(0);
        ctx->decodeCapture(chunk, captured, hidden);
        const Eigen::Index T = Eigen::Index(chunk.size());
        const Eigen::Map<const MatF> Y(hidden.data() + K * size_t(T) * size_t(E), T, E);
        MatD Yd = Y.cast<double>();
        unitRms(Yd);
        for (size_t c = 0; c < K; ++c) {
            MatD Xk = Eigen::Map<const MatF>(hidden.data() + c * size_t(T) * size_t(E), T, E).cast<double>();
            unitRms(Xk);
            MatD X(T, E + 1);
            X.leftCols(E) = Xk;
            X.col(E).setOnes();
            G[c].noalias() += X.transpose() * X;
            R[c].noalias() += X.transpose() * Yd;
        }
        if (progress)
            progress(double(at + chunk.size()) / double(tokens.size()));
    }
    std::vector<ExitFit> fits;
    for (size_t c = 0; c < K; ++c) {
        MatD A = G[c];
        const double lambda = options.ridge * A.diagonal().head(E).mean();
        A.diagonal().head(E).array() += lambda;
        const MatD theta = A.ldlt().solve(R[c]); // [(E+1) x E]
        ExitFit f;
        f.layer = options.layers[c];
        f.weight.resize(size_t(E) * size_t(E));
        f.bias.resize(size_t(E));
        for (int o = 0; o < E; ++o) {
            for (int i = 0; i < E; ++i)
                f.weight[size_t(o) * size_t(E) + size_t(i)] = float(theta(i, o));
            f.bias[size_t(o)] = float(theta(E, o));
        }
        fits.push_back(std::move(f));
    }
    return fits;
}

ExitQuality evaluateExit(const std::shared_ptr<const Model>& model, std::span<const int32_t> tokens, int layer,
                         const ExitFit* adapter, int window, int threads)
{
    const int L = model->hparams().nLayer, E = model->hparams().nEmbd;
    if (layer < 1 || layer >= L)
        throw InvalidArgument("exit layer " + std::to_string(layer) + " is outside 1.." + std::to_string(L - 1));
    window = checkedWindow(*model, window);
    auto ctx = cpuContext(model, window, threads);
    const Head head(*model);
    const int layersWanted[2] = {layer, L};
    std::vector<float> hidden;
    ExitQuality q;
    q.layer = layer;
    double klSum = 0;
    int agree = 0;
    for (size_t at = 0; at < tokens.size(); at += size_t(window)) {
        const auto chunk = tokens.subspan(at, std::min(size_t(window), tokens.size() - at));
        ctx->truncate(0);
        ctx->decodeCapture(chunk, layersWanted, hidden);
        const Eigen::Index T = Eigen::Index(chunk.size());
        MatF hk = Eigen::Map<const MatF>(hidden.data(), T, E);
        const MatF hL = Eigen::Map<const MatF>(hidden.data() + size_t(T) * size_t(E), T, E);
        if (adapter) {
            const Eigen::Map<const MatF> W(adapter->weight.data(), E, E);
            const Eigen::Map<const Eigen::RowVectorXf> b(adapter->bias.data(), E);
            unitRms(hk);
            hk = (hk * W.transpose()).rowwise() + b;
        }
        const MatD full = head.logProbs(hL), exit = head.logProbs(hk);
        for (Eigen::Index t = 0; t < T; ++t) {
            klSum += (full.row(t).array().exp() * (full.row(t).array() - exit.row(t).array())).sum();
            Eigen::Index a = 0, b = 0;
            full.row(t).maxCoeff(&a);
            exit.row(t).maxCoeff(&b);
            agree += a == b;
        }
        q.tokens += int(T);
    }
    q.meanKl = q.tokens ? klSum / q.tokens : 0;
    q.top1Agreement = q.tokens ? double(agree) / q.tokens : 0;
    return q;
}

EarlyExitQuality evaluateEarlyExit(const std::shared_ptr<const Model>& model, std::span<const int32_t> tokens,
                                   std::span<const int> exits, float threshold, int threads)
{
    using Clock = std::chrono::steady_clock;
    const int V = model->hparams().nVocab;
    const int n = int(std::min<size_t>(tokens.size(), size_t(checkedWindow(*model, int(tokens.size())))));
    if (n < 2)
        throw InvalidArgument("early-exit evaluation needs at least 2 tokens");
    auto early = cpuContext(model, n, threads);
    auto full = cpuContext(model, n, threads);
    EarlyExitQuality q;
    q.threshold = threshold;
    std::vector<float> logits, fullLogits;
    double klSum = 0, earlySeconds = 0, fullSeconds = 0;
    int64_t layers = 0;
    int agree = 0;
    for (int i = 0; i < n; ++i) {
        auto t0 = Clock::now();
        layers += early->decodeEarlyExit(tokens[size_t(i)], exits, threshold, logits);
        earlySeconds += std::chrono::duration<double>(Clock::now() - t0).count();
        t0 = Clock::now();
        const int32_t one[1] = {tokens[size_t(i)]};
        full->decode(one, false, fullLogits);
        fullSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
        // KL(full || early) of the softmaxes, in double.
        const double mf = *std::max_element(fullLogits.begin(), fullLogits.end());
        const double me = *std::max_element(logits.begin(), logits.end());
        double zf = 0, ze = 0;
        for (int v = 0; v < V; ++v) {
            zf += std::exp(fullLogits[size_t(v)] - mf);
            ze += std::exp(logits[size_t(v)] - me);
        }
        const double lzf = mf + std::log(zf), lze = me + std::log(ze);
        double kl = 0;
        for (int v = 0; v < V; ++v) {
            const double lp = fullLogits[size_t(v)] - lzf;
            kl += std::exp(lp) * (lp - (logits[size_t(v)] - lze));
        }
        klSum += kl;
        agree += std::max_element(fullLogits.begin(), fullLogits.end()) - fullLogits.begin() ==
                 std::max_element(logits.begin(), logits.end()) - logits.begin();
    }
    q.tokens = n;
    q.averageLayers = double(layers) / n;
    q.meanKl = klSum / n;
    q.top1Agreement = double(agree) / n;
    q.tokensPerSecond = n / earlySeconds;
    q.fullTokensPerSecond = n / fullSeconds;
    return q;
}

void writeModelWithExitAdapters(const Model& model, std::span<const ExitFit> adapters, int defaultLayer,
                                const std::filesystem::path& path, float defaultThreshold)
{
    const GGUFFile* src = model.gguf();
    if (!src)
        throw UnsupportedError("exit adapters can only be added to a model loaded from GGUF");
    const int E = model.hparams().nEmbd;
    GGUFWriter w;
    w.copyMetadata(*src);
    w.set("tenfold.exit.default_layer", GGUFValue::u32(uint32_t(defaultLayer)));
    if (defaultThreshold > 0.0f)
        w.set("tenfold.exit.default_threshold", GGUFValue::f32(defaultThreshold));
    else
        w.remove("tenfold.exit.default_threshold");
    forEachWeight(model, [&](const WeightTensor& t, bool oneDim) {
        if (!t.present())
            return;
        if (t.palette) {
            const PaletteWeight& p = *t.palette;
            w.addTensor(t.name + ".pal_idx", GGMLType::I8, {int64_t(p.indexRowBytes), t.ne1}, p.indices,
                        uint64_t(p.indexRowBytes) * uint64_t(t.ne1));
            w.addTensor(t.name + ".pal_tab", GGMLType::F32, {int64_t(p.entries()), p.groups}, p.table,
                        uint64_t(p.groups) * uint64_t(p.entries()) * 4);
            if (p.rowScale)
                w.addTensor(t.name + ".pal_scale", GGMLType::F32, {t.ne1}, p.rowScale, uint64_t(t.ne1) * 4);
            return;
        }
        if (t.factorised()) {
            for (const WeightTensor* f : {&t.lowRank->a, &t.lowRank->b})
                w.addTensor(f->name, f->type, {f->ne0, f->ne1}, f->data, uint64_t(f->rowBytes) * uint64_t(f->ne1));
            return;
        }
        std::vector<int64_t> ne = oneDim ? std::vector<int64_t>{t.ne0} : std::vector<int64_t>{t.ne0, t.ne1};
        w.addTensor(t.name, t.type, std::move(ne), t.data, uint64_t(t.rowBytes) * uint64_t(t.ne1));
    });
    for (const ExitFit& f : adapters) {
        if (f.weight.size() != size_t(E) * size_t(E) || f.bias.size() != size_t(E))
            throw InvalidArgument("exit adapter for layer " + std::to_string(f.layer) + " does not match the model");
        const std::string p = "tenfold.exit." + std::to_string(f.layer) + ".";
        w.addTensor(p + "weight", GGMLType::F32, {E, E}, f.weight.data(), uint64_t(f.weight.size()) * 4);
        w.addTensor(p + "bias", GGMLType::F32, {E}, f.bias.data(), uint64_t(E) * 4);
    }
    w.write(path);
}

} // namespace tenfold
