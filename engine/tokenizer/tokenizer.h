#pragma once
// Tokenizers built from GGUF metadata (tokenizer.ggml.*): SentencePiece-style ("llama") with byte
// fallback, and byte-level BPE ("gpt2") with the pre-tokenizer named by tokenizer.ggml.pre.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tenfold {

class GGUFFile;

enum class TokenType : int32_t {
    Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
};

// Everything a tokenizer is built from: the tokenizer.ggml.* metadata as plain values. Lets a
// synthetic-model generator build a vocab directly and an exporter write it back to GGUF.
struct TokenizerVocab {
    std::string model = "llama";        // "llama" (SentencePiece) or "gpt2" (byte-level BPE)
    std::string pre = "default";        // pre-tokenizer name (BPE only)
    std::vector<std::string> pieces;
    std::vector<float> scores;          // one per piece, or empty (all 0)
    std::vector<TokenType> types;       // one per piece, or empty (all Normal)
    std::vector<std::string> merges;    // "left right", rank order (BPE only)
    int32_t bos = -1, eos = -1, eot = -1, unk = -1, pad = -1;
    bool addBos = false, addEos = false;
    bool addSpacePrefix = true;         // SentencePiece: prefix the text with a space
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Throws UnsupportedError for an unknown tokenizer model or pre-tokenizer, FormatError for
    // inconsistent vocab arrays.
    static std::unique_ptr<Tokenizer> fromGGUF(const GGUFFile& file);
    // Builds from plain vectors (validated the same way: FormatError naming `label`).
    static std::unique_ptr<Tokenizer> fromVocab(TokenizerVocab vocab,
                                                const std::string& label = "vocab");
    // llama2.c's tokenizer.bin (int32 max_token_length, then per token: float score, int32 length,
    // bytes); the checkpoint gives the vocab size. Builds a SentencePiece tokenizer with llama2.c's
    // conventions: <unk>=0, <s>=1, </s>=2, "<0xXX>" byte tokens, ' ' stored for U+2581.
    static std::unique_ptr<Tokenizer> fromLlama2cFile(const std::filesystem::path& path,
                                                      int32_t vocabSize);

    // addSpecial: prepend BOS / append EOS as the vocab's add_bos/add_eos flags say.
    // parseSpecial: text like "<|im_start|>" becomes its control token instead of plain text.
    // As in llama.cpp, user-defined tokens are split out even without parseSpecial (longest
    // token first), and SentencePiece text that follows a special token gets the prefix space.
    virtual std::vector<int32_t> encode(std::string_view text, bool addSpecial,
                                        bool parseSpecial = false) const = 0;
    // Raw bytes of one token as it appears in output (byte tokens become their byte; control
    // tokens become empty unless renderSpecial). Out-of-range ids throw InvalidArgument.
    virtual std::string tokenBytes(int32_t id, bool renderSpecial = false) const = 0;
    // The text of a whole sequence: inverse of encode. A leading BOS is skipped (shown only with
    // renderSpecial), and when the vocab prefixes a space (SentencePiece) the space of the first
    // token after it is taken off again, so decode(encode(x, true)) == x. (StreamingDecoder
    // keeps every space: it continues a prompt.)
    // Bytes are returned as they are: a sequence ending inside a character is not valid UTF-8.
    std::string decode(const std::vector<int32_t>& ids, bool renderSpecial = false) const;

    virtual int32_t vocabSize() const = 0;
    virtual const std::string& piece(int32_t id) const = 0; // the vocab string as stored
    virtual TokenType tokenType(int32_t id) const = 0;
    virtual std::string modelName() const = 0;             // "llama", "gpt2"
    virtual std::string preTokenizerName() const = 0;      // "default", "llama-bpe", ...
    virtual const TokenizerVocab& vocab() const = 0;       // what it was built from

    int32_t bos() const { return bos_; }
    int32_t eos() const { return eos_; }
    int32_t eot() const { return eot_; }   // end-of-turn (e.g. <|eot_id|>), -1 if none
    int32_t unknown() const { return vocab().unk; }
    int32_t padding() const { return vocab().pad; }
    // Id of a piece stored exactly as `text`, or -1.
    virtual int32_t findPiece(std::string_view text) const = 0;
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
