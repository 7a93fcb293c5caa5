#include "serve/draft_runner.h"

#include "runtime/sampling.h"
#include "serve/scheduler_state.h"

#include <algorithm>

namespace tenfold {

DraftRunner::DraftRunner(std::unique_ptr<BatchedContext> ctx, int maxDraft)
    : ctx_(std::move(ctx)), maxDraft_(std::max(1, maxDraft))
{
}

DraftRunner::~DraftRunner() = default;

void DraftRunner::release(Choice& c)
{
    if (c.draftSeq >= 0)
        ctx_->closeSequence(c.draftSeq);
    c.draftSeq = -1;
    c.draftLength = 0;
    c.proposals.clear();
}

void DraftRunner::propose(std::span<Choice* const> choices)
{
    for (Choice* c : choices) {
        c->proposals.clear();
        if (c->draftK <= 0)
            c->draftK = std::min(4, maxDraft_);
    }
    // Round 1 catches each draft cache up with the choice's history (the whole prompt the first
    // time, then the last step's correction token) and proposes d1; later rounds feed d(i-1).
    std::vector<Choice*> active;
    rows_.clear();
    for (Choice* c : choices) {
        const int room = ctx_->maxSequenceLength() - int(c->history.size());
        if (room <= 1)
            continue;
        if (c->draftSeq < 0) {
            c->draftSeq = ctx_->openSequence();
            c->draftLength = 0;
        }
        const size_t from = size_t(c->draftLength);
        for (size_t i = from; i < c->history.size(); ++i)
            rows_.push_back({c->history[i], c->draftSeq, i + 1 == c->history.size(), false});
        active.push_back(c);
    }
    for (int round = 0; !active.empty() && round < maxDraft_; ++round) {
        try {
            ctx_->decode(rows_, logits_);
        } catch (const KvCacheFull&) {
            // The draft pool is full: these choices go without proposals beyond what they have.
            break;
        }
        const size_t V = size_t(ctx_->vocabSize());
        std::vector<Choice*> next;
        rows_.clear();
        for (size_t i = 0; i < active.size(); ++i) {
            Choice* c = active[i];
            if (round == 0)
                c->draftLength = int(c->history.size());
            const int32_t d = argmax(std::span<const float>(logits_.data() + i * V, V));
            c->proposals.push_back(d);
            ++proposed_;
            const int fed = int(c->history.size()) + int(c->proposals.size()) - 1;
            if (int(c->proposals.size()) < c->draftK && fed + 2 < ctx_->maxSequenceLength()) {
                rows_.push_back({d, c->draftSeq, true, false});
                next.push_back(c);
            }
        }
        active.swap(next);
    }
}

void DraftRunner::settle(Choice& c, int accepted)
{
    accepted_ += uint64_t(accepted);
    const int proposedCount = int(c.proposals.size());
    if (c.draftSeq >= 0) {
        // The draft fed its history and proposals d1..d(k-1); what the target kept of them stays.
        const int keep = c.draftLength + std::min(accepted, std::max(0, proposedCount - 1));
        ctx_->truncateSequence(c.draftSeq, std::min(keep, ctx_->sequenceLength(c.draftSeq)));
        c.draftLength = ctx_->sequenceLength(c.draftSeq);
    }
    c.draftK = accepted == proposedCount ? std::min(maxDraft_, c.draftK + 1) : std::max(1, accepted + 1);
    c.proposals.clear();
}

} // namespace tenfold
