#pragma once
// Tokenizers built from GGUF metadata (tokenizer.ggml.*): SentencePiece-style ("llama") with byte
// fallback, and byte-level BPE ("gpt2") with the pre-tokenizer named by tokenizer.ggml.pre.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tenfold {

class GGUFFile;

enum class TokenType : int32_t {
    Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Throws UnsupportedError for an unknown tokenizer model or pre-tokenizer, FormatError for
    // inconsistent vocab arrays.
    static std::unique_ptr<Tokenizer> fromGGUF(const GGUFFile& file);

    // addSpecial: prepend BOS / append EOS as the vocab's add_bos/add_eos flags say.
    // parseSpecial: text like "<|im_start|>" becomes its control token instead of plain text.
    virtual std::vector<int32_t> encode(std::string_view text, bool addSpecial,
                                        bool parseSpecial = false) const = 0;
    // Raw bytes of one token as it appears in output (byte tokens become their byte; control
    // tokens become empty unless renderSpecial).
    virtual std::string tokenBytes(int32_t id, bool renderSpecial = false) const = 0;
    std::string decode(const std::vector<int32_t>& ids, bool renderSpecial = false) const;

    virtual int32_t vocabSize() const = 0;
    virtual const std::string& piece(int32_t id) const = 0; // the vocab string as stored
    virtual TokenType tokenType(int32_t id) const = 0;
    virtual std::string modelName() const = 0;             // "llama", "gpt2"
    virtual std::string preTokenizerName() const = 0;      // "default", "llama-bpe", ...

    int32_t bos() const { return bos_; }
    int32_t eos() const { return eos_; }
    int32_t eot() const { return eot_; }   // end-of-turn (e.g. <|eot_id|>), -1 if none
    bool addBos() const { return addBos_; }
    bool addEos() const { return addEos_; }
    // True for EOS/EOT and other end-of-generation tokens.
    virtual bool isEndOfGeneration(int32_t id) const;

protected:
    int32_t bos_ = -1, eos_ = -1, eot_ = -1;
    bool addBos_ = false, addEos_ = false;
};

// Turns a stream of token ids into valid UTF-8 text: bytes of a character split across tokens are
// held back until the character is complete.
class StreamingDecoder {
public:
    explicit StreamingDecoder(const Tokenizer& tok, bool renderSpecial = false)
        : tok_(tok), renderSpecial_(renderSpecial) {}
    std::string push(int32_t id);  // the text that became complete with this token
    std::string flush();           // whatever is pending (invalid bytes become U+FFFD)

private:
    const Tokenizer& tok_;
    bool renderSpecial_;
    std::string pending_;
};

} // namespace tenfold
