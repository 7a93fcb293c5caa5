#pragma once
// Deterministic test data for the tensor suites.
#include <cstdint>
#include <random>
#include <vector>

namespace tenfold::test {

inline std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.f)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.f, sigma);
    std::vector<float> v(n);
    for (auto& x : v)
        x = dist(rng);
    return v;
}

inline std::vector<uint8_t> randomBytes(size_t n, uint32_t seed)
{
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (auto& b : v)
        b = uint8_t(rng());
    return v;
}

} // namespace tenfold::test
