#include "hub/sha256.h"

#include "core/error.h"

#include <openssl/evp.h>

#include <cstdio>
#include <fstream>
#include <vector>

namespace tenfold::hub {

struct Sha256::Ctx {
    EVP_MD_CTX* md = nullptr;
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>())
{
    ctx_->md = EVP_MD_CTX_new();
    if (!ctx_->md || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1)
        throw Error("SHA-256: OpenSSL could not start a digest");
}

Sha256::~Sha256()
{
    if (ctx_ && ctx_->md)
        EVP_MD_CTX_free(ctx_->md);
}

void Sha256::update(const void* data, size_t size)
{
    if (size && EVP_DigestUpdate(ctx_->md, data, size) != 1)
        throw Error("SHA-256: OpenSSL digest update failed");
}

std::string Sha256::finishHex()
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_->md, digest, &length) != 1)
        throw Error("SHA-256: OpenSSL digest final failed");
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

void hashFilePrefix(Sha256& hash, const std::filesystem::path& file, uint64_t bytes)
{
    // ifstream over the path: wide-character file names on Windows, where fopen takes the ANSI code page.
    std::ifstream f(file, std::ios::binary);
    if (!f)
        throw IoError(file.string() + ": cannot open to hash the part already downloaded");
    std::vector<char> buffer(1 << 20);
    uint64_t left = bytes;
    while (left > 0) {
        const size_t want = size_t(std::min<uint64_t>(left, buffer.size()));
        f.read(buffer.data(), std::streamsize(want));
        const size_t got = size_t(f.gcount());
        if (got == 0) {
            throw IoError(file.string() + ": shorter than the " + std::to_string(bytes) +
                          " bytes recorded as downloaded");
        }
        hash.update(buffer.data(), got);
        left -= got;
    }
}

} // namespace tenfold::hub
