#pragma once
// The syntax tree the parser builds and the evaluator walks. Every node keeps its template
// position so evaluation errors can point at the source.
#include "chat/jinja_value.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tenfold::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

struct Position {
    int line = 0;
    int column = 0;
};

struct Argument {
    std::string name; // empty for positional
    ExprPtr value;
};

struct Expr {
    enum class Kind {
        Literal,     // value
        Name,        // name
        List,        // items
        Dict,        // keys/items pairs in items (even = key, odd = value)
        Attribute,   // object.name
        Subscript,   // object[index]
        Slice,       // object[start:stop:step] (items: start, stop, step, any may be null)
        Call,        // object(arguments)
        Filter,      // object | name(arguments)
        Test,        // object is [not] name(arguments)
        Unary,       // op object  ("not", "-", "+")
        Binary,      // left op right
        Conditional, // items[0] if items[1] else items[2] (else may be null)
    };
    Kind kind;
    Position pos;
    Value value;
    std::string name; // Name, Attribute, Filter/Test name, operator of Unary/Binary
    ExprPtr object;   // Attribute/Subscript/Slice/Call/Filter/Test/Unary operand, Binary left
    ExprPtr other;    // Subscript index, Binary right
    std::vector<ExprPtr> items;
    std::vector<Argument> arguments;
    bool negated = false; // Test: `is not`
};

struct MacroParameter {
    std::string name;
    ExprPtr defaultValue; // may be null
};

struct Stmt {
    enum class Kind {
        Text,     // text
        Output,   // {{ expr }}
        If,       // conditions[i] -> bodies[i]; elseBody
        For,      // targets in expr [if filter]: body; elseBody
        Set,      // target (name, or name.attribute) = expr; or block set: body
        Macro,    // name(params): body
        Break,
        Continue,
    };
    Kind kind;
    Position pos;
    std::string text;
    ExprPtr expr;
    std::vector<ExprPtr> conditions;
    std::vector<StmtList> bodies;
    StmtList body;
    StmtList elseBody;
    std::vector<std::string> targets; // For: loop variables; Set: {name} or {name, attribute}
    ExprPtr filter;                   // For: `if` clause
    std::string name;                 // Macro name
    std::vector<MacroParameter> params;
};

struct Program {
    StmtList body;
};

} // namespace tenfold::jinja
