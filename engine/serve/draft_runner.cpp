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
    c.proposalDists.clear();
}

void DraftRunner::propose(std::span<Choice* const> choices)
{
    for (Choice* c : choices) {
        c->proposals.clear();
        c->proposalDists.clear();
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
            const std::span<const float> row(logits_.data() + i * V, V);
            int32_t d;
            if (c->sampler.params().temperature <= 0.0f) {
                d = argmax(row);
            } else {
                // Sampled choices draw proposals from the draft's own distribution q (same
                // filters), kept for the target's acceptance test.
                if (!c->draftSampler) {
                    SamplingParams dp = c->sampler.params();
                    dp.seed ^= 0x9e3779b97f4a7c15ull; // its own stream of draws
                    c->draftSampler = std::make_unique<Sampler>(dp);
                }
                std::vector<int32_t> hist = c->history;
                hist.insert(hist.end(), c->proposals.begin(), c->proposals.end());
                c->proposalDists.push_back(c->draftSampler->distribution(row, hist));
                d = c->draftSampler->draw(c->proposalDists.back());
            }
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
    c.proposalDists.clear();
}

} // namespace tenfold
