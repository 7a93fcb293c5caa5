#pragma once
// --dump-logits FILE: every logits row a context returns, appended in order as raw little-endian
// float32, written when the run ends (temp file + rename). For tests that compare a distributed
// run with a single process bit for bit.
#include "runtime/backend.h"

#include <memory>
#include <string>
#include <vector>

namespace tenfold::worker {

class LogitsDump final : public InferenceContext {
public:
    LogitsDump(std::unique_ptr<InferenceContext> inner, std::string path);
    ~LogitsDump() override; // writes the file; a failure is reported on stderr

    int contextSize() const override { return inner_->contextSize(); }
    int position() const override { return inner_->position(); }
    void decode(std::span<const int32_t> tokens, bool allLogits, std::vector<float>& logits,
                const std::atomic<bool>* cancel = nullptr) override;
    void decodeRows(std::span<const int32_t> tokens, int firstRow, std::vector<float>& logits,
                    const std::atomic<bool>* cancel = nullptr) override;
    void truncate(int nPos) override { inner_->truncate(nPos); }
    std::vector<OpTiming> lastTimings() const override { return inner_->lastTimings(); }

private:
    std::unique_ptr<InferenceContext> inner_;
    std::string path_;
    std::vector<float> all_;
};

} // namespace tenfold::worker
