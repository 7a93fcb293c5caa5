#pragma once
// FNV-1a, 64 bit: the one hash Tenfold uses for identities and checksums that only need to catch
// accidents (a different model file, a damaged row or chunk), not adversaries. Shared by
// Model::fingerprint, the prompt-state file and the response cache, so all agree on the value.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace tenfold {

struct Fnv1a {
    static constexpr uint64_t kOffset = 1469598103934665603ull;
    uint64_t h = kOffset;
    void bytes(const void* p, size_t n)
    {
        const auto* b = static_cast<const uint8_t*>(p);
        for (size_t i = 0; i < n; ++i) {
            h ^= b[i];
            h *= 1099511628211ull;
        }
    }
    template <class T>
    void value(const T& v)
    {
        bytes(&v, sizeof v);
    }
    void text(std::string_view s) { bytes(s.data(), s.size()); }
};

inline uint64_t fnv1a(const void* p, size_t n)
{
    Fnv1a f;
    f.bytes(p, n);
    return f.h;
}

// 16 lowercase hex digits: how fingerprints and hashes are written into the database.
inline std::string hex64(uint64_t v)
{
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

} // namespace tenfold
