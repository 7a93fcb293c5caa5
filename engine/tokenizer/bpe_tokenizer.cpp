#include "tokenizer/bpe_tokenizer.h"

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace tenfold {

namespace {

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
    return encodeAroundSpecials(text, addSpecial, parseSpecial,
                                [&](std::string_view plain, bool, std::vector<int32_t>& out) {
                                    encodeText(plain, out);
                                });
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
    // Lower merge ranks go first, so the negated rank is the priority.
    const auto pairPriority = [&](std::string_view left,
                                  std::string_view right) -> std::optional<int32_t> {
        const int32_t rank = mergeRank(left, right);
        return rank >= 0 ? std::optional<int32_t>(-rank) : std::nullopt;
    };
    // No piece for a symbol: llama.cpp emits whatever single bytes of it are pieces.
    const auto byteFallback = [&](uint8_t byte) {
        const char ch = char(byte);
        return findPiece(std::string_view(&ch, 1));
    };
    mergeSymbols(word, pairPriority, byteFallback, out);
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
