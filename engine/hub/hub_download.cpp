#include "hub/hub_download.h"

#include "hub/sha256.h"

#include "core/platform.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

namespace tenfold::hub {

namespace {

std::string mib(uint64_t bytes)
{
    char text[64];
    std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / (1024.0 * 1024.0));
    return text;
}

// An open part file, closed on every path out.
class PartFile {
public:
    explicit PartFile(const std::filesystem::path& path) : path_(path)
    {
        fd_ = platform::openForAppend(path);
        if (fd_ < 0)
            throw IoError(path.string() + ": cannot open for writing: " + std::strerror(errno));
    }
    ~PartFile()
    {
        if (fd_ >= 0)
            platform::closeFile(fd_);
    }
    PartFile(const PartFile&) = delete;
    PartFile& operator=(const PartFile&) = delete;

    // Writes everything or returns the errno of the write that failed.
    int write(const char* data, size_t size)
    {
        while (size > 0) {
            const int64_t n = platform::writeSome(fd_, data, size);
            if (n < 0)
                return errno;
            if (n == 0)
                return ENOSPC;
            data += n;
            size -= size_t(n);
        }
        return 0;
    }
    void truncate()
    {
        if (!platform::truncateFile(fd_))
            throw IoError(path_.string() + ": cannot truncate: " + std::strerror(errno));
    }
    void syncAndClose()
    {
        // The data must be on disk before the rename makes it the library's file.
        const bool synced = platform::syncFile(fd_);
        const int syncErrno = errno;
        const bool closed = platform::closeFile(fd_);
        fd_ = -1;
        if (!synced || !closed)
            throw IoError(path_.string() + ": cannot flush to disk: " + std::strerror(!synced ? syncErrno : errno));
    }

private:
    std::filesystem::path path_;
    int fd_ = -1;
};

bool isDiskFull(int error)
{
#ifdef EDQUOT
    if (error == EDQUOT) // no disk quotas on Windows
        return true;
#endif
    return error == ENOSPC || error == EFBIG;
}

std::string verifyExisting(const std::filesystem::path& file, uint64_t size)
{
    Sha256 hash;
    hashFilePrefix(hash, file, size);
    return hash.finishHex();
}

} // namespace

std::filesystem::path partPathOf(const std::filesystem::path& destination)
{
    return std::filesystem::path(destination.string() + ".part");
}

std::filesystem::path destinationFor(const std::filesystem::path& modelsDir, const std::string& repo,
                                     const std::string& filePath)
{
    checkRepoId(repo);
    const std::filesystem::path relative(filePath);
    if (filePath.empty() || relative.is_absolute())
        throw InvalidArgument("unsafe file path in repository " + repo + ": '" + filePath + "'");
    for (const auto& part : relative)
        if (part == ".." || part == ".")
            throw InvalidArgument("unsafe file path in repository " + repo + ": '" + filePath + "'");
    return modelsDir / repo / relative;
}

uint64_t freeBytesAt(const std::filesystem::path& path)
{
    std::filesystem::path probe = path;
    std::error_code ec;
    while (!probe.empty() && !std::filesystem::exists(probe, ec))
        probe = probe.parent_path();
    if (probe.empty())
        probe = ".";
    const auto info = std::filesystem::space(probe, ec);
    if (ec)
        throw IoError(probe.string() + ": cannot query free space: " + ec.message());
    return info.available;
}

void downloadFile(const HubClient& client, const std::string& repo, const std::string& revision,
                  const RepoFile& file, const std::filesystem::path& destination, const DownloadOptions& options)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path part = partPathOf(destination);
    const std::string name = repo + "/" + file.path;

    // Already in place (an earlier run finished; a queue entry resumed after the rename).
    if (fs::is_regular_file(destination, ec) && fs::file_size(destination, ec) == file.size &&
        (file.sha256.empty() || verifyExisting(destination, file.size) == file.sha256))
        return;

    fs::create_directories(destination.parent_path(), ec);
    if (ec)
        throw IoError(destination.parent_path().string() + ": cannot create the folder: " + ec.message());

    uint64_t have = fs::is_regular_file(part, ec) ? fs::file_size(part, ec) : 0;
    if (have > file.size) {
        // Not ours to continue (the file changed on the hub): start again.
        fs::remove(part, ec);
        have = 0;
    }

    // Before starting: the bytes still to fetch must fit, keeping minFreeBytes free.
    const uint64_t need = file.size - have;
    const uint64_t free = freeBytesAt(destination.parent_path());
    if (free < options.minFreeBytes || free - options.minFreeBytes < need)
        throw DiskFullError(name + ": needs " + mib(need) + " more on " + destination.parent_path().string() +
                            ", which has " + mib(free) + " free" +
                            (options.minFreeBytes ? " (keeping " + mib(options.minFreeBytes) + " free)" : std::string()) +
                            (have ? "; the " + mib(have) + " already downloaded are kept" : std::string()));

    auto hash = std::make_unique<Sha256>();
    if (have > 0)
        hashFilePrefix(*hash, part, have);

    if (have < file.size || file.size == 0) {
        PartFile out(part);
        const auto started = std::chrono::steady_clock::now();
        auto lastReport = started - std::chrono::hours(1);
        uint64_t sessionStart = have;
        std::optional<Error> failure;
        std::string failureKind;
        auto report = [&](bool force) {
            if (!options.progress)
                return;
            const auto now = std::chrono::steady_clock::now();
            if (!force && now - lastReport < std::chrono::milliseconds(options.progressIntervalMs))
                return;
            lastReport = now;
            DownloadProgress p;
            p.bytesDone = have;
            p.bytesTotal = file.size;
            const double seconds = std::chrono::duration<double>(now - started).count();
            if (seconds > 0.05 && have > sessionStart) {
                p.bytesPerSecond = double(have - sessionStart) / seconds;
                p.secondsLeft = double(file.size - have) / p.bytesPerSecond;
            }
            options.progress(p);
        };
        report(true);
        const auto result = getStream(
            client.httpSettings(), client.fileUrl(repo, revision, file.path), have,
            [&](const StreamResult& start) {
                if (start.offset != have) {
                    // The server sent the whole file (200) instead of the range: start over.
                    out.truncate();
                    hash = std::make_unique<Sha256>();
                    have = 0;
                    sessionStart = 0;
                }
            },
            [&](const char* data, size_t size) {
                if (have + size > file.size) {
                    failureKind = "long";
                    return false;
                }
                if (const int error = out.write(data, size)) {
                    failureKind = isDiskFull(error) ? "full" : "io";
                    failure.emplace(std::strerror(error));
                    // What reached the file stays there for the resume; the hash is rebuilt then.
                    return false;
                }
                hash->update(data, size);
                have += size;
                report(false);
                return true;
            },
            options.cancel);
        if (result.stopped) {
            if (failureKind == "full")
                throw DiskFullError(name + ": writing " + part.string() + " failed: " + failure->what() +
                                    "; the disk is full: free space and resume (the part is kept)");
            if (failureKind == "io")
                throw IoError(name + ": writing " + part.string() + " failed: " + failure->what());
            fs::remove(part, ec);
            throw HubError(200, name + ": the server sent more than the " + std::to_string(file.size) +
                                    " bytes the listing gives; the part was deleted");
        }
        report(true);
        out.syncAndClose();
        if (have != file.size)
            throw HubError(0, name + ": the connection ended after " + std::to_string(have) + " of " +
                                  std::to_string(file.size) + " bytes; resume to continue (the part is kept)");
    }

    if (!file.sha256.empty()) {
        const std::string got = hash->finishHex();
        if (got != file.sha256) {
            fs::remove(part, ec);
            throw ChecksumError(name + ": SHA-256 " + got + " does not match the hub's " + file.sha256 +
                                "; the download was deleted");
        }
    }
    fs::rename(part, destination, ec);
    if (ec)
        throw IoError(part.string() + ": cannot rename to " + destination.string() + ": " + ec.message());
}

} // namespace tenfold::hub
