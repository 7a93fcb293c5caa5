#include "chat/jinja_eval.h"

#include "chat/jinja_builtins.h"
#include "chat/template_error.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace tenfold::jinja {

namespace {

using Scope = std::map<std::string, Value>;

// Statements and expressions one render may evaluate. Real chat templates need a few thousand
// per message; the bound turns a runaway loop (nested range()s) into an error instead of a hang.
constexpr uint64_t kMaxRenderSteps = 10'000'000;

class Evaluator {
public:
    Evaluator(const ValueDict& variables) : globals_(globalFunctions())
    {
        scopes_.emplace_back();
        for (const auto& [k, v] : variables.items)
            scopes_.back()[k] = v;
    }

    std::string run(const Program& program)
    {
        std::string out;
        out_ = &out;
        try {
            exec(program.body);
        } catch (const ValueError& e) {
            // Safety net: value operations outside an expression (none known) still report a
            // render error at the statement being executed.
            throw TemplateRenderError(lastPos_.line, lastPos_.column, e.what());
        }
        return out;
    }

private:
    enum class Flow { Normal, Break, Continue };

    // ---- statements ----

    void exec(const StmtList& body)
    {
        for (const StmtPtr& s : body) {
            execOne(*s);
            if (flow_ != Flow::Normal)
                return;
        }
    }

    void countStep(const Position& pos)
    {
        if (++steps_ > kMaxRenderSteps)
            throw TemplateRenderError(pos.line, pos.column,
                                      "template rendering exceeded " + std::to_string(kMaxRenderSteps) +
                                          " evaluation steps (runaway loop?)");
    }

    void append(const std::string& text, const Position& pos)
    {
        if (out_->size() + text.size() > kMaxTextBytes)
            throw TemplateRenderError(pos.line, pos.column,
                                      "template output exceeds " + std::to_string(kMaxTextBytes >> 20) + " MiB");
        *out_ += text;
    }

    void execOne(const Stmt& s)
    {
        countStep(s.pos);
        lastPos_ = s.pos;
        switch (s.kind) {
        case Stmt::Kind::Text: append(s.text, s.pos); break;
        case Stmt::Kind::Output: {
            std::string text;
            try {
                text = eval(*s.expr).str();
            } catch (const ValueError& e) {
                throw TemplateRenderError(s.expr->pos.line, s.expr->pos.column, e.what());
            }
            append(text, s.pos);
            break;
        }
        case Stmt::Kind::If:
            for (size_t i = 0; i < s.conditions.size(); ++i) {
                if (eval(*s.conditions[i]).truthy()) {
                    exec(s.bodies[i]);
                    return;
                }
            }
            exec(s.elseBody);
            break;
        case Stmt::Kind::For: execFor(s); break;
        case Stmt::Kind::Set: execSet(s); break;
        case Stmt::Kind::Macro: defineMacro(s); break;
        case Stmt::Kind::Break:
        case Stmt::Kind::Continue:
            if (loopDepth_ == 0)
                throw TemplateRenderError(s.pos.line, s.pos.column, "'break'/'continue' outside a loop");
            flow_ = s.kind == Stmt::Kind::Break ? Flow::Break : Flow::Continue;
            break;
        }
    }

    void bindTargets(Scope& scope, const std::vector<std::string>& targets, const Value& item, const Position& pos)
    {
        if (targets.size() == 1) {
            scope[targets[0]] = item;
            return;
        }
        ValueList parts = item.isList() ? item.asList() : ValueList{};
        if (parts.size() != targets.size())
            throw TemplateRenderError(pos.line, pos.column,
                                      "cannot unpack " + std::string(item.typeName()) + " into " +
                                          std::to_string(targets.size()) + " loop variables");
        for (size_t i = 0; i < targets.size(); ++i)
            scope[targets[i]] = parts[i];
    }

    void execFor(const Stmt& s)
    {
        Value iterable = eval(*s.expr);
        ValueList items;
        try {
            items = iterable.iterate();
        } catch (const ValueError& e) {
            throw TemplateRenderError(s.expr->pos.line, s.expr->pos.column, e.what());
        }
        if (s.filter) {
            ValueList kept;
            for (const Value& item : items) {
                scopes_.emplace_back();
                bindTargets(scopes_.back(), s.targets, item, s.pos);
                bool keep = eval(*s.filter).truthy();
                scopes_.pop_back();
                if (keep)
                    kept.push_back(item);
            }
            items = std::move(kept);
        }
        if (items.empty()) {
            exec(s.elseBody);
            return;
        }
        ++loopDepth_;
        const int64_t n = static_cast<int64_t>(items.size());
        for (int64_t i = 0; i < n; ++i) {
            countStep(s.pos);
            scopes_.emplace_back();
            ValueDict loop;
            loop.set("index", Value(i + 1));
            loop.set("index0", Value(i));
            loop.set("revindex", Value(n - i));
            loop.set("revindex0", Value(n - i - 1));
            loop.set("first", Value(i == 0));
            loop.set("last", Value(i == n - 1));
            loop.set("length", Value(n));
            loop.set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value());
            loop.set("nextitem", i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value());
            loop.set("depth", Value(int64_t(1)));
            loop.set("depth0", Value(int64_t(0)));
            Value loopValue = Value::dict(std::move(loop));
            loopValue.asDict().set("cycle", Value::function([i](const CallArgs& args) {
                if (args.positional.empty())
                    throw ValueError("loop.cycle() needs at least one value");
                return args.positional[static_cast<size_t>(i) % args.positional.size()];
            }));
            scopes_.back()["loop"] = loopValue;
            bindTargets(scopes_.back(), s.targets, items[static_cast<size_t>(i)], s.pos);
            exec(s.body);
            scopes_.pop_back();
            Flow flow = flow_;
            flow_ = Flow::Normal;
            if (flow == Flow::Break)
                break;
        }
        --loopDepth_;
    }

    void execSet(const Stmt& s)
    {
        Value value;
        if (s.expr) {
            value = eval(*s.expr);
        } else {
            std::string captured;
            std::string* saved = out_;
            out_ = &captured;
            exec(s.body);
            out_ = saved;
            value = Value(std::move(captured));
        }
        if (s.targets.size() == 1) {
            scopes_.back()[s.targets[0]] = std::move(value);
            return;
        }
        Value object = lookup(s.targets[0]);
        if (!object.isDict())
            throw TemplateRenderError(s.pos.line, s.pos.column,
                                      "cannot set attribute '" + s.targets[1] + "' on '" + s.targets[0] + "' (a " +
                                          object.typeName() + "; use namespace())");
        object.asDict().set(s.targets[1], std::move(value));
    }

    void defineMacro(const Stmt& s)
    {
        const Stmt* macro = &s;
        scopes_.back()[s.name] = Value::function([this, macro](const CallArgs& args) { return callMacro(*macro, args); });
    }

    Value callMacro(const Stmt& macro, const CallArgs& args)
    {
        if (++callDepth_ > 64)
            throw TemplateRenderError(macro.pos.line, macro.pos.column, "macro '" + macro.name + "' recurses too deeply");
        Scope frame;
        if (args.positional.size() > macro.params.size())
            throw TemplateRenderError(args.line, args.column, "too many arguments for macro '" + macro.name + "'");
        for (size_t i = 0; i < macro.params.size(); ++i) {
            const MacroParameter& p = macro.params[i];
            if (i < args.positional.size())
                frame[p.name] = args.positional[i];
            else if (p.defaultValue)
                frame[p.name] = eval(*p.defaultValue);
            else
                frame[p.name] = Value();
        }
        for (const auto& [k, v] : args.named) {
            bool known = false;
            for (const auto& p : macro.params)
                known = known || p.name == k;
            if (!known)
                throw TemplateRenderError(args.line, args.column,
                                          "macro '" + macro.name + "' has no parameter '" + k + "'");
            frame[k] = v;
        }
        // A macro sees the template's top level and its own arguments, not the caller's locals.
        std::vector<Scope> savedScopes;
        savedScopes.swap(scopes_);
        scopes_.push_back(savedScopes.front());
        scopes_.push_back(std::move(frame));
        std::string result;
        std::string* savedOut = out_;
        out_ = &result;
        int savedLoopDepth = loopDepth_;
        loopDepth_ = 0;
        try {
            exec(macro.body);
        } catch (...) {
            out_ = savedOut;
            scopes_.swap(savedScopes);
            loopDepth_ = savedLoopDepth;
            --callDepth_;
            throw;
        }
        out_ = savedOut;
        scopes_.swap(savedScopes);
        loopDepth_ = savedLoopDepth;
        --callDepth_;
        return Value(std::move(result));
    }

    // ---- expressions ----

    Value lookup(const std::string& name) const
    {
        for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
            auto found = it->find(name);
            if (found != it->end())
                return found->second;
        }
        if (const Value* g = globals_.find(name))
            return *g;
        return Value();
    }

    CallArgs evalArguments(const std::vector<Argument>& arguments, const Position& pos)
    {
        CallArgs args;
        args.line = pos.line;
        args.column = pos.column;
        for (const Argument& a : arguments) {
            if (a.name.empty())
                args.positional.push_back(eval(*a.value));
            else
                args.named.emplace_back(a.name, eval(*a.value));
        }
        return args;
    }

    // Functions and filters (range(), map, join...) may build a whole list in one step; charge
    // the items so loops that call them repeatedly still run out of budget.
    Value chargeForSize(Value result, const Position& pos)
    {
        if (result.isList()) {
            steps_ += result.asList().size();
            countStep(pos);
        }
        return result;
    }

    Value eval(const Expr& e)
    {
        try {
            return evalInner(e);
        } catch (const ValueError& err) {
            throw TemplateRenderError(e.pos.line, e.pos.column, err.what());
        }
    }

    Value evalInner(const Expr& e)
    {
        countStep(e.pos);
        switch (e.kind) {
        case Expr::Kind::Literal: return e.value;
        case Expr::Kind::Name: return lookup(e.name);
        case Expr::Kind::List: {
            ValueList items;
            for (const ExprPtr& item : e.items)
                items.push_back(eval(*item));
            return Value::list(std::move(items));
        }
        case Expr::Kind::Dict: {
            ValueDict d;
            for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
                Value key = eval(*e.items[i]);
                d.set(key.isString() ? key.asString() : key.str(), eval(*e.items[i + 1]));
            }
            return Value::dict(std::move(d));
        }
        case Expr::Kind::Attribute: return eval(*e.object).attribute(e.name);
        case Expr::Kind::Subscript: return eval(*e.object).item(eval(*e.other));
        case Expr::Kind::Slice: return slice(e);
        case Expr::Kind::Call: return chargeForSize(call(e), e.pos);
        case Expr::Kind::Filter: {
            Value input = eval(*e.object);
            return chargeForSize(applyFilter(e.name, input, evalArguments(e.arguments, e.pos)), e.pos);
        }
        case Expr::Kind::Test: {
            Value input = eval(*e.object);
            bool result = applyTest(e.name, input, evalArguments(e.arguments, e.pos));
            return Value(e.negated ? !result : result);
        }
        case Expr::Kind::Unary: {
            Value v = eval(*e.object);
            if (e.name == "not")
                return Value(!v.truthy());
            if (!v.isNumber())
                throw ValueError("bad operand type for unary " + e.name + ": '" + v.typeName() + "'");
            if (e.name == "-")
                return v.isFloat() ? Value(-v.asDouble()) : Value(-v.asInt());
            return v.isBool() ? Value(v.asInt()) : v;
        }
        case Expr::Kind::Binary: return binary(e);
        case Expr::Kind::Conditional:
            if (eval(*e.items[1]).truthy())
                return eval(*e.items[0]);
            return e.items[2] ? eval(*e.items[2]) : Value();
        }
        return Value();
    }

    Value call(const Expr& e)
    {
        if (e.object->kind == Expr::Kind::Attribute) {
            Value base = eval(*e.object->object);
            Value member = base.attribute(e.object->name);
            CallArgs args = evalArguments(e.arguments, e.pos);
            if (member.isFunction())
                return member.asFunction()(args);
            if (std::optional<Value> result = callMethod(base, e.object->name, args))
                return *result;
            throw ValueError(std::string("'") + base.typeName() + "' object has no method '" + e.object->name + "'");
        }
        Value callee = eval(*e.object);
        if (callee.isUndefined() && e.object->kind == Expr::Kind::Name)
            throw ValueError("'" + e.object->name + "' is undefined (unknown function)");
        CallArgs args = evalArguments(e.arguments, e.pos);
        return callee.asFunction()(args);
    }

    Value slice(const Expr& e)
    {
        Value object = eval(*e.object);
        bool isString = object.isString();
        ValueList items;
        if (isString) {
            // Byte-wise slicing would split UTF-8 characters; slice by character like Python.
            items = object.iterate();
        } else if (object.isList()) {
            items = object.asList();
        } else {
            throw ValueError(std::string("cannot slice a ") + object.typeName());
        }
        const int64_t n = static_cast<int64_t>(items.size());
        int64_t step = e.items[2] ? eval(*e.items[2]).asInt() : 1;
        if (step == 0)
            throw ValueError("slice step cannot be zero");
        auto bound = [&](const ExprPtr& x, int64_t fallback) {
            if (!x)
                return fallback;
            Value v = eval(*x);
            if (v.isNone())
                return fallback;
            int64_t i = v.asInt();
            if (i < 0)
                i += n;
            if (step > 0)
                return std::clamp<int64_t>(i, 0, n);
            return std::clamp<int64_t>(i, -1, n - 1);
        };
        int64_t start = bound(e.items[0], step > 0 ? 0 : n - 1);
        int64_t stop = bound(e.items[1], step > 0 ? n : -1);
        ValueList out;
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
            out.push_back(items[static_cast<size_t>(i)]);
        if (isString) {
            std::string s;
            for (const Value& c : out)
                s += c.asString();
            return Value(std::move(s));
        }
        return Value::list(std::move(out));
    }

    static int compare(const Value& a, const Value& b)
    {
        if (a.isNumber() && b.isNumber())
            return a.asDouble() < b.asDouble() ? -1 : a.asDouble() > b.asDouble() ? 1 : 0;
        if (a.isString() && b.isString()) {
            int c = a.asString().compare(b.asString());
            return c < 0 ? -1 : c > 0 ? 1 : 0;
        }
        throw ValueError(std::string("cannot compare ") + a.typeName() + " with " + b.typeName());
    }

    static Value arithmetic(const std::string& op, const Value& a, const Value& b)
    {
        if (op == "+") {
            if (a.isString() && b.isString()) {
                checkTextSize(a.asString().size() + b.asString().size());
                return Value(a.asString() + b.asString());
            }
            if (a.isList() && b.isList()) {
                if (a.asList().size() + b.asList().size() > kMaxListItems)
                    throw ValueError("list longer than " + std::to_string(kMaxListItems) + " items");
                ValueList joined = a.asList();
                joined.insert(joined.end(), b.asList().begin(), b.asList().end());
                return Value::list(std::move(joined));
            }
        }
        if (op == "*") {
            const Value* seq = a.isString() || a.isList() ? &a : b.isString() || b.isList() ? &b : nullptr;
            const Value* count = seq == &a ? &b : &a;
            if (seq && (count->isInt() || count->isBool())) {
                int64_t times = std::max<int64_t>(0, count->asInt());
                size_t unit = seq->isString() ? seq->asString().size() : seq->asList().size();
                const uint64_t limit = seq->isString() ? kMaxTextBytes : kMaxListItems;
                if (unit != 0 && static_cast<uint64_t>(times) > limit / unit)
                    throw ValueError("repetition result too large");
                if (seq->isString()) {
                    std::string out;
                    for (int64_t i = 0; i < times; ++i)
                        out += seq->asString();
                    return Value(std::move(out));
                }
                ValueList out;
                for (int64_t i = 0; i < times; ++i)
                    out.insert(out.end(), seq->asList().begin(), seq->asList().end());
                return Value::list(std::move(out));
            }
        }
        if (!a.isNumber() || !b.isNumber())
            throw ValueError("unsupported operand types for " + op + ": '" + a.typeName() + "' and '" +
                             b.typeName() + "'");
        bool ints = !a.isFloat() && !b.isFloat();
        if (op == "/") {
            if (b.asDouble() == 0)
                throw ValueError("division by zero");
            return Value(a.asDouble() / b.asDouble());
        }
        if (op == "//" || op == "%") {
            if (b.asDouble() == 0)
                throw ValueError(op == "//" ? "integer division by zero" : "modulo by zero");
            if (ints) {
                int64_t x = a.asInt(), y = b.asInt();
                int64_t q = x / y, r = x % y;
                if (r != 0 && ((r < 0) != (y < 0))) { // Python floors toward negative infinity
                    --q;
                    r += y;
                }
                return op == "//" ? Value(q) : Value(r);
            }
            double x = a.asDouble(), y = b.asDouble();
            double q = std::floor(x / y);
            return op == "//" ? Value(q) : Value(x - q * y);
        }
        if (op == "**") {
            if (ints && b.asInt() >= 0) {
                int64_t result = 1;
                for (int64_t i = 0; i < b.asInt(); ++i)
                    result *= a.asInt();
                return Value(result);
            }
            return Value(std::pow(a.asDouble(), b.asDouble()));
        }
        if (ints) {
            int64_t x = a.asInt(), y = b.asInt();
            if (op == "+") return Value(x + y);
            if (op == "-") return Value(x - y);
            if (op == "*") return Value(x * y);
        } else {
            double x = a.asDouble(), y = b.asDouble();
            if (op == "+") return Value(x + y);
            if (op == "-") return Value(x - y);
            if (op == "*") return Value(x * y);
        }
        throw ValueError("unknown operator '" + op + "'");
    }

    Value binary(const Expr& e)
    {
        const std::string& op = e.name;
        if (op == "and") {
            Value left = eval(*e.object);
            return left.truthy() ? eval(*e.other) : left;
        }
        if (op == "or") {
            Value left = eval(*e.object);
            return left.truthy() ? left : eval(*e.other);
        }
        Value a = eval(*e.object);
        Value b = eval(*e.other);
        if (op == "==") return Value(a.equals(b));
        if (op == "!=") return Value(!a.equals(b));
        if (op == "<") return Value(compare(a, b) < 0);
        if (op == ">") return Value(compare(a, b) > 0);
        if (op == "<=") return Value(compare(a, b) <= 0);
        if (op == ">=") return Value(compare(a, b) >= 0);
        if (op == "in" || op == "not in") {
            CallArgs args;
            args.positional.push_back(b);
            bool contained = applyTest("in", a, args);
            return Value(op == "in" ? contained : !contained);
        }
        if (op == "~") {
            std::string left = a.str();
            std::string right = b.str();
            checkTextSize(left.size() + right.size());
            return Value(left + right);
        }
        return arithmetic(op, a, b);
    }

    ValueDict globals_;
    std::vector<Scope> scopes_;
    std::string* out_ = nullptr;
    Flow flow_ = Flow::Normal;
    int loopDepth_ = 0;
    int callDepth_ = 0;
    uint64_t steps_ = 0;
    Position lastPos_{1, 1};
};

} // namespace

std::string renderProgram(const Program& program, const ValueDict& variables)
{
    return Evaluator(variables).run(program);
}

} // namespace tenfold::jinja
