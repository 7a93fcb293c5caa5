#pragma once
// One GGUF metadata value: a scalar, a string, or a (possibly nested) array.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tenfold {

enum class GGUFValueType : uint32_t {
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
    String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
};
const char* ggufValueTypeName(GGUFValueType t);

class GGUFValue {
public:
    GGUFValue() = default;
    static GGUFValue u8(uint8_t v) { return GGUFValue(GGUFValueType::UInt8, uint64_t(v)); }
    static GGUFValue i8(int8_t v) { return GGUFValue(GGUFValueType::Int8, int64_t(v)); }
    static GGUFValue u16(uint16_t v) { return GGUFValue(GGUFValueType::UInt16, uint64_t(v)); }
    static GGUFValue i16(int16_t v) { return GGUFValue(GGUFValueType::Int16, int64_t(v)); }
    static GGUFValue u32(uint32_t v) { return GGUFValue(GGUFValueType::UInt32, uint64_t(v)); }
    static GGUFValue i32(int32_t v) { return GGUFValue(GGUFValueType::Int32, int64_t(v)); }
    static GGUFValue u64(uint64_t v) { return GGUFValue(GGUFValueType::UInt64, v); }
    static GGUFValue i64(int64_t v) { return GGUFValue(GGUFValueType::Int64, v); }
    static GGUFValue f32(float v) { return GGUFValue(GGUFValueType::Float32, double(v)); }
    static GGUFValue f64(double v) { return GGUFValue(GGUFValueType::Float64, v); }
    static GGUFValue boolean(bool v) { return GGUFValue(GGUFValueType::Bool, v); }
    static GGUFValue string(std::string v) { return GGUFValue(GGUFValueType::String, std::move(v)); }
    // elementType is kept even for an empty array, so writing it back is byte-identical.
    static GGUFValue array(GGUFValueType elementType, std::vector<GGUFValue> items);
    static GGUFValue stringArray(const std::vector<std::string>& items);
    static GGUFValue f32Array(const std::vector<float>& items);
    static GGUFValue i32Array(const std::vector<int32_t>& items);

    GGUFValueType type() const { return type_; }
    bool isInteger() const;  // any signed/unsigned integer type
    bool isFloat() const;    // Float32/Float64
    bool isString() const { return type_ == GGUFValueType::String; }
    bool isArray() const { return type_ == GGUFValueType::Array; }
    bool isBool() const { return type_ == GGUFValueType::Bool; }

    // Conversions throw InvalidArgument on a type mismatch (integers and floats convert freely).
    int64_t toInt() const;
    uint64_t toUInt() const;
    double toDouble() const;
    bool toBool() const;
    const std::string& toString() const;
    GGUFValueType arrayType() const { return arrayType_; }
    const std::vector<GGUFValue>& items() const;

    // Short human-readable form for `inspect`: long arrays are elided after maxItems.
    std::string describe(size_t maxItems = 8) const;

    bool operator==(const GGUFValue& o) const;

private:
    using Storage = std::variant<std::monostate, uint64_t, int64_t, double, bool, std::string,
                                 std::vector<GGUFValue>>;
    GGUFValue(GGUFValueType t, Storage s) : type_(t), storage_(std::move(s)) {}
    GGUFValueType type_ = GGUFValueType::UInt8;
    GGUFValueType arrayType_ = GGUFValueType::UInt8;
    Storage storage_ = uint64_t(0); // a default value is uint8 0, never an empty variant
};

} // namespace tenfold
