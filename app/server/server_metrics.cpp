#include "server_metrics.h"

#include <sstream>

namespace tenfold::server {

ServerMetrics::ServerMetrics() : start_(std::chrono::steady_clock::now()) {}

double ServerMetrics::uptimeSeconds() const
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ServerMetrics::countHttpError(int status)
{
    std::lock_guard lock(mutex_);
    ++httpErrors_[status];
}

void ServerMetrics::countFinished(const FinishedRequest& r)
{
    std::lock_guard lock(mutex_);
    if (!r.cacheHit.empty())
        ++cacheHits_;
    ++finished_;
    recent_.push_back(r);
    while (recent_.size() > kRecent)
        recent_.pop_front();
}

namespace {

void metric(std::ostringstream& os, const char* name, const char* type, const char* help, double value)
{
    os << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
       << name << ' ' << value << '\n';
}

} // namespace

std::string ServerMetrics::prometheusText(const SchedulerMetrics& s) const
{
    std::ostringstream os;
    os.precision(15);
    metric(os, "tenfold_requests_total", "counter", "Requests accepted into the queue.", double(s.requestsTotal));
    metric(os, "tenfold_requests_rejected_total", "counter", "Requests refused because the queue was full.", double(s.requestsRejected));
    metric(os, "tenfold_requests_cancelled_total", "counter", "Requests cancelled (client gone or server stopping).", double(s.requestsCancelled));
    metric(os, "tenfold_requests_failed_total", "counter", "Requests that ended with an error.", double(s.requestsFailed));
    metric(os, "tenfold_prompt_tokens_total", "counter", "Prompt tokens prefilled (recomputation included).", double(s.promptTokensTotal));
    metric(os, "tenfold_generated_tokens_total", "counter", "Tokens generated.", double(s.generatedTokensTotal));
    metric(os, "tenfold_preemptions_total", "counter", "Sequences preempted for lack of KV blocks.", double(s.preemptions));
    metric(os, "tenfold_steps_total", "counter", "Forward passes run.", double(s.steps));
    metric(os, "tenfold_queue_depth", "gauge", "Requests waiting to be admitted.", double(s.waiting));
    metric(os, "tenfold_running_sequences", "gauge", "Sequences in the batch.", double(s.running));
    metric(os, "tenfold_last_batch_size", "gauge", "Rows in the last forward pass.", double(s.lastBatchRows));
    metric(os, "tenfold_kv_blocks_used", "gauge", "KV cache blocks in use.", double(s.kvBlocksUsed));
    metric(os, "tenfold_kv_blocks_total", "gauge", "KV cache blocks in the pool.", double(s.kvBlocksTotal));
    metric(os, "tenfold_busy_seconds_total", "counter", "Seconds spent in forward passes.", s.busySeconds);
    metric(os, "tenfold_uptime_seconds", "gauge", "Seconds since the server started.", uptimeSeconds());
    metric(os, "tenfold_prefix_cache_lookups_total", "counter", "Prompts looked up in the prefix KV cache.", double(s.prefixLookups));
    metric(os, "tenfold_prefix_cache_hits_total", "counter", "Prompts that reused cached KV blocks.", double(s.prefixHits));
    metric(os, "tenfold_prefix_cache_tokens_reused_total", "counter", "Prompt tokens taken from the prefix cache instead of computed.", double(s.prefixTokensReused));
    metric(os, "tenfold_prefix_cache_blocks", "gauge", "KV blocks the prefix cache holds.", double(s.prefixBlocksHeld));
    metric(os, "tenfold_draft_tokens_proposed_total", "counter", "Speculative decoding: tokens the draft model proposed.", double(s.draftProposed));
    metric(os, "tenfold_draft_tokens_accepted_total", "counter", "Speculative decoding: proposed tokens the model kept.", double(s.draftAccepted));
    std::lock_guard lock(mutex_);
    metric(os, "tenfold_response_cache_hits_total", "counter", "Requests answered from the response cache.", double(cacheHits_));
    metric(os, "tenfold_requests_finished_total", "counter", "Requests answered to the end or cancelled.", double(finished_));
    os << "# HELP tenfold_http_errors_total HTTP error responses by status code.\n"
          "# TYPE tenfold_http_errors_total counter\n";
    for (const auto& [status, count] : httpErrors_)
        os << "tenfold_http_errors_total{code=\"" << status << "\"} " << count << '\n';
    return os.str();
}

Json ServerMetrics::statusJson(const std::string& model, const std::vector<RequestInfo>& active,
                               const SchedulerMetrics& s) const
{
    Json requests = Json::array();
    for (const RequestInfo& r : active)
        requests.push_back({{"id", r.id},
                            {"client", r.client},
                            {"state", r.state},
                            {"prompt_tokens", r.promptTokens},
                            {"generated_tokens", r.generatedTokens},
                            {"n", r.n},
                            {"elapsed_ms", r.elapsedMs}});
    Json recent = Json::array();
    {
        std::lock_guard lock(mutex_);
        // Newest first: what the Server page shows at the top.
        for (auto it = recent_.rbegin(); it != recent_.rend(); ++it)
            recent.push_back({{"id", it->id},
                              {"finished_at", it->finishedAt},
                              {"endpoint", it->endpoint},
                              {"client", it->client},
                              {"prompt_tokens", it->promptTokens},
                              {"completion_tokens", it->completionTokens},
                              {"ttft_ms", it->timeToFirstTokenMs},
                              {"total_ms", it->totalMs},
                              {"finish_reason", it->finishReason}});
    }
    return Json{{"model", model},
                {"uptime_s", uptimeSeconds()},
                {"requests", requests},
                {"recent", recent},
                {"scheduler",
                 {{"running", s.running},
                  {"waiting", s.waiting},
                  {"kv_blocks_used", s.kvBlocksUsed},
                  {"kv_blocks_total", s.kvBlocksTotal},
                  {"requests_total", s.requestsTotal},
                  {"requests_cancelled", s.requestsCancelled},
                  {"generated_tokens_total", s.generatedTokensTotal}}}};
}

} // namespace tenfold::server
