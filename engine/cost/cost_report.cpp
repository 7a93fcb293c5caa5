#include "cost/cost_report.h"

#include "core/platform.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <tuple>

namespace tenfold::cost {

namespace {

std::tm localTime(int64_t unixMs)
{
    // Floor division: a time before 1970 still falls in the right second.
    const int64_t seconds = unixMs >= 0 ? unixMs / 1000 : -((-unixMs + 999) / 1000);
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    platform::localTime(t, tm);
    return tm;
}

std::string ymd(const std::tm& tm)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return buf;
}

// Tokens the row computed: none when the response cache answered it.
int64_t computedTokens(const LedgerEntry& r)
{
    return r.cacheHit.empty() ? int64_t(r.tokensIn) + r.tokensOut : 0;
}

struct Mean {
    double cost = 0, joules = 0;
    int64_t tokens = 0;
    bool any() const { return tokens > 0; }
    double costPerToken() const { return tokens ? cost / double(tokens) : 0; }
    double joulesPerToken() const { return tokens ? joules / double(tokens) : 0; }
};

} // namespace

RowCost costOf(const LedgerEntry& row, const PriceTable& prices)
{
    RowCost c;
    c.energyJoules = row.energyJoules;
    c.energyEstimated = row.energySource != "rapl";
    c.energyCost = prices.energyCost(row.energyJoules);
    c.hardwareCost = prices.hardwareCost(row.totalMs);
    return c;
}

std::string periodKey(int64_t unixMs, Period period)
{
    std::tm tm = localTime(unixMs);
    if (period == Period::Week) {
        // Back to Monday by calendar days; mktime normalises the day of month and sorts out a
        // daylight-saving change in between (noon is never skipped or repeated by one).
        const int sinceMonday = (tm.tm_wday + 6) % 7;
        tm.tm_mday -= sinceMonday;
        tm.tm_hour = 12;
        tm.tm_min = tm.tm_sec = 0;
        tm.tm_isdst = -1;
        std::mktime(&tm);
    }
    return ymd(tm);
}

std::vector<CostBucket> aggregate(const std::vector<LedgerEntry>& rows, const PriceTable& prices, Period period)
{
    std::map<std::tuple<std::string, std::string, std::string>, CostBucket> buckets;
    for (const LedgerEntry& r : rows) {
        const std::string key = periodKey(r.time, period);
        CostBucket& b = buckets[{key, r.model, r.device}];
        b.period = key;
        b.model = r.model;
        b.device = r.device;
        const RowCost c = costOf(r, prices);
        ++b.generations;
        b.tokensIn += r.tokensIn;
        b.tokensOut += r.tokensOut;
        b.totalMs += r.totalMs;
        b.energyJoules += c.energyJoules;
        b.cost += c.total();
        b.anyEstimated = b.anyEstimated || c.energyEstimated;
    }
    std::vector<CostBucket> out;
    out.reserve(buckets.size());
    for (auto& [k, b] : buckets)
        out.push_back(std::move(b));
    return out;
}

double perMillion(double value, int64_t tokens)
{
    return tokens > 0 ? value * 1e6 / double(tokens) : 0;
}

std::vector<QuantizedPair> quantizedPairs(const std::vector<OptimizationRun>& runs)
{
    std::vector<QuantizedPair> out;
    for (const OptimizationRun& r : runs) {
        if (r.method != "quantize" || r.status != "ok" || r.inputModelHash.empty() || r.outputHash.empty() ||
            r.inputModelHash == r.outputHash)
            continue;
        const bool seen = std::any_of(out.begin(), out.end(), [&](const QuantizedPair& p) {
            return p.baseHash == r.inputModelHash && p.quantHash == r.outputHash;
        });
        if (seen)
            continue;
        auto leaf = [](const std::string& path) {
            const size_t slash = path.find_last_of('/');
            return slash == std::string::npos ? path : path.substr(slash + 1);
        };
        out.push_back({r.inputModelHash, r.outputHash, leaf(r.outputPath) + " vs " + leaf(r.inputPath)});
    }
    return out;
}

std::vector<Saving> savings(const std::vector<LedgerEntry>& rows, const std::vector<OptimizationRun>& runs,
                            const PriceTable& prices)
{
    std::vector<Saving> out;
    auto finish = [](Saving s, const Mean& baseline) {
        s.measured = baseline.any();
        if (s.measured) {
            s.baselineCost = baseline.costPerToken() * double(s.tokens);
            s.baselineJoules = baseline.joulesPerToken() * double(s.tokens);
        } else {
            s.baselineCost = s.actualCost;
            s.baselineJoules = s.actualJoules;
        }
        return s;
    };

    // Quantized vs base, per device: the base's mean cost per computed token on that device.
    for (const QuantizedPair& pair : quantizedPairs(runs)) {
        std::map<std::string, std::pair<Mean, Saving>> perDevice;
        for (const LedgerEntry& r : rows) {
            const int64_t tokens = computedTokens(r);
            // Speculative rows are the speculative saving's; counting them here too would mix the two.
            if (!tokens || r.speculativeTokens > 0 || (r.modelHash != pair.baseHash && r.modelHash != pair.quantHash))
                continue;
            const RowCost c = costOf(r, prices);
            auto& [base, saving] = perDevice[r.device];
            if (r.modelHash == pair.baseHash) {
                base.cost += c.total();
                base.joules += c.energyJoules;
                base.tokens += tokens;
            } else {
                saving.tokens += tokens;
                saving.actualCost += c.total();
                saving.actualJoules += c.energyJoules;
            }
        }
        for (auto& [device, entry] : perDevice) {
            auto& [base, saving] = entry;
            if (!saving.tokens)
                continue;
            saving.kind = "quantization";
            saving.subject = pair.label + " (" + device + ")";
            out.push_back(finish(saving, base));
        }
    }

    // Per model and device: computed rows without a draft are the baseline for both cache hits
    // and speculative rows.
    struct PerModel {
        Mean plain;
        Saving cache, speculative;
    };
    std::map<std::pair<std::string, std::string>, PerModel> perModel;
    for (const LedgerEntry& r : rows) {
        PerModel& m = perModel[{r.model, r.device}];
        const RowCost c = costOf(r, prices);
        if (!r.cacheHit.empty()) {
            m.cache.tokens += int64_t(r.tokensIn) + r.tokensOut;
            m.cache.actualCost += c.total();
            m.cache.actualJoules += c.energyJoules;
        } else if (r.speculativeTokens > 0) {
            m.speculative.tokens += computedTokens(r);
            m.speculative.actualCost += c.total();
            m.speculative.actualJoules += c.energyJoules;
        } else if (computedTokens(r) > 0) {
            m.plain.cost += c.total();
            m.plain.joules += c.energyJoules;
            m.plain.tokens += computedTokens(r);
        }
    }
    for (auto& [key, m] : perModel) {
        const std::string subject = key.first + " (" + key.second + ")";
        if (m.cache.tokens) {
            m.cache.kind = "cache";
            m.cache.subject = subject;
            out.push_back(finish(m.cache, m.plain));
        }
        if (m.speculative.tokens) {
            m.speculative.kind = "speculative";
            m.speculative.subject = subject;
            out.push_back(finish(m.speculative, m.plain));
        }
    }
    return out;
}

namespace {

std::string csvField(const std::string& s)
{
    if (s.find_first_of(",\"\n\r") == std::string::npos)
        return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"')
            out += '"';
        out += c;
    }
    return out + "\"";
}

std::string num(double v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

std::string localIso(int64_t unixMs)
{
    const std::tm tm = localTime(unixMs);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
    return buf;
}

} // namespace

std::string ledgerCsv(const std::vector<LedgerEntry>& rows, const PriceTable& prices)
{
    std::string out =
        "time,source,client,model,model_hash,quantization,device,kernel_level,threads,context_size,tokens_in,"
        "tokens_out,prefill_tokens,prefill_ms,decode_tokens,decode_ms,reused_prompt_tokens,speculative_tokens,"
        "ttft_ms,total_ms,cache_hit,energy_j,energy_source,energy_cost,hardware_cost,cost,currency\r\n";
    for (const LedgerEntry& r : rows) {
        const RowCost c = costOf(r, prices);
        const std::vector<std::string> f = {
            localIso(r.time), r.source, r.client, r.model, r.modelHash, r.quantization, r.device, r.kernelLevel,
            std::to_string(r.threads), std::to_string(r.contextSize), std::to_string(r.tokensIn),
            std::to_string(r.tokensOut), std::to_string(r.prefillTokens), num(r.prefillMs),
            std::to_string(r.decodeTokens), num(r.decodeMs), std::to_string(r.reusedPromptTokens),
            std::to_string(r.speculativeTokens), num(r.timeToFirstTokenMs), num(r.totalMs), r.cacheHit,
            num(r.energyJoules), r.energySource.empty() ? std::string("unknown") : r.energySource,
            num(c.energyCost), num(c.hardwareCost), num(c.total()), prices.currency};
        for (size_t i = 0; i < f.size(); ++i) {
            if (i)
                out += ',';
            out += csvField(f[i]);
        }
        out += "\r\n";
    }
    return out;
}

} // namespace tenfold::cost
