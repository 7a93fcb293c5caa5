#pragma once
// Splits a Jinja template into tokens: raw text between tags, tag delimiters and the expression
// tokens inside them. Whitespace control is applied here: `{%-`/`-%}` (and the same on `{{ }}`,
// `{# #}`) strip whitespace next to the tag, and like Hugging Face's chat-template environment
// trim_blocks (drop the newline after a block/comment tag) and lstrip_blocks (drop indentation
// before one) are on, and a single trailing newline of the template is dropped.
#include <string>
#include <vector>

namespace tenfold::jinja {

enum class TokenKind {
    Text,       // raw template text
    VarBegin,   // {{
    VarEnd,     // }}
    BlockBegin, // {%
    BlockEnd,   // %}
    Name,
    String,     // text holds the decoded value
    Integer,
    Float,
    Operator,   // text holds the operator: == != <= >= // ** + - * / % ~ | . , : ( ) [ ] { } = < >
    End,
};

struct Token {
    TokenKind kind;
    std::string text;
    int line;
    int column;
};

struct LexerOptions {
    bool trimBlocks = true;
    bool lstripBlocks = true;
    bool keepTrailingNewline = false;
};

// Throws TemplateSyntaxError (unterminated tag or string, unexpected character) with position.
std::vector<Token> tokenize(const std::string& source, const LexerOptions& options = {});

const char* tokenKindName(TokenKind kind);

} // namespace tenfold::jinja
