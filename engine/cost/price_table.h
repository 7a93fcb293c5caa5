#pragma once
// What a generation costs in money: the machine's electricity price and hardware amortisation,
// and cloud API prices per 1M input/output tokens to compare against. The shipped defaults are
// resources/prices/prices.tsv (with the date they were taken); the app overlays the user's edits.
//
// Text format, one entry per line, fields separated by tabs, '#' starts a comment line:
//   date_taken            2024-12-01
//   currency              USD
//   electricity_per_kwh   0.17          (currency per kWh)
//   hardware_price        1500          (what the machine cost)
//   hardware_hours        8000          (hours of generation it is written off over)
//   cloud   NAME   INPUT_PER_1M   OUTPUT_PER_1M
#include <string>
#include <string_view>
#include <vector>

namespace tenfold::cost {

struct CloudPrice {
    std::string name;               // "OpenAI gpt-4o-mini"
    double inputPerMillion = 0;     // currency per 1M input (prompt) tokens
    double outputPerMillion = 0;    // currency per 1M output (generated) tokens
};

struct PriceTable {
    std::string dateTaken;          // when the defaults were taken from the vendors' pages
    std::string currency = "USD";
    double electricityPerKwh = 0;
    double hardwarePrice = 0;
    double hardwareHours = 0;       // 0: no amortisation
    std::vector<CloudPrice> cloud;

    // Parses the text format above. Throws InvalidArgument naming `where`, the line and the
    // problem (unknown key, missing or non-numeric or negative value, duplicate cloud name).
    static PriceTable parse(std::string_view text, const std::string& where);
    std::string serialize() const;  // parse(serialize()) gives the same table

    double energyCost(double joules) const { return joules / 3.6e6 * electricityPerKwh; }
    double hardwareCost(double milliseconds) const
    {
        return hardwareHours > 0 ? hardwarePrice / hardwareHours * (milliseconds / 3.6e6) : 0;
    }
    // nullptr when no cloud price has that name.
    const CloudPrice* cloudPrice(const std::string& name) const;
    double cloudCost(const CloudPrice& price, long long inputTokens, long long outputTokens) const
    {
        return (static_cast<double>(inputTokens) * price.inputPerMillion +
                static_cast<double>(outputTokens) * price.outputPerMillion) / 1e6;
    }
};

} // namespace tenfold::cost
