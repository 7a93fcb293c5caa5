#pragma once
// The calibration text as the passes read it: consecutive windows of nCtx tokens, each starting
// with BOS (when the model adds one) from an empty cache, as the perplexity method cuts a text.
// One CPU context is made once and reused for every window; passes that collect statistics
// watch its matrix products (CpuContext::setMatmulObserver), passes that compare models read the
// logits each window returns.
#include "runtime/cpu_context.h"

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tenfold {

class Model;

class CalibrationWindows {
public:
    // maxWindows 0: every full window. Throws InvalidArgument naming `purpose` ("GPTQ", "an
    // importance matrix", ...) when nCtx < 2 or the text has no full window.
    CalibrationWindows(std::shared_ptr<const Model> model, std::span<const int32_t> tokens, int nCtx,
                       int maxWindows, int nThreads, const std::string& purpose);

    int count() const { return int(windows_.size()); }
    int nCtx() const { return nCtx_; }
    CpuContext& context() { return *cpu_; }
    // Window w's tokens (BOS first when the model adds one).
    const std::vector<int32_t>& window(int w) const { return windows_[size_t(w)]; }

    // Runs window w from an empty cache; logits: rows firstRow..nCtx-1 (one row is the cheapest
    // when only the layers' inputs matter). Throws Cancelled when cancel is set.
    void run(int w, int firstRow, std::vector<float>& logits, const std::atomic<bool>* cancel);

private:
    int nCtx_;
    std::vector<std::vector<int32_t>> windows_;
    std::unique_ptr<Backend> backend_;
    std::unique_ptr<InferenceContext> ctx_;
    CpuContext* cpu_ = nullptr;
};

} // namespace tenfold
