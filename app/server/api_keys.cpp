#include "api_keys.h"

#include <cctype>

namespace tenfold::server {

bool constantTimeEquals(const std::string& a, const std::string& b)
{
    // Walks the longer length whatever the contents; differing lengths only make it unequal.
    const size_t n = a.size() > b.size() ? a.size() : b.size();
    unsigned diff = a.size() == b.size() ? 0u : 1u;
    for (size_t i = 0; i < n; ++i) {
        const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff |= unsigned(x ^ y);
    }
    return diff == 0;
}

std::optional<std::string> ApiKeys::authenticate(const std::string& header) const
{
    static const std::string scheme = "Bearer ";
    if (header.size() <= scheme.size())
        return std::nullopt;
    // The scheme is case-insensitive (RFC 7235); the key is not.
    for (size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) !=
            std::tolower(static_cast<unsigned char>(scheme[i])))
            return std::nullopt;
    const std::string given = header.substr(scheme.size());
    std::optional<std::string> label;
    // Every key is compared (no early exit), so the time does not tell which one matched.
    for (const ApiKey& k : keys_)
        if (constantTimeEquals(given, k.key) && !label)
            label = k.label;
    return label;
}

} // namespace tenfold::server
