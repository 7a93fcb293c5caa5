#include "cost/rapl.h"

#include "core/error.h"

#include <algorithm>
#include <fstream>
#include <system_error>

namespace tenfold::cost {

namespace fs = std::filesystem;

namespace {

bool readLine(const fs::path& file, std::string& out)
{
    std::ifstream in(file);
    if (!in)
        return false;
    std::getline(in, out);
    return static_cast<bool>(in) || in.eof();
}

bool readCounter(const fs::path& file, uint64_t& out)
{
    std::string text;
    if (!readLine(file, text) || text.empty())
        return false;
    try {
        size_t used = 0;
        out = std::stoull(text, &used);
        return used > 0;
    } catch (const std::exception&) {
        return false;
    }
}

bool counted(const std::string& name)
{
    return name.rfind("package", 0) == 0 || name == "dram";
}

} // namespace

RaplReader RaplReader::open(const fs::path& root)
{
    RaplReader reader;
    std::error_code ec;
    std::vector<fs::path> dirs;
    // The class directory lists every domain, nested ones included, as flat links (intel-rapl:0,
    // intel-rapl:0:2, ...). intel-rapl-mmio copies the package counter and is skipped.
    for (fs::directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        if (it->path().filename().string().rfind("intel-rapl:", 0) == 0)
            dirs.push_back(it->path());
    }
    // One domain per canonical directory (links and their targets are the same domain).
    std::vector<fs::path> seen;
    std::sort(dirs.begin(), dirs.end());
    for (const fs::path& dir : dirs) {
        const fs::path canonical = fs::weakly_canonical(dir, ec);
        if (std::find(seen.begin(), seen.end(), canonical) != seen.end())
            continue;
        seen.push_back(canonical);
        std::string name;
        uint64_t value = 0, range = 0;
        if (!readLine(dir / "name", name) || !counted(name))
            continue;
        if (!readCounter(dir / "energy_uj", value) || !readCounter(dir / "max_energy_range_uj", range) || range == 0)
            continue;
        reader.domains_.push_back({name, dir / "energy_uj", range});
    }
    return reader;
}

std::vector<uint64_t> RaplReader::sample() const
{
    std::vector<uint64_t> out(domains_.size());
    for (size_t i = 0; i < domains_.size(); ++i)
        if (!readCounter(domains_[i].energyFile, out[i]))
            throw IoError(domains_[i].energyFile.string() + ": cannot read the RAPL energy counter");
    return out;
}

uint64_t RaplReader::counterDelta(uint64_t before, uint64_t after, uint64_t maxRangeUj)
{
    if (after >= before)
        return after - before;
    // Wrapped: up to the top of the range from `before`, then from 0 to `after`.
    return (maxRangeUj - std::min(before, maxRangeUj)) + after;
}

double RaplReader::joulesBetween(const std::vector<uint64_t>& before, const std::vector<uint64_t>& after) const
{
    if (before.size() != domains_.size() || after.size() != domains_.size())
        throw InvalidArgument("RaplReader::joulesBetween: samples have " + std::to_string(before.size()) + " and " +
                              std::to_string(after.size()) + " counters, the reader has " +
                              std::to_string(domains_.size()) + " domains");
    uint64_t total = 0;
    for (size_t i = 0; i < domains_.size(); ++i)
        total += counterDelta(before[i], after[i], domains_[i].maxRangeUj);
    return static_cast<double>(total) / 1e6;
}

} // namespace tenfold::cost
