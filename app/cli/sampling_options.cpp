#include "sampling_options.h"

#include <chrono>
#include <cstdio>
#include <string>

namespace tenfold::cli {

namespace {
std::string num(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}
} // namespace

std::vector<OptionSpec> samplingOptions()
{
    const SamplingParams d;
    return {
        {"--temp", "", "T", "temperature; 0 = greedy (default " + num(d.temperature) + ")"},
        {"--top-k", "", "K", "keep the K most likely tokens; 0 = off (default " + num(d.topK) + ")"},
        {"--top-p", "", "P", "nucleus sampling; 1 = off (default " + num(d.topP) + ")"},
        {"--min-p", "", "P", "drop tokens below P x the top probability; 0 = off (default " + num(d.minP) + ")"},
        {"--repeat-penalty", "", "R", "penalty on recent tokens; 1 = off (default " + num(d.repeatPenalty) + ")"},
        {"--repeat-last-n", "", "N", "tokens the penalty looks back (default " + num(d.repeatLastN) + ")"},
        {"--seed", "-s", "S", "random seed (default: from the clock)"},
    };
}

SamplingParams samplingFromArgs(const ParsedArgs& args)
{
    SamplingParams p;
    p.temperature = float(args.getDouble("--temp", p.temperature, 0.0, 100.0));
    p.topK = int(args.getInt("--top-k", p.topK, 0, 1 << 30));
    p.topP = float(args.getDouble("--top-p", p.topP, 0.0, 1.0));
    p.minP = float(args.getDouble("--min-p", p.minP, 0.0, 1.0));
    p.repeatPenalty = float(args.getDouble("--repeat-penalty", p.repeatPenalty, 0.0, 100.0));
    // The penalty divides positive logits: 0 would make them infinite.
    if (!(p.repeatPenalty > 0.0f))
        throw UsageError("--repeat-penalty must be greater than 0 (1 = off), not " +
                         *args.get("--repeat-penalty"));
    p.repeatLastN = int(args.getInt("--repeat-last-n", p.repeatLastN, 0, 1 << 20));
    const auto clockSeed = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
    p.seed = args.has("--seed") ? uint64_t(args.getInt("--seed", 0, 0, INT64_MAX)) : clockSeed;
    return p;
}

} // namespace tenfold::cli
