#include "server_context.h"

#include <algorithm>

#include <chrono>
#include <cstdio>

namespace tenfold::server {

int64_t unixMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string ServerContext::newResponseId(const char* prefix)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%llx%04llx", prefix, (unsigned long long)unixMs(),
                  (unsigned long long)(responseCounter.fetch_add(1) & 0xffff));
    return buf;
}

void ServerContext::recordFinished(const FinishedRequest& r)
{
    metrics.countFinished(r);
    if (!usage)
        return;
    LedgerEntry e;
    e.time = r.finishedAt;
    e.model = served.id;
    e.device = served.deviceTag;
    e.tokensIn = r.promptTokens;
    e.tokensOut = r.completionTokens;
    e.timeToFirstTokenMs = r.timeToFirstTokenMs;
    e.totalMs = r.totalMs;
    e.source = "server";
    e.client = r.client;
    e.cacheHit = r.cacheHit;
    e.modelHash = served.fingerprint;
    e.quantization = served.quantization;
    e.kernelLevel = served.kernelLevel;
    e.threads = served.threads;
    e.contextSize = served.contextLength;
    if (r.cacheHit.empty()) { // a cached answer computed nothing
        e.prefillTokens = r.promptTokens;
        e.decodeTokens = r.completionTokens;
        e.prefillMs = std::max(0.0, r.timeToFirstTokenMs - r.queueMs);
        e.decodeMs = std::max(0.0, r.totalMs - r.timeToFirstTokenMs);
    }
    e.energyJoules = r.energyJoules;
    e.energySource = r.energySource;
    usage->record(std::move(e));
}

} // namespace tenfold::server
