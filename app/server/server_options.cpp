#include "server_options.h"

#include "cli_common.h"
#include "cli_ledger.h"

#include <cstdlib>

namespace tenfold::server {

namespace {

cli::CommandSpec serverSpec()
{
    cli::CommandSpec spec{
        "server", "MODEL [options]",
        "Serves MODEL over an OpenAI-compatible HTTP API (/v1/chat/completions,\n"
        "/v1/completions, /v1/embeddings, /v1/models) with continuous batching, plus /health,\n"
        "/metrics (Prometheus) and /tenfold/status. Prints one line\n"
        "'Tenfold server listening on http://HOST:PORT' once ready; SIGINT/SIGTERM stop it.\n"
        "It binds 127.0.0.1 by default; any other address needs an API key.",
        {"MODEL"},
        {},
        {{"--host", "", "ADDR", "address to bind (default 127.0.0.1)"},
         {"--port", "", "N", "TCP port; 0 picks a free one (default 8080)"},
         {"--api-key", "", "KEY", "accept 'Authorization: Bearer KEY' (repeatable)"},
         {"--api-key-file", "", "FILE", "keys, one per line, optionally LABEL:KEY"},
         {"--parallel", "-np", "N", "sequences generating at once (default 4)"},
         {"--ctx", "-c", "N", "positions per sequence (default: the model's, at most 4096)"},
         {"--data-dir", "", "DIR", "folder of the usage ledger (default: the desktop app's)"},
         {"--no-ledger", "", "", "do not record requests in the usage ledger"},
         {"--max-body", "", "BYTES", "largest request body (default 1048576)"},
         {"--max-tokens", "", "N", "most tokens per choice (default: up to the context)"},
         {"--max-queue", "", "N", "requests waiting before 503 (default 64)"},
         {"--model-alias", "", "NAME", "model id to report and accept (default: the file stem)"},
         {"--chat-template", "", "NAME|FILE", "chat format: chatml, llama3, ... or a Jinja file (default: the model's)"},
         {"--response-cache", "", "MODE", "answer repeated deterministic requests from the cache: off, exact (default) or semantic"},
         {"--cache-ttl", "", "SECONDS", "forget cached answers not used for this long (default 604800; 0: never)"},
         {"--cache-max-mb", "", "N", "response cache size limit in MB (default 256)"},
         {"--semantic-threshold", "", "P", "similarity a semantic cache hit needs (default 0.98)"},
         {"--no-prefix-cache", "", "", "recompute every prompt (no KV blocks shared between requests)"},
         {"--prefix-cache-dir", "", "DIR", "keep the prefix cache across restarts: saved into DIR when the\n"
          "                            server stops, restored when it starts (files of another model are ignored)"},
         {"--prefix-cache-save-mb", "", "N", "the most the saved prefixes take on disk (default 512)"},
         {"--draft", "", "DRAFT.gguf", "speculative decoding of greedy requests with this draft model"},
         {"--draft-max", "", "N", "at most N draft tokens per step (default 4)"},
         {"--profile", "", "", "time every op of each forward pass, served at GET /tenfold/profile\n"
                               "(costs a little speed; the desktop Profiler shows it live)"}}};
    for (auto& o : cli::backendOptions())
        spec.options.push_back(o);
    return spec;
}

std::string trim(const std::string& s)
{
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos)
        return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

} // namespace

std::string serverHelpText()
{
    std::string text = cli::helpText(serverSpec());
    // The shared help says "tenfold-cli server"; this is its own program.
    const std::string from = "tenfold-cli server";
    if (auto at = text.find(from); at != std::string::npos)
        text.replace(at, from.size(), "tenfold-server");
    return text;
}

bool isLoopbackHost(const std::string& host)
{
    return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::vector<ApiKey> parseApiKeyFile(const std::string& text, const std::string& path)
{
    std::vector<ApiKey> keys;
    size_t start = 0;
    int lineNumber = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        ++lineNumber;
        const std::string line = trim(text.substr(start, end - start));
        start = end + 1;
        if (line.empty() || line[0] == '#')
            continue;
        ApiKey k;
        if (const auto colon = line.find(':'); colon != std::string::npos) {
            k.label = trim(line.substr(0, colon));
            k.key = trim(line.substr(colon + 1));
        } else {
            k.key = line;
        }
        if (k.key.empty())
            throw cli::UsageError(path + ":" + std::to_string(lineNumber) + ": the key is empty");
        keys.push_back(std::move(k));
    }
    if (keys.empty())
        throw cli::UsageError("--api-key-file " + path + " holds no key");
    return keys;
}

std::filesystem::path defaultDataDir()
{
    return cli::defaultDataDir();
}

ServerOptions parseServerOptions(const std::vector<std::string>& args)
{
    // --api-key may be given several times; the shared parser keeps one value per option, so
    // the keys are taken out first.
    ServerOptions o;
    std::vector<std::string> rest;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--api-key") {
            if (i + 1 >= args.size())
                throw cli::UsageError("--api-key needs a value (KEY)");
            o.apiKeys.push_back({"", args[++i]});
        } else if (a.rfind("--api-key=", 0) == 0) {
            o.apiKeys.push_back({"", a.substr(10)});
        } else {
            rest.push_back(a);
        }
    }
    for (const ApiKey& k : o.apiKeys)
        if (k.key.empty())
            throw cli::UsageError("--api-key must not be empty");

    const cli::ParsedArgs parsed = cli::parseArgs(serverSpec(), rest);
    o.modelPath = parsed.positional(0);
    o.host = parsed.getString("--host", o.host);
    if (o.host.empty())
        throw cli::UsageError("--host must not be empty");
    o.port = int(parsed.getInt("--port", o.port, 0, 65535));
    if (const auto file = parsed.get("--api-key-file")) {
        for (ApiKey& k : parseApiKeyFile(cli::readTextFile(*file), *file))
            o.apiKeys.push_back(std::move(k));
    }
    o.parallel = int(parsed.getInt("--parallel", o.parallel, 1, 256));
    o.contextLength = int(parsed.getInt("--ctx", 0, 0, 1 << 24));
    o.dataDir = parsed.has("--data-dir") ? std::filesystem::path(*parsed.get("--data-dir"))
                                         : defaultDataDir();
    o.ledger = !parsed.has("--no-ledger");
    o.maxBodyBytes = size_t(parsed.getInt("--max-body", o.maxBodyBytes, 1024, 1ll << 32));
    o.maxTokens = int(parsed.getInt("--max-tokens", 0, 1, 1 << 24));
    o.maxQueue = int(parsed.getInt("--max-queue", o.maxQueue, 1, 1 << 20));
    o.modelAlias = parsed.getString("--model-alias", "");
    o.chatTemplate = parsed.getString("--chat-template", "");
    o.responseCache = parsed.getString("--response-cache", o.responseCache);
    if (o.responseCache != "off" && o.responseCache != "exact" && o.responseCache != "semantic")
        throw cli::UsageError("--response-cache must be off, exact or semantic, not '" + o.responseCache + "'");
    o.cacheTtlSeconds = parsed.getInt("--cache-ttl", o.cacheTtlSeconds, 0, 1ll << 40);
    o.cacheMaxMb = parsed.getInt("--cache-max-mb", o.cacheMaxMb, 1, 1 << 20);
    if (const auto t = parsed.get("--semantic-threshold")) {
        try {
            o.semanticThreshold = std::stod(*t);
        } catch (const std::exception&) {
            throw cli::UsageError("--semantic-threshold: '" + *t + "' is not a number");
        }
        if (!(o.semanticThreshold > 0.0 && o.semanticThreshold <= 1.0))
            throw cli::UsageError("--semantic-threshold must be in (0, 1], not " + *t);
    }
    o.prefixCache = !parsed.has("--no-prefix-cache");
    o.profile = parsed.has("--profile");
    o.prefixCacheDir = parsed.getString("--prefix-cache-dir", "");
    o.prefixCacheSaveMb = uint64_t(parsed.getInt("--prefix-cache-save-mb", int64_t(o.prefixCacheSaveMb), 1, 1 << 20));
    if (!o.prefixCache && !o.prefixCacheDir.empty())
        throw cli::UsageError("--prefix-cache-dir keeps the prefix cache, which --no-prefix-cache turns off");
    o.draftPath = parsed.getString("--draft", "");
    o.draftMax = int(parsed.getInt("--draft-max", o.draftMax, 1, 32));
    if (parsed.has("--draft-max") && o.draftPath.empty())
        throw cli::UsageError("--draft-max needs --draft");
    o.backendArgs = parsed;

    // Safe by default: anything reachable from other machines must ask for a key.
    if (!isLoopbackHost(o.host) && o.apiKeys.empty())
        throw cli::UsageError("--host " + o.host +
                              " is reachable from other machines: give --api-key KEY or "
                              "--api-key-file FILE (or bind 127.0.0.1)");
    return o;
}

} // namespace tenfold::server
