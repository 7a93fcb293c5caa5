#pragma once
// What sending a prompt costs on this machine: the loaded model's measured prompt (prefill)
// speed and energy per token, from its own rows in the usage ledger on the same device, priced
// with the price table (electricity and hardware amortisation). An estimate: the next prompt
// runs at the speed of the past ones only on average.
#include "cost/price_table.h"
#include "store/store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tenfold::cost {

struct PromptTokenRate {
    int64_t tokens = 0;           // computed prompt tokens the rate is measured over (0: no rows)
    double msPerToken = 0;
    double joulesPerToken = 0;    // each row's energy shared by time: prefill_ms / total_ms of it
    bool energyEstimated = false; // some of that energy came from configured wattage
    bool measured() const { return tokens > 0; }
    double costPerToken(const PriceTable& prices) const
    {
        return prices.hardwareCost(msPerToken) + prices.energyCost(joulesPerToken);
    }
};

// Over the rows of `modelHash` on `device` that computed prompt tokens (cache hits and
// prompt-less benchmark rows add nothing).
PromptTokenRate promptTokenRate(const std::vector<LedgerEntry>& rows, const std::string& modelHash,
                                const std::string& device);

} // namespace tenfold::cost
