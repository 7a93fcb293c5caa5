#pragma once
// A Qt-free client for the Hugging Face Hub's public HTTP API (docs/HUB.md cites the pages):
//   GET {endpoint}/api/models?search=Q&filter=gguf&sort=downloads&direction=-1&limit=N
//   GET {endpoint}/api/models/{repo}/tree/{revision}?recursive=true   (paged by Link: rel="next")
//   GET {endpoint}/{repo}/resolve/{revision}/{path}                  (redirects to storage)
// The endpoint is HF_ENDPOINT when set (as Hugging Face's own tools read it: mirrors, and the
// tests' loopback server), else https://huggingface.co.
#include "hub/hub_http.h"
#include "hub/hub_types.h"

#include <string>
#include <vector>

namespace tenfold::hub {

struct HubConfig {
    std::string endpoint = "https://huggingface.co";
    // Sent only to the endpoint's origin; never logged, never stored in the database.
    std::string token;
    int connectTimeoutSeconds = 15;
    int readTimeoutSeconds = 60;

    // HF_ENDPOINT, and the token from HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN), else the
    // desktop keyring (Secret Service through `secret-tool`, when installed), else the token file
    // Hugging Face's CLI writes (HF_TOKEN_PATH, $HF_HOME/token, ~/.cache/huggingface/token).
    static HubConfig fromEnvironment();
};

// Where the token came from, for messages ("HF_TOKEN", "keyring", a file path, or "" for none).
std::string tokenSourceDescription();

// Throws InvalidArgument unless `repo` looks like "owner/name".
void checkRepoId(const std::string& repo);

class HubClient {
public:
    explicit HubClient(HubConfig config);

    const HubConfig& config() const { return config_; }
    HttpSettings httpSettings() const;

    // GGUF repositories matching `query`, most downloaded first.
    std::vector<ModelSummary> search(const std::string& query, int limit = 50, CancelToken* cancel = nullptr) const;
    // Every file of the repository at `revision` (all folders), with sizes and LFS SHA-256.
    std::vector<RepoFile> listFiles(const std::string& repo, const std::string& revision = "main",
                                    CancelToken* cancel = nullptr) const;
    // The download URL of one file.
    std::string fileUrl(const std::string& repo, const std::string& revision, const std::string& path) const;

private:
    HubConfig config_;
};

// Parsers of the hub's JSON answers (public for tests); throw HubError naming `source` when the
// text is not the shape the API documents.
std::vector<ModelSummary> parseSearchJson(const std::string& json, const std::string& source);
std::vector<RepoFile> parseTreeJson(const std::string& json, const std::string& source);

} // namespace tenfold::hub
