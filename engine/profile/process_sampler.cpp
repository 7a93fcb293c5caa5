#include "profile/process_sampler.h"

#include <fstream>
#include <sstream>
#include <string>
#include "core/platform.h"

namespace tenfold::profile {

uint64_t residentBytes(const std::filesystem::path& root)
{
    std::ifstream in(root / "self" / "statm");
    uint64_t size = 0, resident = 0;
    if (!(in >> size >> resident))
        return 0;
    const uint64_t page = platform::pageSize();
    return resident * page;
}

std::vector<CoreTimes> readCoreTimes(const std::filesystem::path& root)
{
    std::ifstream in(root / "stat");
    std::vector<CoreTimes> out;
    std::string line;
    while (std::getline(in, line)) {
        // "cpu0 user nice system idle iowait irq softirq steal guest guest_nice"; the "cpu " line
        // is the sum over cores and is skipped.
        if (line.size() < 4 || line.compare(0, 3, "cpu") != 0 || line[3] < '0' || line[3] > '9')
            continue;
        std::istringstream fields(line);
        std::string name;
        uint64_t v[8] = {};
        fields >> name;
        for (uint64_t& x : v)
            if (!(fields >> x))
                x = 0;
        const size_t index = size_t(std::stoul(name.substr(3)));
        if (out.size() <= index)
            out.resize(index + 1);
        out[index].busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        out[index].idle = v[3] + v[4];
    }
    return out;
}

std::vector<double> coreBusyShares(const std::vector<CoreTimes>& before, const std::vector<CoreTimes>& after)
{
    std::vector<double> out(after.size(), 0.0);
    for (size_t i = 0; i < after.size() && i < before.size(); ++i) {
        if (after[i].busy < before[i].busy || after[i].idle < before[i].idle)
            continue; // counters reset (a core went offline and back)
        const uint64_t busy = after[i].busy - before[i].busy;
        const uint64_t total = busy + (after[i].idle - before[i].idle);
        out[i] = total ? double(busy) / double(total) : 0.0;
    }
    return out;
}

} // namespace tenfold::profile
