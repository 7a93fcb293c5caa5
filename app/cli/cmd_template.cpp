// template (--model MODEL | --template FILE.jinja) --messages MESSAGES.json: the exact text a
// conversation renders to. Nothing but the rendered bytes goes to stdout (no newline is added), so
// the output can be compared byte for byte with Python's jinja2 (tools/gen_template_goldens.py).
#include "cli_common.h"
#include "commands.h"

#include "chat/chat_template.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

#include <cstdio>
#include <filesystem>

namespace tenfold::cli {

CommandSpec templateSpec()
{
    return {"template",
            "(--model MODEL | --template FILE.jinja) --messages MESSAGES.json [--add-generation-prompt]\n"
            "       [--bos-token S --eos-token S]",
            "Prints exactly the text the conversation renders to with the chat template, as\n"
            "Hugging Face's apply_chat_template renders it with Python's jinja2 (trim_blocks,\n"
            "lstrip_blocks): no newline is added. MESSAGES.json is an OpenAI-style `messages` array,\n"
            "or an object with `messages` and optional `tools`. With --model, the template is the\n"
            "model's tokenizer.chat_template and the BOS/EOS strings default to its tokens' text.\n"
            "`date_string` is left undefined, so templates use their own default. A template that\n"
            "calls raise_exception(MESSAGE) makes the command fail with MESSAGE.",
            {},
            // The parser hands -m/--model MODEL over as this positional (cli_args.cpp).
            {"MODEL"},
            {{"--model", "-m", "MODEL", "use the chat template stored in this GGUF model"},
             {"--template", "", "FILE", "use this Jinja template file"},
             {"--messages", "", "FILE", "the conversation (OpenAI-style JSON)"},
             {"--add-generation-prompt", "", "", "end with the header of the assistant's turn"},
             {"--bos-token", "", "S", "the text of bos_token (default: the model's, or empty)"},
             {"--eos-token", "", "S", "the text of eos_token (default: the model's, or empty)"}}};
}

int runTemplate(const ParsedArgs& args)
{
    const bool fromModel = !args.positionals().empty();
    if (fromModel == args.has("--template"))
        throw UsageError("give exactly one of --model MODEL and --template FILE");
    if (!args.has("--messages"))
        throw UsageError("'template' needs --messages FILE");

    ChatRenderOptions options;
    options.addGenerationPrompt = args.has("--add-generation-prompt");
    options.defineDateString = false;
    std::string source;
    std::string name;
    if (fromModel) {
        const std::string path = args.positional(0);
        std::error_code ec;
        if (!std::filesystem::exists(path, ec))
            throw IoError("model file not found: " + path);
        const std::shared_ptr<GGUFFile> file = GGUFFile::open(path);
        const std::optional<std::string> stored = file->getString("tokenizer.chat_template");
        if (!stored)
            throw InvalidArgument(path + " has no tokenizer.chat_template; give --template FILE");
        source = *stored;
        name = path;
        const std::unique_ptr<Tokenizer> tokenizer = Tokenizer::fromGGUF(*file);
        if (tokenizer->bos() >= 0)
            options.bosToken = tokenizer->piece(tokenizer->bos());
        if (tokenizer->eos() >= 0)
            options.eosToken = tokenizer->piece(tokenizer->eos());
    } else {
        name = *args.get("--template");
        source = readTextFile(name);
    }
    options.bosToken = args.getString("--bos-token", options.bosToken);
    options.eosToken = args.getString("--eos-token", options.eosToken);

    const std::string messages = readTextFile(*args.get("--messages"));
    const ChatTemplate tmpl(source, name);
    const std::string text = tmpl.renderJson(messages, options);
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
        throw IoError("could not write the rendered text to stdout");
    return 0;
}

} // namespace tenfold::cli
