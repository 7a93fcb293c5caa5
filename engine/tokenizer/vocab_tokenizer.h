#pragma once
// What the SentencePiece and BPE tokenizers share: the validated vocab, piece -> id look-up, and
// splitting special tokens out of the text before the model-specific algorithm runs.
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tenfold {

struct StringViewHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using PieceIndex = std::unordered_map<std::string, int32_t, StringViewHash, std::equal_to<>>;

class VocabTokenizer : public Tokenizer {
public:
    // Throws FormatError (file `label`, offset 0) when the arrays disagree in length or an id is
    // out of range.
    VocabTokenizer(TokenizerVocab vocab, const std::string& label);

    int32_t vocabSize() const override { return int32_t(vocab_.pieces.size()); }
    const std::string& piece(int32_t id) const override;
    TokenType tokenType(int32_t id) const override;
    std::string modelName() const override { return vocab_.model; }
    std::string preTokenizerName() const override { return vocab_.pre; }
    const TokenizerVocab& vocab() const override { return vocab_; }
    int32_t findPiece(std::string_view text) const override;
    bool isEndOfGeneration(int32_t id) const override;

protected:
    // A piece of input: either raw text still to be tokenized, or a special token already found.
    struct Fragment {
        std::string_view text;
        int32_t token = -1; // >= 0: a special token
    };
    // Splits special-token strings out of `text`, longest token first (llama.cpp's order).
    // User-defined tokens are always split out (they are ordinary words added to the vocab);
    // control and unknown tokens only with parseSpecial.
    std::vector<Fragment> partitionSpecial(std::string_view text, bool parseSpecial) const;
    void checkId(int32_t id) const;

    // The frame of encode() both algorithms share: BOS when addSpecial asks for it, special tokens
    // split out (see partitionSpecial), every run of plain text handed to
    // encodePlain(text, afterSpecial, out), then EOS when asked for. afterSpecial is true for a run
    // at the start of the text or right after a special token.
    template <class EncodePlain>
    std::vector<int32_t> encodeAroundSpecials(std::string_view text, bool addSpecial,
                                              bool parseSpecial, EncodePlain&& encodePlain) const;
    // The merge loop SentencePiece and BPE share: `text` starts as one symbol per UTF-8 character
    // (judged by the lead byte, as SentencePiece does); then the adjacent pair with the highest
    // priority (the leftmost among equals) is merged, again and again, until no adjacent pair
    // merges. pairPriority(left, right) returns std::optional<P> for some ordered P: the pair's
    // priority, or nullopt when the two do not merge; `left` and `right` are adjacent in `text`.
    // Then the id of each final symbol is appended to `out`, left to right; a symbol that is no
    // piece becomes byteFallback(byte) for each of its bytes, left out where that is negative.
    template <class PairPriority, class ByteFallback>
    void mergeSymbols(std::string_view text, PairPriority&& pairPriority,
                      ByteFallback&& byteFallback, std::vector<int32_t>& out) const;

    TokenizerVocab vocab_;
    PieceIndex index_;

private:
    std::vector<int32_t> specialByLength_; // control/user-defined/unknown ids, longest text first
    std::vector<int32_t> endOfGeneration_;
};

template <class EncodePlain>
std::vector<int32_t> VocabTokenizer::encodeAroundSpecials(std::string_view text, bool addSpecial,
                                                          bool parseSpecial,
                                                          EncodePlain&& encodePlain) const
{
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    if (addSpecial && addBos_)
        out.push_back(bos_);
    bool afterSpecial = true; // the text start counts as following a special token
    for (const Fragment& f : partitionSpecial(text, parseSpecial)) {
        if (f.token >= 0) {
            out.push_back(f.token);
            afterSpecial = true;
            continue;
        }
        encodePlain(f.text, afterSpecial, out);
        afterSpecial = false;
    }
    if (addSpecial && addEos_)
        out.push_back(eos_);
    return out;
}

template <class PairPriority, class ByteFallback>
void VocabTokenizer::mergeSymbols(std::string_view text, PairPriority&& pairPriority,
                                  ByteFallback&& byteFallback, std::vector<int32_t>& out) const
{
    struct Symbol {
        int32_t prev, next;
        uint32_t offset, length; // bytes of `text`; length 0 once merged into its left
    };
    using Priority = typename std::invoke_result_t<PairPriority&, std::string_view,
                                                   std::string_view>::value_type;
    struct Bigram {
        int32_t left, right;
        Priority priority;
        uint32_t length;
    };
    // Highest priority on top; among equal priorities the leftmost pair.
    struct BigramOrder {
        bool operator()(const Bigram& a, const Bigram& b) const
        {
            return a.priority < b.priority || (a.priority == b.priority && a.left > b.left);
        }
    };

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
        const Symbol& l = symbols[left];
        const Symbol& r = symbols[right];
        const std::optional<Priority> priority =
            pairPriority(text.substr(l.offset, l.length), text.substr(r.offset, r.length));
        if (priority)
            queue.push({left, right, *priority, l.length + r.length});
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
        const std::string_view piece = text.substr(symbols[i].offset, symbols[i].length);
        const int32_t id = VocabTokenizer::findPiece(piece); // no virtual call in the loop
        if (id >= 0) {
            out.push_back(id);
            continue;
        }
        for (char ch : piece) {
            const int32_t byteId = byteFallback(uint8_t(ch));
            if (byteId >= 0)
                out.push_back(byteId);
        }
    }
}

} // namespace tenfold
