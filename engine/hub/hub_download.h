#pragma once
// Downloading one file of a hub repository: resumable, verified, with a free-space check.
//
// The bytes go to DEST.part. A .part left by an earlier attempt (a cancel, a lost connection, a
// full disk, an app restart) is continued with an HTTP Range request; a server that ignores the
// range answers 200 and the part is started over. When every byte is in, the SHA-256 of the part
// is compared with the hub's LFS oid, and only a match is renamed to DEST (same folder, so the
// rename is atomic): a library never sees a partial or corrupt model. A mismatch deletes the part.
#include "hub/hub_client.h"

#include <filesystem>
#include <functional>

namespace tenfold::hub {

struct DownloadProgress {
    uint64_t bytesDone = 0;      // in the part, including what an earlier attempt left
    uint64_t bytesTotal = 0;
    double bytesPerSecond = 0;   // over this attempt
    double secondsLeft = -1;     // -1 until a speed is known
};

struct DownloadOptions {
    // Leave at least this many bytes free on the destination's file system: the download is
    // refused before it starts when (free space - minFreeBytes) < the bytes still to fetch.
    uint64_t minFreeBytes = 0;
    // Called from the downloading thread, at most every progressIntervalMs and once at the end.
    std::function<void(const DownloadProgress&)> progress;
    int progressIntervalMs = 100;
    CancelToken* cancel = nullptr;
};

// The partial file next to `destination`.
std::filesystem::path partPathOf(const std::filesystem::path& destination);

// `destination` for `file` of `repo` under a models folder: DIR/owner/name/<path in repo>.
// Throws InvalidArgument for a path that would leave the folder.
std::filesystem::path destinationFor(const std::filesystem::path& modelsDir, const std::string& repo,
                                     const std::string& filePath);

// Downloads `file` to `destination` (folders created). Returns normally once the verified file
// is in place (at once if it already is). Throws DiskFullError (before or during; the part is
// kept), ChecksumError (part deleted), HubError (HTTP status or connection; part kept), IoError,
// or Cancelled (part kept).
void downloadFile(const HubClient& client, const std::string& repo, const std::string& revision,
                  const RepoFile& file, const std::filesystem::path& destination,
                  const DownloadOptions& options = {});

// Free bytes for an unprivileged user on the file system holding `path` (or its nearest
// existing parent). Throws IoError when it cannot be asked.
uint64_t freeBytesAt(const std::filesystem::path& path);

} // namespace tenfold::hub
