// Tests, methods and global functions available to templates.
#include "chat/jinja_builtins.h"

#include "chat/template_error.h"

#include "core/platform.h"

#include <cctype>
#include <ctime>

namespace tenfold::jinja {

namespace {

bool isPySpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

const Value kNoValue;

Value compareOperand(const CallArgs& args, const char* test)
{
    if (!args.has(0, nullptr))
        throw ValueError(std::string("test '") + test + "' needs a value to compare with");
    return args.positional[0];
}

int compareValues(const Value& a, const Value& b)
{
    if (a.isNumber() && b.isNumber()) {
        double x = a.asDouble(), y = b.asDouble();
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.isString() && b.isString())
        return a.asString().compare(b.asString()) < 0 ? -1 : a.asString() == b.asString() ? 0 : 1;
    throw ValueError(std::string("cannot compare ") + a.typeName() + " with " + b.typeName());
}

bool containsValue(const Value& container, const Value& item)
{
    if (container.isString()) {
        if (!item.isString())
            throw ValueError("'in <string>' requires a string on the left");
        return container.asString().find(item.asString()) != std::string::npos;
    }
    if (container.isList()) {
        for (const Value& v : container.asList())
            if (v.equals(item))
                return true;
        return false;
    }
    if (container.isDict())
        return item.isString() && container.asDict().find(item.asString()) != nullptr;
    if (container.isUndefined() || container.isNone())
        return false;
    throw ValueError(std::string("argument of type '") + container.typeName() + "' is not iterable");
}

} // namespace

std::string pyStrip(const std::string& s, const Value& chars, bool left, bool right)
{
    auto strip = [&](unsigned char c) {
        if (chars.isString())
            return chars.asString().find(static_cast<char>(c)) != std::string::npos;
        return isPySpace(c);
    };
    size_t begin = 0, end = s.size();
    if (left)
        while (begin < end && strip(static_cast<unsigned char>(s[begin])))
            ++begin;
    if (right)
        while (end > begin && strip(static_cast<unsigned char>(s[end - 1])))
            --end;
    return s.substr(begin, end - begin);
}

ValueList pySplit(const std::string& s, const Value& separator, int64_t maxSplit)
{
    ValueList parts;
    if (!separator.isString()) {
        // Whitespace split: runs of whitespace separate, no empty parts.
        size_t i = 0;
        while (true) {
            while (i < s.size() && isPySpace(static_cast<unsigned char>(s[i])))
                ++i;
            if (i >= s.size())
                break;
            if (maxSplit >= 0 && static_cast<int64_t>(parts.size()) == maxSplit) {
                parts.emplace_back(pyStrip(s.substr(i), Value(), false, true));
                break;
            }
            size_t j = i;
            while (j < s.size() && !isPySpace(static_cast<unsigned char>(s[j])))
                ++j;
            parts.emplace_back(s.substr(i, j - i));
            i = j;
        }
        return parts;
    }
    const std::string& sep = separator.asString();
    if (sep.empty())
        throw ValueError("empty separator");
    size_t start = 0;
    while (true) {
        if (maxSplit >= 0 && static_cast<int64_t>(parts.size()) == maxSplit)
            break;
        size_t at = s.find(sep, start);
        if (at == std::string::npos)
            break;
        parts.emplace_back(s.substr(start, at - start));
        start = at + sep.size();
    }
    parts.emplace_back(s.substr(start));
    return parts;
}

bool hasTest(const std::string& name)
{
    static const char* const names[] = {"defined", "undefined", "none", "boolean", "false", "true", "integer",
                                        "float", "number", "string", "mapping", "iterable", "sequence",
                                        "callable", "equalto", "eq", "==", "ne", "!=", "lt", "<", "le", "<=",
                                        "gt", ">", "ge", ">=", "in", "odd", "even", "divisibleby", "sameas",
                                        "lower", "upper"};
    for (const char* n : names)
        if (name == n)
            return true;
    return false;
}

bool applyTest(const std::string& name, const Value& v, const CallArgs& args)
{
    if (name == "defined") return !v.isUndefined();
    if (name == "undefined") return v.isUndefined();
    if (name == "none") return v.isNone();
    if (name == "boolean") return v.isBool();
    if (name == "false") return v.isBool() && !v.truthy();
    if (name == "true") return v.isBool() && v.truthy();
    if (name == "integer") return v.isInt();
    if (name == "float") return v.isFloat();
    if (name == "number") return v.isNumber();
    if (name == "string") return v.isString();
    if (name == "mapping") return v.isDict();
    if (name == "iterable") return v.isList() || v.isDict() || v.isString();
    if (name == "sequence") return v.isList() || v.isDict() || v.isString();
    if (name == "callable") return v.isFunction();
    if (name == "equalto" || name == "eq" || name == "==") return v.equals(compareOperand(args, "equalto"));
    if (name == "ne" || name == "!=") return !v.equals(compareOperand(args, "ne"));
    if (name == "lt" || name == "<") return compareValues(v, compareOperand(args, "lt")) < 0;
    if (name == "le" || name == "<=") return compareValues(v, compareOperand(args, "le")) <= 0;
    if (name == "gt" || name == ">") return compareValues(v, compareOperand(args, "gt")) > 0;
    if (name == "ge" || name == ">=") return compareValues(v, compareOperand(args, "ge")) >= 0;
    if (name == "in") return containsValue(compareOperand(args, "in"), v);
    if (name == "odd") return v.asInt() % 2 != 0;
    if (name == "even") return v.asInt() % 2 == 0;
    if (name == "divisibleby") {
        int64_t d = compareOperand(args, "divisibleby").asInt();
        if (d == 0)
            throw ValueError("divisibleby(0)");
        return v.asInt() % d == 0;
    }
    if (name == "sameas") return v.sameAs(compareOperand(args, "sameas"));
    if (name == "lower" || name == "upper") {
        if (!v.isString())
            return false;
        for (unsigned char c : v.asString())
            if (name == "lower" ? std::isupper(c) : std::islower(c))
                return false;
        return true;
    }
    throw ValueError("unknown test '" + name + "'");
}

std::optional<Value> callMethod(const Value& object, const std::string& name, const CallArgs& args)
{
    if (object.isString()) {
        const std::string& s = object.asString();
        if (name == "strip") return Value(pyStrip(s, args.get(0, "chars", kNoValue), true, true));
        if (name == "lstrip") return Value(pyStrip(s, args.get(0, "chars", kNoValue), true, false));
        if (name == "rstrip") return Value(pyStrip(s, args.get(0, "chars", kNoValue), false, true));
        if (name == "upper" || name == "lower") {
            std::string out = s;
            for (char& c : out)
                c = static_cast<char>(name == "upper" ? std::toupper(static_cast<unsigned char>(c))
                                                      : std::tolower(static_cast<unsigned char>(c)));
            return Value(out);
        }
        if (name == "startswith" || name == "endswith") {
            const Value& arg = args.get(0, "prefix", kNoValue);
            ValueList candidates = arg.isList() ? arg.asList() : ValueList{arg};
            for (const Value& c : candidates) {
                const std::string& p = c.asString();
                bool match = name == "startswith"
                                 ? s.compare(0, p.size(), p) == 0
                                 : (s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0);
                if (match)
                    return Value(true);
            }
            return Value(false);
        }
        if (name == "split")
            return Value::list(pySplit(s, args.get(0, "sep", kNoValue), args.get(1, "maxsplit", Value(-1)).asInt()));
        if (name == "replace") {
            const std::string& from = args.get(0, "old", kNoValue).asString();
            const std::string& to = args.get(1, "new", kNoValue).asString();
            int64_t count = args.get(2, "count", Value(-1)).asInt();
            std::string out;
            size_t start = 0;
            int64_t done = 0;
            while (!from.empty() && (count < 0 || done < count)) {
                size_t at = s.find(from, start);
                if (at == std::string::npos)
                    break;
                out += s.substr(start, at - start) + to;
                start = at + from.size();
                ++done;
            }
            return Value(out + s.substr(start));
        }
        if (name == "find") {
            size_t at = s.find(args.get(0, "sub", kNoValue).asString());
            return Value(at == std::string::npos ? int64_t(-1) : static_cast<int64_t>(at));
        }
        if (name == "count") {
            const std::string& sub = args.get(0, "sub", kNoValue).asString();
            int64_t n = 0;
            for (size_t at = s.find(sub); !sub.empty() && at != std::string::npos; at = s.find(sub, at + sub.size()))
                ++n;
            return Value(n);
        }
        if (name == "join") {
            std::string out;
            bool first = true;
            for (const Value& v : args.get(0, "iterable", kNoValue).iterate()) {
                if (!first)
                    out += s;
                out += v.str();
                first = false;
            }
            return Value(out);
        }
        if (name == "title" || name == "capitalize") {
            std::string out = s;
            bool startOfWord = true;
            for (size_t i = 0; i < out.size(); ++i) {
                unsigned char c = static_cast<unsigned char>(out[i]);
                if (name == "capitalize")
                    out[i] = static_cast<char>(i == 0 ? std::toupper(c) : std::tolower(c));
                else {
                    out[i] = static_cast<char>(startOfWord ? std::toupper(c) : std::tolower(c));
                    startOfWord = !std::isalpha(c);
                }
            }
            return Value(out);
        }
        if (name == "splitlines") {
            ValueList lines;
            size_t start = 0;
            for (size_t i = 0; i < s.size(); ++i)
                if (s[i] == '\n') {
                    lines.emplace_back(s.substr(start, i - start));
                    start = i + 1;
                }
            if (start < s.size())
                lines.emplace_back(s.substr(start));
            return Value::list(std::move(lines));
        }
        return std::nullopt;
    }
    if (object.isDict()) {
        const ValueDict& d = object.asDict();
        if (name == "items") {
            ValueList items;
            for (const auto& [k, v] : d.items)
                items.push_back(Value::list({Value(k), v}));
            return Value::list(std::move(items));
        }
        if (name == "keys") {
            ValueList keys;
            for (const auto& [k, v] : d.items)
                keys.emplace_back(k);
            return Value::list(std::move(keys));
        }
        if (name == "values") {
            ValueList values;
            for (const auto& [k, v] : d.items)
                values.push_back(v);
            return Value::list(std::move(values));
        }
        if (name == "get") {
            const Value& key = args.get(0, "key", kNoValue);
            const Value* found = key.isString() ? d.find(key.asString()) : nullptr;
            return found ? *found : args.get(1, "default", Value::none());
        }
        return std::nullopt;
    }
    if (object.isList()) {
        ValueList& l = object.asList();
        if (name == "append") {
            if (l.size() >= kMaxListItems)
                throw ValueError("list longer than " + std::to_string(kMaxListItems) + " items");
            l.push_back(args.get(0, "object", kNoValue));
            return Value::none();
        }
        if (name == "pop") {
            if (l.empty())
                throw ValueError("pop from empty list");
            int64_t i = args.get(0, "index", Value(-1)).asInt();
            if (i < 0)
                i += static_cast<int64_t>(l.size());
            if (i < 0 || i >= static_cast<int64_t>(l.size()))
                throw ValueError("pop index out of range");
            Value v = l[static_cast<size_t>(i)];
            l.erase(l.begin() + i);
            return v;
        }
        if (name == "index") {
            const Value& needle = args.get(0, "value", kNoValue);
            for (size_t i = 0; i < l.size(); ++i)
                if (l[i].equals(needle))
                    return Value(static_cast<int64_t>(i));
            throw ValueError(needle.repr() + " is not in list");
        }
        return std::nullopt;
    }
    return std::nullopt;
}

ValueDict globalFunctions()
{
    ValueDict g;
    g.set("range", Value::function([](const CallArgs& args) {
        int64_t start = 0, stop = 0, step = 1;
        if (args.positional.size() == 1) {
            stop = args.positional[0].asInt();
        } else if (args.positional.size() >= 2) {
            start = args.positional[0].asInt();
            stop = args.positional[1].asInt();
            if (args.positional.size() >= 3)
                step = args.positional[2].asInt();
        } else {
            throw ValueError("range() needs at least one argument");
        }
        if (step == 0)
            throw ValueError("range() step must not be zero");
        ValueList out;
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
            out.emplace_back(i);
            if (out.size() > kMaxListItems)
                throw ValueError("range() too large");
        }
        return Value::list(std::move(out));
    }));
    g.set("namespace", Value::function([](const CallArgs& args) {
        ValueDict d;
        for (const Value& p : args.positional)
            if (p.isDict())
                for (const auto& [k, v] : p.asDict().items)
                    d.set(k, v);
        for (const auto& [k, v] : args.named)
            d.set(k, v);
        return Value::dict(std::move(d));
    }));
    g.set("dict", Value::function([](const CallArgs& args) {
        ValueDict d;
        for (const auto& [k, v] : args.named)
            d.set(k, v);
        return Value::dict(std::move(d));
    }));
    g.set("raise_exception", Value::function([](const CallArgs& args) -> Value {
        std::string message = args.positional.empty() ? std::string("template raised an exception")
                                                      : args.positional[0].str();
        throw TemplateRaisedError(message, args.line, args.column);
    }));
    g.set("strftime_now", Value::function([](const CallArgs& args) {
        std::string format = args.get(0, "format", Value("%Y-%m-%d")).str();
        std::time_t now = std::time(nullptr);
        std::tm local{};
        platform::localTime(now, local);
        char buf[256];
        size_t n = std::strftime(buf, sizeof buf, format.c_str(), &local);
        return Value(std::string(buf, n));
    }));
    return g;
}

} // namespace tenfold::jinja
