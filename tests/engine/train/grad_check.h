#pragma once
// Shared helpers of the training-engine suites: a seeded random source and a central
// finite-difference gradient check in double precision.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace tenfold::test {

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed) {}
    uint64_t next()
    {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform(double lo, double hi) { return lo + (hi - lo) * double(next() >> 11) * 0x1p-53; }
    int below(int n) { return int(next() % uint64_t(n)); }
    std::vector<double> vec(size_t n, double lo = -1, double hi = 1)
    {
        std::vector<double> v(n);
        for (auto& x : v)
            x = uniform(lo, hi);
        return v;
    }
};

// Compares analytic[i] with (loss(x + h e_i) - loss(x - h e_i)) / 2h for every i of x (x is
// restored). The error is measured relative to the largest gradient of the tensor (floored at
// 1e-3, so an all-but-zero gradient is judged absolutely): one number per tensor, reported.
// In double with h = 1e-5 the central difference is good to about 1e-9, so a correct backward
// lands near 1e-9 and any real mistake far above the 1e-6 tolerance.
inline double gradError(const char* what, std::vector<double>& x, const std::vector<double>& analytic,
                        const std::function<double()>& loss, double h = 1e-5)
{
    double maxErr = 0, maxGrad = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        const double keep = x[i];
        x[i] = keep + h;
        const double lp = loss();
        x[i] = keep - h;
        const double lm = loss();
        x[i] = keep;
        const double num = (lp - lm) / (2 * h);
        maxErr = std::max(maxErr, std::abs(num - analytic[i]));
        maxGrad = std::max(maxGrad, std::abs(num));
    }
    const double rel = maxErr / std::max(maxGrad, 1e-3);
    std::printf("  grad %-28s n=%-5zu max|g|=%.3e rel.err=%.2e\n", what, x.size(), maxGrad, rel);
    return rel;
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b)
{
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i)
        s += a[i] * b[i];
    return s;
}

} // namespace tenfold::test
