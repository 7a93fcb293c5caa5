// Tokenizer::fromLlama2cFile: llama2.c's tokenizer.bin. Its export script stores each
// SentencePiece piece with U+2581 turned back into ' ', and BOS/EOS as "\n<s>\n" / "\n</s>\n";
// this undoes both, so the result equals the vocab that llama.cpp's converter writes to GGUF.
#include "tokenizer/tokenizer.h"

#include "core/error.h"

#include <cstring>
#include <fstream>

namespace tenfold {

namespace {

bool isByteTokenText(const std::string& s)
{
    const auto hex = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
    };
    return s.size() == 6 && s.compare(0, 3, "<0x") == 0 && hex(s[3]) && hex(s[4]) && s[5] == '>';
}

} // namespace

std::unique_ptr<Tokenizer> Tokenizer::fromLlama2cFile(const std::filesystem::path& path,
                                                      int32_t vocabSize)
{
    const std::string label = path.string();
    if (vocabSize < 3)
        throw InvalidArgument(label + ": a llama2.c vocab needs at least 3 tokens, the checkpoint says " +
                              std::to_string(vocabSize));
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw IoError(label + ": cannot open tokenizer file");
    in.seekg(0, std::ios::end);
    const uint64_t fileSize = uint64_t(in.tellg());
    in.seekg(0);

    uint64_t offset = 0;
    const auto readRaw = [&](void* dst, uint64_t n, const char* what) {
        if (n > fileSize - offset)
            throw FormatError(label, offset, std::string("file ends inside ") + what);
        in.read(static_cast<char*>(dst), std::streamsize(n));
        if (!in)
            throw IoError(label + ": read failed at byte " + std::to_string(offset));
        offset += n;
    };
    int32_t maxTokenLength = 0;
    readRaw(&maxTokenLength, 4, "the header");
    if (maxTokenLength <= 0)
        throw FormatError(label, 0, "max_token_length " + std::to_string(maxTokenLength) +
                                        " is not positive");

    TokenizerVocab v;
    v.model = "llama";
    v.pre = "default";
    v.bos = 1;
    v.eos = 2;
    v.unk = 0;
    v.addBos = true;
    v.addEos = false;
    v.addSpacePrefix = true;
    v.pieces.reserve(size_t(vocabSize));
    v.scores.reserve(size_t(vocabSize));
    v.types.reserve(size_t(vocabSize));
    for (int32_t id = 0; id < vocabSize; ++id) {
        const uint64_t entryOffset = offset;
        float score = 0;
        int32_t length = 0;
        readRaw(&score, 4, "a token score");
        readRaw(&length, 4, "a token length");
        if (length < 0 || uint64_t(length) > fileSize - offset)
            throw FormatError(label, entryOffset + 4,
                              "token " + std::to_string(id) + " has length " +
                                  std::to_string(length) + ", past the end of the file");
        std::string text(size_t(length), '\0');
        readRaw(text.data(), uint64_t(length), "a token's bytes");

        TokenType type = TokenType::Normal;
        if (id == v.unk) {
            type = TokenType::Unknown;
        } else if (id == v.bos || id == v.eos) {
            type = TokenType::Control;
            text = id == v.bos ? "<s>" : "</s>";
        } else if (isByteTokenText(text)) {
            type = TokenType::Byte;
        } else {
            std::string escaped;
            for (char c : text)
                escaped += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
            text = std::move(escaped);
        }
        v.pieces.push_back(std::move(text));
        v.scores.push_back(score);
        v.types.push_back(type);
    }
    return fromVocab(std::move(v), label);
}

} // namespace tenfold
