#include "gguf/gguf_value.h"

#include "core/error.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace tenfold {

const char* ggufValueTypeName(GGUFValueType t)
{
    switch (t) {
    case GGUFValueType::UInt8: return "uint8";
    case GGUFValueType::Int8: return "int8";
    case GGUFValueType::UInt16: return "uint16";
    case GGUFValueType::Int16: return "int16";
    case GGUFValueType::UInt32: return "uint32";
    case GGUFValueType::Int32: return "int32";
    case GGUFValueType::Float32: return "float32";
    case GGUFValueType::Bool: return "bool";
    case GGUFValueType::String: return "string";
    case GGUFValueType::Array: return "array";
    case GGUFValueType::UInt64: return "uint64";
    case GGUFValueType::Int64: return "int64";
    case GGUFValueType::Float64: return "float64";
    }
    return "unknown";
}

namespace {

bool isUnsignedType(GGUFValueType t)
{
    return t == GGUFValueType::UInt8 || t == GGUFValueType::UInt16 || t == GGUFValueType::UInt32 ||
           t == GGUFValueType::UInt64;
}

bool isSignedType(GGUFValueType t)
{
    return t == GGUFValueType::Int8 || t == GGUFValueType::Int16 || t == GGUFValueType::Int32 ||
           t == GGUFValueType::Int64;
}

[[noreturn]] void mismatch(GGUFValueType have, const char* wanted)
{
    throw InvalidArgument(std::string("GGUF value of type ") + ggufValueTypeName(have) +
                          " used as " + wanted);
}

} // namespace

GGUFValue GGUFValue::array(GGUFValueType elementType, std::vector<GGUFValue> items)
{
    // A mixed array cannot be written: GGUF stores one element type per array.
    for (size_t i = 0; i < items.size(); ++i)
        if (items[i].type() != elementType)
            throw InvalidArgument(std::string("GGUF array of ") + ggufValueTypeName(elementType) +
                                  " has an element " + std::to_string(i) + " of type " +
                                  ggufValueTypeName(items[i].type()));
    GGUFValue v(GGUFValueType::Array, std::move(items));
    v.arrayType_ = elementType;
    return v;
}

GGUFValue GGUFValue::stringArray(const std::vector<std::string>& items)
{
    std::vector<GGUFValue> values;
    values.reserve(items.size());
    for (const auto& s : items)
        values.push_back(string(s));
    return array(GGUFValueType::String, std::move(values));
}

GGUFValue GGUFValue::f32Array(const std::vector<float>& items)
{
    std::vector<GGUFValue> values;
    values.reserve(items.size());
    for (float f : items)
        values.push_back(f32(f));
    return array(GGUFValueType::Float32, std::move(values));
}

GGUFValue GGUFValue::i32Array(const std::vector<int32_t>& items)
{
    std::vector<GGUFValue> values;
    values.reserve(items.size());
    for (int32_t i : items)
        values.push_back(i32(i));
    return array(GGUFValueType::Int32, std::move(values));
}

bool GGUFValue::isInteger() const { return isUnsignedType(type_) || isSignedType(type_); }

bool GGUFValue::isFloat() const
{
    return type_ == GGUFValueType::Float32 || type_ == GGUFValueType::Float64;
}

int64_t GGUFValue::toInt() const
{
    if (isUnsignedType(type_)) {
        uint64_t u = std::get<uint64_t>(storage_);
        if (u > uint64_t(std::numeric_limits<int64_t>::max()))
            throw InvalidArgument("GGUF value " + std::to_string(u) + " does not fit in int64");
        return int64_t(u);
    }
    if (isSignedType(type_))
        return std::get<int64_t>(storage_);
    if (isFloat()) {
        double d = std::get<double>(storage_);
        // 2^63 is exactly representable; anything at or beyond it (or NaN) has no int64 value.
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
            throw InvalidArgument("GGUF float value does not fit in int64");
        return int64_t(d);
    }
    mismatch(type_, "an integer");
}

uint64_t GGUFValue::toUInt() const
{
    if (isUnsignedType(type_))
        return std::get<uint64_t>(storage_);
    if (isSignedType(type_)) {
        int64_t i = std::get<int64_t>(storage_);
        if (i < 0)
            throw InvalidArgument("GGUF value " + std::to_string(i) + " is negative");
        return uint64_t(i);
    }
    if (isFloat()) {
        double d = std::get<double>(storage_);
        if (!(d >= 0.0 && d < 18446744073709551616.0))
            throw InvalidArgument("GGUF float value does not fit in uint64");
        return uint64_t(d);
    }
    mismatch(type_, "an unsigned integer");
}

double GGUFValue::toDouble() const
{
    if (isFloat())
        return std::get<double>(storage_);
    if (isUnsignedType(type_))
        return double(std::get<uint64_t>(storage_));
    if (isSignedType(type_))
        return double(std::get<int64_t>(storage_));
    mismatch(type_, "a number");
}

bool GGUFValue::toBool() const
{
    if (type_ != GGUFValueType::Bool)
        mismatch(type_, "a bool");
    return std::get<bool>(storage_);
}

const std::string& GGUFValue::toString() const
{
    if (type_ != GGUFValueType::String)
        mismatch(type_, "a string");
    return std::get<std::string>(storage_);
}

const std::vector<GGUFValue>& GGUFValue::items() const
{
    if (type_ != GGUFValueType::Array)
        mismatch(type_, "an array");
    return std::get<std::vector<GGUFValue>>(storage_);
}

namespace {

// Quotes a string for display; control bytes become escapes so one value stays on one line.
std::string quoted(const std::string& s, size_t maxChars)
{
    std::string out = "\"";
    size_t n = 0;
    for (char c : s) {
        if (n++ == maxChars) {
            out += "...";
            break;
        }
        unsigned char u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

} // namespace

std::string GGUFValue::describe(size_t maxItems) const
{
    switch (type_) {
    case GGUFValueType::Bool:
        return std::get<bool>(storage_) ? "true" : "false";
    case GGUFValueType::String:
        return quoted(std::get<std::string>(storage_), 200);
    case GGUFValueType::Float32:
    case GGUFValueType::Float64: {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.9g", std::get<double>(storage_));
        return buf;
    }
    case GGUFValueType::Array: {
        const auto& v = std::get<std::vector<GGUFValue>>(storage_);
        std::string out = std::string(ggufValueTypeName(arrayType_)) + "[" +
                          std::to_string(v.size()) + "] [";
        for (size_t i = 0; i < v.size(); ++i) {
            if (i == maxItems) {
                out += ", ...";
                break;
            }
            if (i)
                out += ", ";
            out += v[i].describe(maxItems);
        }
        return out + "]";
    }
    default:
        if (isUnsignedType(type_))
            return std::to_string(std::get<uint64_t>(storage_));
        if (isSignedType(type_))
            return std::to_string(std::get<int64_t>(storage_));
        return "?";
    }
}

bool GGUFValue::operator==(const GGUFValue& o) const
{
    if (type_ != o.type_)
        return false;
    if (type_ == GGUFValueType::Array && arrayType_ != o.arrayType_)
        return false;
    // NaN equals NaN here, so that a NaN read back compares equal to the NaN written.
    if (type_ == GGUFValueType::Float32 || type_ == GGUFValueType::Float64) {
        double a = std::get<double>(storage_), b = std::get<double>(o.storage_);
        return a == b || (std::isnan(a) && std::isnan(b));
    }
    return storage_ == o.storage_;
}

} // namespace tenfold
