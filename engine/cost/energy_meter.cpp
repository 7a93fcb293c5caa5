#include "cost/energy_meter.h"

namespace tenfold::cost {

EnergyMeter::EnergyMeter(RaplReader rapl, Wattage wattage) : rapl_(std::move(rapl)), wattage_(wattage) {}

EnergyMeter::Mark EnergyMeter::start() const
{
    Mark m;
    m.time = std::chrono::steady_clock::now();
    if (rapl_.available()) {
        try {
            m.counters = rapl_.sample();
        } catch (const std::exception&) {
            m.counters.clear();
        }
    }
    return m;
}

double EnergyMeter::estimateJoules(double seconds, bool onGpu) const
{
    return seconds * (onGpu ? wattage_.gpuWatts : wattage_.cpuWatts);
}

EnergyReading EnergyMeter::since(const Mark& mark, bool onGpu) const
{
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - mark.time).count();
    if (!mark.counters.empty()) {
        try {
            const double measured = rapl_.joulesBetween(mark.counters, rapl_.sample());
            if (!onGpu)
                return {measured, "rapl"};
            return {measured + estimateJoules(seconds, true), "estimate"};
        } catch (const std::exception&) {
        }
    }
    return {estimateJoules(seconds, onGpu), "estimate"};
}

void SharedEnergy::advanceLocked()
{
    if (started_ && running_ > 0) {
        const EnergyReading e = meter_.since(last_, onGpu_);
        perRequest_ += e.joules / running_;
        source_ = e.source;
    }
    last_ = meter_.start();
    started_ = true;
}

double SharedEnergy::begin()
{
    std::lock_guard lock(mutex_);
    advanceLocked();
    ++running_;
    return perRequest_;
}

EnergyReading SharedEnergy::finish(double ticket)
{
    std::lock_guard lock(mutex_);
    advanceLocked();
    if (running_ > 0)
        --running_;
    return {perRequest_ - ticket, source_};
}

} // namespace tenfold::cost
