#pragma once
// Pre-tokenizers of byte-level BPE vocabularies: split text into words before merging, following
// the regex list that llama.cpp associates with each tokenizer.ggml.pre name. The regexes are not
// run through a regex engine; each is a hand-written matcher with the same leftmost-match,
// ordered-alternation semantics, over code points classified by unicode.h.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tenfold {

class PreTokenizer {
public:
    // Throws UnsupportedError naming `name` when it is not one of the known pre-tokenizers.
    static std::unique_ptr<PreTokenizer> create(const std::string& name);
    static std::vector<std::string> supportedNames();

    // Regex stage: code points [begin, end) of one fragment -> lengths of the pieces that cover
    // it (matches and the unmatched gaps between them, in order).
    using Stage = void (*)(const uint32_t* cps, size_t begin, size_t end, std::vector<size_t>& out);

    // The words of `text` (invalid UTF-8 bytes become U+FFFD), as code point ranges.
    struct Word {
        size_t begin, end;
    };
    std::vector<Word> split(const std::vector<uint32_t>& cps) const;

    const std::string& name() const { return name_; }
    // Whether a word that is already a whole vocab token skips merging (Llama 3 does this).
    bool ignoreMerges() const { return ignoreMerges_; }

private:
    std::string name_;
    std::vector<Stage> stages_;
    bool ignoreMerges_ = false;
};

} // namespace tenfold
