#include "cli_args.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace tenfold::cli {

std::optional<std::string> ParsedArgs::get(const std::string& name) const
{
    auto it = values_.find(name);
    if (it == values_.end())
        return std::nullopt;
    return it->second;
}

std::string ParsedArgs::getString(const std::string& name, const std::string& fallback) const
{
    return get(name).value_or(fallback);
}

long long ParsedArgs::getInt(const std::string& name, long long fallback, long long min,
                             long long max) const
{
    const auto v = get(name);
    if (!v)
        return fallback;
    char* end = nullptr;
    errno = 0;
    const long long n = std::strtoll(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || errno == ERANGE)
        throw UsageError(name + " expects a whole number, not '" + *v + "'");
    if (n < min || n > max)
        throw UsageError(name + " must be between " + std::to_string(min) + " and " +
                         std::to_string(max) + ", not " + *v);
    return n;
}

double ParsedArgs::getDouble(const std::string& name, double fallback, double min, double max) const
{
    const auto v = get(name);
    if (!v)
        return fallback;
    char* end = nullptr;
    errno = 0;
    const double d = std::strtod(v->c_str(), &end);
    if (v->empty() || *end != '\0' || errno == ERANGE)
        throw UsageError(name + " expects a number, not '" + *v + "'");
    // strtod accepts "nan" and "inf"; NaN would also slip through the range check below.
    if (!std::isfinite(d))
        throw UsageError(name + " expects a finite number, not '" + *v + "'");
    if (d < min || d > max) {
        std::ostringstream os;
        os << name << " must be between " << min << " and " << max << ", not " << *v;
        throw UsageError(os.str());
    }
    return d;
}

bool wantsHelp(const std::vector<std::string>& args)
{
    for (const std::string& a : args) {
        if (a == "--")
            return false;
        if (a == "--help" || a == "-h")
            return true;
    }
    return false;
}

namespace {

// People coming from llama.cpp write `-m MODEL`: every command whose first argument is MODEL also
// takes it as -m/--model.
CommandSpec withModelOption(const CommandSpec& spec)
{
    CommandSpec s = spec;
    if (!s.positionals.empty() && s.positionals[0] == "MODEL")
        s.options.insert(s.options.begin(),
                         {"--model", "-m", "MODEL", "the model file, instead of the first argument"});
    return s;
}

} // namespace

ParsedArgs parseArgs(const CommandSpec& declared, const std::vector<std::string>& args)
{
    const CommandSpec spec = withModelOption(declared);
    ParsedArgs out;
    bool onlyPositionals = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const bool looksLikeOption = !onlyPositionals && a.size() > 1 && a[0] == '-' &&
                                     !(a.size() > 1 && (std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.'));
        if (!onlyPositionals && a == "--") {
            onlyPositionals = true;
            continue;
        }
        if (!looksLikeOption) {
            out.positionals_.push_back(a);
            continue;
        }
        std::string name = a, inlineValue;
        bool hasInline = false;
        if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
            name = a.substr(0, eq);
            inlineValue = a.substr(eq + 1);
            hasInline = true;
        }
        const OptionSpec* opt = nullptr;
        for (const OptionSpec& o : spec.options)
            if (o.name == name || (!o.shortName.empty() && o.shortName == name))
                opt = &o;
        if (!opt)
            throw UsageError("unknown option '" + name + "' for '" + spec.name + "'");
        if (opt->valueName.empty()) {
            if (hasInline)
                throw UsageError(opt->name + " takes no value");
            out.values_[opt->name] = "";
        } else if (hasInline) {
            out.values_[opt->name] = inlineValue;
        } else {
            if (i + 1 >= args.size())
                throw UsageError(opt->name + " needs a value (" + opt->valueName + ")");
            out.values_[opt->name] = args[++i];
        }
    }
    if (auto model = out.values_.find("--model"); model != out.values_.end()) {
        if (out.positionals_.size() > spec.positionals.size() + spec.optionalPositionals.size() - 1)
            throw UsageError("the model is given twice: -m " + model->second + " and '" +
                             out.positionals_.front() + "'");
        out.positionals_.insert(out.positionals_.begin(), model->second);
        out.values_.erase(model);
    }
    const size_t need = spec.positionals.size();
    const size_t most = need + spec.optionalPositionals.size();
    if (out.positionals_.size() < need)
        throw UsageError("'" + spec.name + "' needs " + spec.positionals[out.positionals_.size()]);
    if (out.positionals_.size() > most)
        throw UsageError("unexpected argument '" + out.positionals_[most] + "' for '" + spec.name +
                         "'");
    return out;
}

std::string helpText(const CommandSpec& declared)
{
    const CommandSpec spec = withModelOption(declared);
    std::ostringstream os;
    os << "usage: tenfold-cli " << spec.name << " " << spec.synopsis << "\n\n";
    if (!spec.description.empty())
        os << spec.description << "\n\n";
    if (!spec.options.empty()) {
        os << "options:\n";
        for (const OptionSpec& o : spec.options) {
            std::string left = "  " + (o.shortName.empty() ? "" : o.shortName + ", ") + o.name;
            if (!o.valueName.empty())
                left += " " + o.valueName;
            os << left;
            if (left.size() < 28)
                os << std::string(28 - left.size(), ' ');
            else
                os << "\n" << std::string(28, ' ');
            os << o.help << "\n";
        }
        os << "  -h, --help                show this help\n";
    }
    return os.str();
}

} // namespace tenfold::cli
