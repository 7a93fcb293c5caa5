#pragma once
// The cost history: each ledger row priced (energy and hardware time), rows grouped by local-time
// day or week and by model and device, cost and energy per 1M tokens, and the savings each
// optimisation brought (a quantized model against its base, response-cache hits, speculative
// decoding), each measured against the same model's (or the base's) own rows in the ledger.
#include "cost/price_table.h"
#include "store/store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tenfold::cost {

struct RowCost {
    double energyJoules = 0;
    bool energyEstimated = false;  // the row's energy came from configured wattage (or is unknown)
    double energyCost = 0;
    double hardwareCost = 0;
    double total() const { return energyCost + hardwareCost; }
};
RowCost costOf(const LedgerEntry& row, const PriceTable& prices);

enum class Period { Day, Week };

// The local-time calendar day of a Unix-ms time as "YYYY-MM-DD" (the process's time zone, TZ
// honoured); for Week, the Monday that starts its (ISO) week.
std::string periodKey(int64_t unixMs, Period period);

struct CostBucket {
    std::string period;            // periodKey()
    std::string model;
    std::string device;
    int64_t generations = 0;
    int64_t tokensIn = 0;
    int64_t tokensOut = 0;
    double totalMs = 0;
    double energyJoules = 0;
    double cost = 0;
    bool anyEstimated = false;
};
// Ordered by period, then model, then device.
std::vector<CostBucket> aggregate(const std::vector<LedgerEntry>& rows, const PriceTable& prices, Period period);

// per 1M tokens of `tokens` (0 when there are none)
double perMillion(double value, int64_t tokens);

struct Saving {
    std::string kind;              // "quantization", "cache", "speculative"
    std::string subject;           // the model (for quantization: "QUANT vs BASE")
    int64_t tokens = 0;            // tokens the saving covers
    double baselineCost = 0;       // what they would have cost at the baseline's cost per token
    double actualCost = 0;
    double baselineJoules = 0;
    double actualJoules = 0;
    bool measured = true;          // false: no baseline rows to compare with (saving left at 0)
    double saved() const { return baselineCost - actualCost; } // negative: it cost more
};

// A quantization: the input (base) and output (quantized) fingerprints of an optimization run.
struct QuantizedPair {
    std::string baseHash;
    std::string quantHash;
    std::string label;             // shown as the subject
};
std::vector<QuantizedPair> quantizedPairs(const std::vector<OptimizationRun>& runs);

// Savings of each kind, per model (and per quantized pair), on the same device as the baseline:
// - quantization: the quantized model's tokens at the base model's mean cost per token (from the
//   base's own rows) against what they cost;
// - cache: rows answered by the response cache cost nothing to compute; their tokens at the same
//   model's mean cost per token of computed rows;
// - speculative: rows decoded with a draft, at the same model's mean cost per generated token
//   of rows without one, against what they cost (negative when speculation was slower).
std::vector<Saving> savings(const std::vector<LedgerEntry>& rows, const std::vector<OptimizationRun>& runs,
                            const PriceTable& prices);

// The rows as CSV (RFC 4180: fields with commas, quotes or newlines quoted, quotes doubled), one
// line per row with its priced cost; local-time ISO timestamps.
std::string ledgerCsv(const std::vector<LedgerEntry>& rows, const PriceTable& prices);

} // namespace tenfold::cost
