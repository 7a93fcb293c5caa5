#pragma once
// Energy counters of Intel and AMD CPUs (RAPL) as Linux exposes them under /sys/class/powercap:
// one directory per domain with `name` ("package-0", "dram", "core", ...), `energy_uj` (a counter
// in microjoules that wraps to 0 after `max_energy_range_uj`) and nested subdomains
// (intel-rapl:0:2 inside intel-rapl:0). Only the package and DRAM domains are summed: core and
// uncore are parts of the package and would count twice, and the intel-rapl-mmio copies of the
// package counter likewise.
//
// The counters measure the whole socket, every process on it, so a figure for one generation is
// the machine's energy while it ran. Reading energy_uj needs root on kernels since 5.10 (a
// side-channel fix); where it cannot be read, available() is false and callers estimate instead.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tenfold::cost {

struct RaplDomain {
    std::string name;                 // "package-0", "dram"
    std::filesystem::path energyFile; // .../energy_uj
    uint64_t maxRangeUj = 0;          // the counter wraps to 0 after this value
};

class RaplReader {
public:
    // Finds the package and DRAM domains under `root` (the powercap class directory; tests pass a
    // fake tree). Domains whose counter cannot be read are left out; never throws.
    static RaplReader open(const std::filesystem::path& root = "/sys/class/powercap");

    bool available() const { return !domains_.empty(); }
    const std::vector<RaplDomain>& domains() const { return domains_; }

    // The raw counters, one per domain in domains() order. Throws IoError naming the file when a
    // counter that was readable at open() no longer is.
    std::vector<uint64_t> sample() const;
    // Joules between two samples of this reader, each domain's wrap handled: a counter that went
    // down wrapped once at its maxRangeUj (samples a wrap period apart, about an hour of a busy
    // package at 60 W for a 2^32 uJ range, cannot be told apart and are not expected).
    double joulesBetween(const std::vector<uint64_t>& before, const std::vector<uint64_t>& after) const;

    // The wrap-aware difference of one counter, in microjoules.
    static uint64_t counterDelta(uint64_t before, uint64_t after, uint64_t maxRangeUj);

private:
    std::vector<RaplDomain> domains_;
};

} // namespace tenfold::cost
