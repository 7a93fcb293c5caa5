#include "cost/prompt_cost.h"

#include <algorithm>

namespace tenfold::cost {

PromptTokenRate promptTokenRate(const std::vector<LedgerEntry>& rows, const std::string& modelHash,
                                const std::string& device)
{
    PromptTokenRate rate;
    double ms = 0, joules = 0;
    for (const LedgerEntry& e : rows) {
        if (e.modelHash != modelHash || e.device != device || e.prefillTokens <= 0 || e.prefillMs <= 0)
            continue;
        rate.tokens += e.prefillTokens;
        ms += e.prefillMs;
        // The row's energy covers prefill and decode; the prompt's share is its share of the time.
        if (e.totalMs > 0)
            joules += e.energyJoules * std::min(1.0, e.prefillMs / e.totalMs);
        if (e.energySource != "rapl")
            rate.energyEstimated = true;
    }
    if (rate.tokens > 0) {
        rate.msPerToken = ms / double(rate.tokens);
        rate.joulesPerToken = joules / double(rate.tokens);
    }
    return rate;
}

} // namespace tenfold::cost
