#include "runtime/memory_bandwidth.h"

#include "runtime/thread_pool.h"

#include "core/platform.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

namespace tenfold {
namespace {

// Sums 64-bit words in four independent chains: the loads, not the adds, set the pace, and the
// compiler vectorizes it. The result is kept so the reads cannot be optimized away.
uint64_t sumWords(const uint64_t* p, size_t n)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a += p[i];
        b += p[i + 1];
        c += p[i + 2];
        d += p[i + 3];
    }
    for (; i < n; ++i)
        a += p[i];
    return a + b + c + d;
}

} // namespace

BandwidthResult measureReadBandwidth(int threads, uint64_t bytes, int passes)
{
    bytes = std::max<uint64_t>(bytes, 1 << 20) & ~uint64_t(4095);
    passes = std::max(1, passes);
    struct Free {
        void operator()(void* p) const { platform::alignedFree(p); }
    };
    // In huge pages where the OS has them, as the CPU matmul's weight copies are (matmul.h): the
    // figure is what the memory can deliver, not what 4 KiB pages let the prefetchers reach.
    std::unique_ptr<uint64_t, Free> buffer(static_cast<uint64_t*>(platform::allocStreamed(bytes)));
    if (!buffer)
        throw std::bad_alloc();
    ThreadPool pool(threads);
    const size_t words = size_t(bytes / 8);
    const int nThreads = pool.size();
    // Each thread writes its own slice first, so its pages are resident (and local) before timing.
    pool.parallelFor(nThreads, 1, [&](int64_t b, int64_t e, int) {
        for (int64_t t = b; t < e; ++t) {
            const size_t lo = words * size_t(t) / size_t(nThreads), hi = words * size_t(t + 1) / size_t(nThreads);
            for (size_t i = lo; i < hi; ++i)
                buffer.get()[i] = i;
        }
    });
    std::vector<uint64_t> sink(size_t(nThreads), 0);
    double best = 0;
    for (int pass = 0; pass < passes; ++pass) {
        const auto t0 = std::chrono::steady_clock::now();
        pool.parallelFor(nThreads, 1, [&](int64_t b, int64_t e, int slot) {
            for (int64_t t = b; t < e; ++t) {
                const size_t lo = words * size_t(t) / size_t(nThreads), hi = words * size_t(t + 1) / size_t(nThreads);
                sink[size_t(slot)] += sumWords(buffer.get() + lo, hi - lo);
            }
        });
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::max(best, double(bytes) / s / 1e9);
    }
    volatile uint64_t keep = 0;
    for (uint64_t v : sink)
        keep = keep + v;
    (void)keep;
    return {best, bytes, nThreads, passes};
}

} // namespace tenfold
