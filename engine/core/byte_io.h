#pragma once
// Fixed-size values into and out of a byte buffer as they lie in memory (little-endian on every
// target Tenfold builds for), for the headers of its own binary files: the prompt-state file
// (runtime/prompt_state.h) and the base-logits cache (eval/base_logits.h).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace tenfold::bytes {

template <class T>
void put(std::vector<uint8_t>& out, const T& v)
{
    const size_t at = out.size();
    out.resize(at + sizeof v);
    std::memcpy(out.data() + at, &v, sizeof v);
}

// Reads v at `at` and advances it; false (nothing read) when fewer than sizeof v bytes remain.
template <class T>
bool get(const std::vector<uint8_t>& in, size_t& at, T& v)
{
    if (in.size() - at < sizeof v)
        return false;
    std::memcpy(&v, in.data() + at, sizeof v);
    at += sizeof v;
    return true;
}

} // namespace tenfold::bytes
