// search QUERY: GGUF repositories on the Hugging Face Hub (or HF_ENDPOINT's mirror).
#include "cli_common.h"
#include "commands.h"

#include "hub/hub_client.h"

#include <cstdio>

namespace tenfold::cli {

CommandSpec searchSpec()
{
    return {"search", "QUERY [--limit N]",
            "Searches the Hugging Face Hub for repositories with GGUF files whose name matches\n"
            "QUERY, most downloaded first, and prints each repository id with its downloads, likes\n"
            "and last change. `tenfold-cli pull REPO` downloads one.\n"
            "HF_ENDPOINT names another hub (a mirror); HF_TOKEN gives an access token.",
            {"QUERY"},
            {},
            {{"--limit", "-n", "N", "at most N repositories (default 20)"}}};
}

int runSearch(const ParsedArgs& args)
{
    const int limit = int(args.getInt("--limit", 20, 1, 1000));
    const hub::HubClient client(hub::HubConfig::fromEnvironment());
    const auto hits = client.search(args.positional(0), limit);
    if (hits.empty()) {
        std::printf("no GGUF repositories match '%s'\n", args.positional(0).c_str());
        return 0;
    }
    std::printf("%-56s %12s %8s  %s\n", "repository", "downloads", "likes", "last modified");
    for (const hub::ModelSummary& m : hits)
        std::printf("%-56s %12s %8s  %s%s\n", m.id.c_str(), withThousands(uint64_t(m.downloads)).c_str(),
                    withThousands(uint64_t(m.likes)).c_str(), m.lastModified.substr(0, 10).c_str(),
                    m.gated ? "  (gated: needs a token)" : "");
    return 0;
}

} // namespace tenfold::cli
