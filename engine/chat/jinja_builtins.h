#pragma once
// The library available to templates: filters (`x | trim`), tests (`x is defined`), methods of
// strings, dicts and lists (`s.strip()`, `d.items()`, `l.append(x)`) and global functions
// (`range`, `namespace`, `raise_exception`, `strftime_now`, `dict`). Failures throw ValueError;
// the evaluator adds the template position.
#include "chat/jinja_value.h"

#include <optional>
#include <string>

namespace tenfold::jinja {

bool hasFilter(const std::string& name);
Value applyFilter(const std::string& name, const Value& input, const CallArgs& args);

bool hasTest(const std::string& name);
bool applyTest(const std::string& name, const Value& input, const CallArgs& args);

// Calls a built-in method; nullopt when `object` has no method `name`.
std::optional<Value> callMethod(const Value& object, const std::string& name, const CallArgs& args);

// range, namespace, raise_exception (throws TemplateRaisedError at the call's position),
// strftime_now, dict.
ValueDict globalFunctions();

// Python-style helpers shared by filters and methods.
std::string pyStrip(const std::string& s, const Value& chars, bool left, bool right);
ValueList pySplit(const std::string& s, const Value& separator, int64_t maxSplit);

} // namespace tenfold::jinja
