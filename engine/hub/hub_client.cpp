#include "hub/hub_client.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

namespace tenfold::hub {

namespace {

std::string envOr(const char* name, const std::string& fallback = {})
{
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

std::string trim(std::string s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
    size_t start = 0;
    while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start])))
        ++start;
    return s.substr(start);
}

bool onPath(const std::string& program)
{
    const std::string path = envOr("PATH");
    size_t start = 0;
    while (start <= path.size()) {
        const size_t end = std::min(path.find(':', start), path.size());
        const std::filesystem::path candidate = std::filesystem::path(path.substr(start, end - start)) / program;
        std::error_code ec;
        if (end > start && std::filesystem::is_regular_file(candidate, ec))
            return true;
        start = end + 1;
    }
    return false;
}

// The Secret Service keyring through libsecret's command-line tool; a token is stored with
//   secret-tool store --label='Hugging Face token' service huggingface.co
// Nothing when the tool or the entry is missing (no keyring daemon: the tool fails quietly).
std::string keyringToken()
{
    if (!onPath("secret-tool"))
        return {};
    std::FILE* p = ::popen("secret-tool lookup service huggingface.co 2>/dev/null", "r");
    if (!p)
        return {};
    std::string out;
    char buffer[512];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0 && out.size() < 4096)
        out.append(buffer, n);
    ::pclose(p);
    return trim(out);
}

std::filesystem::path tokenFile()
{
    if (const std::string p = envOr("HF_TOKEN_PATH"); !p.empty())
        return p;
    if (const std::string home = envOr("HF_HOME"); !home.empty())
        return std::filesystem::path(home) / "token";
    const std::string xdg = envOr("XDG_CACHE_HOME", envOr("HOME") + "/.cache");
    return std::filesystem::path(xdg) / "huggingface" / "token";
}

std::string fileToken(const std::filesystem::path& file)
{
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line))
        return {};
    return trim(line);
}

std::string& lastTokenSource()
{
    static std::string source;
    return source;
}

[[noreturn]] void badShape(const std::string& source, const std::string& what)
{
    throw HubError(200, source + ": not the hub's documented answer: " + what);
}

int64_t intField(const nlohmann::json& o, const char* key)
{
    if (!o.contains(key) || !o[key].is_number())
        return 0;
    return o[key].get<int64_t>();
}

} // namespace

HubConfig HubConfig::fromEnvironment()
{
    HubConfig c;
    std::string endpoint = envOr("HF_ENDPOINT", c.endpoint);
    while (endpoint.size() > 1 && endpoint.back() == '/')
        endpoint.pop_back();
    parseUrl(endpoint); // a bad HF_ENDPOINT is an error here, naming it
    c.endpoint = endpoint;
    lastTokenSource().clear();
    if (std::string t = envOr("HF_TOKEN"); !t.empty()) {
        c.token = t;
        lastTokenSource() = "HF_TOKEN";
    } else if (std::string legacy = envOr("HUGGING_FACE_HUB_TOKEN"); !legacy.empty()) {
        c.token = legacy;
        lastTokenSource() = "HUGGING_FACE_HUB_TOKEN";
    } else if (std::string k = keyringToken(); !k.empty()) {
        c.token = k;
        lastTokenSource() = "keyring";
    } else if (std::string f = fileToken(tokenFile()); !f.empty()) {
        c.token = f;
        lastTokenSource() = tokenFile().string();
    }
    return c;
}

std::string tokenSourceDescription() { return lastTokenSource(); }

void checkRepoId(const std::string& repo)
{
    static const std::regex id(R"(^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$)");
    if (!std::regex_match(repo, id) || repo.find("..") != std::string::npos)
        throw InvalidArgument("not a repository id (owner/name): '" + repo + "'");
}

HubClient::HubClient(HubConfig config) : config_(std::move(config))
{
    while (config_.endpoint.size() > 1 && config_.endpoint.back() == '/')
        config_.endpoint.pop_back();
    parseUrl(config_.endpoint);
}

HttpSettings HubClient::httpSettings() const
{
    HttpSettings s;
    s.token = config_.token;
    s.tokenOrigin = parseUrl(config_.endpoint).origin();
    s.connectTimeoutSeconds = config_.connectTimeoutSeconds;
    s.readTimeoutSeconds = config_.readTimeoutSeconds;
    return s;
}

std::vector<ModelSummary> HubClient::search(const std::string& query, int limit, CancelToken* cancel) const
{
    const std::string url = config_.endpoint + "/api/models?search=" + percentEncode(query, false) +
                            "&filter=gguf&sort=downloads&direction=-1&limit=" + std::to_string(limit);
    return parseSearchJson(getText(httpSettings(), url, cancel).body, url);
}

std::vector<RepoFile> HubClient::listFiles(const std::string& repo, const std::string& revision,
                                           CancelToken* cancel) const
{
    checkRepoId(repo);
    std::string url = config_.endpoint + "/api/models/" + repo + "/tree/" + percentEncode(revision, false) +
                      "?recursive=true";
    std::vector<RepoFile> files;
    // Long listings come in pages; a loop guard keeps a misbehaving server from looping forever.
    for (int page = 0; !url.empty(); ++page) {
        if (page >= 1000)
            throw HubError(200, url + ": more than 1000 pages of files");
        const TextResponse r = getText(httpSettings(), url, cancel);
        auto part = parseTreeJson(r.body, url);
        files.insert(files.end(), part.begin(), part.end());
        url = r.nextPage;
    }
    return files;
}

std::string HubClient::fileUrl(const std::string& repo, const std::string& revision, const std::string& path) const
{
    checkRepoId(repo);
    return config_.endpoint + "/" + repo + "/resolve/" + percentEncode(revision, false) + "/" +
           percentEncode(path, true);
}

std::vector<ModelSummary> parseSearchJson(const std::string& json, const std::string& source)
{
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        badShape(source, std::string("invalid JSON: ") + e.what());
    }
    if (!j.is_array())
        badShape(source, "expected a JSON array of models");
    std::vector<ModelSummary> out;
    for (const auto& m : j) {
        if (!m.is_object())
            badShape(source, "a model entry is not an object");
        ModelSummary s;
        if (m.contains("id") && m["id"].is_string())
            s.id = m["id"].get<std::string>();
        else if (m.contains("modelId") && m["modelId"].is_string())
            s.id = m["modelId"].get<std::string>();
        else
            badShape(source, "a model entry has no \"id\"");
        s.downloads = intField(m, "downloads");
        s.likes = intField(m, "likes");
        if (m.contains("lastModified") && m["lastModified"].is_string())
            s.lastModified = m["lastModified"].get<std::string>();
        if (m.contains("tags") && m["tags"].is_array())
            for (const auto& t : m["tags"])
                if (t.is_string())
                    s.tags.push_back(t.get<std::string>());
        // "gated" is false, or "auto"/"manual" for repositories behind an agreement.
        if (m.contains("gated"))
            s.gated = m["gated"].is_string() || (m["gated"].is_boolean() && m["gated"].get<bool>());
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<RepoFile> parseTreeJson(const std::string& json, const std::string& source)
{
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        badShape(source, std::string("invalid JSON: ") + e.what());
    }
    if (!j.is_array())
        badShape(source, "expected a JSON array of tree entries");
    std::vector<RepoFile> out;
    for (const auto& e : j) {
        if (!e.is_object() || !e.contains("type") || !e["type"].is_string() || !e.contains("path") ||
            !e["path"].is_string())
            badShape(source, "a tree entry lacks \"type\" or \"path\"");
        if (e["type"].get<std::string>() != "file")
            continue; // "directory" entries: their files are listed too (recursive=true)
        RepoFile f;
        f.path = e["path"].get<std::string>();
        if (f.path.empty() || f.path[0] == '/' || f.path.find("..") != std::string::npos)
            badShape(source, "unsafe file path '" + f.path + "'");
        if (e.contains("size") && e["size"].is_number_unsigned())
            f.size = e["size"].get<uint64_t>();
        // LFS files: "lfs": {"oid": "<sha256>", "size": N, "pointerSize": M}; size is the real file's.
        if (e.contains("lfs") && e["lfs"].is_object()) {
            const auto& lfs = e["lfs"];
            if (lfs.contains("oid") && lfs["oid"].is_string()) {
                f.sha256 = lfs["oid"].get<std::string>();
                static const std::regex hex64("^[0-9a-f]{64}$");
                if (!std::regex_match(f.sha256, hex64))
                    badShape(source, "LFS oid of '" + f.path + "' is not a SHA-256");
            }
            if (lfs.contains("size") && lfs["size"].is_number_unsigned())
                f.size = lfs["size"].get<uint64_t>();
        }
        out.push_back(std::move(f));
    }
    return out;
}

} // namespace tenfold::hub
