#pragma once
// The sampling options generate and chat share, with the engine's defaults in the help text.
#include "cli_args.h"
#include "runtime/sampling.h"

#include <vector>

namespace tenfold::cli {

std::vector<OptionSpec> samplingOptions();
SamplingParams samplingFromArgs(const ParsedArgs& args);

} // namespace tenfold::cli
