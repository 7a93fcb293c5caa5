#pragma once
// tenfold-server's command line: what it parses, validates and defaults. Parsing reuses
// tenfold-cli's declarative parser (app/cli/cli_args.h), so --help and the checks come from one
// declaration.
#include "cli_args.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tenfold::server {

struct ApiKey {
    std::string label; // empty: the ledger names the client by its address
    std::string key;
};

struct ServerOptions {
    std::string modelPath;
    std::string host = "127.0.0.1";
    int port = 8080;                     // 0: any free port
    std::vector<ApiKey> apiKeys;         // empty: no authentication (loopback only)
    int parallel = 4;                    // sequences generating at once
    int contextLength = 0;               // positions per sequence; 0: the model's, at most 4096
    std::filesystem::path dataDir;       // the ledger's folder
    bool ledger = true;
    size_t maxBodyBytes = 1 << 20;
    int maxTokens = 0;                   // most tokens per choice; 0: up to the context
    int maxQueue = 64;
    std::string modelAlias;              // the id /v1/models reports; empty: the file stem
    std::string chatTemplate;            // a built-in's name or a Jinja file; empty: the model's
    std::string responseCache = "exact"; // the default per request: off, exact or semantic
    int64_t cacheTtlSeconds = 7 * 24 * 3600;
    int64_t cacheMaxMb = 256;
    double semanticThreshold = 0.98;
    bool prefixCache = true;             // share cached KV blocks between requests' prompts
    std::string prefixCacheDir;          // where the prefix cache is kept across restarts; empty: not kept
    uint64_t prefixCacheSaveMb = 512;
    std::string draftPath;               // speculative decoding of greedy requests; empty: off
    int draftMax = 4;
    bool profile = false;                // time every op of each pass (GET /tenfold/profile)
    cli::ParsedArgs backendArgs;         // --device, --device-index, --threads for createBackend
};

// Parses argv (without the program name). Throws cli::UsageError for a malformed command line
// and for an unsafe one (a non-loopback --host without an API key). Reads --api-key-file.
ServerOptions parseServerOptions(const std::vector<std::string>& args);
std::string serverHelpText();
bool isLoopbackHost(const std::string& host);

// `key` or `label:key` per line; blank lines and lines starting with # are skipped.
std::vector<ApiKey> parseApiKeyFile(const std::string& text, const std::string& path);

// $XDG_DATA_HOME/tenfold/tenfold, else ~/.local/share/tenfold/tenfold: where the desktop app
// (QStandardPaths::AppDataLocation) keeps its database, so its usage view sees the server's rows.
std::filesystem::path defaultDataDir();

} // namespace tenfold::server
