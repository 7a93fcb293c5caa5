#pragma once
// UTF-8 encoding shared by the modules that build text from code points (the tokenizers, the
// Jinja lexer and JSON parser), which otherwise have no common dependency below core.
#include <cstdint>
#include <string>

namespace tenfold {

// Appends the UTF-8 bytes of `cp`. Surrogates are encoded as they are (as the template and JSON
// escapes that produce them expect); callers that need strict text validate elsewhere.
inline void appendUtf8(std::string& out, uint32_t cp)
{
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

} // namespace tenfold
