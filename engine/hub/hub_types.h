#pragma once
// What the hub client returns: search hits, a repository's files, and GGUF files grouped into the
// choices a person picks from (one quantization, a split file as one set).
#include "core/error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tenfold::hub {

// A request to the hub failed. status is the HTTP status (401, 404, 500, ...) or 0 when no
// response came (connection refused, TLS failure, timeout); the message names the URL.
class HubError : public Error {
public:
    HubError(int status, const std::string& message) : Error(message), status_(status) {}
    int status() const { return status_; }

private:
    int status_;
};

// Not enough free space for a download, before it starts or while it writes. The partial file,
// if any, is kept so the download can resume once space is freed.
class DiskFullError : public IoError {
public:
    using IoError::IoError;
};

// A finished download does not hash to the hub's LFS SHA-256; the file was deleted.
class ChecksumError : public Error {
public:
    using Error::Error;
};

// One hit of /api/models?search=...
struct ModelSummary {
    std::string id;              // "owner/name"
    int64_t downloads = 0;
    int64_t likes = 0;
    std::string lastModified;    // ISO 8601 as the hub sends it, or empty
    std::vector<std::string> tags;
    bool gated = false;          // the repository asks users to accept terms (a token is needed)
};

// One file of /api/models/{repo}/tree/{revision}.
struct RepoFile {
    std::string path;            // relative to the repository root
    uint64_t size = 0;           // the real file's size (the LFS object's for LFS files)
    std::string sha256;          // LFS oid (SHA-256 of the content), lower-case hex; empty if not LFS
};

// One downloadable GGUF model of a repository: a single file, or every part of a split GGUF
// (name-00001-of-0000N.gguf ...) in part order.
struct GgufChoice {
    std::string quant;           // "Q4_K_M", "Q8_0", "F16" ... or "" when the name says none
    std::string name;            // the single file's path, or the set's first part
    std::vector<RepoFile> files;
    uint64_t totalBytes = 0;
    bool complete = true;        // false when a split set lacks a part in the listing
};

} // namespace tenfold::hub
