#pragma once
// Per-op timings of forward passes (InferenceContext::lastTimings(), CPU timers or Vulkan
// timestamps) summed into what the Profiler page shows: time per op per layer, and the
// roofline figures: decode's achieved memory bandwidth as a share of the machine's measured read
// bandwidth, prefill's GFLOP/s.
#include "runtime/backend.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tenfold {
class Model;
}

namespace tenfold::profile {

struct OpCell {
    std::string op;
    int layer = -1;           // -1: outside the layer stack (embedding, output head)
    double microseconds = 0;  // summed over the passes added
    int64_t calls = 0;
};

// Sums timings pass by pass (add() each pass's lastTimings()).
class OpProfile {
public:
    void add(const std::vector<OpTiming>& pass);
    int passes() const { return passes_; }
    double totalMicroseconds() const { return total_; }
    // One cell per (op, layer), ordered by layer then op.
    std::vector<OpCell> cells() const;
    // Per op over all layers, largest first.
    std::vector<OpCell> perOp() const;
    void clear();

private:
    std::map<std::pair<int, std::string>, OpCell> cells_;
    int passes_ = 0;
    double total_ = 0;
};

// The multiply-adds of the matmuls per token: every projection, feed-forward and output-head
// weight once (attention's own products are left out); 2 flops each. The arithmetic behind
// bench's and the Profiler's prefill GFLOP/s.
double matmulWeights(const Model& model);

// Prefill GFLOP/s: 2 x matmulWeights per prompt token.
double prefillGflops(double matmulWeightCount, double promptTokens, double seconds);
// Decode reads every weight once per token: bytes x tokens/s as a share (0..1+) of the machine's
// read bandwidth (measureReadBandwidth, 1e9 bytes/s). 0 when either is unknown.
double decodeBandwidthShare(uint64_t weightBytes, double tokensPerSecond, double machineGbPerSecond);

} // namespace tenfold::profile
