#pragma once
// Values in the Jinja-subset engine. They follow Python/Jinja semantics where chat templates can
// observe them: truthiness, str() and repr() text, int/float arithmetic, shared (reference)
// lists and dicts so `namespace` attributes and list.append() mutate in place, and an
// `undefined` value that is falsy, prints as nothing and compares unequal to everything.
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tenfold::jinja {

class Value;
using ValueList = std::vector<Value>;

// Insertion-ordered string-keyed map (templates print dicts with tojson in insertion order).
struct ValueDict {
    std::vector<std::pair<std::string, Value>> items;
    const Value* find(const std::string& key) const;
    Value* find(const std::string& key);
    void set(const std::string& key, Value value);
};

// Arguments of a call: positional, then keyword, plus where the call is (for error messages).
struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> named;
    int line = 0;
    int column = 0;
    // The n-th positional argument, else the keyword `name`, else `fallback`.
    const Value& get(size_t index, const char* name, const Value& fallback) const;
    bool has(size_t index, const char* name) const;
};

using Function = std::function<Value(const CallArgs&)>;

// Limits that keep a hostile template (e.g. a list appended to itself, or a huge loop) from
// overflowing the stack, exhausting memory or hanging the app. Lists and dicts are shared by
// reference, so a value can contain itself; every recursive walk over values is bounded by
// kMaxValueDepth, and every text a walk builds by kMaxTextBytes.
inline constexpr int kMaxValueDepth = 256;
inline constexpr size_t kMaxTextBytes = size_t(16) << 20;
// Items one list may hold (range(), +, *, append()).
inline constexpr size_t kMaxListItems = 1'000'000;
// Elements visited by one deep comparison (shared sub-lists can make a small value huge to walk).
inline constexpr uint64_t kMaxCompareSteps = 10'000'000;

// Thrown by operations on values (wrong types, bad arguments); the evaluator adds the template
// position and turns it into a TemplateRenderError.
class ValueError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Value {
public:
    enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Function };

    Value() = default; // undefined
    Value(bool b) : kind_(Kind::Bool), int_(b) {}
    Value(int i) : kind_(Kind::Int), int_(i) {}
    Value(int64_t i) : kind_(Kind::Int), int_(i) {}
    Value(double d) : kind_(Kind::Float), float_(d) {}
    Value(std::string s) : kind_(Kind::String), string_(std::make_shared<std::string>(std::move(s))) {}
    Value(const char* s) : Value(std::string(s)) {}

    static Value undefined() { return Value(); }
    static Value none();
    static Value list(ValueList items = {});
    static Value dict(ValueDict items = {});
    static Value function(Function fn);

    Kind kind() const { return kind_; }
    bool isUndefined() const { return kind_ == Kind::Undefined; }
    bool isNone() const { return kind_ == Kind::None; }
    bool isBool() const { return kind_ == Kind::Bool; }
    bool isInt() const { return kind_ == Kind::Int; }
    bool isFloat() const { return kind_ == Kind::Float; }
    bool isNumber() const { return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool; }
    bool isString() const { return kind_ == Kind::String; }
    bool isList() const { return kind_ == Kind::List; }
    bool isDict() const { return kind_ == Kind::Dict; }
    bool isFunction() const { return kind_ == Kind::Function; }

    bool truthy() const;
    int64_t asInt() const;      // bool/int/float; throws ValueError otherwise
    double asDouble() const;    // bool/int/float; throws ValueError otherwise
    const std::string& asString() const; // strings only; throws ValueError otherwise
    ValueList& asList() const;
    ValueDict& asDict() const;
    const Function& asFunction() const;

    // Python str(): strings as-is, None -> "None", True -> "True", containers as repr().
    std::string str() const;
    // Python repr(): strings quoted, lists "[1, 'a']", dicts "{'k': 'v'}".
    std::string repr() const;
    const char* typeName() const;

    // Python == (deep for containers, 1 == 1.0, undefined equals only undefined).
    bool equals(const Value& other) const;
    // Same object (lists/dicts/functions) or equal scalars; for the `sameas` test.
    bool sameAs(const Value& other) const;

    // Python subscript value[key] (negative list indices count from the end); undefined when missing.
    Value item(const Value& key) const;
    // Attribute lookup: dict keys; for anything else undefined (methods are resolved by the evaluator).
    Value attribute(const std::string& name) const;
    // Elements to iterate over: list items, dict keys, string characters (UTF-8 aware), nothing for undefined.
    ValueList iterate() const;
    size_t length() const;

private:
    void appendRepr(std::string& out, int depth) const;
    bool equalsAt(const Value& other, int depth, uint64_t& steps) const;

    Kind kind_ = Kind::Undefined;
    int64_t int_ = 0;
    double float_ = 0;
    std::shared_ptr<std::string> string_;
    std::shared_ptr<ValueList> list_;
    std::shared_ptr<ValueDict> dict_;
    std::shared_ptr<Function> function_;
};

// Throw ValueError when a walk over values goes deeper than kMaxValueDepth / a built text
// grows past kMaxTextBytes.
void checkValueDepth(int depth);
void checkTextSize(size_t bytes);

// Python-style float text: shortest repr that round-trips, always with '.', "inf", "nan".
std::string formatFloat(double d);

} // namespace tenfold::jinja
