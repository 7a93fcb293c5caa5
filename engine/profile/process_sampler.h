#pragma once
// What the profiler samples about the machine while a model runs, read from procfs: the
// process's resident memory (/proc/self/statm) and each core's busy time (/proc/stat). `root` is
// the procfs mount, so tests point it at a fake tree in a temporary folder.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace tenfold::profile {

// Resident set size of this process in bytes; 0 when unreadable.
uint64_t residentBytes(const std::filesystem::path& root = "/proc");

struct CoreTimes {
    uint64_t busy = 0;   // user + nice + system + irq + softirq + steal, in clock ticks
    uint64_t idle = 0;   // idle + iowait
};

// One entry per "cpuN" line of <root>/stat, in N order; empty when unreadable.
std::vector<CoreTimes> readCoreTimes(const std::filesystem::path& root = "/proc");

// Each core's busy share (0..1) between two readings; a core missing from either (hot-plugged)
// or without ticks in between reads 0.
std::vector<double> coreBusyShares(const std::vector<CoreTimes>& before, const std::vector<CoreTimes>& after);

} // namespace tenfold::profile
