#pragma once
// Incremental SHA-256 (OpenSSL's EVP, which the HTTPS client links anyway), for checking a
// download against the hub's LFS metadata before it is renamed into place.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

namespace tenfold::hub {

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(const void* data, size_t size);
    // Lower-case hex of the digest; the object cannot be updated afterwards.
    std::string finishHex();

private:
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
};

// Feeds the first `bytes` of `file` into `hash` (a resumed download's existing prefix). Throws
// IoError naming the file when it cannot be read or is shorter.
void hashFilePrefix(Sha256& hash, const std::filesystem::path& file, uint64_t bytes);

} // namespace tenfold::hub
