#include "tokenizer/bpe_tokenizer.h"

#include "core/error.h"
#include "tokenizer/unicode.h"

#include <algorithm>
#include <queue>

namespace tenfold {

namespace {

struct Symbol {
    int32_t prev, next;
    uint32_t offset, length; // bytes of the mapped word; length 0 once merged into its left
};

struct Bigram {
    int32_t left, right;
    int32_t rank;
    uint32_t length;
};

// Lowest rank on top; among equal ranks the leftmost pair.
struct BigramOrder {
    bool operator()(const Bigram& a, const Bigram& b) const
    {
        return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
    }
};

// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to
// U+0100.. in byte order, so every byte becomes a visible character.
std::array<uint32_t, 256> byteToCodepoint()
{
    std::array<uint32_t, 256> map{};
    uint32_t extra = 256;
    for (uint32_t b = 0; b < 256; ++b) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        map[b] = printable ? b : extra++;
    }
    return map;
}

} // namespace

BpeTokenizer::BpeTokenizer(TokenizerVocab vocab, const std::string& label)
    : VocabTokenizer(std::move(vocab), label), pre_(PreTokenizer::create(vocab_.pre))
{
    vocab_.pre = pre_->name();
    const auto map = byteToCodepoint();
    codepointToByte_.assign(256 + 68, -1);
    for (int b = 0; b < 256; ++b) {
        unicode::appendUtf8(byteToText_[b], map[b]);
        codepointToByte_[map[b]] = int16_t(b);
    }
    mergeRanks_.reserve(vocab_.merges.size());
    for (size_t rank = 0; rank < vocab_.merges.size(); ++rank) {
        const std::string& merge = vocab_.merges[rank];
        // The separator is the first space after the first character, as llama.cpp reads it.
        const size_t space = merge.find(' ', 1);
        if (space == std::string::npos)
            throw FormatError(label, 0, "tokenizer.ggml.merges[" + std::to_string(rank) + "] '" +
                                            merge + "' is not two symbols separated by a space");
        mergeRanks_.emplace(merge, int32_t(rank)); // the first (best) rank of a duplicate wins
    }
}

int32_t BpeTokenizer::mergeRank(std::string_view left, std::string_view right) const
{
    thread_local std::string key;
    key.assign(left);
    key += ' ';
    key.append(right);
    const auto it = mergeRanks_.find(std::string_view(key));
    return it == mergeRanks_.end() ? -1 : it->second;
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text, bool addSpecial,
                                          bool parseSpecial) const
{
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    if (addSpecial && addBos_)
        out.push_back(bos_);
    for (const Fragment& f : partitionSpecial(text, parseSpecial)) {
        if (f.token >= 0)
            out.push_back(f.token);
        else
            encodeText(f.text, out);
    }
    if (addSpecial && addEos_)
        out.push_back(eos_);
    return out;
}

void BpeTokenizer::encodeText(std::string_view text, std::vector<int32_t>& out) const
{
    const std::vector<uint32_t> cps = unicode::decodeUtf8Lossy(text);
    std::string utf8, word;
    for (const PreTokenizer::Word& w : pre_->split(cps)) {
        utf8.clear();
        for (size_t i = w.begin; i < w.end; ++i)
            unicode::appendUtf8(utf8, cps[i]);
        word.clear();
        for (char ch : utf8)
            word += byteToText_[uint8_t(ch)];
        encodeWord(word, out);
    }
}

void BpeTokenizer::encodeWord(std::string_view word, std::vector<int32_t>& out) const
{
    if (pre_->ignoreMerges()) {
        const int32_t id = findPiece(word);
        if (id >= 0) {
            out.push_back(id);
            return;
        }
    }
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    for (size_t offset = 0; offset < word.size();) {
        const size_t len =
            std::min(unicode::utf8SequenceLength(uint8_t(word[offset])), word.size() - offset);
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
        const Symbol& l = symbols[left];
        const Symbol& r = symbols[right];
        const int32_t rank =
            mergeRank(word.substr(l.offset, l.length), word.substr(r.offset, r.length));
        if (rank >= 0)
            queue.push({left, right, rank, l.length + r.length});
    };
    for (size_t i = 0; i + 1 < symbols.size(); ++i)
        tryAdd(int32_t(i), int32_t(i + 1));

    while (!queue.empty()) {
        const Bigram top = queue.top();
        queue.pop();
        Symbol& left = symbols[top.left];
        Symbol& right = symbols[top.right];
        // Stale entry: one side was merged away or grew since the pair was queued. (The left
        // symbol cannot have grown while the right one survives, so equal lengths mean the same
        // pair of strings.)
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
        const std::string_view piece = word.substr(symbols[i].offset, symbols[i].length);
        const int32_t id = findPiece(piece);
        if (id >= 0) {
            out.push_back(id);
            continue;
        }
        // No piece for the symbol: llama.cpp emits whatever single bytes of it are pieces.
        for (char ch : piece) {
            const int32_t byteId = findPiece(std::string_view(&ch, 1));
            if (byteId >= 0)
                out.push_back(byteId);
        }
    }
}

std::string BpeTokenizer::tokenBytes(int32_t id, bool renderSpecial) const
{
    checkId(id);
    const std::string& text = vocab_.pieces[id];
    switch (vocab_.types[id]) {
    case TokenType::Normal: {
        std::string out;
        out.reserve(text.size());
        size_t pos = 0;
        while (pos < text.size()) {
            uint32_t cp;
            size_t len;
            const bool ok = unicode::decodeUtf8(text, pos, cp, len);
            if (ok && cp < codepointToByte_.size() && codepointToByte_[cp] >= 0)
                out += char(codepointToByte_[cp]);
            else
                out.append(text, pos, len); // not a mapped byte: keep the text as it is
            pos += len;
        }
        return out;
    }
    case TokenType::UserDefined:
        return text;
    case TokenType::Control:
    case TokenType::Unknown:
        return renderSpecial ? text : std::string();
    default:
        return std::string();
    }
}

} // namespace tenfold
