#include "tokenizer/tokenizer.h"

#include "core/error.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/unicode.h"

namespace tenfold {

std::unique_ptr<Tokenizer> Tokenizer::fromVocab(TokenizerVocab vocab, const std::string& label)
{
    if (vocab.model == "llama")
        return std::make_unique<SpmTokenizer>(std::move(vocab), label);
    if (vocab.model == "gpt2")
        return std::make_unique<BpeTokenizer>(std::move(vocab), label);
    throw UnsupportedError(label + ": unsupported tokenizer model '" + vocab.model +
                           "' (tokenizer.ggml.model); supported: llama, gpt2");
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool renderSpecial) const
{
    std::string out;
    size_t first = 0; // the token whose prefix space encode added
    if (!ids.empty() && bos_ >= 0 && ids[0] == bos_) {
        if (renderSpecial)
            out += tokenBytes(ids[0], true);
        first = 1;
    }
    const bool stripSpace = modelName() == "llama" && vocab().addSpacePrefix;
    for (size_t i = first; i < ids.size(); ++i) {
        std::string bytes = tokenBytes(ids[i], renderSpecial);
        if (i == first && stripSpace && !bytes.empty() && bytes[0] == ' ')
            bytes.erase(0, 1);
        out += bytes;
    }
    return out;
}

bool Tokenizer::isEndOfGeneration(int32_t id) const
{
    return id >= 0 && (id == eos_ || id == eot_);
}

std::string StreamingDecoder::push(int32_t id)
{
    pending_ += tok_.tokenBytes(id, renderSpecial_);
    const size_t complete = unicode::completeUtf8Prefix(pending_);
    // Bytes that can never complete a character are replaced now rather than held back.
    std::string out = unicode::sanitizeUtf8(std::string_view(pending_).substr(0, complete));
    pending_.erase(0, complete);
    return out;
}

std::string StreamingDecoder::flush()
{
    std::string out = unicode::sanitizeUtf8(pending_);
    pending_.clear();
    return out;
}

} // namespace tenfold
