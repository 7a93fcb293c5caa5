#include "dist/stage_plan.h"

#include "core/error.h"
#include "model/model.h"

#include <charconv>

namespace tenfold::dist {
namespace {

uint64_t tensorBytes(const WeightTensor& w)
{
    return w.storageBytes();
}

} // namespace

std::vector<int> parseSplit(const std::string& text)
{
    std::vector<int> counts;
    size_t at = 0;
    while (at <= text.size()) {
        const size_t comma = std::min(text.find(',', at), text.size());
        const std::string part = text.substr(at, comma - at);
        int v = 0;
        const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (part.empty() || ec != std::errc() || end != part.data() + part.size() || v < 1)
            throw InvalidArgument("--split: '" + part + "' (item " + std::to_string(counts.size() + 1) +
                                  " of '" + text + "') is not a positive layer count");
        counts.push_back(v);
        at = comma + 1;
    }
    return counts;
}

uint64_t layerWeightBytes(const Model& model, int layer)
{
    const LayerWeights& L = model.layers()[size_t(layer)];
    uint64_t b = 0;
    for (const WeightTensor* w : {&L.attnNorm, &L.wq, &L.wk, &L.wv, &L.wo, &L.bq, &L.bk, &L.bv,
                                  &L.ffnNorm, &L.ffnGate, &L.ffnUp, &L.ffnDown})
        b += tensorBytes(*w);
    return b;
}

uint64_t headWeightBytes(const Model& model)
{
    uint64_t b = tensorBytes(model.tokenEmbedding()) + tensorBytes(model.outputNorm());
    if (model.output().data != model.tokenEmbedding().data)
        b += tensorBytes(model.output());
    return b;
}

std::vector<Stage> planStages(std::span<const uint64_t> layerBytes, uint64_t rank0Bytes, int ranks,
                              std::span<const int> counts)
{
    const int nLayer = int(layerBytes.size());
    if (ranks < 1)
        throw InvalidArgument("a pipeline needs at least one rank, got " + std::to_string(ranks));
    if (ranks > nLayer)
        throw InvalidArgument(std::to_string(ranks) + " pipeline ranks for a model of " +
                              std::to_string(nLayer) + " layers: each rank needs at least one layer");
    std::vector<int> ends;
    if (!counts.empty()) {
        if (int(counts.size()) != ranks)
            throw InvalidArgument("--split names " + std::to_string(counts.size()) + " stages but mpirun started " +
                                  std::to_string(ranks) + " ranks");
        int sum = 0;
        for (int c : counts)
            ends.push_back(sum += c);
        if (sum != nLayer)
            throw InvalidArgument("--split adds up to " + std::to_string(sum) + " layers; the model has " +
                                  std::to_string(nLayer));
    } else {
        uint64_t total = rank0Bytes;
        for (uint64_t b : layerBytes)
            total += b;
        uint64_t running = rank0Bytes;
        int layer = 0;
        for (int r = 0; r < ranks; ++r) {
            // Leave at least one layer for each later rank; take at least one.
            const int maxEnd = nLayer - (ranks - 1 - r);
            const long double target = (long double)total * (r + 1) / ranks;
            int end = layer + 1;
            running += layerBytes[size_t(layer)];
            while (end < maxEnd && (long double)running < target) {
                running += layerBytes[size_t(end)];
                ++end;
            }
            if (r == ranks - 1)
                end = nLayer;
            ends.push_back(end);
            layer = end;
        }
    }
    std::vector<Stage> stages;
    int begin = 0;
    for (int r = 0; r < ranks; ++r) {
        Stage s{r, begin, ends[size_t(r)], r == 0 ? rank0Bytes : 0};
        for (int l = s.firstLayer; l < s.endLayer; ++l)
            s.weightBytes += layerBytes[size_t(l)];
        stages.push_back(s);
        begin = s.endLayer;
    }
    return stages;
}

std::vector<Stage> planStages(const Model& model, int ranks, std::span<const int> counts)
{
    std::vector<uint64_t> bytes;
    for (int l = 0; l < model.hparams().nLayer; ++l)
        bytes.push_back(layerWeightBytes(model, l));
    return planStages(bytes, headWeightBytes(model), ranks, counts);
}

} // namespace tenfold::dist
