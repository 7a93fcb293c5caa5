#pragma once
// Chat templates: turn a conversation into the exact prompt text a chat-tuned model was trained on.
// A model's own template (GGUF `tokenizer.chat_template`, Jinja) is rendered by the Jinja-subset
// engine in engine/chat/jinja_*; models without one get a built-in format picked from their name
// or architecture, and models that are not chat-tuned get plain completion (turns concatenated as
// text so the model simply continues it).
#include "chat/template_error.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tenfold {

namespace jinja {
struct Program;
class Value;
}

struct ChatMessage {
    std::string role;    // "system", "user", "assistant" (templates may accept "tool" etc.)
    std::string content;
};

// The formats Tenfold knows without a model-provided template.
enum class BuiltinTemplate {
    ChatML,  // <|im_start|>role\n...<|im_end|>\n (Qwen, many fine-tunes)
    Llama2,  // [INST] <<SYS>>...<</SYS>> ... [/INST]
    Llama3,  // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
    Mistral, // [INST] ... [/INST] with the system prompt folded into the first user turn
    Phi3,    // <|user|>\n...<|end|>\n
    Gemma,   // <start_of_turn>user\n...<end_of_turn>\n; a system prompt is folded into the first user turn
    Plain,   // plain completion: system text + blank line, then the other turns' text as is (no BOS text)
};

const char* builtinTemplateName(BuiltinTemplate kind);
// Accepts the names above case-insensitively ("chatml", "llama3", "plain", ...).
std::optional<BuiltinTemplate> builtinTemplateFromName(const std::string& name);

// Extra inputs some templates read; the defaults match what llama.cpp-style hosts pass.
struct ChatRenderOptions {
    bool addGenerationPrompt = true;
    std::string bosToken;
    std::string eosToken;
    // JSON array of tool definitions (OpenAI style); empty = no tools (the variable is undefined).
    std::string toolsJson;
    // `date_string` for templates that print today's date; empty = today's date, "26 Jul 2024" style.
    std::string dateString;
    // false: leave `date_string` undefined, as Hugging Face's apply_chat_template does, so a
    // template falls back to its own default (tenfold-cli template renders like Python's jinja2).
    bool defineDateString = true;
};

class ChatTemplate {
public:
    // Parses a Jinja template. Throws TemplateSyntaxError (with line/column) if it does not parse.
    explicit ChatTemplate(std::string jinjaSource, std::string name = "custom");
    static ChatTemplate builtin(BuiltinTemplate kind);
    static ChatTemplate plainCompletion() { return builtin(BuiltinTemplate::Plain); }

    // Renders the conversation. Throws TemplateRaisedError when the template calls
    // raise_exception(msg) (e.g. a role it does not support) and TemplateRenderError for evaluation
    // failures (unknown filter, wrong types), both carrying the template's line/column.
    std::string render(const std::vector<ChatMessage>& messages, bool addGenerationPrompt,
                       const std::string& bos, const std::string& eos) const;
    std::string render(const std::vector<ChatMessage>& messages, const ChatRenderOptions& options) const;
    // Renders an OpenAI-style conversation given as JSON text: either the `messages` array or an
    // object with `messages` and optional `tools` (a chat-completion request body). Every field of
    // a message (content as text, a list of parts or null; tool_calls; tool_call_id; name) reaches
    // the template unchanged. `tools` in the JSON replaces options.toolsJson. Throws
    // InvalidArgument naming the problem for JSON that is not such a conversation, and the
    // template errors of render().
    std::string renderJson(const std::string& conversationJson, const ChatRenderOptions& options) const;

    const std::string& name() const { return name_; }
    const std::string& source() const { return source_; }
    std::optional<BuiltinTemplate> builtinKind() const { return builtin_; }
    bool isPlainCompletion() const { return builtin_ == BuiltinTemplate::Plain; }

    // Strings that end an assistant turn in this format (beyond the tokenizer's EOS token), for
    // GenerateOptions::stopStrings. For a model-provided template they are the end-of-turn markers
    // found in its source. Plain completion has none.
    std::vector<std::string> stopStrings() const;

private:
    std::string renderValues(const jinja::Value& messages, const ChatRenderOptions& options) const;

    std::string name_;
    std::string source_;
    std::optional<BuiltinTemplate> builtin_;
    std::shared_ptr<const jinja::Program> program_;
};

// The Jinja source of a built-in format (Plain included: it is also a template).
const std::string& builtinTemplateSource(BuiltinTemplate kind);
// End-of-turn strings for a built-in format (see ChatTemplate::stopStrings).
std::vector<std::string> builtinStopStrings(BuiltinTemplate kind);

// What a model tells us about its chat format.
struct ChatModelInfo {
    std::optional<std::string> chatTemplate; // GGUF tokenizer.chat_template, if present
    std::string name;                        // general.name or the file name
    std::string architecture;                // general.architecture ("llama", "qwen2", "gemma2"...)
};

// Picks the template for a model: its own template when present (falling back to a guess when it
// does not parse), else a built-in chosen from the name/architecture; models whose name does not
// indicate chat tuning ("instruct", "chat", "-it", ...) and that carry no template get plain
// completion.
ChatTemplate selectChatTemplate(const ChatModelInfo& info);
// The built-in a name/architecture hint points to, or Plain when nothing suggests a chat model.
BuiltinTemplate guessBuiltinTemplate(const std::string& name, const std::string& architecture);

} // namespace tenfold
