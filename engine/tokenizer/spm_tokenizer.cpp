#include "tokenizer/spm_tokenizer.h"

#include "core/error.h"
#include "tokenizer/unicode.h"

#include <algorithm>
#include <cstdio>
#include <queue>

namespace tenfold {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81"; // U+2581 LOWER ONE EIGHTH BLOCK

struct Symbol {
    int32_t prev, next;
    uint32_t offset, length; // bytes of the escaped text; length 0 once merged into its left
};

struct Bigram {
    int32_t left, right;
    float score;
    uint32_t length;
};

// Highest score on top; among equal scores the leftmost pair.
struct BigramOrder {
    bool operator()(const Bigram& a, const Bigram& b) const
    {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
};

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
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    if (addSpecial && addBos_)
        out.push_back(bos_);
    bool afterSpecial = true; // the text start counts as following a special token
    std::string escaped;
    for (const Fragment& f : partitionSpecial(text, parseSpecial)) {
        if (f.token >= 0) {
            out.push_back(f.token);
            afterSpecial = true;
            continue;
        }
        escaped.clear();
        if (vocab_.addSpacePrefix && afterSpecial)
            escaped += kSpaceMark;
        for (char ch : f.text) {
            if (ch == ' ')
                escaped += kSpaceMark;
            else
                escaped += ch;
        }
        encodeEscaped(escaped, out);
        afterSpecial = false;
    }
    if (addSpecial && addEos_)
        out.push_back(eos_);
    return out;
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
    // One symbol per UTF-8 character (judged by the lead byte, as SentencePiece does).
    std::vector<Symbol> symbols;
    symbols.reserve(text.size());
    for (size_t offset = 0; offset < text.size();) {
        const size_t len =
            std::min(unicode::utf8SequenceLength(uint8_t(text[offset])), text.size() - offset);
        const int32_t index = int32_t(symbols.size());
        symbols.push_back({index - 1, -1, uint32_t(offset), uint32_t(len)});
        offset += len;
    }
    for (size_t i = 0; i + 1 < symbols.size(); ++i)
        symbols[i].next = int32_t(i + 1);

    std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
    const auto tryAdd = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0)
            return;
        const uint32_t length = symbols[left].length + symbols[right].length;
        const int32_t id = findPiece(text.substr(symbols[left].offset, length));
        if (id < 0)
            return;
        queue.push({left, right, vocab_.scores[id], length});
    };
    for (size_t i = 0; i + 1 < symbols.size(); ++i)
        tryAdd(int32_t(i), int32_t(i + 1));

    while (!queue.empty()) {
        const Bigram top = queue.top();
        queue.pop();
        Symbol& left = symbols[top.left];
        Symbol& right = symbols[top.right];
        // Stale entry: one side was merged away or grew since the pair was queued.
        if (left.length == 0 || right.length == 0 || left.length + right.length != top.length)
            continue;
        left.length += right.length;
        right.length = 0;
        left.next = right.next;
        if (right.next >= 0)
            symbols[right.next].prev = top.left;
        tryAdd(left.prev, top.left);
        tryAdd(top.left, left.next);
    }

    for (int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
        const std::string_view piece = text.substr(symbols[i].offset, symbols[i].length);
        const int32_t id = findPiece(piece);
        if (id >= 0) {
            out.push_back(id);
            continue;
        }
        for (char ch : piece)
            out.push_back(byteToken(uint8_t(ch)));
    }
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
