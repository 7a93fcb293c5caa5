#pragma once
// What the SentencePiece and BPE tokenizers share: the validated vocab, piece -> id look-up, and
// splitting special tokens out of the text before the model-specific algorithm runs.
#include "tokenizer/tokenizer.h"

#include <functional>
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

    TokenizerVocab vocab_;
    PieceIndex index_;

private:
    std::vector<int32_t> specialByLength_; // control/user-defined/unknown ids, longest text first
    std::vector<int32_t> endOfGeneration_;
};

} // namespace tenfold
