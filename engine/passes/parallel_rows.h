#pragma once
// Splits [0, n) into one contiguous range per thread. The passes run this once per chunk of a
// tensor, where the work (millions of elements) dwarfs the cost of starting threads, so a plain
// fork-join beats keeping a pool alive.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

namespace tenfold {

inline int resolveThreadCount(int requested)
{
    if (requested > 0)
        return requested;
    const unsigned hw = std::thread::hardware_concurrency();
    return hw ? int(hw) : 1;
}

// Output rows per chunk when a pass streams a tensor: enough work to share between threads,
// little enough memory (32 MiB) that a 7B model never needs a second copy in RAM.
inline int64_t rowsPerChunk(uint64_t outRowBytes)
{
    constexpr uint64_t kChunkBytes = 32u << 20;
    return int64_t(std::max<uint64_t>(1, kChunkBytes / std::max<uint64_t>(1, outRowBytes)));
}

// fn(begin, end) runs on each range; the first exception thrown by any range is rethrown here.
template <class Fn>
void parallelRanges(int64_t n, int nThreads, Fn&& fn)
{
    const int64_t workers = std::max<int64_t>(1, std::min<int64_t>(nThreads, n));
    if (workers == 1) {
        fn(int64_t(0), n);
        return;
    }
    std::vector<std::thread> threads;
    std::vector<std::exception_ptr> errors(static_cast<size_t>(workers));
    for (int64_t w = 0; w < workers; ++w) {
        const int64_t begin = n * w / workers, end = n * (w + 1) / workers;
        threads.emplace_back([&, w, begin, end] {
            try {
                fn(begin, end);
            } catch (...) {
                errors[size_t(w)] = std::current_exception();
            }
        });
    }
    for (auto& t : threads)
        t.join();
    for (auto& e : errors)
        if (e)
            std::rethrow_exception(e);
}

} // namespace tenfold
