#pragma once
// The machine's memory read bandwidth as the CPU backend sees it: the yardstick for decode, which
// at its best reads every weight once per token. `tenfold-cli bench --memory` prints decode GB/s
// as a share of it.
#include <cstdint>

namespace tenfold {

struct BandwidthResult {
    double gbPerSecond = 0;   // best of the passes, 1e9 bytes per second
    uint64_t bytes = 0;       // buffer size read per pass
    int threads = 0;
    int passes = 0;
};

// Reads a buffer of `bytes` (much larger than the caches; rounded to whole 4 KiB pages) `passes`
// times with `threads` threads (0: one per core), each streaming its own contiguous slice, as a
// mat-vec streams its rows. Throws std::bad_alloc when the buffer cannot be had.
BandwidthResult measureReadBandwidth(int threads, uint64_t bytes = 1ull << 30, int passes = 5);

} // namespace tenfold
