#pragma once
// One timed op of the last forward pass, for the profiling view, `bench --profile` and the
// server's /tenfold/profile.
#include <string>

namespace tenfold {

struct OpTiming {
    std::string op;      // "matmul_qkv", "attn_norm", "attention", ...
    int layer = -1;      // -1 outside the layer stack
    double microseconds = 0.0;
};

} // namespace tenfold
