#include "chat/jinja_json.h"

#include "core/utf8.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace tenfold::jinja {

namespace {

void appendJsonString(std::string& out, const std::string& s)
{
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

void writeJson(std::string& out, const Value& v, int indent, int depth)
{
    checkValueDepth(depth);
    checkTextSize(out.size());
    auto newline = [&](int level) {
        const size_t pad = static_cast<size_t>(indent) * static_cast<size_t>(level);
        checkTextSize(out.size() + 1 + pad);
        out += '\n';
        out.append(pad, ' ');
    };
    switch (v.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None: out += "null"; break;
    case Value::Kind::Bool: out += v.truthy() ? "true" : "false"; break;
    case Value::Kind::Int: out += std::to_string(v.asInt()); break;
    case Value::Kind::Float: {
        std::string f = formatFloat(v.asDouble());
        out += f == "nan" ? "NaN" : f == "inf" ? "Infinity" : f == "-inf" ? "-Infinity" : f;
        break;
    }
    case Value::Kind::String: appendJsonString(out, v.asString()); break;
    case Value::Kind::List: {
        const ValueList& items = v.asList();
        if (items.empty()) {
            out += "[]";
            break;
        }
        out += '[';
        for (size_t i = 0; i < items.size(); ++i) {
            if (i)
                out += indent >= 0 ? "," : ", ";
            if (indent >= 0)
                newline(depth + 1);
            writeJson(out, items[i], indent, depth + 1);
            checkTextSize(out.size());
        }
        if (indent >= 0)
            newline(depth);
        out += ']';
        break;
    }
    case Value::Kind::Dict: {
        const ValueDict& d = v.asDict();
        if (d.items.empty()) {
            out += "{}";
            break;
        }
        out += '{';
        for (size_t i = 0; i < d.items.size(); ++i) {
            if (i)
                out += indent >= 0 ? "," : ", ";
            if (indent >= 0)
                newline(depth + 1);
            appendJsonString(out, d.items[i].first);
            out += ": ";
            writeJson(out, d.items[i].second, indent, depth + 1);
            checkTextSize(out.size());
        }
        if (indent >= 0)
            newline(depth);
        out += '}';
        break;
    }
    case Value::Kind::Function: throw ValueError("a function cannot be converted to JSON");
    }
}

class JsonParser {
public:
    explicit JsonParser(const std::string& text) : s_(text) {}

    Value parseDocument()
    {
        Value v = parseValue();
        skipSpace();
        if (i_ != s_.size())
            fail("unexpected text after the JSON value");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& problem) const
    {
        throw ValueError("invalid JSON at byte " + std::to_string(i_) + ": " + problem);
    }

    void skipSpace()
    {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_])))
            ++i_;
    }

    bool consume(const char* word)
    {
        size_t n = std::char_traits<char>::length(word);
        if (s_.compare(i_, n, word) == 0) {
            i_ += n;
            return true;
        }
        return false;
    }

    Value parseValue()
    {
        // Nesting bound: recursion depth must not be decided by the input.
        struct Depth {
            int& d;
            explicit Depth(int& depth) : d(depth) { ++d; }
            ~Depth() { --d; }
        } depth(depth_);
        if (depth_ > 256)
            fail("nested too deeply");
        skipSpace();
        if (i_ >= s_.size())
            fail("unexpected end of input");
        char c = s_[i_];
        if (c == '{') {
            ++i_;
            ValueDict d;
            skipSpace();
            if (i_ < s_.size() && s_[i_] == '}') {
                ++i_;
                return Value::dict(std::move(d));
            }
            while (true) {
                skipSpace();
                if (i_ >= s_.size() || s_[i_] != '"')
                    fail("expected a string key");
                std::string key = parseString();
                skipSpace();
                if (i_ >= s_.size() || s_[i_] != ':')
                    fail("expected ':'");
                ++i_;
                d.set(key, parseValue());
                skipSpace();
                if (i_ < s_.size() && s_[i_] == ',') {
                    ++i_;
                    continue;
                }
                if (i_ < s_.size() && s_[i_] == '}') {
                    ++i_;
                    return Value::dict(std::move(d));
                }
                fail("expected ',' or '}'");
            }
        }
        if (c == '[') {
            ++i_;
            ValueList items;
            skipSpace();
            if (i_ < s_.size() && s_[i_] == ']') {
                ++i_;
                return Value::list(std::move(items));
            }
            while (true) {
                items.push_back(parseValue());
                skipSpace();
                if (i_ < s_.size() && s_[i_] == ',') {
                    ++i_;
                    continue;
                }
                if (i_ < s_.size() && s_[i_] == ']') {
                    ++i_;
                    return Value::list(std::move(items));
                }
                fail("expected ',' or ']'");
            }
        }
        if (c == '"')
            return Value(parseString());
        if (consume("true"))
            return Value(true);
        if (consume("false"))
            return Value(false);
        if (consume("null"))
            return Value::none();
        if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
            size_t start = i_;
            bool isFloat = false;
            if (s_[i_] == '-')
                ++i_;
            while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
                                      s_[i_] == 'e' || s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-')) {
                if (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')
                    isFloat = true;
                ++i_;
            }
            std::string number = s_.substr(start, i_ - start);
            if (isFloat)
                return Value(std::strtod(number.c_str(), nullptr));
            return Value(static_cast<int64_t>(std::strtoll(number.c_str(), nullptr, 10)));
        }
        fail(std::string("unexpected character '") + c + "'");
    }

    uint32_t parseHex4()
    {
        if (i_ + 4 > s_.size())
            fail("truncated \\u escape");
        uint32_t cp = 0;
        for (int k = 0; k < 4; ++k) {
            char h = s_[i_++];
            cp <<= 4;
            if (h >= '0' && h <= '9') cp |= static_cast<uint32_t>(h - '0');
            else if (h >= 'a' && h <= 'f') cp |= static_cast<uint32_t>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') cp |= static_cast<uint32_t>(h - 'A' + 10);
            else fail("bad hex digit in \\u escape");
        }
        return cp;
    }

    std::string parseString()
    {
        ++i_; // opening quote
        std::string out;
        while (true) {
            if (i_ >= s_.size())
                fail("unterminated string");
            char c = s_[i_++];
            if (c == '"')
                return out;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= s_.size())
                fail("unterminated escape");
            char e = s_[i_++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                uint32_t cp = parseHex4();
                if (cp >= 0xD800 && cp < 0xDC00 && s_.compare(i_, 2, "\\u") == 0) {
                    i_ += 2;
                    uint32_t low = parseHex4();
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                appendUtf8(out, cp);
                break;
            }
            default: fail(std::string("bad escape '\\") + e + "'");
            }
        }
    }

    const std::string& s_;
    size_t i_ = 0;
    int depth_ = 0;
};

} // namespace

std::string toJson(const Value& value, int indent)
{
    std::string out;
    writeJson(out, value, indent, 0);
    return out;
}

Value parseJson(const std::string& text) { return JsonParser(text).parseDocument(); }

} // namespace tenfold::jinja
