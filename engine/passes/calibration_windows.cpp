#include "passes/calibration_windows.h"

#include "core/error.h"
#include "model/model.h"
#include "runtime/cpu_backend.h"
#include "tokenizer/tokenizer.h"

#include <algorithm>

namespace tenfold {

CalibrationWindows::CalibrationWindows(std::shared_ptr<const Model> model, std::span<const int32_t> tokens, int nCtx,
                                       int maxWindows, int nThreads, const std::string& purpose)
    : nCtx_(nCtx)
{
    if (nCtx < 2)
        throw InvalidArgument(purpose + ": window length must be at least 2, got " + std::to_string(nCtx));
    const int64_t available = int64_t(tokens.size()) / nCtx;
    if (available < 1)
        throw InvalidArgument("the calibration text has " + std::to_string(tokens.size()) + " tokens; " + purpose +
                              " needs at least one window of " + std::to_string(nCtx));
    const int64_t n = maxWindows > 0 ? std::min<int64_t>(available, maxWindows) : available;
    const Tokenizer& tok = model->tokenizer();
    const int32_t bos = tok.addBos() && tok.bos() >= 0 ? tok.bos() : -1;
    for (int64_t w = 0; w < n; ++w) {
        std::vector<int32_t> window(tokens.begin() + w * nCtx, tokens.begin() + (w + 1) * nCtx);
        if (bos >= 0)
            window[0] = bos;
        windows_.push_back(std::move(window));
    }
    backend_ = createCpuBackend(nThreads);
    ContextParams cp;
    cp.nCtx = nCtx;
    ctx_ = backend_->createContext(std::move(model), cp);
    cpu_ = dynamic_cast<CpuContext*>(ctx_.get());
    if (!cpu_)
        throw UnsupportedError(purpose + " needs the CPU backend");
}

void CalibrationWindows::run(int w, int firstRow, std::vector<float>& logits, const std::atomic<bool>* cancel)
{
    if (cancel && cancel->load())
        throw Cancelled();
    cpu_->truncate(0);
    cpu_->decodeRows(windows_[size_t(w)], firstRow, logits, cancel);
}

} // namespace tenfold
