// Sampling chain, in llama.cpp's order: repetition penalty, top-k, top-p, min-p (both on the
// untempered distribution), temperature, then one draw from the seeded generator.
#include "runtime/sampling.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_set>

namespace tenfold {

int32_t argmax(std::span<const float> logits)
{
    if (logits.empty())
        throw InvalidArgument("argmax of an empty logits row");
    int32_t best = 0;
    for (size_t i = 1; i < logits.size(); ++i)
        if (logits[i] > logits[size_t(best)])
            best = int32_t(i);
    return best;
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

double TokenDistribution::probability(int32_t id) const
{
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] == id)
            return probs[i];
    return 0.0;
}

double Sampler::uniform()
{
    // 53 random bits -> [0, 1): the same on every standard library, unlike std distributions.
    return double(rng_() >> 11) * (1.0 / 9007199254740992.0);
}

int32_t Sampler::draw(const TokenDistribution& d)
{
    if (d.ids.empty())
        throw InvalidArgument("cannot draw from an empty distribution");
    const double u = uniform();
    double acc = 0.0;
    for (size_t i = 0; i < d.ids.size(); ++i) {
        acc += d.probs[i];
        if (u < acc)
            return d.ids[i];
    }
    return d.ids.back();
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history)
{
    fill(logits, history, scratch_); // reused: no allocation per token once warm
    return scratch_.ids.size() == 1 ? scratch_.ids[0] : draw(scratch_);
}

TokenDistribution Sampler::distribution(std::span<const float> logits, std::span<const int32_t> history)
{
    TokenDistribution out;
    fill(logits, history, out);
    return out;
}

void Sampler::fill(std::span<const float> logits, std::span<const int32_t> history, TokenDistribution& out)
{
    if (logits.empty())
        throw InvalidArgument("cannot sample from an empty logits row");
    const int32_t n = int32_t(logits.size());
    candidates_.resize(size_t(n));
    // NaN would break the sort's strict weak ordering (undefined behaviour), and +inf would turn
    // exp(l - max) into NaN; a row with no finite value has nothing meaningful to sample.
    bool anyFinite = false;
    for (int32_t i = 0; i < n; ++i) {
        float l = logits[size_t(i)];
        if (std::isnan(l))
            l = -std::numeric_limits<float>::infinity();
        else if (l == std::numeric_limits<float>::infinity())
            l = std::numeric_limits<float>::max();
        anyFinite = anyFinite || std::isfinite(logits[size_t(i)]);
        candidates_[size_t(i)] = {l, i};
    }
    if (!anyFinite)
        throw InvalidArgument("the model produced non-finite logits (all " + std::to_string(n) +
                              " are NaN or infinite); the weights or the computation are broken");

    // Repetition penalty: each distinct recent token once (CTRL-style: shrink positive logits,
    // grow negative ones).
    if (params_.repeatPenalty != 1.0f && params_.repeatLastN != 0 && !history.empty()) {
        const size_t window = params_.repeatLastN < 0
                                  ? history.size()
                                  : std::min(history.size(), size_t(params_.repeatLastN));
        std::unordered_set<int32_t> seen;
        for (size_t i = history.size() - window; i < history.size(); ++i) {
            const int32_t id = history[i];
            if (id < 0 || id >= n || !seen.insert(id).second)
                continue;
            float& l = candidates_[size_t(id)].first;
            l = l > 0.0f ? l / params_.repeatPenalty : l * params_.repeatPenalty;
            l = std::min(l, std::numeric_limits<float>::max()); // a penalty below 1 may overflow
        }
    }

    auto greater = [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    if (params_.temperature <= 0.0f) {
        out.ids.assign(1, std::min_element(candidates_.begin(), candidates_.end(), greater)->second);
        out.probs.assign(1, 1.0);
        return;
    }

    size_t keep = candidates_.size();
    if (params_.topK > 0 && size_t(params_.topK) < keep) {
        keep = size_t(params_.topK);
        std::partial_sort(candidates_.begin(), candidates_.begin() + std::ptrdiff_t(keep),
                          candidates_.end(), greater);
        candidates_.resize(keep);
    } else {
        std::sort(candidates_.begin(), candidates_.end(), greater);
    }

    // Probabilities of the untempered distribution over the survivors (sorted, max first).
    std::vector<double> probs(keep);
    const float maxLogit = candidates_[0].first;
    double sum = 0.0;
    for (size_t i = 0; i < keep; ++i) {
        probs[i] = std::exp(double(candidates_[i].first - maxLogit));
        sum += probs[i];
    }
    if (params_.topP < 1.0f) {
        double cumulative = 0.0;
        size_t cut = keep;
        for (size_t i = 0; i < keep; ++i) {
            cumulative += probs[i] / sum;
            if (cumulative >= double(params_.topP)) {
                cut = i + 1;
                break;
            }
        }
        keep = std::max<size_t>(1, cut);
    }
    if (params_.minP > 0.0f) {
        // probs[0] is the largest; keep tokens with p >= minP * pmax.
        size_t cut = 1;
        while (cut < keep && probs[cut] >= double(params_.minP) * probs[0])
            ++cut;
        keep = cut;
    }

    // Temperature, then normalize.
    std::vector<double>& weights = probs;
    double total = 0.0;
    for (size_t i = 0; i < keep; ++i) {
        weights[i] = std::exp(double(candidates_[i].first - maxLogit) / double(params_.temperature));
        total += weights[i];
    }
    out.ids.resize(keep);
    out.probs.resize(keep);
    for (size_t i = 0; i < keep; ++i) {
        out.ids[i] = candidates_[i].second;
        out.probs[i] = weights[i] / total;
    }
}

TokenDistribution residualDistribution(const TokenDistribution& p, const TokenDistribution& q)
{
    TokenDistribution r;
    double total = 0;
    for (size_t i = 0; i < p.ids.size(); ++i) {
        const double v = p.probs[i] - q.probability(p.ids[i]);
        if (v > 0) {
            r.ids.push_back(p.ids[i]);
            r.probs.push_back(v);
            total += v;
        }
    }
    if (total <= 0)
        return p;
    for (double& v : r.probs)
        v /= total;
    return r;
}

} // namespace tenfold
