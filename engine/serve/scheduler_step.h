#pragma once
// Internal to the scheduler: one step of the continuous-batching loop (admission, the batch, the
// forward pass, sampling and verification), split from scheduler.cpp by concern. The policy is
// described in scheduler.h.
#include "model/model.h"
#include "serve/scheduler_state.h"

#include <span>
#include <string>
#include <vector>

namespace tenfold::serve_detail {

class Step {
public:
    Step(SchedulerState& s, const SchedulerConfig& c)
        : s_(s), cfg_(c), ctx_(*s.ctx), tok_(s.model->tokenizer())
    {
    }
    void run();

private:
    struct Owner {
        Job* job;
        Choice* choice;
        bool logits;
        bool embedding;
        bool lastPrefill; // the row completes the choice's prefill
        int proposal;     // Generate rows: 0 for the pending token, i for draft proposal i
    };
    void propose();
    void verify(Job& job, Choice& c, size_t firstLogitRow);
    void reapCancelled();
    void admit();
    bool buildBatch(); // false: nothing to run
    void preempt(Job& job);
    void process();
    void sample(Job& job, Choice& c, std::span<const float> row);
    void emitToken(Job& job, Choice& c, int32_t token, std::span<const float> row);
    void emit(Job& job, Choice& c, std::string text, bool force);
    void finishChoice(Job& job, Choice& c, const char* reason);
    void finishJob(Job& job, bool cancelled);
    void failJob(Job& job, const std::string& why, const std::string& code = {});
    void release(Choice& c);
    bool makeRoom(int need);
    int runningSequences() const;
    void snapshot();

    SchedulerState& s_;
    const SchedulerConfig& cfg_;
    BatchedContext& ctx_;
    const Tokenizer& tok_;
    std::vector<BatchRow> rows_;
    std::vector<Owner> owners_;
    std::vector<float> logits_, embeddings_;
    uint64_t emitted_ = 0; // tokens emitted this step, added to the metrics once per step
};

} // namespace tenfold::serve_detail
