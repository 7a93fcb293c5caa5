#include "tokenizer/spm_tokenizer.h"

#include "core/error.h"
#include "tokenizer/unicode.h"

#include <algorithm>
#include <cstdio>

namespace tenfold {

namespace {
constexpr std::string_view kSpaceMark = "\xE2\x96\x81"; // U+2581 LOWER ONE EIGHTH BLOCK
} // namespace

SpmTokenizer::SpmTokenizer(TokenizerVocab vocab, const std::string& label)
    : VocabTokenizer(std::move(vocab), label)
{
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        int32_t id = findPiece(name);
        if (id < 0)
            id = findPiece(std::string(1, char(b)));
        byteTokens_[b] = id;
    }
    for (const std::string& p : vocab_.pieces) {
        for (size_t mark = p.find(kSpaceMark, 1); mark != std::string::npos;
             mark = p.find(kSpaceMark, mark + 1)) {
            // Every 1-4 byte tail before the mark: a symbol there is one UTF-8 character, or for
            // malformed text up to 4 bytes of anything; listing a few extra tails only means
            // splitting less.
            for (size_t back = 1; back <= 4 && back <= mark; ++back)
                beforeSpaceMark_.insert(p.substr(mark - back, back));
        }
    }
}

int32_t SpmTokenizer::byteToken(uint8_t byte) const
{
    if (byteTokens_[byte] >= 0)
        return byteTokens_[byte];
    if (vocab_.unk >= 0)
        return vocab_.unk;
    char name[8];
    std::snprintf(name, sizeof name, "%02X", byte);
    throw UnsupportedError(std::string("the vocab has neither a byte token <0x") + name +
                           "> nor an unknown token to encode that byte");
}

std::vector<int32_t> SpmTokenizer::encode(std::string_view text, bool addSpecial,
                                          bool parseSpecial) const
{
    std::string escaped;
    const auto encodePlain = [&](std::string_view plain, bool afterSpecial,
                                 std::vector<int32_t>& out) {
        escaped.clear();
        if (vocab_.addSpacePrefix && afterSpecial)
            escaped += kSpaceMark;
        for (char ch : plain) {
            if (ch == ' ')
                escaped += kSpaceMark;
            else
                escaped += ch;
        }
        encodeEscaped(escaped, out);
    };
    return encodeAroundSpecials(text, addSpecial, parseSpecial, encodePlain);
}

void SpmTokenizer::encodeEscaped(std::string_view text, std::vector<int32_t>& out) const
{
    // A symbol can only grow across the position before a U+2581 if some piece holds the symbol
    // in front of it followed by U+2581. Where no piece does, the text falls apart into
    // independent words: merging each on its own gives exactly what one queue over the whole
    // text gives, with far smaller queues (and better cache use on long inputs). The symbols are
    // walked with the same rule encodeChunk splits by, so malformed UTF-8 cannot shift them.
    size_t start = 0, prev = 0;
    for (size_t offset = 0; offset < text.size();) {
        const size_t len =
            std::min(unicode::utf8SequenceLength(uint8_t(text[offset])), text.size() - offset);
        if (offset > start && text.compare(offset, kSpaceMark.size(), kSpaceMark) == 0 &&
            len == kSpaceMark.size() &&
            !beforeSpaceMark_.count(std::string(text.substr(prev, offset - prev)))) {
            encodeChunk(text.substr(start, offset - start), out);
            start = offset;
        }
        prev = offset;
        offset += len;
    }
    encodeChunk(text.substr(start), out);
}

void SpmTokenizer::encodeChunk(std::string_view text, std::vector<int32_t>& out) const
{
    // A pair merges when the two together form a piece; the piece's score is the priority.
    const auto pairPriority = [&](std::string_view left,
                                  std::string_view right) -> std::optional<float> {
        const int32_t id = findPiece(std::string_view(left.data(), left.size() + right.size()));
        return id >= 0 ? std::optional<float>(vocab_.scores[id]) : std::nullopt;
    };
    // No piece for a symbol: each byte becomes its <0xXX> token (or the unknown token).
    mergeSymbols(text, pairPriority, [&](uint8_t byte) { return byteToken(byte); }, out);
}

std::string SpmTokenizer::tokenBytes(int32_t id, bool renderSpecial) const
{
    checkId(id);
    const std::string& text = vocab_.pieces[id];
    switch (vocab_.types[id]) {
    case TokenType::Normal: {
        std::string out;
        out.reserve(text.size());
        for (size_t i = 0; i < text.size();) {
            if (text.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
                out += ' ';
                i += kSpaceMark.size();
            } else {
                out += text[i++];
            }
        }
        return out;
    }
    case TokenType::Byte: {
        unsigned value = 0;
        if (text.size() == 6 && std::sscanf(text.c_str(), "<0x%02X>", &value) == 1)
            return std::string(1, char(value));
        return text.size() == 1 ? text : std::string();
    }
    case TokenType::UserDefined:
        return text;
    case TokenType::Unknown:
        return renderSpecial ? text : std::string("\xE2\x96\x85"); // U+2585, as llama.cpp shows it
    case TokenType::Control:
        return renderSpecial ? text : std::string();
    default:
        return std::string();
    }
}

} // namespace tenfold
