// tokenize MODEL TEXT|--file F: the model's view of a text.
#include "cli_common.h"
#include "commands.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

#include <cstdio>

namespace tenfold::cli {

CommandSpec tokenizeSpec()
{
    return {"tokenize", "MODEL (TEXT | --file F) [--no-bos] [--ids-only]",
            "Prints one line per token: index, id and piece (the vocabulary string), then the\n"
            "counts of tokens, bytes and characters. Special tokens such as <s> are added as the\n"
            "model's tokenizer says (add_bos) unless --no-bos.",
            {"MODEL"},
            {"TEXT"},
            {{"--file", "-f", "F", "read the text from file F instead"},
             {"--no-bos", "", "", "do not add the BOS token"},
             {"--parse-special", "", "", "turn text like <s> into its control token"},
             {"--ids-only", "", "", "print only the ids, space-separated, on one line"}}};
}

int runTokenize(const ParsedArgs& args)
{
    std::string text;
    if (args.has("--file")) {
        if (args.positionals().size() > 1)
            throw UsageError("give either TEXT or --file, not both");
        text = readTextFile(*args.get("--file"));
    } else if (args.positionals().size() > 1) {
        text = args.positional(1);
    } else {
        throw UsageError("'tokenize' needs TEXT or --file F");
    }
    // Only the vocabulary is needed, so vocabulary-only GGUF files work too.
    const std::string path = args.positional(0);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw IoError("model file not found: " + path);
    const std::unique_ptr<Tokenizer> tokenizer = Tokenizer::fromGGUF(*GGUFFile::open(path));
    const Tokenizer& tok = *tokenizer;
    const std::vector<int32_t> ids =
        tok.encode(text, !args.has("--no-bos"), args.has("--parse-special"));
    if (args.has("--ids-only")) {
        for (size_t i = 0; i < ids.size(); ++i)
            std::printf("%s%d", i ? " " : "", ids[i]);
        std::printf("\n");
        return 0;
    }
    for (size_t i = 0; i < ids.size(); ++i)
        std::printf("%6zu %8d  '%s'\n", i, ids[i], tok.piece(ids[i]).c_str());
    size_t chars = 0;
    for (unsigned char c : text)
        chars += (c & 0xC0) != 0x80;
    std::printf("tokens: %zu  bytes: %zu  characters: %zu\n", ids.size(), text.size(), chars);
    return 0;
}

} // namespace tenfold::cli
