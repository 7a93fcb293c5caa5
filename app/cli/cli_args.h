#pragma once
// The small argument parser every command shares. A command declares its options and positional
// arguments once; the same declaration drives parsing, validation and the --help text, so the
// help can never drift from what is accepted.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tenfold::cli {

// A usage mistake (unknown option, missing value, bad number): exit code 2 plus a hint to --help.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct OptionSpec {
    std::string name;        // "--temp"
    std::string shortName;   // "-p" or ""
    std::string valueName;   // "T"; empty for a flag
    std::string help;
};

struct CommandSpec {
    std::string name;                    // "generate"
    std::string synopsis;                // "MODEL -p PROMPT [options]"
    std::string description;             // paragraph(s) after the synopsis
    std::vector<std::string> positionals; // names, in order, all required
    std::vector<std::string> optionalPositionals; // after the required ones
    std::vector<OptionSpec> options;
};

class ParsedArgs {
public:
    const std::vector<std::string>& positionals() const { return positionals_; }
    const std::string& positional(size_t i) const { return positionals_.at(i); }
    bool has(const std::string& name) const { return values_.count(name) != 0; }
    std::optional<std::string> get(const std::string& name) const;
    std::string getString(const std::string& name, const std::string& fallback) const;
    // Throw UsageError naming the option when the value is not a number in range.
    long long getInt(const std::string& name, long long fallback, long long min, long long max) const;
    double getDouble(const std::string& name, double fallback, double min, double max) const;

private:
    friend ParsedArgs parseArgs(const CommandSpec&, const std::vector<std::string>&);
    std::vector<std::string> positionals_;
    std::map<std::string, std::string> values_; // flags map to ""
};

// args: everything after the command name. "--help"/"-h" is handled by the caller (wantsHelp).
ParsedArgs parseArgs(const CommandSpec& spec, const std::vector<std::string>& args);
bool wantsHelp(const std::vector<std::string>& args);
std::string helpText(const CommandSpec& spec);

} // namespace tenfold::cli
