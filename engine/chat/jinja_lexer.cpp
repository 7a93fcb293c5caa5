#include "chat/jinja_lexer.h"

#include "chat/template_error.h"
#include "core/utf8.h"

#include <cctype>
#include <cstring>

namespace tenfold::jinja {

const char* tokenKindName(TokenKind kind)
{
    switch (kind) {
    case TokenKind::Text: return "text";
    case TokenKind::VarBegin: return "'{{'";
    case TokenKind::VarEnd: return "'}}'";
    case TokenKind::BlockBegin: return "'{%'";
    case TokenKind::BlockEnd: return "'%}'";
    case TokenKind::Name: return "name";
    case TokenKind::String: return "string";
    case TokenKind::Integer: return "integer";
    case TokenKind::Float: return "number";
    case TokenKind::Operator: return "operator";
    case TokenKind::End: return "end of template";
    }
    return "?";
}

namespace {

class Lexer {
public:
    Lexer(const std::string& source, const LexerOptions& options) : src_(source), options_(options)
    {
        if (!options_.keepTrailingNewline && !src_.empty() && src_.back() == '\n') {
            src_.pop_back();
            if (!src_.empty() && src_.back() == '\r')
                src_.pop_back();
        }
    }

    std::vector<Token> run()
    {
        bool stripNextText = false;    // the previous tag ended with '-'
        bool trimNextNewline = false;  // the previous tag was a block/comment (trim_blocks)
        while (pos_ < src_.size()) {
            size_t tagStart = findTagStart(pos_);
            std::string text = src_.substr(pos_, tagStart - pos_);
            int textLine = line_, textColumn = column_;
            advanceTo(tagStart);

            if (stripNextText) {
                size_t i = 0;
                while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
                    ++i;
                text.erase(0, i);
            } else if (trimNextNewline) {
                if (text.rfind("\r\n", 0) == 0)
                    text.erase(0, 2);
                else if (!text.empty() && text[0] == '\n')
                    text.erase(0, 1);
            }
            stripNextText = trimNextNewline = false;

            if (tagStart < src_.size()) {
                char kind = src_[tagStart + 1];
                char modifier = tagStart + 2 < src_.size() ? src_[tagStart + 2] : '\0';
                if (modifier == '-') {
                    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
                        text.pop_back();
                } else if (options_.lstripBlocks && modifier != '+' && (kind == '%' || kind == '#')) {
                    // Only indentation between a line start and the tag goes.
                    size_t i = text.size();
                    while (i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t'))
                        --i;
                    // When the whole text is indentation, look at what preceded it in the source
                    // (a newline removed by trim_blocks still counts as a line start).
                    size_t textStart = tagStart - text.size();
                    bool atLineStart = i == 0 ? (textStart == 0 || src_[textStart - 1] == '\n') : text[i - 1] == '\n';
                    if (atLineStart)
                        text.erase(i);
                }
            }
            if (!text.empty())
                tokens_.push_back({TokenKind::Text, text, textLine, textColumn});
            if (tagStart >= src_.size())
                break;

            char kind = src_[pos_ + 1];
            bool closedWithDash = false;
            if (kind == '#')
                closedWithDash = lexComment();
            else
                closedWithDash = lexTag(kind);
            stripNextText = closedWithDash;
            trimNextNewline = options_.trimBlocks && (kind == '%' || kind == '#') && !closedWithDash;
        }
        tokens_.push_back({TokenKind::End, "", line_, column_});
        return tokens_;
    }

private:
    size_t findTagStart(size_t from) const
    {
        for (size_t i = from; i + 1 < src_.size(); ++i)
            if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#'))
                return i;
        return src_.size();
    }

    void advanceTo(size_t target)
    {
        while (pos_ < target) {
            if (src_[pos_] == '\n') {
                ++line_;
                column_ = 1;
            } else if ((static_cast<unsigned char>(src_[pos_]) & 0xC0) != 0x80) {
                ++column_;
            }
            ++pos_;
        }
    }

    [[noreturn]] void fail(const std::string& problem) const { throw TemplateSyntaxError(line_, column_, problem); }

    bool lexComment()
    {
        int startLine = line_, startColumn = column_;
        size_t end = src_.find("#}", pos_ + 2);
        if (end == std::string::npos)
            throw TemplateSyntaxError(startLine, startColumn, "comment '{#' is never closed with '#}'");
        bool dash = end > pos_ + 2 && src_[end - 1] == '-';
        advanceTo(end + 2);
        return dash;
    }

    // Lexes `{{ ... }}` or `{% ... %}`; returns whether it closed with '-'.
    bool lexTag(char kind)
    {
        bool isVar = kind == '{';
        tokens_.push_back({isVar ? TokenKind::VarBegin : TokenKind::BlockBegin, "", line_, column_});
        int openLine = line_, openColumn = column_;
        advanceTo(pos_ + 2);
        if (pos_ < src_.size() && (src_[pos_] == '-' || src_[pos_] == '+'))
            advanceTo(pos_ + 1);
        // Open brackets inside the tag, so a dict literal's '}}' does not close it, while an
        // unclosed '(' still lets the tag end (and the parser report the missing ')').
        std::string brackets;
        const char closeChar = isVar ? '}' : '%';
        while (true) {
            while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_])))
                advanceTo(pos_ + 1);
            if (pos_ >= src_.size())
                throw TemplateSyntaxError(openLine, openColumn,
                                          std::string("tag is never closed: expected '") + (isVar ? "}}" : "%}") + "'");
            char c = src_[pos_];
            char next = pos_ + 1 < src_.size() ? src_[pos_ + 1] : '\0';
            char next2 = pos_ + 2 < src_.size() ? src_[pos_ + 2] : '\0';
            bool inBrace = !brackets.empty() && brackets.back() == '{';
            if (!inBrace && c == '-' && next == closeChar && next2 == '}') {
                tokens_.push_back({isVar ? TokenKind::VarEnd : TokenKind::BlockEnd, "", line_, column_});
                advanceTo(pos_ + 3);
                return true;
            }
            if (!inBrace && c == closeChar && next == '}') {
                tokens_.push_back({isVar ? TokenKind::VarEnd : TokenKind::BlockEnd, "", line_, column_});
                advanceTo(pos_ + 2);
                return false;
            }
            if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
                size_t end = pos_;
                while (end < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[end])) || src_[end] == '_'))
                    ++end;
                tokens_.push_back({TokenKind::Name, src_.substr(pos_, end - pos_), line_, column_});
                advanceTo(end);
            } else if (std::isdigit(static_cast<unsigned char>(c))) {
                lexNumber();
            } else if (c == '\'' || c == '"') {
                lexString(c);
            } else {
                lexOperator(brackets);
            }
        }
    }

    void lexNumber()
    {
        size_t end = pos_;
        bool isFloat = false;
        while (end < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[end])) || src_[end] == '_'))
            ++end;
        if (end + 1 < src_.size() && src_[end] == '.' && std::isdigit(static_cast<unsigned char>(src_[end + 1]))) {
            isFloat = true;
            ++end;
            while (end < src_.size() && std::isdigit(static_cast<unsigned char>(src_[end])))
                ++end;
        }
        if (end < src_.size() && (src_[end] == 'e' || src_[end] == 'E')) {
            size_t e = end + 1;
            if (e < src_.size() && (src_[e] == '+' || src_[e] == '-'))
                ++e;
            if (e < src_.size() && std::isdigit(static_cast<unsigned char>(src_[e]))) {
                isFloat = true;
                end = e;
                while (end < src_.size() && std::isdigit(static_cast<unsigned char>(src_[end])))
                    ++end;
            }
        }
        std::string text;
        for (size_t i = pos_; i < end; ++i)
            if (src_[i] != '_')
                text += src_[i];
        tokens_.push_back({isFloat ? TokenKind::Float : TokenKind::Integer, text, line_, column_});
        advanceTo(end);
    }

    void lexString(char quote)
    {
        int startLine = line_, startColumn = column_;
        std::string value;
        size_t i = pos_ + 1;
        while (true) {
            if (i >= src_.size())
                throw TemplateSyntaxError(startLine, startColumn, "string literal is never closed");
            char c = src_[i];
            if (c == quote) {
                ++i;
                break;
            }
            if (c == '\\' && i + 1 < src_.size()) {
                char e = src_[i + 1];
                i += 2;
                switch (e) {
                case 'n': value += '\n'; break;
                case 't': value += '\t'; break;
                case 'r': value += '\r'; break;
                case '0': value += '\0'; break;
                case '\\': value += '\\'; break;
                case '\'': value += '\''; break;
                case '"': value += '"'; break;
                case 'u':
                case 'x': {
                    size_t digits = e == 'u' ? 4 : 2;
                    if (i + digits > src_.size())
                        throw TemplateSyntaxError(startLine, startColumn, "truncated escape in string literal");
                    uint32_t cp = static_cast<uint32_t>(std::stoul(src_.substr(i, digits), nullptr, 16));
                    appendUtf8(value, cp);
                    i += digits;
                    break;
                }
                default:
                    // Python keeps unknown escapes as written.
                    value += '\\';
                    value += e;
                }
                continue;
            }
            value += c;
            ++i;
        }
        tokens_.push_back({TokenKind::String, value, startLine, startColumn});
        advanceTo(i);
    }

    void lexOperator(std::string& brackets)
    {
        static const char* const twoChar[] = {"==", "!=", "<=", ">=", "//", "**"};
        for (const char* op : twoChar) {
            if (src_.compare(pos_, 2, op) == 0) {
                tokens_.push_back({TokenKind::Operator, op, line_, column_});
                advanceTo(pos_ + 2);
                return;
            }
        }
        char c = src_[pos_];
        if (!std::strchr("+-*/%~|.,:()[]{}=<>", c))
            fail(std::string("unexpected character '") + c + "' in tag");
        if (c == '(' || c == '[' || c == '{')
            brackets += c;
        else if ((c == ')' || c == ']' || c == '}') && !brackets.empty())
            brackets.pop_back();
        tokens_.push_back({TokenKind::Operator, std::string(1, c), line_, column_});
        advanceTo(pos_ + 1);
    }

    std::string src_;
    LexerOptions options_;
    size_t pos_ = 0;
    int line_ = 1;
    int column_ = 1;
    std::vector<Token> tokens_;
};

} // namespace

std::vector<Token> tokenize(const std::string& source, const LexerOptions& options)
{
    return Lexer(source, options).run();
}

} // namespace tenfold::jinja
