#pragma once
// Byte-level BPE tokenizer ("gpt2" in GGUF), compatible with llama.cpp: the pre-tokenizer named by
// tokenizer.ggml.pre splits the text into words, each word's UTF-8 bytes are mapped to printable
// code points (GPT-2's bytes_to_unicode), and adjacent symbols are merged by the rank of their
// pair in tokenizer.ggml.merges (lowest rank first, leftmost on ties).
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/vocab_tokenizer.h"

#include <array>

namespace tenfold {

class BpeTokenizer final : public VocabTokenizer {
public:
    // Throws UnsupportedError for an unknown pre-tokenizer, FormatError for a malformed merge.
    BpeTokenizer(TokenizerVocab vocab, const std::string& label);

    std::vector<int32_t> encode(std::string_view text, bool addSpecial,
                                bool parseSpecial = false) const override;
    std::string tokenBytes(int32_t id, bool renderSpecial = false) const override;

private:
    void encodeText(std::string_view text, std::vector<int32_t>& out) const;
    // Appends the tokens of one pre-tokenized word, given in its byte-mapped form.
    void encodeWord(std::string_view word, std::vector<int32_t>& out) const;
    int32_t mergeRank(std::string_view left, std::string_view right) const;

    std::unique_ptr<PreTokenizer> pre_;
    PieceIndex mergeRanks_;                      // "left right" -> rank
    std::array<std::string, 256> byteToText_;    // byte -> UTF-8 of its mapped code point
    std::vector<int16_t> codepointToByte_;       // mapped code point (< 324) -> byte, -1 if none
};

} // namespace tenfold
