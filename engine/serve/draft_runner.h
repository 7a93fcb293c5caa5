#pragma once
// Speculative decoding inside continuous batching: before each step a draft model proposes up
// to k tokens for every generating choice, a few small batched passes over its own paged cache;
// the target then checks [pending, d1..dk] of each choice in the step's one forward pass. Greedy
// choices keep the proposals the target would have chosen itself; sampled ones use the standard
// rejection rule (keep d with probability min(1, p(d)/q(d)), else draw from the residual
// max(0, p - q)), so greedy output is exactly the target's and sampled output keeps its
// distribution. The draft cache follows the target's accepted tokens.
#include "runtime/batched_context.h"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace tenfold {

struct Choice;

class DraftRunner {
public:
    DraftRunner(std::unique_ptr<BatchedContext> ctx, int maxDraft);
    ~DraftRunner();

    // Fills each choice's proposals (greedy draft tokens after its pending token). A choice whose
    // draft cache cannot grow this step (the draft pool is full) gets none.
    void propose(std::span<Choice* const> choices);
    // The target kept `accepted` of the choice's proposals: the draft cache keeps the matching
    // prefix, and the draft length adapts (longer after a full acceptance, shorter otherwise).
    void settle(Choice& c, int accepted);
    // The choice ends or is preempted: its draft sequence goes.
    void release(Choice& c);

    uint64_t proposed() const { return proposed_; }
    uint64_t accepted() const { return accepted_; }
    int maxDraft() const { return maxDraft_; }

private:
    std::unique_ptr<BatchedContext> ctx_;
    int maxDraft_;
    uint64_t proposed_ = 0, accepted_ = 0;
    std::vector<BatchRow> rows_;
    std::vector<float> logits_;
};

} // namespace tenfold
