#include "tokenizer/vocab_tokenizer.h"

#include "core/error.h"

#include <algorithm>

namespace tenfold {

VocabTokenizer::VocabTokenizer(TokenizerVocab vocab, const std::string& label)
    : vocab_(std::move(vocab))
{
    const size_t n = vocab_.pieces.size();
    const auto fail = [&](const std::string& problem) { throw FormatError(label, 0, problem); };
    if (n == 0)
        fail("tokenizer vocab is empty");
    if (n > size_t(INT32_MAX))
        fail("tokenizer vocab is too large");
    if (!vocab_.scores.empty() && vocab_.scores.size() != n)
        fail("tokenizer.ggml.scores has " + std::to_string(vocab_.scores.size()) +
             " entries for " + std::to_string(n) + " tokens");
    if (!vocab_.types.empty() && vocab_.types.size() != n)
        fail("tokenizer.ggml.token_type has " + std::to_string(vocab_.types.size()) +
             " entries for " + std::to_string(n) + " tokens");
    if (vocab_.scores.empty())
        vocab_.scores.assign(n, 0.0f);
    if (vocab_.types.empty())
        vocab_.types.assign(n, TokenType::Normal);
    for (TokenType t : vocab_.types)
        if (int32_t(t) < 0 || int32_t(t) > int32_t(TokenType::Byte))
            fail("token type " + std::to_string(int32_t(t)) + " is not a known type");
    const auto checkSpecial = [&](int32_t& id, const char* what) {
        if (id < -1 || id >= int32_t(n))
            fail(std::string(what) + " id " + std::to_string(id) + " is outside the vocab of " +
                 std::to_string(n) + " tokens");
    };
    checkSpecial(vocab_.bos, "BOS");
    checkSpecial(vocab_.eos, "EOS");
    checkSpecial(vocab_.eot, "EOT");
    checkSpecial(vocab_.unk, "unknown-token");
    checkSpecial(vocab_.pad, "padding");
    if (vocab_.addBos && vocab_.bos < 0)
        fail("add_bos_token is set but the vocab has no BOS token");
    if (vocab_.addEos && vocab_.eos < 0)
        fail("add_eos_token is set but the vocab has no EOS token");

    index_.reserve(n);
    for (size_t i = 0; i < n; ++i)
        index_[vocab_.pieces[i]] = int32_t(i); // a duplicated piece maps to its last id

    bos_ = vocab_.bos;
    eos_ = vocab_.eos;
    eot_ = vocab_.eot;
    if (eot_ < 0) {
        // Vocabs written before eot_token_id existed still name their end-of-turn token.
        for (const char* text : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|EOT|>"}) {
            const auto it = index_.find(std::string_view(text));
            if (it != index_.end() && (vocab_.types[it->second] == TokenType::Control ||
                                       vocab_.types[it->second] == TokenType::UserDefined)) {
                eot_ = it->second;
                break;
            }
        }
    }
    addBos_ = vocab_.addBos;
    addEos_ = vocab_.addEos;

    for (size_t i = 0; i < n; ++i) {
        const TokenType t = vocab_.types[i];
        if ((t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown) &&
            !vocab_.pieces[i].empty())
            specialByLength_.push_back(int32_t(i));
    }
    std::stable_sort(specialByLength_.begin(), specialByLength_.end(), [&](int32_t a, int32_t b) {
        return vocab_.pieces[a].size() > vocab_.pieces[b].size();
    });

    // End of generation: EOS, EOT, and the control tokens chat models end a turn with.
    for (int32_t id : {vocab_.eos, vocab_.eot})
        if (id >= 0)
            endOfGeneration_.push_back(id);
    for (const char* text : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|endoftext|>",
                             "<end_of_turn>", "<|EOT|>", "<|end_of_text|>", "<|eom_id|>"}) {
        const int32_t id = findPiece(text);
        if (id >= 0 && vocab_.types[id] == TokenType::Control)
            endOfGeneration_.push_back(id);
    }
}

void VocabTokenizer::checkId(int32_t id) const
{
    if (id < 0 || id >= vocabSize())
        throw InvalidArgument("token id " + std::to_string(id) + " is outside the vocab of " +
                              std::to_string(vocabSize()) + " tokens");
}

const std::string& VocabTokenizer::piece(int32_t id) const
{
    checkId(id);
    return vocab_.pieces[id];
}

TokenType VocabTokenizer::tokenType(int32_t id) const
{
    checkId(id);
    return vocab_.types[id];
}

int32_t VocabTokenizer::findPiece(std::string_view text) const
{
    const auto it = index_.find(text);
    return it == index_.end() ? -1 : it->second;
}

bool VocabTokenizer::isEndOfGeneration(int32_t id) const
{
    return std::find(endOfGeneration_.begin(), endOfGeneration_.end(), id) !=
           endOfGeneration_.end();
}

std::vector<VocabTokenizer::Fragment> VocabTokenizer::partitionSpecial(std::string_view text,
                                                                       bool parseSpecial) const
{
    std::vector<Fragment> fragments;
    if (text.empty())
        return fragments;
    fragments.push_back({text, -1});
    std::vector<Fragment> next;
    for (int32_t id : specialByLength_) {
        const TokenType t = vocab_.types[id];
        if (!parseSpecial && t != TokenType::UserDefined)
            continue;
        const std::string& special = vocab_.pieces[id];
        if (text.find(special) == std::string_view::npos)
            continue; // cheap check against the whole text before splitting fragments
        next.clear();
        for (const Fragment& f : fragments) {
            if (f.token >= 0) {
                next.push_back(f);
                continue;
            }
            size_t start = 0;
            for (size_t hit; (hit = f.text.find(special, start)) != std::string_view::npos;) {
                if (hit > start)
                    next.push_back({f.text.substr(start, hit - start), -1});
                next.push_back({f.text.substr(hit, special.size()), id});
                start = hit + special.size();
            }
            if (start < f.text.size())
                next.push_back({f.text.substr(start), -1});
        }
        fragments.swap(next);
    }
    return fragments;
}

} // namespace tenfold
