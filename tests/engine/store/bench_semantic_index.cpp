// Semantic-cache lookup time: the brute-force SIMD scan against the inverted-file index, on
// clustered normalised vectors of ref-main's embedding width (384), with near-duplicate queries.
// Not a test: run by hand, figures in docs/BENCHMARKS.md.
// usage: bench_semantic_index N [QUERIES]
#include "store/response_cache.h"
#include "store/vector_index.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

using namespace tenfold;
using Clock = std::chrono::steady_clock;

static void normalise(float* v, int dim)
{
    double s = 0;
    for (int d = 0; d < dim; ++d)
        s += double(v[d]) * v[d];
    for (int d = 0; d < dim; ++d)
        v[d] = float(v[d] / std::sqrt(s));
}

int main(int argc, char** argv)
{
    const int64_t n = argc > 1 ? std::atoll(argv[1]) : 200000;
    const int queries = argc > 2 ? std::atoi(argv[2]) : 200;
    const int dim = 384, clusters = 2000;
    std::mt19937 rng(1);
    std::normal_distribution<float> g(0.f, 1.f);
    std::vector<float> centres(size_t(clusters) * dim);
    for (auto& x : centres)
        x = g(rng);
    std::vector<float> data(size_t(n) * dim);
    for (int64_t i = 0; i < n; ++i) {
        const float* c = centres.data() + size_t(rng() % clusters) * dim;
        for (int d = 0; d < dim; ++d)
            data[size_t(i) * dim + d] = c[d] + 0.35f * g(rng);
        normalise(data.data() + size_t(i) * dim, dim);
    }
    auto t0 = Clock::now();
    IvfIndex index;
    index.build(data, n, dim);
    const double buildS = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<float> sims(static_cast<size_t>(n));
    double brute = 0, ivf = 0;
    int same = 0;
    for (int q = 0; q < queries; ++q) {
        const int64_t target = int64_t(rng() % uint64_t(n));
        std::vector<float> v(data.begin() + target * dim, data.begin() + (target + 1) * dim);
        for (auto& x : v)
            x += 0.015f * g(rng);
        normalise(v.data(), dim);
        t0 = Clock::now();
        similarities(v.data(), data.data(), n, dim, sims.data());
        const int64_t truth = int64_t(std::max_element(sims.begin(), sims.end()) - sims.begin());
        brute += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        t0 = Clock::now();
        const NearestVector got = index.nearest(v.data(), 16);
        ivf += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        same += got.row == truth;
    }
    std::printf("n=%lld dim=%d: build %.1f s (%d lists); brute-force scan %.2f ms/lookup; index (16 probes) %.2f "
                "ms/lookup; same nearest as the scan %d/%d\n",
                static_cast<long long>(n), dim, buildS, index.lists(), brute / queries, ivf / queries, same, queries);
    return 0;
}
