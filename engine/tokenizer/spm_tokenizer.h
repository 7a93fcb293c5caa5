#pragma once
// SentencePiece-style tokenizer ("llama" in GGUF), compatible with llama.cpp: spaces become U+2581,
// a space is prefixed to the text, adjacent symbols are merged by the score of the piece they
// form (highest first, leftmost on ties) with one priority queue over the whole text, and
// characters left without a piece fall back to <0xXX> byte tokens.
#include "tokenizer/vocab_tokenizer.h"

#include <array>
#include <unordered_set>

namespace tenfold {

class SpmTokenizer final : public VocabTokenizer {
public:
    SpmTokenizer(TokenizerVocab vocab, const std::string& label);

    std::vector<int32_t> encode(std::string_view text, bool addSpecial,
                                bool parseSpecial = false) const override;
    std::string tokenBytes(int32_t id, bool renderSpecial = false) const override;

private:
    // Appends the tokens of one run of plain text (already escaped: spaces as U+2581).
    void encodeEscaped(std::string_view text, std::vector<int32_t>& out) const;
    // The merge loop proper: one priority queue over all symbols of `text`.
    void encodeChunk(std::string_view text, std::vector<int32_t>& out) const;
    int32_t byteToken(uint8_t byte) const;

    std::array<int32_t, 256> byteTokens_;   // <0xXX> (or the one-byte piece), -1 if neither
    // Characters that some piece holds right before a U+2581 (see encodeEscaped).
    std::unordered_set<std::string> beforeSpaceMark_;
};

} // namespace tenfold
