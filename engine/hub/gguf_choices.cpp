#include "hub/gguf_choices.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>

namespace tenfold::hub {

namespace {

std::string upper(std::string s)
{
    for (char& c : s)
        c = char(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string lower(std::string s)
{
    for (char& c : s)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string baseName(const std::string& path)
{
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool endsWithGguf(const std::string& path)
{
    return path.size() > 5 && lower(path.substr(path.size() - 5)) == ".gguf";
}

} // namespace

std::string quantOfFileName(const std::string& path)
{
    // A type is a separate token of the name: delimited by '-', '_' (not inside the type), '.'
    // or the ends. "Qwen2" is no type: Q must be followed by a digit.
    static const std::regex type(R"((?:^|[-_.])((?:I?Q[0-9](?:_[A-Z0-9]+)*)|(?:T?Q[0-9]_[0-9])|BF16|F16|F32|MXFP4)(?=[-.]|$))",
                                 std::regex::icase);
    const std::string name = baseName(path);
    std::string found;
    for (auto it = std::sregex_iterator(name.begin(), name.end(), type); it != std::sregex_iterator(); ++it)
        found = (*it)[1].str();
    return upper(found);
}

std::optional<SplitPart> splitPartOf(const std::string& path)
{
    static const std::regex split(R"(^(.*)-([0-9]{5})-of-([0-9]{5})\.gguf$)", std::regex::icase);
    std::smatch m;
    if (!std::regex_match(path, m, split))
        return std::nullopt;
    SplitPart part;
    part.prefix = m[1].str();
    part.index = std::stoi(m[2].str());
    part.count = std::stoi(m[3].str());
    if (part.index < 1 || part.count < 1 || part.index > part.count)
        return std::nullopt;
    return part;
}

std::vector<GgufChoice> ggufChoices(const std::vector<RepoFile>& files)
{
    std::vector<GgufChoice> out;
    // Split sets keyed by prefix and part count, parts by index.
    std::map<std::pair<std::string, int>, std::map<int, RepoFile>> sets;
    for (const RepoFile& f : files) {
        if (!endsWithGguf(f.path))
            continue;
        if (auto part = splitPartOf(f.path)) {
            sets[{part->prefix, part->count}][part->index] = f;
            continue;
        }
        GgufChoice c;
        c.quant = quantOfFileName(f.path);
        c.name = f.path;
        c.files = {f};
        c.totalBytes = f.size;
        out.push_back(std::move(c));
    }
    for (auto& [key, parts] : sets) {
        GgufChoice c;
        c.name = parts.begin()->second.path;
        c.quant = quantOfFileName(key.first + ".gguf");
        for (auto& [index, f] : parts) {
            c.files.push_back(f);
            c.totalBytes += f.size;
        }
        c.complete = int(parts.size()) == key.second && parts.begin()->first == 1 &&
                     parts.rbegin()->first == key.second;
        out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(), [](const GgufChoice& a, const GgufChoice& b) {
        return a.quant != b.quant ? a.quant < b.quant : a.name < b.name;
    });
    return out;
}

std::optional<GgufChoice> findChoice(const std::vector<GgufChoice>& choices, const std::string& quant,
                                     const std::string& file)
{
    for (const GgufChoice& c : choices) {
        if (!quant.empty() && upper(quant) == c.quant)
            return c;
        if (!file.empty())
            for (const RepoFile& f : c.files)
                if (f.path == file || baseName(f.path) == file)
                    return c;
    }
    return std::nullopt;
}

} // namespace tenfold::hub
