// One step of the continuous-batching loop (scheduler.h has the policy).
#include "serve/scheduler_step.h"

#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace tenfold::serve_detail {
namespace {

double msBetween(ServeClock::time_point a, ServeClock::time_point b)
{
    return std::chrono::duration<double, std::milli>(b - a).count();
}

// log-softmax of one row of raw logits: the chosen token's log probability and the k best.
void logprobsOf(std::span<const float> row, int32_t chosen, int k, float& lp,
                std::vector<TokenLogprob>& top)
{
    const float mx = *std::max_element(row.begin(), row.end());
    double sum = 0;
    for (float v : row)
        sum += std::exp(double(v) - mx);
    const float lse = mx + float(std::log(sum));
    lp = row[size_t(chosen)] - lse;
    top.clear();
    if (k <= 0)
        return;
    std::vector<int32_t> ids(row.size());
    std::iota(ids.begin(), ids.end(), 0);
    const size_t kk = std::min(size_t(k), ids.size());
    std::partial_sort(ids.begin(), ids.begin() + std::ptrdiff_t(kk), ids.end(),
                      [&](int32_t a, int32_t b) { return row[size_t(a)] > row[size_t(b)]; });
    for (size_t i = 0; i < kk; ++i)
        top.push_back({ids[i], row[size_t(ids[i])] - lse});
}

} // namespace

// Closes a choice's sequence; its full blocks stay in the prefix cache for later requests.
void Step::release(Choice& c)
{
    if (s_.draft)
        s_.draft->release(c);
    if (c.seq < 0)
        return;
    if (s_.prefix)
        s_.prefix->insert(c.history, c.seq);
    ctx_.closeSequence(c.seq);
    c.seq = -1;
}

// Blocks no sequence uses go back to the pool before any request is preempted.
bool Step::makeRoom(int need)
{
    if (need <= ctx_.freeBlocks())
        return true;
    if (s_.prefix)
        s_.prefix->evict(need - ctx_.freeBlocks());
    return need <= ctx_.freeBlocks();
}

int Step::runningSequences() const
{
    int n = 0;
    for (const auto& j : s_.running)
        n += j->choicesLeft();
    return n;
}

void Step::finishJob(Job& job, bool cancelled)
{
    for (auto& c : job.choices)
        release(*c);
    const auto now = ServeClock::now();
    ServeEvent done;
    done.kind = ServeEvent::Kind::Done;
    done.promptTokens = int(job.params.prompt.size());
    done.completionTokens = job.completionTokens();
    done.queueMs = job.admitted ? msBetween(job.submitted, *job.admitted) : msBetween(job.submitted, now);
    done.timeToFirstTokenMs = job.firstToken ? msBetween(job.submitted, *job.firstToken) : 0;
    done.totalMs = msBetween(job.submitted, now);
    if (job.params.embedding && !cancelled) {
        double norm = 0;
        for (double v : job.embeddingSum)
            norm += v * v;
        norm = std::sqrt(norm);
        done.embedding.reserve(job.embeddingSum.size());
        for (double v : job.embeddingSum)
            done.embedding.push_back(float(norm > 0 ? v / norm : 0.0));
    }
    if (cancelled) {
        // Counted before the Done event goes out: whoever sees Done sees the count.
        std::lock_guard lock(s_.mutex);
        ++s_.metrics.requestsCancelled;
    }
    SchedulerState::deliver(*job.handle, std::move(done));
}

void Step::failJob(Job& job, const std::string& why, const std::string& code)
{
    for (auto& c : job.choices)
        release(*c);
    ServeEvent e;
    e.kind = ServeEvent::Kind::Error;
    e.error = why;
    e.errorCode = code;
    SchedulerState::deliver(*job.handle, std::move(e));
    std::lock_guard lock(s_.mutex);
    ++s_.metrics.requestsFailed;
}

void Step::reapCancelled()
{
    std::vector<std::unique_ptr<Job>> gone;
    {
        std::lock_guard lock(s_.mutex);
        for (auto it = s_.waiting.begin(); it != s_.waiting.end();)
            if (SchedulerState::cancelled(*(*it)->handle)) {
                gone.push_back(std::move(*it));
                it = s_.waiting.erase(it);
            } else {
                ++it;
            }
    }
    for (auto it = s_.running.begin(); it != s_.running.end();)
        if (SchedulerState::cancelled(*(*it)->handle)) {
            gone.push_back(std::move(*it));
            it = s_.running.erase(it);
        } else {
            ++it;
        }
    for (auto& j : gone)
        finishJob(*j, true);
}

void Step::admit()
{
    for (;;) {
        std::unique_ptr<Job> job;
        {
            std::lock_guard lock(s_.mutex);
            if (s_.waiting.empty())
                return;
            Job& next = *s_.waiting.front();
            const int seqs = next.choicesLeft();
            if (!s_.running.empty() && runningSequences() + seqs > cfg_.maxRunning)
                return;
            // Blocks for each prefilling choice's first chunk.
            int need = 0;
            for (const auto& c : next.choices)
                if (c->state == Choice::State::Prefill) {
                    const int chunk = int(std::min<size_t>(size_t(cfg_.prefillChunk),
                                                           c->prefill.size() - c->prefilled));
                    need += (chunk + ctx_.blockSize() - 1) / ctx_.blockSize() + 1;
                }
            if (!makeRoom(need) && !s_.running.empty())
                return;
            job = std::move(s_.waiting.front());
            s_.waiting.pop_front();
        }
        if (!job->admitted)
            job->admitted = ServeClock::now();
        job->admissionOrder = s_.nextAdmission++;
        for (auto& c : job->choices) {
            if (c->state != Choice::State::Prefill)
                continue;
            // Reuse what the prefix cache holds of this prompt; at least one token is computed,
            // for the logits that pick the next token.
            PrefixMatch m;
            if (s_.prefix && !job->params.embedding)
                m = s_.prefix->lookup(c->prefill, int(c->prefill.size()) - 1);
            if (m.tokens > 0) {
                c->seq = ctx_.openSequenceWithBlocks(m.blocks, m.tokens);
                c->prefilled = size_t(m.tokens);
            } else {
                c->seq = ctx_.openSequence();
            }
        }
        s_.running.push_back(std::move(job));
    }
}

// Frees a running job's blocks and puts it back at the front of the queue; its choices will
// recompute their caches from their histories when it is admitted again.
void Step::preempt(Job& job)
{
    for (auto& c : job.choices) {
        release(*c);
        if (c->state == Choice::State::Generate) {
            c->state = Choice::State::Prefill;
            c->prefill.assign(c->history.begin(), c->history.end() - 1);
            c->prefilled = 0;
            c->sampleAfterPrefill = false;
        } else if (c->state == Choice::State::Prefill) {
            c->prefilled = 0;
        }
    }
    const auto it = std::find_if(s_.running.begin(), s_.running.end(),
                                 [&](const auto& j) { return j.get() == &job; });
    std::unique_ptr<Job> owned = std::move(*it);
    s_.running.erase(it);
    std::lock_guard lock(s_.mutex);
    s_.waiting.push_front(std::move(owned));
    ++s_.metrics.preemptions;
}

bool Step::buildBatch()
{
    for (;;) {
        rows_.clear();
        owners_.clear();
        int budget = cfg_.stepTokenBudget;
        for (auto& job : s_.running)
            for (auto& c : job->choices)
                if (c->state == Choice::State::Generate) {
                    rows_.push_back({c->pending, c->seq, true, false});
                    owners_.push_back({job.get(), c.get(), true, false, false, 0});
                    --budget;
                    // Speculation: the proposals follow the pending token, each with logits.
                    for (size_t i = 0; i < c->proposals.size(); ++i) {
                        rows_.push_back({c->proposals[i], c->seq, true, false});
                        owners_.push_back({job.get(), c.get(), true, false, false, int(i) + 1});
                        --budget;
                    }
                }
        for (auto& job : s_.running)
            for (auto& c : job->choices) {
                if (c->state != Choice::State::Prefill || budget <= 0)
                    continue;
                const size_t left = c->prefill.size() - c->prefilled;
                const int take = int(std::min<size_t>({left, size_t(cfg_.prefillChunk), size_t(budget)}));
                for (int i = 0; i < take; ++i) {
                    const bool last = c->prefilled + size_t(i) + 1 == c->prefill.size();
                    const bool wantLogits = last && c->sampleAfterPrefill && !job->params.embedding;
                    rows_.push_back({c->prefill[c->prefilled + size_t(i)], c->seq, wantLogits,
                                     job->params.embedding});
                    owners_.push_back({job.get(), c.get(), wantLogits, job->params.embedding, last, 0});
                }
                budget -= take;
            }
        if (rows_.empty())
            return false;
        // Enough blocks? Otherwise the youngest job makes room.
        // Each choice's rows are consecutive (a choice is generating or prefilling, not both).
        std::vector<std::pair<SeqId, int>> counts;
        for (const auto& r : rows_) {
            if (!counts.empty() && counts.back().first == r.seq)
                ++counts.back().second;
            else
                counts.emplace_back(r.seq, 1);
        }
        int need = 0;
        for (const auto& [seq, n] : counts)
            need += ctx_.blocksNeeded(seq, n);
        if (makeRoom(need))
            return true;
        Job* youngest = nullptr;
        for (auto& j : s_.running)
            if (!youngest || j->admissionOrder > youngest->admissionOrder)
                youngest = j.get();
        if (s_.running.size() == 1) {
            // Alone and still too big: the pool cannot hold this request at all.
            auto owned = std::move(s_.running.front());
            s_.running.clear();
            failJob(*owned, "the KV cache (" + std::to_string(ctx_.totalBlocks()) + " blocks of " +
                                std::to_string(ctx_.blockSize()) +
                                " positions) cannot hold this request; ask for fewer choices or "
                                "start the server with a larger budget");
            continue;
        }
        preempt(*youngest);
    }
}

void Step::emit(Job& job, Choice& c, std::string text, bool force)
{
    if (text.empty() && !force)
        return;
    if (text.empty() && c.heldTokens.empty())
        return;
    ServeEvent e;
    e.kind = ServeEvent::Kind::Text;
    e.choice = c.index;
    e.text = std::move(text);
    e.tokens = std::move(c.heldTokens);
    if (job.params.topLogprobs >= 0) {
        e.logprobs = std::move(c.heldLogprobs);
        e.topLogprobs = std::move(c.heldTop);
    }
    c.heldTokens.clear();
    c.heldLogprobs.clear();
    c.heldTop.clear();
    SchedulerState::deliver(*job.handle, std::move(e));
}

void Step::finishChoice(Job& job, Choice& c, const char* reason)
{
    release(c);
    c.state = Choice::State::Done;
    ServeEvent e;
    e.kind = ServeEvent::Kind::ChoiceDone;
    e.choice = c.index;
    e.finishReason = reason;
    SchedulerState::deliver(*job.handle, std::move(e));
}

void Step::sample(Job& job, Choice& c, std::span<const float> row)
{
    emitToken(job, c, c.sampler.sample(row, c.history), row);
}

// Hands a chosen token to the choice: end-of-generation, stop strings, length, text and log
// probabilities (from `row`, the logits it was chosen from).
void Step::emitToken(Job& job, Choice& c, int32_t token, std::span<const float> row)
{
    if (!job.firstToken)
        job.firstToken = ServeClock::now();
    if (job.params.stopAtEndOfGeneration && tok_.isEndOfGeneration(token)) {
        bool ignored = false;
        std::string rest = c.stops.push(c.decoder.flush(), ignored);
        rest += c.stops.flush();
        emit(job, c, std::move(rest), false);
        finishChoice(job, c, "stop");
        return;
    }
    c.history.push_back(token);
    ++c.generated;
    ++emitted_; // emitted tokens only (an end-of-generation token is not); published per step
    c.heldTokens.push_back(token);
    if (job.params.topLogprobs >= 0) {
        float lp = 0;
        std::vector<TokenLogprob> top;
        logprobsOf(row, token, job.params.topLogprobs, lp, top);
        c.heldLogprobs.push_back(lp);
        c.heldTop.push_back(std::move(top));
    }
    bool stopped = false;
    std::string text = c.stops.push(c.decoder.push(token), stopped);
    if (stopped) {
        emit(job, c, std::move(text), true);
        finishChoice(job, c, "stop");
        return;
    }
    // No room to feed this token (the cache would pass the sequence limit) ends the choice too.
    if (c.generated >= job.params.maxTokens || int(c.history.size()) > ctx_.maxSequenceLength()) {
        text += c.stops.push(c.decoder.flush(), stopped);
        if (stopped) {
            emit(job, c, std::move(text), true);
            finishChoice(job, c, "stop");
            return;
        }
        text += c.stops.flush();
        emit(job, c, std::move(text), true);
        finishChoice(job, c, "length");
        return;
    }
    emit(job, c, std::move(text), false);
    c.pending = token;
    c.state = Choice::State::Generate;
}

// The draft model proposes for every choice that is generating.
void Step::propose()
{
    if (!s_.draft)
        return;
    std::vector<Choice*> generating;
    for (auto& job : s_.running)
        for (auto& c : job->choices)
            if (c->state == Choice::State::Generate)
                generating.push_back(c.get());
    s_.draft->propose(generating);
}

// Rows firstLogitRow.. hold the target's logits after [pending, d1..dk]. Greedy: the target's
// choice after pending is emitted; while it equals the next proposal, the row after that proposal
// gives the next choice. Sampled: proposal d(i) is kept with probability min(1, p(d)/q(d)); at the
// first rejection the token is drawn from the residual max(0, p - q); when all are kept the row
// after the last gives one more token. The cache is cut back to pending and the kept proposals
// before anything is emitted (an ending choice hands its cache to the prefix cache).
void Step::verify(Job& job, Choice& c, size_t firstLogitRow)
{
    const size_t V = size_t(ctx_.vocabSize());
    const int k = int(c.proposals.size());
    auto rowAt = [&](int i) { return std::span<const float>(logits_.data() + (firstLogitRow + size_t(i)) * V, V); };
    const bool greedy = c.sampler.params().temperature <= 0.0f;
    std::vector<int32_t> hist = c.history;
    int accepted = 0;
    int32_t correction = -1;
    while (accepted < k) {
        const int32_t d = c.proposals[size_t(accepted)];
        if (greedy) {
            if (c.sampler.sample(rowAt(accepted), hist) != d) // greedy: no random state used
                break;
        } else {
            const TokenDistribution p = c.sampler.distribution(rowAt(accepted), hist);
            const TokenDistribution& q = c.proposalDists[size_t(accepted)];
            const double pd = p.probability(d), qd = q.probability(d);
            if (!(qd > 0 && c.sampler.uniform() < std::min(1.0, pd / qd))) {
                correction = c.sampler.draw(residualDistribution(p, q));
                break;
            }
        }
        hist.push_back(d);
        ++accepted;
    }
    const int base = int(c.history.size()) - 1; // cache length before this step
    ctx_.truncateSequence(c.seq, base + 1 + accepted);
    const std::vector<int32_t> proposals = c.proposals;
    s_.draft->settle(c, accepted);
    for (int i = 0; i < accepted && c.state == Choice::State::Generate; ++i)
        emitToken(job, c, proposals[size_t(i)], rowAt(i));
    if (c.state != Choice::State::Generate)
        return;
    if (correction >= 0)
        emitToken(job, c, correction, rowAt(accepted));
    else
        sample(job, c, rowAt(accepted)); // greedy's next choice, or sampled's bonus token
}

void Step::process()
{
    size_t logitRow = 0, embedRow = 0;
    const size_t V = size_t(ctx_.vocabSize()), E = size_t(ctx_.embeddingSize());
    for (size_t i = 0; i < owners_.size(); ++i) {
        const Owner& o = owners_[i];
        Job& job = *o.job;
        Choice& c = *o.choice;
        std::span<const float> row;
        if (o.logits)
            row = std::span<const float>(logits_.data() + logitRow++ * V, V);
        if (o.embedding) {
            const float* h = embeddings_.data() + embedRow++ * E;
            job.embeddingSum.resize(E, 0.0);
            for (size_t d = 0; d < E; ++d)
                job.embeddingSum[d] += h[d];
        }
        if (c.state == Choice::State::Generate && o.proposal > 0) {
            continue; // verified with its pending row
        } else if (c.state == Choice::State::Generate && !c.proposals.empty()) {
            verify(job, c, logitRow - 1);
        } else if (c.state == Choice::State::Generate) {
            sample(job, c, row);
        } else if (c.state == Choice::State::Prefill) {
            ++c.prefilled;
            if (!o.lastPrefill)
                continue;
            if (s_.prefix && !job.params.embedding)
                s_.prefix->insert(c.prefill, c.seq); // concurrent requests share it at once
            if (job.params.embedding) {
                c.state = Choice::State::Done;
                continue; // finished below
            }
            if (!c.sampleAfterPrefill) {
                c.state = Choice::State::Generate; // resumed: its pending token is next
                continue;
            }
            if (!job.forked && job.choices.size() > 1) {
                // n choices share the prompt's blocks; each draws its own first token.
                for (size_t k = 1; k < job.choices.size(); ++k) {
                    Choice& other = *job.choices[k];
                    other.seq = ctx_.forkSequence(c.seq, -1);
                    other.history = c.history;
                }
                job.forked = true;
                for (size_t k = 1; k < job.choices.size(); ++k)
                    sample(job, *job.choices[k], row);
            }
            job.forked = true;
            sample(job, c, row);
        }
    }
    {
        std::lock_guard lock(s_.mutex);
        s_.metrics.lastBatchRows = int(rows_.size());
        s_.metrics.generatedTokensTotal += std::exchange(emitted_, 0);
        ++s_.metrics.steps;
    }
    // Jobs whose choices are all done leave the batch.
    for (auto it = s_.running.begin(); it != s_.running.end();) {
        Job& job = **it;
        if (job.choicesLeft() == 0) {
            finishJob(job, false);
            it = s_.running.erase(it);
        } else {
            ++it;
        }
    }
}

void Step::snapshot()
{
    const auto now = ServeClock::now();
    std::vector<RequestInfo> list;
    auto describe = [&](const Job& j, const char* state) {
        RequestInfo r;
        r.id = j.handle->id();
        r.client = j.params.client;
        r.state = state;
        r.promptTokens = int(j.params.prompt.size());
        r.generatedTokens = j.completionTokens();
        r.n = j.params.n;
        r.elapsedMs = msBetween(j.submitted, now);
        list.push_back(std::move(r));
    };
    for (const auto& j : s_.running) {
        bool prefill = false;
        for (const auto& c : j->choices)
            prefill = prefill || c->state == Choice::State::Prefill;
        describe(*j, prefill ? "prefill" : "generating");
    }
    std::lock_guard lock(s_.mutex);
    for (const auto& j : s_.waiting)
        describe(*j, "queued");
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    s_.snapshot = std::move(list);
    s_.metrics.running = runningSequences();
    s_.metrics.waiting = int(s_.waiting.size());
    s_.metrics.kvBlocksTotal = ctx_.totalBlocks();
    s_.metrics.kvBlocksUsed = ctx_.totalBlocks() - ctx_.freeBlocks();
    if (s_.draft) {
        s_.metrics.draftProposed = s_.draft->proposed();
        s_.metrics.draftAccepted = s_.draft->accepted();
    }
    if (s_.prefix) {
        const PrefixCacheStats p = s_.prefix->stats();
        s_.metrics.prefixLookups = p.lookups;
        s_.metrics.prefixHits = p.hits;
        s_.metrics.prefixTokensReused = p.tokensReused;
        s_.metrics.prefixBlocksHeld = p.blocksHeld;
    }
}

void Step::run()
{
    reapCancelled();
    admit();
    propose();
    if (!buildBatch()) {
        snapshot();
        return;
    }
    size_t promptRows = 0;
    for (const auto& o : owners_)
        promptRows += o.choice->state == Choice::State::Prefill;
    const auto t0 = ServeClock::now();
    try {
        ctx_.decode(rows_, logits_, &embeddings_, nullptr);
    } catch (const Error& e) {
        // A batch the context refused (it should not: the rows were checked), or a pipeline
        // stage that was lost with the batch, fails every job in it rather than the server.
        const bool peerLost = dynamic_cast<const PeerLost*>(&e) != nullptr;
        std::vector<std::unique_ptr<Job>> all = std::move(s_.running);
        s_.running.clear();
        for (auto& j : all)
            failJob(*j, std::string("the forward pass failed: ") + e.what(), peerLost ? "rank_lost" : "");
        snapshot();
        return;
    }
    {
        std::lock_guard lock(s_.mutex);
        s_.metrics.busySeconds += std::chrono::duration<double>(ServeClock::now() - t0).count();
        s_.metrics.promptTokensTotal += promptRows;
        std::vector<OpTiming> timings = ctx_.lastTimings(); // empty unless profiling
        if (!timings.empty())
            s_.lastPass = PassProfile{std::move(timings), int(rows_.size()), int(promptRows)};
    }
    process();
    snapshot();
}

} // namespace tenfold::serve_detail
