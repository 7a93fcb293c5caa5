#include "profile/op_profile.h"

#include "model/model.h"

#include <algorithm>

namespace tenfold::profile {

void OpProfile::add(const std::vector<OpTiming>& pass)
{
    if (pass.empty())
        return;
    ++passes_;
    for (const OpTiming& t : pass) {
        OpCell& c = cells_[{t.layer, t.op}];
        c.op = t.op;
        c.layer = t.layer;
        c.microseconds += t.microseconds;
        ++c.calls;
        total_ += t.microseconds;
    }
}

std::vector<OpCell> OpProfile::cells() const
{
    std::vector<OpCell> out;
    out.reserve(cells_.size());
    for (const auto& [key, c] : cells_)
        out.push_back(c);
    return out;
}

std::vector<OpCell> OpProfile::perOp() const
{
    std::map<std::string, OpCell> byOp;
    for (const auto& [key, c] : cells_) {
        OpCell& o = byOp[c.op];
        o.op = c.op;
        o.layer = -1;
        o.microseconds += c.microseconds;
        o.calls += c.calls;
    }
    std::vector<OpCell> out;
    for (auto& [name, c] : byOp)
        out.push_back(c);
    std::stable_sort(out.begin(), out.end(), [](const OpCell& a, const OpCell& b) { return a.microseconds > b.microseconds; });
    return out;
}

void OpProfile::clear()
{
    cells_.clear();
    passes_ = 0;
    total_ = 0;
}

double matmulWeights(const Model& model)
{
    double weights = double(model.output().ne0) * double(model.output().ne1);
    for (const LayerWeights& l : model.layers())
        for (const WeightTensor* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffnGate, &l.ffnUp, &l.ffnDown})
            weights += double(w->ne0) * double(w->ne1);
    return weights;
}

double prefillGflops(double matmulWeightCount, double promptTokens, double seconds)
{
    return seconds > 0 ? 2.0 * matmulWeightCount * promptTokens / seconds / 1e9 : 0.0;
}

double decodeBandwidthShare(uint64_t weightBytes, double tokensPerSecond, double machineGbPerSecond)
{
    if (machineGbPerSecond <= 0 || tokensPerSecond <= 0)
        return 0.0;
    return double(weightBytes) * tokensPerSecond / 1e9 / machineGbPerSecond;
}

} // namespace tenfold::profile
