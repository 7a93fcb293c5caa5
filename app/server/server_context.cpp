#include "server_context.h"

namespace tenfold::server {

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
    usage->record(std::move(e));
}

} // namespace tenfold::server
