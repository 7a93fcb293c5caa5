#include "cost/price_table.h"

#include "core/error.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace tenfold::cost {

namespace {

std::vector<std::string> splitTabs(std::string_view line)
{
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        const size_t tab = line.find('\t', start);
        std::string field(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
        // Fields may be padded with spaces for alignment; runs of tabs are one separator.
        const size_t a = field.find_first_not_of(' ');
        const size_t b = field.find_last_not_of(" \r");
        field = a == std::string::npos ? std::string() : field.substr(a, b - a + 1);
        if (!field.empty())
            out.push_back(field);
        if (tab == std::string_view::npos)
            break;
        start = tab + 1;
    }
    return out;
}

double number(const std::string& text, const std::string& where, int line, const std::string& key)
{
    const char* begin = text.c_str();
    char* end = nullptr;
    const double v = std::strtod(begin, &end);
    if (end == begin || *end != '\0' || !std::isfinite(v))
        throw InvalidArgument(where + ":" + std::to_string(line) + ": " + key + ": '" + text + "' is not a number");
    if (v < 0)
        throw InvalidArgument(where + ":" + std::to_string(line) + ": " + key + ": " + text + " is negative");
    return v;
}

std::string format(double v)
{
    std::ostringstream out;
    out.precision(17);
    out << v;
    return out.str();
}

} // namespace

PriceTable PriceTable::parse(std::string_view text, const std::string& where)
{
    PriceTable t;
    int lineNo = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
        const size_t nl = text.find('\n', pos);
        const std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        ++lineNo;
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string_view::npos || line[first] == '#')
            continue;
        const std::vector<std::string> f = splitTabs(line);
        const std::string here = where + ":" + std::to_string(lineNo) + ": ";
        const std::string& key = f[0];
        auto expect = [&](size_t n) {
            if (f.size() != n)
                throw InvalidArgument(here + key + " takes " + std::to_string(n - 1) + " tab-separated value" +
                                      (n == 2 ? "" : "s") + ", found " + std::to_string(f.size() - 1));
        };
        if (key == "date_taken") {
            expect(2);
            t.dateTaken = f[1];
        } else if (key == "currency") {
            expect(2);
            t.currency = f[1];
        } else if (key == "electricity_per_kwh") {
            expect(2);
            t.electricityPerKwh = number(f[1], where, lineNo, key);
        } else if (key == "hardware_price") {
            expect(2);
            t.hardwarePrice = number(f[1], where, lineNo, key);
        } else if (key == "hardware_hours") {
            expect(2);
            t.hardwareHours = number(f[1], where, lineNo, key);
        } else if (key == "cloud") {
            expect(4);
            if (t.cloudPrice(f[1]))
                throw InvalidArgument(here + "cloud price '" + f[1] + "' is listed twice");
            t.cloud.push_back({f[1], number(f[2], where, lineNo, f[1] + " input"), number(f[3], where, lineNo, f[1] + " output")});
        } else {
            throw InvalidArgument(here + "unknown key '" + key + "'");
        }
    }
    return t;
}

std::string PriceTable::serialize() const
{
    std::string out;
    if (!dateTaken.empty())
        out += "date_taken\t" + dateTaken + "\n";
    if (!currency.empty())
        out += "currency\t" + currency + "\n";
    out += "electricity_per_kwh\t" + format(electricityPerKwh) + "\n";
    out += "hardware_price\t" + format(hardwarePrice) + "\n";
    out += "hardware_hours\t" + format(hardwareHours) + "\n";
    for (const CloudPrice& c : cloud)
        out += "cloud\t" + c.name + "\t" + format(c.inputPerMillion) + "\t" + format(c.outputPerMillion) + "\n";
    return out;
}

const CloudPrice* PriceTable::cloudPrice(const std::string& name) const
{
    for (const CloudPrice& c : cloud)
        if (c.name == name)
            return &c;
    return nullptr;
}

} // namespace tenfold::cost
