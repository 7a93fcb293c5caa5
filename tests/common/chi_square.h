#pragma once
// Chi-square goodness of fit of observed counts against an exact distribution, for the tests that
// check sampled output keeps a distribution (speculative decoding): bins expecting >= 10 draws
// stand alone, the rest are pooled into one; the critical value is the 0.999 quantile (Wilson-
// Hilferty approximation) for bins - 1 degrees of freedom.
#include <cmath>
#include <vector>

namespace tenfold::test {

struct ChiSquare {
    double statistic = 0;
    int bins = 0;
    double critical = 0;
};

inline ChiSquare chiSquareFit(const std::vector<int>& seen, const std::vector<double>& exact, int draws)
{
    ChiSquare c;
    double pooledExpected = 0, pooledSeen = 0;
    for (size_t t = 0; t < exact.size(); ++t) {
        const double expected = exact[t] * draws;
        if (expected >= 10) {
            c.statistic += (seen[t] - expected) * (seen[t] - expected) / expected;
            ++c.bins;
        } else {
            pooledExpected += expected;
            pooledSeen += seen[t];
        }
    }
    if (pooledExpected > 0) {
        c.statistic += (pooledSeen - pooledExpected) * (pooledSeen - pooledExpected) / pooledExpected;
        ++c.bins;
    }
    const int dof = c.bins - 1;
    const double z = 3.0902, h = 2.0 / (9.0 * dof);
    c.critical = dof * std::pow(1 - h + z * std::sqrt(h), 3);
    return c;
}

} // namespace tenfold::test
