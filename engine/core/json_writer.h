#pragma once
// A one-line JSON object writer for flat reports (numbers, integers, booleans, strings, nested
// objects written by another JsonObject). The engine has no JSON library; reports that end up in
// the database or on stdout need no more than this.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace tenfold {

inline void appendJsonString(std::string& out, std::string_view s)
{
    out += '"';
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += char(c); // UTF-8 passes through unchanged
        }
    }
    out += '"';
}

class JsonObject {
public:
    JsonObject& number(std::string_view k, double v)
    {
        key(k);
        if (!std::isfinite(v)) { // JSON has no NaN or infinity
            out_ += "null";
            return *this;
        }
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.10g", v);
        out_ += buf;
        return *this;
    }
    JsonObject& integer(std::string_view k, int64_t v)
    {
        key(k);
        out_ += std::to_string(v);
        return *this;
    }
    JsonObject& boolean(std::string_view k, bool v)
    {
        key(k);
        out_ += v ? "true" : "false";
        return *this;
    }
    JsonObject& text(std::string_view k, std::string_view v)
    {
        key(k);
        appendJsonString(out_, v);
        return *this;
    }
    JsonObject& object(std::string_view k, const JsonObject& v)
    {
        key(k);
        out_ += v.str();
        return *this;
    }
    std::string str() const { return out_ + "}"; }

private:
    void key(std::string_view k)
    {
        if (out_.size() > 1)
            out_ += ", ";
        appendJsonString(out_, k);
        out_ += ": ";
    }
    std::string out_ = "{";
};

} // namespace tenfold
