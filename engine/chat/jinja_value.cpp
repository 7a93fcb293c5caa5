#include "chat/jinja_value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace tenfold::jinja {

const Value* ValueDict::find(const std::string& key) const
{
    for (const auto& [k, v] : items)
        if (k == key)
            return &v;
    return nullptr;
}

Value* ValueDict::find(const std::string& key)
{
    for (auto& [k, v] : items)
        if (k == key)
            return &v;
    return nullptr;
}

void ValueDict::set(const std::string& key, Value value)
{
    if (Value* existing = find(key))
        *existing = std::move(value);
    else
        items.emplace_back(key, std::move(value));
}

const Value& CallArgs::get(size_t index, const char* name, const Value& fallback) const
{
    if (index < positional.size())
        return positional[index];
    if (name)
        for (const auto& [k, v] : named)
            if (k == name)
                return v;
    return fallback;
}

bool CallArgs::has(size_t index, const char* name) const
{
    if (index < positional.size())
        return true;
    if (name)
        for (const auto& [k, v] : named)
            if (k == name)
                return true;
    return false;
}

Value Value::none()
{
    Value v;
    v.kind_ = Kind::None;
    return v;
}

Value Value::list(ValueList items)
{
    Value v;
    v.kind_ = Kind::List;
    v.list_ = std::make_shared<ValueList>(std::move(items));
    return v;
}

Value Value::dict(ValueDict items)
{
    Value v;
    v.kind_ = Kind::Dict;
    v.dict_ = std::make_shared<ValueDict>(std::move(items));
    return v;
}

Value Value::function(Function fn)
{
    Value v;
    v.kind_ = Kind::Function;
    v.function_ = std::make_shared<Function>(std::move(fn));
    return v;
}

bool Value::truthy() const
{
    switch (kind_) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool:
    case Kind::Int: return int_ != 0;
    case Kind::Float: return float_ != 0.0;
    case Kind::String: return !string_->empty();
    case Kind::List: return !list_->empty();
    case Kind::Dict: return !dict_->items.empty();
    case Kind::Function: return true;
    }
    return false;
}

int64_t Value::asInt() const
{
    if (kind_ == Kind::Int || kind_ == Kind::Bool)
        return int_;
    if (kind_ == Kind::Float)
        return static_cast<int64_t>(float_);
    throw ValueError(std::string("expected a number, got ") + typeName());
}

double Value::asDouble() const
{
    if (kind_ == Kind::Int || kind_ == Kind::Bool)
        return static_cast<double>(int_);
    if (kind_ == Kind::Float)
        return float_;
    throw ValueError(std::string("expected a number, got ") + typeName());
}

const std::string& Value::asString() const
{
    if (kind_ != Kind::String)
        throw ValueError(std::string("expected a string, got ") + typeName());
    return *string_;
}

ValueList& Value::asList() const
{
    if (kind_ != Kind::List)
        throw ValueError(std::string("expected a list, got ") + typeName());
    return *list_;
}

ValueDict& Value::asDict() const
{
    if (kind_ != Kind::Dict)
        throw ValueError(std::string("expected a mapping, got ") + typeName());
    return *dict_;
}

const Function& Value::asFunction() const
{
    if (kind_ != Kind::Function)
        throw ValueError(std::string("'") + typeName() + "' object is not callable");
    return *function_;
}

const char* Value::typeName() const
{
    switch (kind_) {
    case Kind::Undefined: return "undefined";
    case Kind::None: return "none";
    case Kind::Bool: return "boolean";
    case Kind::Int: return "integer";
    case Kind::Float: return "float";
    case Kind::String: return "string";
    case Kind::List: return "list";
    case Kind::Dict: return "mapping";
    case Kind::Function: return "function";
    }
    return "?";
}

std::string formatFloat(double d)
{
    if (std::isnan(d))
        return "nan";
    if (std::isinf(d))
        return d < 0 ? "-inf" : "inf";
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    std::string s(buf, end);
    if (s.find_first_of(".eEn") == std::string::npos)
        s += ".0";
    return s;
}

namespace {

std::string quotePython(const std::string& s)
{
    // Python prefers single quotes unless the text contains one and no double quote.
    char quote = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
    std::string out(1, quote);
    for (unsigned char c : s) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c == static_cast<unsigned char>(quote)) {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += quote;
    return out;
}

} // namespace

std::string Value::str() const
{
    switch (kind_) {
    case Kind::Undefined: return {};
    case Kind::String: return *string_;
    default: return repr();
    }
}

std::string Value::repr() const
{
    std::string out;
    appendRepr(out, 0);
    return out;
}

void checkValueDepth(int depth)
{
    if (depth > kMaxValueDepth)
        throw ValueError("value nested more than " + std::to_string(kMaxValueDepth) +
                         " levels deep (a list or dict that contains itself?)");
}

void checkTextSize(size_t bytes)
{
    if (bytes > kMaxTextBytes)
        throw ValueError("text longer than " + std::to_string(kMaxTextBytes >> 20) + " MiB");
}

void Value::appendRepr(std::string& out, int depth) const
{
    checkValueDepth(depth);
    switch (kind_) {
    case Kind::Undefined: break;
    case Kind::None: out += "None"; break;
    case Kind::Bool: out += int_ ? "True" : "False"; break;
    case Kind::Int: out += std::to_string(int_); break;
    case Kind::Float: out += formatFloat(float_); break;
    case Kind::String: out += quotePython(*string_); break;
    case Kind::List:
        out += '[';
        for (size_t i = 0; i < list_->size(); ++i) {
            if (i)
                out += ", ";
            (*list_)[i].appendRepr(out, depth + 1);
            checkTextSize(out.size());
        }
        out += ']';
        break;
    case Kind::Dict:
        out += '{';
        for (size_t i = 0; i < dict_->items.size(); ++i) {
            if (i)
                out += ", ";
            out += quotePython(dict_->items[i].first);
            out += ": ";
            dict_->items[i].second.appendRepr(out, depth + 1);
            checkTextSize(out.size());
        }
        out += '}';
        break;
    case Kind::Function: out += "<function>"; break;
    }
    checkTextSize(out.size());
}

bool Value::equals(const Value& other) const
{
    uint64_t steps = 0;
    return equalsAt(other, 0, steps);
}

bool Value::equalsAt(const Value& other, int depth, uint64_t& steps) const
{
    checkValueDepth(depth);
    if (++steps > kMaxCompareSteps)
        throw ValueError("comparison visits more than " + std::to_string(kMaxCompareSteps) + " elements");
    if (isNumber() && other.isNumber()) {
        if ((isFloat() || other.isFloat()))
            return asDouble() == other.asDouble();
        return int_ == other.int_;
    }
    if (kind_ != other.kind_)
        return false;
    switch (kind_) {
    case Kind::Undefined:
    case Kind::None: return true;
    case Kind::String: return *string_ == *other.string_;
    case Kind::List: {
        if (list_->size() != other.list_->size())
            return false;
        for (size_t i = 0; i < list_->size(); ++i)
            if (!(*list_)[i].equalsAt((*other.list_)[i], depth + 1, steps))
                return false;
        return true;
    }
    case Kind::Dict: {
        if (dict_->items.size() != other.dict_->items.size())
            return false;
        for (const auto& [k, v] : dict_->items) {
            const Value* o = other.dict_->find(k);
            if (!o || !v.equalsAt(*o, depth + 1, steps))
                return false;
        }
        return true;
    }
    case Kind::Function: return function_ == other.function_;
    default: return false;
    }
}

bool Value::sameAs(const Value& other) const
{
    if (kind_ != other.kind_)
        return false;
    switch (kind_) {
    case Kind::List: return list_ == other.list_;
    case Kind::Dict: return dict_ == other.dict_;
    case Kind::Function: return function_ == other.function_;
    default: return equals(other);
    }
}

Value Value::item(const Value& key) const
{
    switch (kind_) {
    case Kind::List: {
        if (!key.isInt() && !key.isBool())
            return Value();
        int64_t i = key.asInt();
        int64_t n = static_cast<int64_t>(list_->size());
        if (i < 0)
            i += n;
        if (i < 0 || i >= n)
            return Value();
        return (*list_)[static_cast<size_t>(i)];
    }
    case Kind::String: {
        if (!key.isInt())
            return Value();
        int64_t i = key.asInt();
        int64_t n = static_cast<int64_t>(string_->size());
        if (i < 0)
            i += n;
        if (i < 0 || i >= n)
            return Value();
        return Value(std::string(1, (*string_)[static_cast<size_t>(i)]));
    }
    case Kind::Dict: {
        const Value* v = dict_->find(key.isString() ? key.asString() : key.str());
        return v ? *v : Value();
    }
    default: return Value();
    }
}

Value Value::attribute(const std::string& name) const
{
    if (kind_ == Kind::Dict) {
        const Value* v = dict_->find(name);
        return v ? *v : Value();
    }
    return Value();
}

ValueList Value::iterate() const
{
    switch (kind_) {
    case Kind::List: return *list_;
    case Kind::Dict: {
        ValueList keys;
        for (const auto& [k, v] : dict_->items)
            keys.emplace_back(k);
        return keys;
    }
    case Kind::String: {
        ValueList chars;
        const std::string& s = *string_;
        for (size_t i = 0; i < s.size();) {
            size_t len = 1;
            unsigned char c = static_cast<unsigned char>(s[i]);
            if (c >= 0xF0) len = 4;
            else if (c >= 0xE0) len = 3;
            else if (c >= 0xC0) len = 2;
            chars.emplace_back(s.substr(i, len));
            i += len;
        }
        return chars;
    }
    case Kind::Undefined:
    case Kind::None: return {};
    default: throw ValueError(std::string("'") + typeName() + "' object is not iterable");
    }
}

size_t Value::length() const
{
    switch (kind_) {
    case Kind::List: return list_->size();
    case Kind::Dict: return dict_->items.size();
    case Kind::String: {
        size_t n = 0;
        for (unsigned char c : *string_)
            if ((c & 0xC0) != 0x80)
                ++n;
        return n;
    }
    case Kind::Undefined: return 0;
    default: throw ValueError(std::string("object of type '") + typeName() + "' has no length");
    }
}

} // namespace tenfold::jinja
