#pragma once
// What the server reports about itself beyond the scheduler's own counters: HTTP errors by
// status, the last 50 finished requests (for /tenfold/status, which feeds the desktop's Server
// page), and the text of /metrics (Prometheus exposition format) and /tenfold/status.
#include "openai_json.h"
#include "serve/scheduler.h"

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace tenfold::server {

struct FinishedRequest {
    uint64_t id = 0;
    int64_t finishedAt = 0;      // Unix ms
    std::string endpoint;        // "chat", "completion", "embedding"
    std::string client;
    int promptTokens = 0;
    int completionTokens = 0;
    double timeToFirstTokenMs = 0;
    double totalMs = 0;
    std::string finishReason;    // "stop", "length", "cancelled", "error"
    std::string cacheHit;        // "exact" or "semantic" when the response cache answered
    double queueMs = 0;          // waiting for a slot, inside timeToFirstTokenMs
    double energyJoules = 0;     // this request's share of the machine's energy
    std::string energySource;    // "rapl", "estimate" or "" (not measured)
};

class ServerMetrics {
public:
    static constexpr size_t kRecent = 50;
    ServerMetrics();

    void countHttpError(int status);
    void countFinished(const FinishedRequest& r);

    std::string prometheusText(const SchedulerMetrics& s) const;
    Json statusJson(const std::string& model, const std::vector<RequestInfo>& active,
                    const SchedulerMetrics& s) const;
    double uptimeSeconds() const;

private:
    const std::chrono::steady_clock::time_point start_;
    mutable std::mutex mutex_;
    std::map<int, uint64_t> httpErrors_;
    std::deque<FinishedRequest> recent_;
    uint64_t finished_ = 0;
    uint64_t cacheHits_ = 0;
};

} // namespace tenfold::server
