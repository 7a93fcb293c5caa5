// CpuContext::decodeEarlyExit: one token through the layers until an exit head is confident
// enough (CALM, Schuster et al. 2022). The layers it skips still get keys and values at this
// position, computed from the exited hidden state (their attention input norm, K and V
// projections and RoPE), so later tokens attend to a complete cache; this is what makes early
// exit lossy beyond the token itself.
#include "runtime/cpu_context.h"

#include "core/error.h"
#include "runtime/cpu_ops.h"
#include "tensor/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tenfold {

void CpuContext::exitHead(int layer, std::vector<float>& logits)
{
    const int E = hp_.nEmbd;
    const Model& m = *model_;
    // On a copy: x_ keeps the exited state, from which fillSkippedLayers computes keys and values.
    exitRow_.assign(x_.begin(), x_.begin() + E);
    if (const ExitAdapter* a = layer < hp_.nLayer ? m.exitAdapter(layer) : nullptr)
        applyExitAdapter(*a, exitRow_.data(), 1);
    rmsNorm(exitRow_.data(), reinterpret_cast<const float*>(m.outputNorm().data), xn_.data(), E, hp_.rmsEps);
    logits.resize(size_t(hp_.nVocab));
    const MatmulJob job{&m.output(), logits.data(), hp_.nVocab};
    matmul_.run(pool_, {&job, 1}, xn_.data(), 1, E);
}

int CpuContext::decodeEarlyExit(int32_t token, std::span<const int> exits, float threshold,
                                std::vector<float>& logits)
{
    requireAllLayers("early exit");
    const int32_t one[1] = {token};
    check(one, pos_);
    for (size_t i = 0; i < exits.size(); ++i)
        if (exits[i] < 1 || exits[i] >= hp_.nLayer || (i > 0 && exits[i] <= exits[i - 1]))
            throw InvalidArgument("early-exit layers must ascend within 1.." + std::to_string(hp_.nLayer - 1));
    timings_.clear();
    int ran = hp_.nLayer;
    int done = 0;
    const int start = pos_;
    for (int k : exits) {
        runLayers(one, nullptr, start, done, k); // the layers since the last exit, then its head
        done = k;
        exitHead(k, logits);
        const float mx = *std::max_element(logits.begin(), logits.end());
        double sum = 0;
        for (float v : logits)
            sum += std::exp(double(v) - mx);
        if (1.0 / sum >= double(threshold)) {
            ran = k;
            break;
        }
    }
    if (ran < hp_.nLayer) {
        fillSkippedLayers(start, ran);
    } else {
        runLayers(one, nullptr, start, done, hp_.nLayer);
        exitHead(hp_.nLayer, logits);
    }
    pos_ += 1;
    return ran;
}

void CpuContext::fillSkippedLayers(int position, int fromLayer)
{
    const int E = hp_.nEmbd, Hkv = hp_.nHeadKv, D = hp_.headDim, kvDim = Hkv * D;
    const Model& m = *model_;
    // cos_/sin_ still hold this position's rotation (runLayers computed them for it).
    for (int il = fromLayer; il < hp_.nLayer; ++il) {
        const LayerWeights& L = m.layers()[size_t(il)];
        rmsNorm(x_.data(), reinterpret_cast<const float*>(L.attnNorm.data), xn_.data(), E, hp_.rmsEps);
        const MatmulJob jobs[2] = {{&L.wk, k_.data(), kvDim}, {&L.wv, v_.data(), kvDim}};
        matmul_.run(pool_, jobs, xn_.data(), 1, E);
        if (L.bk.present())
            addInPlace(k_.data(), reinterpret_cast<const float*>(L.bk.data), kvDim);
        if (L.bv.present())
            addInPlace(v_.data(), reinterpret_cast<const float*>(L.bv.data), kvDim);
        rope(k_.data(), Hkv, D, hp_.ropeDim, cos_.data(), sin_.data(), hp_.ropeNeox);
        const size_t at = size_t(position) * size_t(kvDim) * kvElemBytes_;
        storeCacheRow(k_.data(), kCache_[size_t(il)].data() + at, kvType_, kvDim);
        storeCacheRow(v_.data(), vCache_[size_t(il)].data() + at, kvType_, kvDim);
    }
}

} // namespace tenfold
