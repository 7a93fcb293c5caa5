// Filters available to templates (`value | name(arguments)`), with Jinja2's argument names.
#include "chat/jinja_builtins.h"
#include "chat/jinja_json.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace tenfold::jinja {

namespace {

const Value kNoValue;

using FilterFn = Value (*)(const Value&, const CallArgs&);

// attribute="a.b" looks up nested attributes, "0" an index.
Value lookupAttribute(const Value& v, const std::string& path)
{
    Value current = v;
    size_t start = 0;
    while (start <= path.size()) {
        size_t dot = path.find('.', start);
        std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (!part.empty() && std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c); }))
            current = current.item(Value(static_cast<int64_t>(std::stoll(part))));
        else
            current = current.attribute(part);
        if (dot == std::string::npos)
            break;
        start = dot + 1;
    }
    return current;
}

// Arguments after the first `skip` positional ones, for the test a select/reject filter calls.
CallArgs restArguments(const CallArgs& args, size_t skip)
{
    CallArgs rest;
    rest.line = args.line;
    rest.column = args.column;
    for (size_t i = skip; i < args.positional.size(); ++i)
        rest.positional.push_back(args.positional[i]);
    rest.named = args.named;
    return rest;
}

Value selectOrReject(const Value& v, const CallArgs& args, bool select, bool byAttribute)
{
    size_t testIndex = byAttribute ? 1 : 0;
    std::string attribute = byAttribute ? args.get(0, "attribute", kNoValue).asString() : std::string();
    bool haveTest = args.positional.size() > testIndex;
    std::string test = haveTest ? args.positional[testIndex].asString() : std::string();
    CallArgs testArgs = restArguments(args, testIndex + 1);
    ValueList out;
    for (const Value& item : v.iterate()) {
        Value subject = byAttribute ? lookupAttribute(item, attribute) : item;
        bool pass = haveTest ? applyTest(test, subject, testArgs) : subject.truthy();
        if (pass == select)
            out.push_back(item);
    }
    return Value::list(std::move(out));
}

std::string htmlEscape(const std::string& s)
{
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

int sortCompare(const Value& a, const Value& b, bool caseSensitive)
{
    if (a.isString() && b.isString() && !caseSensitive) {
        std::string x = a.asString(), y = b.asString();
        for (char& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (char& c : y) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return x.compare(y);
    }
    if (a.isNumber() && b.isNumber())
        return a.asDouble() < b.asDouble() ? -1 : a.asDouble() > b.asDouble() ? 1 : 0;
    if (a.isString() && b.isString())
        return a.asString().compare(b.asString());
    throw ValueError(std::string("cannot sort ") + a.typeName() + " with " + b.typeName());
}

Value filterTrim(const Value& v, const CallArgs& a) { return Value(pyStrip(v.str(), a.get(0, "chars", kNoValue), true, true)); }
Value filterLength(const Value& v, const CallArgs&) { return Value(static_cast<int64_t>(v.length())); }
Value filterUpper(const Value& v, const CallArgs& a) { return *callMethod(Value(v.str()), "upper", a); }
Value filterLower(const Value& v, const CallArgs& a) { return *callMethod(Value(v.str()), "lower", a); }
Value filterCapitalize(const Value& v, const CallArgs& a) { return *callMethod(Value(v.str()), "capitalize", a); }
Value filterTitle(const Value& v, const CallArgs& a) { return *callMethod(Value(v.str()), "title", a); }
Value filterString(const Value& v, const CallArgs&) { return Value(v.str()); }
Value filterSafe(const Value& v, const CallArgs&) { return v; }
Value filterEscape(const Value& v, const CallArgs&) { return Value(htmlEscape(v.str())); }

Value filterToJson(const Value& v, const CallArgs& a)
{
    const Value& indent = a.get(0, "indent", kNoValue);
    return Value(toJson(v, indent.isNumber() ? static_cast<int>(indent.asInt()) : -1));
}

Value filterDefault(const Value& v, const CallArgs& a)
{
    bool boolean = a.get(1, "boolean", Value(false)).truthy();
    if (v.isUndefined() || (boolean && !v.truthy()))
        return a.get(0, "default_value", Value(""));
    return v;
}

Value filterJoin(const Value& v, const CallArgs& a)
{
    std::string sep = a.get(0, "d", Value("")).str();
    const Value& attribute = a.get(1, "attribute", kNoValue);
    std::string out;
    bool first = true;
    for (const Value& item : v.iterate()) {
        if (!first)
            out += sep;
        out += (attribute.isString() ? lookupAttribute(item, attribute.asString()) : item).str();
        first = false;
    }
    return Value(out);
}

Value filterFirst(const Value& v, const CallArgs&)
{
    ValueList items = v.iterate();
    return items.empty() ? Value() : items.front();
}

Value filterLast(const Value& v, const CallArgs&)
{
    ValueList items = v.iterate();
    return items.empty() ? Value() : items.back();
}

Value filterReplace(const Value& v, const CallArgs& a)
{
    CallArgs m;
    m.positional = {a.get(0, "old", kNoValue), a.get(1, "new", kNoValue), a.get(2, "count", Value(-1))};
    return *callMethod(Value(v.str()), "replace", m);
}

Value filterItems(const Value& v, const CallArgs& a)
{
    if (v.isUndefined())
        return Value::list();
    if (!v.isDict())
        throw ValueError(std::string("items filter needs a mapping, got ") + v.typeName());
    return *callMethod(v, "items", a);
}

Value filterList(const Value& v, const CallArgs&) { return Value::list(v.iterate()); }

Value filterInt(const Value& v, const CallArgs& a)
{
    if (v.isNumber())
        return Value(v.asInt());
    if (v.isString()) {
        try {
            size_t used = 0;
            std::string s = pyStrip(v.asString(), kNoValue, true, true);
            int64_t i = std::stoll(s, &used);
            if (used == s.size())
                return Value(i);
            return Value(static_cast<int64_t>(std::stod(s)));
        } catch (const std::exception&) {
        }
    }
    return a.get(0, "default", Value(int64_t(0)));
}

Value filterFloat(const Value& v, const CallArgs& a)
{
    if (v.isNumber())
        return Value(v.asDouble());
    if (v.isString()) {
        try {
            return Value(std::stod(v.asString()));
        } catch (const std::exception&) {
        }
    }
    return a.get(0, "default", Value(0.0));
}

Value filterAbs(const Value& v, const CallArgs&)
{
    if (v.isInt())
        return Value(v.asInt() < 0 ? -v.asInt() : v.asInt());
    return Value(std::fabs(v.asDouble()));
}

Value filterRound(const Value& v, const CallArgs& a)
{
    int64_t precision = a.get(0, "precision", Value(int64_t(0))).asInt();
    std::string method = a.get(1, "method", Value("common")).str();
    double scale = std::pow(10.0, static_cast<double>(precision));
    double x = v.asDouble() * scale;
    x = method == "ceil" ? std::ceil(x) : method == "floor" ? std::floor(x) : std::round(x);
    return Value(x / scale);
}

Value filterReverse(const Value& v, const CallArgs&)
{
    if (v.isString()) {
        ValueList chars = v.iterate();
        std::string out;
        for (auto it = chars.rbegin(); it != chars.rend(); ++it)
            out += it->asString();
        return Value(out);
    }
    ValueList items = v.iterate();
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
}

Value filterSort(const Value& v, const CallArgs& a)
{
    bool reverse = a.get(0, "reverse", Value(false)).truthy();
    bool caseSensitive = a.get(1, "case_sensitive", Value(false)).truthy();
    const Value& attribute = a.get(2, "attribute", kNoValue);
    ValueList items = v.iterate();
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
        Value kx = attribute.isString() ? lookupAttribute(x, attribute.asString()) : x;
        Value ky = attribute.isString() ? lookupAttribute(y, attribute.asString()) : y;
        int c = sortCompare(kx, ky, caseSensitive);
        return reverse ? c > 0 : c < 0;
    });
    return Value::list(std::move(items));
}

Value filterUnique(const Value& v, const CallArgs&)
{
    ValueList out;
    for (const Value& item : v.iterate())
        if (std::none_of(out.begin(), out.end(), [&](const Value& o) { return o.equals(item); }))
            out.push_back(item);
    return Value::list(std::move(out));
}

Value filterMap(const Value& v, const CallArgs& a)
{
    ValueList out;
    const Value& attribute = a.get(99, "attribute", kNoValue);
    if (attribute.isString()) {
        const Value& fallback = a.get(99, "default", kNoValue);
        for (const Value& item : v.iterate()) {
            Value x = lookupAttribute(item, attribute.asString());
            out.push_back(x.isUndefined() ? fallback : x);
        }
        return Value::list(std::move(out));
    }
    if (a.positional.empty())
        throw ValueError("map needs a filter name or attribute=");
    std::string filter = a.positional[0].asString();
    CallArgs rest = restArguments(a, 1);
    for (const Value& item : v.iterate())
        out.push_back(applyFilter(filter, item, rest));
    return Value::list(std::move(out));
}

Value filterSelect(const Value& v, const CallArgs& a) { return selectOrReject(v, a, true, false); }
Value filterReject(const Value& v, const CallArgs& a) { return selectOrReject(v, a, false, false); }
Value filterSelectAttr(const Value& v, const CallArgs& a) { return selectOrReject(v, a, true, true); }
Value filterRejectAttr(const Value& v, const CallArgs& a) { return selectOrReject(v, a, false, true); }

Value filterDictSort(const Value& v, const CallArgs& a)
{
    bool caseSensitive = a.get(0, "case_sensitive", Value(false)).truthy();
    std::string by = a.get(1, "by", Value("key")).str();
    bool reverse = a.get(2, "reverse", Value(false)).truthy();
    ValueList items = callMethod(v, "items", a).value_or(Value::list()).asList();
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
        size_t k = by == "value" ? 1 : 0;
        int c = sortCompare(x.asList()[k], y.asList()[k], caseSensitive);
        return reverse ? c > 0 : c < 0;
    });
    return Value::list(std::move(items));
}

Value filterMinMax(const Value& v, const CallArgs& a, bool wantMax)
{
    ValueList items = v.iterate();
    if (items.empty())
        return Value();
    bool caseSensitive = a.get(0, "case_sensitive", Value(false)).truthy();
    const Value& attribute = a.get(1, "attribute", kNoValue);
    Value best = items.front();
    for (const Value& item : items) {
        Value kx = attribute.isString() ? lookupAttribute(item, attribute.asString()) : item;
        Value kb = attribute.isString() ? lookupAttribute(best, attribute.asString()) : best;
        int c = sortCompare(kx, kb, caseSensitive);
        if (wantMax ? c > 0 : c < 0)
            best = item;
    }
    return best;
}
Value filterMin(const Value& v, const CallArgs& a) { return filterMinMax(v, a, false); }
Value filterMax(const Value& v, const CallArgs& a) { return filterMinMax(v, a, true); }

Value filterSum(const Value& v, const CallArgs& a)
{
    const Value& attribute = a.get(0, "attribute", kNoValue);
    Value total = a.get(1, "start", Value(int64_t(0)));
    for (const Value& item : v.iterate()) {
        Value x = attribute.isString() ? lookupAttribute(item, attribute.asString()) : item;
        if (total.isInt() && x.isInt())
            total = Value(total.asInt() + x.asInt());
        else
            total = Value(total.asDouble() + x.asDouble());
    }
    return total;
}

Value filterIndent(const Value& v, const CallArgs& a)
{
    const Value& width = a.get(0, "width", Value(int64_t(4)));
    std::string pad = width.isString() ? width.asString() : std::string(static_cast<size_t>(width.asInt()), ' ');
    bool first = a.get(1, "first", Value(false)).truthy();
    bool blank = a.get(2, "blank", Value(false)).truthy();
    std::string s = v.str();
    std::string out;
    size_t start = 0;
    bool isFirst = true;
    while (true) {
        size_t nl = s.find('\n', start);
        std::string line = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        bool indentThis = (!isFirst || first) && (blank || !pyStrip(line, kNoValue, true, true).empty());
        out += (indentThis ? pad : "") + line;
        if (nl == std::string::npos)
            break;
        out += '\n';
        start = nl + 1;
        isFirst = false;
    }
    return Value(out);
}

Value filterWordCount(const Value& v, const CallArgs&)
{
    return Value(static_cast<int64_t>(pySplit(v.str(), kNoValue, -1).size()));
}

struct FilterEntry {
    const char* name;
    FilterFn fn;
};

const FilterEntry kFilters[] = {
    {"trim", filterTrim},         {"strip", filterTrim},        {"length", filterLength},
    {"count", filterLength},      {"upper", filterUpper},       {"lower", filterLower},
    {"capitalize", filterCapitalize}, {"title", filterTitle},   {"string", filterString},
    {"safe", filterSafe},         {"escape", filterEscape},     {"e", filterEscape},
    {"tojson", filterToJson},     {"default", filterDefault},   {"d", filterDefault},
    {"join", filterJoin},         {"first", filterFirst},       {"last", filterLast},
    {"replace", filterReplace},   {"items", filterItems},       {"list", filterList},
    {"int", filterInt},           {"float", filterFloat},       {"abs", filterAbs},
    {"round", filterRound},       {"reverse", filterReverse},   {"sort", filterSort},
    {"unique", filterUnique},     {"map", filterMap},           {"select", filterSelect},
    {"reject", filterReject},     {"selectattr", filterSelectAttr}, {"rejectattr", filterRejectAttr},
    {"dictsort", filterDictSort}, {"min", filterMin},           {"max", filterMax},
    {"sum", filterSum},           {"indent", filterIndent},     {"wordcount", filterWordCount},
};

FilterFn findFilter(const std::string& name)
{
    for (const FilterEntry& f : kFilters)
        if (name == f.name)
            return f.fn;
    return nullptr;
}

} // namespace

bool hasFilter(const std::string& name) { return findFilter(name) != nullptr; }

Value applyFilter(const std::string& name, const Value& input, const CallArgs& args)
{
    FilterFn fn = findFilter(name);
    if (!fn)
        throw ValueError("unknown filter '" + name + "'");
    return fn(input, args);
}

} // namespace tenfold::jinja
