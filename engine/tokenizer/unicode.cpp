#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>

namespace tenfold::unicode {

namespace {

CharClass lookupRuns(uint32_t cp)
{
    // Last run whose first code point is <= cp.
    const ClassRun* end = kClassRuns + kClassRunCount;
    const ClassRun* it = std::upper_bound(kClassRuns, end, cp,
                                          [](uint32_t v, const ClassRun& r) { return v < r.first; });
    return it == kClassRuns ? CharClass::Other : CharClass((it - 1)->cls);
}

// The Basic Multilingual Plane covers nearly all text; a flat table makes its look-up one load.
const std::array<uint8_t, 0x10000>& bmpTable()
{
    static const std::array<uint8_t, 0x10000> table = [] {
        std::array<uint8_t, 0x10000> t{};
        for (uint32_t cp = 0; cp < 0x10000; ++cp)
            t[cp] = uint8_t(lookupRuns(cp));
        return t;
    }();
    return table;
}

} // namespace

CharClass classOf(uint32_t cp)
{
    if (cp < 0x10000)
        return CharClass(bmpTable()[cp]);
    if (cp > 0x10FFFF)
        return CharClass::Other;
    return lookupRuns(cp);
}

bool isDeepseekLlmLetter(uint32_t cp)
{
    const CodepointRange* end = kDeepseekLlmLetters + kDeepseekLlmLetterCount;
    const CodepointRange* it = std::upper_bound(
        kDeepseekLlmLetters, end, cp, [](uint32_t v, const CodepointRange& r) { return v < r.first; });
    return it != kDeepseekLlmLetters && cp <= (it - 1)->last;
}

bool decodeUtf8(std::string_view text, size_t pos, uint32_t& cp, size_t& length)
{
    length = 1;
    const auto byte = [&](size_t i) { return uint8_t(text[i]); };
    const uint8_t lead = byte(pos);
    if (lead < 0x80) {
        cp = lead;
        return true;
    }
    size_t n;
    uint32_t value, minValue;
    if ((lead & 0xE0) == 0xC0) { n = 2; value = lead & 0x1F; minValue = 0x80; }
    else if ((lead & 0xF0) == 0xE0) { n = 3; value = lead & 0x0F; minValue = 0x800; }
    else if ((lead & 0xF8) == 0xF0) { n = 4; value = lead & 0x07; minValue = 0x10000; }
    else return false;
    if (pos + n > text.size())
        return false;
    for (size_t i = 1; i < n; ++i) {
        const uint8_t b = byte(pos + i);
        if ((b & 0xC0) != 0x80)
            return false;
        value = (value << 6) | (b & 0x3F);
    }
    if (value < minValue || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
        return false;
    cp = value;
    length = n;
    return true;
}

std::vector<uint32_t> decodeUtf8Lossy(std::string_view text)
{
    std::vector<uint32_t> out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) {
        uint32_t cp;
        size_t len;
        out.push_back(decodeUtf8(text, pos, cp, len) ? cp : 0xFFFD);
        pos += len;
    }
    return out;
}

namespace {

// Length of the sequence starting at `pos` if it is a valid but truncated start of a UTF-8
// character running to the end of `bytes`; 0 otherwise.
size_t truncatedSequenceAt(std::string_view bytes, size_t pos)
{
    const uint8_t lead = uint8_t(bytes[pos]);
    size_t need;
    if ((lead & 0xE0) == 0xC0 && lead >= 0xC2) need = 2;
    else if ((lead & 0xF0) == 0xE0) need = 3;
    else if ((lead & 0xF8) == 0xF0 && lead <= 0xF4) need = 4;
    else return 0;
    const size_t have = bytes.size() - pos;
    if (have >= need)
        return 0;
    for (size_t i = 1; i < have; ++i) {
        const uint8_t b = uint8_t(bytes[pos + i]);
        if ((b & 0xC0) != 0x80)
            return 0;
        // The second byte narrows the range for E0/ED/F0/F4 leads (overlongs, surrogates, >10FFFF).
        if (i == 1 && ((lead == 0xE0 && b < 0xA0) || (lead == 0xED && b > 0x9F) ||
                       (lead == 0xF0 && b < 0x90) || (lead == 0xF4 && b > 0x8F)))
            return 0;
    }
    return have;
}

} // namespace

size_t completeUtf8Prefix(std::string_view bytes)
{
    const size_t n = bytes.size();
    for (size_t back = 1; back <= 3 && back <= n; ++back) {
        const size_t pos = n - back;
        const uint8_t b = uint8_t(bytes[pos]);
        if ((b & 0xC0) != 0x80) // the last lead byte decides
            return truncatedSequenceAt(bytes, pos) ? pos : n;
    }
    return n;
}

std::string sanitizeUtf8(std::string_view bytes)
{
    std::string out;
    out.reserve(bytes.size());
    size_t pos = 0;
    while (pos < bytes.size()) {
        uint32_t cp;
        size_t len;
        if (decodeUtf8(bytes, pos, cp, len)) {
            out.append(bytes.substr(pos, len));
            pos += len;
            continue;
        }
        out += "\xEF\xBF\xBD";
        // A truncated sequence at the end is one broken character, not several.
        const size_t truncated = truncatedSequenceAt(bytes, pos);
        pos += truncated ? truncated : 1;
    }
    return out;
}

} // namespace tenfold::unicode
