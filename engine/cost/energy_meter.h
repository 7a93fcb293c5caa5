#pragma once
// The energy of one generation: measured from RAPL when the counters are readable, otherwise
// estimated as configured wattage x wall time and marked as an estimate (the ledger's
// energy_source, shown as such in the Cost history page).
#include "cost/rapl.h"

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace tenfold::cost {

struct Wattage {
    double cpuWatts = 65;   // a desktop CPU under load (the usual TDP class)
    double gpuWatts = 150;  // a mid-range discrete GPU under compute load
};

struct EnergyReading {
    double joules = 0;
    std::string source;     // "rapl" or "estimate"
};

class EnergyMeter {
public:
    struct Mark {
        std::chrono::steady_clock::time_point time;
        std::vector<uint64_t> counters; // empty when estimating
    };

    explicit EnergyMeter(RaplReader rapl = RaplReader::open(), Wattage wattage = {});

    bool measures() const { return rapl_.available(); }
    const Wattage& wattage() const { return wattage_; }
    Mark start() const;
    // Energy since `mark`. onGpu: the work ran on a GPU (Vulkan), so the estimate uses the GPU's
    // wattage; RAPL sees only the CPU package and DRAM, so a GPU run adds the GPU estimate to the
    // measured CPU figure and is then marked an estimate too. Never throws: a counter that stops
    // being readable falls back to the estimate.
    EnergyReading since(const Mark& mark, bool onGpu = false) const;

    // The estimate for `seconds` of work: what since() returns without RAPL.
    double estimateJoules(double seconds, bool onGpu) const;

private:
    RaplReader rapl_;
    Wattage wattage_;
};

// Energy of overlapping requests (the server decodes many at once): the machine's energy between
// two events (a request starting or ending) is split evenly among the requests running then, so
// the requests' figures add up to the machine's energy instead of counting it once per request.
// Thread-safe.
class SharedEnergy {
public:
    explicit SharedEnergy(const EnergyMeter& meter, bool onGpu) : meter_(meter), onGpu_(onGpu) {}
    // A request begins; returns its ticket for finish().
    double begin();
    // The request with `ticket` ends: its share of the energy since begin().
    EnergyReading finish(double ticket);

private:
    void advanceLocked();
    const EnergyMeter& meter_;
    bool onGpu_;
    std::mutex mutex_;
    bool started_ = false;
    EnergyMeter::Mark last_;
    int running_ = 0;
    double perRequest_ = 0; // joules each request running since the start has been charged
    std::string source_ = "estimate";
};

} // namespace tenfold::cost
