#include "chat/jinja_parser.h"

#include "chat/jinja_builtins.h"
#include "chat/jinja_lexer.h"
#include "chat/template_error.h"

#include <initializer_list>

namespace tenfold::jinja {

namespace {

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

    std::shared_ptr<const Program> run()
    {
        auto program = std::make_shared<Program>();
        std::string stoppedAt;
        program->body = parseBody({}, stoppedAt);
        return program;
    }

private:
    const Token& peek(size_t ahead = 0) const
    {
        size_t i = std::min(index_ + ahead, tokens_.size() - 1);
        return tokens_[i];
    }
    const Token& next() { return tokens_[std::min(index_++, tokens_.size() - 1)]; }

    static std::string describe(const Token& t)
    {
        switch (t.kind) {
        case TokenKind::Name: return "'" + t.text + "'";
        case TokenKind::Operator: return "'" + t.text + "'";
        case TokenKind::String: return "string";
        case TokenKind::Text: return "text";
        default: return tokenKindName(t.kind);
        }
    }

    [[noreturn]] void fail(const Token& at, const std::string& expected) const
    {
        throw TemplateSyntaxError(at.line, at.column, "expected " + expected + ", found " + describe(at));
    }

    bool isOp(const char* op, size_t ahead = 0) const
    {
        const Token& t = peek(ahead);
        return t.kind == TokenKind::Operator && t.text == op;
    }
    bool isName(const char* name, size_t ahead = 0) const
    {
        const Token& t = peek(ahead);
        return t.kind == TokenKind::Name && t.text == name;
    }
    void expectOp(const char* op)
    {
        if (!isOp(op))
            fail(peek(), std::string("'") + op + "'");
        next();
    }
    std::string expectName(const char* what)
    {
        if (peek().kind != TokenKind::Name)
            fail(peek(), what);
        return next().text;
    }
    void expectBlockEnd()
    {
        if (peek().kind != TokenKind::BlockEnd)
            fail(peek(), "'%}'");
        next();
    }
    static Position posOf(const Token& t) { return {t.line, t.column}; }

    // Parses statements until one of `terminators` (a block keyword like "endif") or the end.
    // The terminator keyword is consumed (its `{%` and name), its remaining tag is left to the caller.
    StmtList parseBody(std::initializer_list<const char*> terminators, std::string& stoppedAt)
    {
        StmtList body;
        while (true) {
            const Token& t = peek();
            if (t.kind == TokenKind::End) {
                if (terminators.size() == 0)
                    return body;
                std::string expected;
                for (const char* term : terminators)
                    expected += (expected.empty() ? "'" : " or '") + std::string(term) + "'";
                fail(t, expected);
            }
            if (t.kind == TokenKind::Text) {
                auto s = std::make_unique<Stmt>();
                s->kind = Stmt::Kind::Text;
                s->pos = posOf(t);
                s->text = t.text;
                next();
                body.push_back(std::move(s));
            } else if (t.kind == TokenKind::VarBegin) {
                auto s = std::make_unique<Stmt>();
                s->kind = Stmt::Kind::Output;
                s->pos = posOf(t);
                next();
                s->expr = parseExpression();
                if (peek().kind != TokenKind::VarEnd)
                    fail(peek(), "'}}'");
                next();
                body.push_back(std::move(s));
            } else if (t.kind == TokenKind::BlockBegin) {
                const Token& keyword = peek(1);
                if (keyword.kind != TokenKind::Name)
                    fail(keyword, "a statement keyword");
                for (const char* term : terminators) {
                    if (keyword.text == term) {
                        next();
                        next();
                        stoppedAt = term;
                        return body;
                    }
                }
                body.push_back(parseStatement());
            } else {
                fail(t, "text or a tag");
            }
        }
    }

    StmtPtr parseStatement()
    {
        DepthGuard guard(*this);
        const Token& open = next(); // {%
        const Token& keyword = next();
        auto s = std::make_unique<Stmt>();
        s->pos = posOf(open);
        const std::string& k = keyword.text;
        if (k == "if")
            parseIf(*s);
        else if (k == "for")
            parseFor(*s);
        else if (k == "set")
            parseSet(*s);
        else if (k == "macro")
            parseMacro(*s);
        else if (k == "break" || k == "continue") {
            s->kind = k == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue;
            expectBlockEnd();
        } else {
            throw TemplateSyntaxError(keyword.line, keyword.column,
                                      "unknown or misplaced statement '" + k +
                                          "' (expected if, for, set, macro, break or continue)");
        }
        return s;
    }

    void parseIf(Stmt& s)
    {
        s.kind = Stmt::Kind::If;
        s.conditions.push_back(parseExpression());
        expectBlockEnd();
        while (true) {
            std::string stop;
            StmtList body = parseBody({"elif", "else", "endif"}, stop);
            s.bodies.push_back(std::move(body));
            if (stop == "elif") {
                s.conditions.push_back(parseExpression());
                expectBlockEnd();
            } else if (stop == "else") {
                expectBlockEnd();
                std::string end;
                s.elseBody = parseBody({"endif"}, end);
                expectBlockEnd();
                return;
            } else {
                expectBlockEnd();
                return;
            }
        }
    }

    void parseFor(Stmt& s)
    {
        s.kind = Stmt::Kind::For;
        s.targets.push_back(expectName("a loop variable name"));
        while (isOp(",")) {
            next();
            s.targets.push_back(expectName("a loop variable name"));
        }
        if (!isName("in"))
            fail(peek(), "'in'");
        next();
        s.expr = parseExpression(false);
        if (isName("if")) {
            next();
            s.filter = parseExpression(false);
        }
        if (isName("recursive"))
            throw TemplateSyntaxError(peek().line, peek().column, "recursive loops are not supported");
        expectBlockEnd();
        std::string stop;
        s.body = parseBody({"else", "endfor"}, stop);
        expectBlockEnd();
        if (stop == "else") {
            std::string end;
            s.elseBody = parseBody({"endfor"}, end);
            expectBlockEnd();
        }
    }

    void parseSet(Stmt& s)
    {
        s.kind = Stmt::Kind::Set;
        s.targets.push_back(expectName("a variable name after 'set'"));
        if (isOp(".")) {
            next();
            s.targets.push_back(expectName("an attribute name"));
        } else if (isOp(",")) {
            throw TemplateSyntaxError(peek().line, peek().column, "tuple assignment in 'set' is not supported");
        }
        if (isOp("=")) {
            next();
            s.expr = parseExpression();
            expectBlockEnd();
        } else if (peek().kind == TokenKind::BlockEnd) {
            // {% set name %}...{% endset %}: captures the rendered body.
            next();
            std::string stop;
            s.body = parseBody({"endset"}, stop);
            expectBlockEnd();
        } else {
            fail(peek(), "'=' or '%}'");
        }
    }

    void parseMacro(Stmt& s)
    {
        s.kind = Stmt::Kind::Macro;
        s.name = expectName("a macro name");
        expectOp("(");
        while (!isOp(")")) {
            MacroParameter p;
            p.name = expectName("a parameter name");
            if (isOp("=")) {
                next();
                p.defaultValue = parseExpression();
            }
            s.params.push_back(std::move(p));
            if (!isOp(","))
                break;
            next();
        }
        expectOp(")");
        expectBlockEnd();
        std::string stop;
        s.body = parseBody({"endmacro"}, stop);
        expectBlockEnd();
    }

    // ---- expressions (precedence climbing, loosest first, as in Jinja2) ----

    ExprPtr make(Expr::Kind kind, const Token& at)
    {
        auto e = std::make_unique<Expr>();
        e->kind = kind;
        e->pos = posOf(at);
        return e;
    }

    // Templates come from model files, i.e. untrusted input: bound the recursion so a hostile
    // "((((((..." is a syntax error instead of a stack overflow.
    struct DepthGuard {
        Parser& parser;
        explicit DepthGuard(Parser& p) : parser(p)
        {
            if (++parser.depth_ > kMaxDepth)
                throw TemplateSyntaxError(parser.peek().line, parser.peek().column,
                                          "expressions or blocks nested more than " + std::to_string(kMaxDepth) + " deep");
        }
        ~DepthGuard() { --parser.depth_; }
    };
    static constexpr int kMaxDepth = 300;

    ExprPtr parseExpression(bool allowConditional = true)
    {
        DepthGuard guard(*this);
        ExprPtr e = parseOr();
        while (allowConditional && isName("if")) {
            const Token& at = next();
            auto c = make(Expr::Kind::Conditional, at);
            c->items.push_back(std::move(e));
            c->items.push_back(parseOr());
            if (isName("else")) {
                next();
                c->items.push_back(parseExpression());
            } else {
                c->items.push_back(nullptr);
            }
            e = std::move(c);
        }
        return e;
    }

    ExprPtr binary(const Token& at, const std::string& op, ExprPtr left, ExprPtr right)
    {
        auto b = make(Expr::Kind::Binary, at);
        b->name = op;
        b->object = std::move(left);
        b->other = std::move(right);
        return b;
    }

    ExprPtr parseOr()
    {
        ExprPtr e = parseAnd();
        while (isName("or")) {
            const Token& at = next();
            e = binary(at, "or", std::move(e), parseAnd());
        }
        return e;
    }

    ExprPtr parseAnd()
    {
        ExprPtr e = parseNot();
        while (isName("and")) {
            const Token& at = next();
            e = binary(at, "and", std::move(e), parseNot());
        }
        return e;
    }

    ExprPtr parseNot()
    {
        DepthGuard guard(*this);
        if (isName("not")) {
            const Token& at = next();
            auto u = make(Expr::Kind::Unary, at);
            u->name = "not";
            u->object = parseNot();
            return u;
        }
        return parseCompare();
    }

    ExprPtr parseCompare()
    {
        ExprPtr e = parseMath1();
        while (true) {
            const Token& t = peek();
            std::string op;
            if (t.kind == TokenKind::Operator &&
                (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == ">" || t.text == "<=" || t.text == ">=")) {
                op = t.text;
                next();
            } else if (isName("in")) {
                op = "in";
                next();
            } else if (isName("not") && isName("in", 1)) {
                op = "not in";
                next();
                next();
            } else {
                return e;
            }
            e = binary(t, op, std::move(e), parseMath1());
        }
    }

    ExprPtr parseMath1()
    {
        ExprPtr e = parseConcat();
        while (isOp("+") || isOp("-")) {
            const Token& at = next();
            e = binary(at, at.text, std::move(e), parseConcat());
        }
        return e;
    }

    ExprPtr parseConcat()
    {
        ExprPtr e = parseMath2();
        while (isOp("~")) {
            const Token& at = next();
            e = binary(at, "~", std::move(e), parseMath2());
        }
        return e;
    }

    ExprPtr parseMath2()
    {
        ExprPtr e = parsePow();
        while (isOp("*") || isOp("/") || isOp("//") || isOp("%")) {
            const Token& at = next();
            e = binary(at, at.text, std::move(e), parsePow());
        }
        return e;
    }

    ExprPtr parsePow()
    {
        ExprPtr e = parseUnary(true);
        while (isOp("**")) {
            const Token& at = next();
            e = binary(at, "**", std::move(e), parseUnary(true));
        }
        return e;
    }

    ExprPtr parseUnary(bool withFilter)
    {
        DepthGuard guard(*this);
        ExprPtr e;
        if (isOp("-") || isOp("+")) {
            const Token& at = next();
            auto u = make(Expr::Kind::Unary, at);
            u->name = at.text;
            u->object = parseUnary(false);
            e = std::move(u);
        } else {
            e = parsePostfix(parsePrimary());
        }
        if (withFilter)
            e = parseFilterAndTest(std::move(e));
        return e;
    }

    ExprPtr parsePrimary()
    {
        const Token& t = peek();
        switch (t.kind) {
        case TokenKind::String: {
            auto e = make(Expr::Kind::Literal, t);
            std::string text = next().text;
            // Adjacent string literals concatenate, as in Python.
            while (peek().kind == TokenKind::String)
                text += next().text;
            e->value = Value(std::move(text));
            return e;
        }
        case TokenKind::Integer: {
            auto e = make(Expr::Kind::Literal, t);
            e->value = Value(static_cast<int64_t>(std::stoll(next().text)));
            return e;
        }
        case TokenKind::Float: {
            auto e = make(Expr::Kind::Literal, t);
            e->value = Value(std::stod(next().text));
            return e;
        }
        case TokenKind::Name: {
            const std::string& n = t.text;
            auto e = make(Expr::Kind::Literal, t);
            if (n == "true" || n == "True")
                e->value = Value(true);
            else if (n == "false" || n == "False")
                e->value = Value(false);
            else if (n == "none" || n == "None")
                e->value = Value::none();
            else {
                e->kind = Expr::Kind::Name;
                e->name = n;
            }
            next();
            return e;
        }
        case TokenKind::Operator:
            if (t.text == "(") {
                next();
                ExprPtr inner = parseExpression();
                if (isOp(",")) {
                    // A tuple: treated as a list.
                    auto list = make(Expr::Kind::List, t);
                    list->items.push_back(std::move(inner));
                    while (isOp(",")) {
                        next();
                        if (isOp(")"))
                            break;
                        list->items.push_back(parseExpression());
                    }
                    inner = std::move(list);
                }
                expectOp(")");
                return inner;
            }
            if (t.text == "[") {
                auto list = make(Expr::Kind::List, t);
                next();
                while (!isOp("]")) {
                    list->items.push_back(parseExpression());
                    if (!isOp(","))
                        break;
                    next();
                }
                expectOp("]");
                return list;
            }
            if (t.text == "{") {
                auto dict = make(Expr::Kind::Dict, t);
                next();
                while (!isOp("}")) {
                    dict->items.push_back(parseExpression());
                    expectOp(":");
                    dict->items.push_back(parseExpression());
                    if (!isOp(","))
                        break;
                    next();
                }
                expectOp("}");
                return dict;
            }
            break;
        default: break;
        }
        fail(t, "an expression");
    }

    void parseCallArguments(std::vector<Argument>& args)
    {
        expectOp("(");
        while (!isOp(")")) {
            Argument a;
            if (peek().kind == TokenKind::Name && isOp("=", 1)) {
                a.name = next().text;
                next();
            }
            a.value = parseExpression();
            args.push_back(std::move(a));
            if (!isOp(","))
                break;
            next();
        }
        expectOp(")");
    }

    ExprPtr parsePostfix(ExprPtr e)
    {
        while (true) {
            const Token& t = peek();
            if (isOp(".")) {
                next();
                auto a = make(Expr::Kind::Attribute, t);
                if (peek().kind == TokenKind::Integer) {
                    // foo.0 is foo[0] in Jinja.
                    a->kind = Expr::Kind::Subscript;
                    auto idx = make(Expr::Kind::Literal, peek());
                    idx->value = Value(static_cast<int64_t>(std::stoll(next().text)));
                    a->other = std::move(idx);
                } else {
                    a->name = expectName("an attribute name after '.'");
                }
                a->object = std::move(e);
                e = std::move(a);
            } else if (isOp("[")) {
                next();
                ExprPtr parts[3];
                int colons = 0;
                while (true) {
                    if (isOp(":")) {
                        next();
                        if (++colons > 2)
                            fail(peek(), "']'");
                        continue;
                    }
                    if (isOp("]"))
                        break;
                    if (parts[colons])
                        fail(peek(), "':' or ']'");
                    parts[colons] = parseExpression();
                }
                expectOp("]");
                if (colons == 0) {
                    if (!parts[0])
                        fail(t, "an index inside '[]'");
                    auto s = make(Expr::Kind::Subscript, t);
                    s->object = std::move(e);
                    s->other = std::move(parts[0]);
                    e = std::move(s);
                } else {
                    auto s = make(Expr::Kind::Slice, t);
                    s->object = std::move(e);
                    for (auto& p : parts)
                        s->items.push_back(std::move(p));
                    e = std::move(s);
                }
            } else if (isOp("(")) {
                auto c = make(Expr::Kind::Call, t);
                c->object = std::move(e);
                parseCallArguments(c->arguments);
                e = std::move(c);
            } else {
                return e;
            }
        }
    }

    ExprPtr parseFilterAndTest(ExprPtr e)
    {
        while (true) {
            const Token& t = peek();
            if (isOp("|")) {
                next();
                auto f = make(Expr::Kind::Filter, peek());
                const Token& filterName = peek();
                f->name = expectName("a filter name after '|'");
                if (!hasFilter(f->name))
                    throw TemplateSyntaxError(filterName.line, filterName.column, "unknown filter '" + f->name + "'");
                if (isOp("("))
                    parseCallArguments(f->arguments);
                f->object = std::move(e);
                e = parsePostfix(std::move(f));
            } else if (isName("is")) {
                next();
                auto test = make(Expr::Kind::Test, t);
                if (isName("not")) {
                    next();
                    test->negated = true;
                }
                const Token& nameToken = peek();
                if (nameToken.kind == TokenKind::Name) {
                    test->name = next().text;
                    if (!hasTest(test->name))
                        throw TemplateSyntaxError(nameToken.line, nameToken.column, "unknown test '" + test->name + "'");
                } else
                    fail(nameToken, "a test name after 'is'");
                if (isOp("(")) {
                    parseCallArguments(test->arguments);
                } else if (startsTestArgument()) {
                    Argument a;
                    a.value = parsePostfix(parsePrimary());
                    test->arguments.push_back(std::move(a));
                }
                test->object = std::move(e);
                e = std::move(test);
            } else {
                return e;
            }
        }
    }

    bool startsTestArgument() const
    {
        const Token& t = peek();
        switch (t.kind) {
        case TokenKind::String:
        case TokenKind::Integer:
        case TokenKind::Float: return true;
        case TokenKind::Name:
            return t.text != "else" && t.text != "or" && t.text != "and" && t.text != "if" && t.text != "is" &&
                   t.text != "not" && t.text != "in";
        case TokenKind::Operator: return t.text == "[" || t.text == "{";
        default: return false;
        }
    }

    std::vector<Token> tokens_;
    size_t index_ = 0;
    int depth_ = 0;
};

} // namespace

std::shared_ptr<const Program> parseTemplate(const std::string& source)
{
    return Parser(tokenize(source)).run();
}

} // namespace tenfold::jinja
