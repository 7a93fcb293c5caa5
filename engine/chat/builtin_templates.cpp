// The built-in chat formats (as Jinja, rendered by the same engine as model templates), their
// end-of-turn strings, and the choice of a format for a model.
#include "chat/chat_template.h"

#include <algorithm>
#include <cctype>

namespace tenfold {

namespace {

const std::string kChatML = R"JINJA(
{%- for message in messages -%}
    {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{- '<|im_start|>assistant\n' -}}
{%- endif -%}
)JINJA";

// Meta's Llama 2 chat format: the system prompt sits inside the first [INST] block.
const std::string kLlama2 = R"JINJA(
{%- if messages[0].role == 'system' -%}
    {%- set system_message = '<<SYS>>\n' + messages[0].content | trim + '\n<</SYS>>\n\n' -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set system_message = '' -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message.role == 'user') != (loop.index0 % 2 == 0) -%}
        {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') -}}
    {%- endif -%}
    {%- if message.role == 'user' -%}
        {{- bos_token + '[INST] ' + (system_message if loop.first else '') + message.content | trim + ' [/INST]' -}}
    {%- else -%}
        {{- ' ' + message.content | trim + ' ' + eos_token -}}
    {%- endif -%}
{%- endfor -%}
)JINJA";

const std::string kLlama3 = R"JINJA(
{{- bos_token -}}
{%- for message in messages -%}
    {{- '<|start_header_id|>' + message.role + '<|end_header_id|>\n\n' + message.content | trim + '<|eot_id|>' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
{%- endif -%}
)JINJA";

const std::string kMistral = R"JINJA(
{{- bos_token -}}
{%- if messages[0].role == 'system' -%}
    {%- set system_message = messages[0].content -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message.role == 'user') != (loop.index0 % 2 == 0) -%}
        {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') -}}
    {%- endif -%}
    {%- if message.role == 'user' -%}
        {%- if loop.first and system_message is defined -%}
            {{- '[INST] ' + system_message + '\n\n' + message.content + ' [/INST]' -}}
        {%- else -%}
            {{- '[INST] ' + message.content + ' [/INST]' -}}
        {%- endif -%}
    {%- else -%}
        {{- ' ' + message.content + eos_token -}}
    {%- endif -%}
{%- endfor -%}
)JINJA";

const std::string kPhi3 = R"JINJA(
{%- for message in messages -%}
    {%- if message.role == 'system' and message.content -%}
        {{- '<|system|>\n' + message.content + '<|end|>\n' -}}
    {%- elif message.role == 'user' -%}
        {{- '<|user|>\n' + message.content + '<|end|>\n' -}}
    {%- elif message.role == 'assistant' -%}
        {{- '<|assistant|>\n' + message.content + '<|end|>\n' -}}
    {%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{- '<|assistant|>\n' -}}
{%- else -%}
    {{- eos_token -}}
{%- endif -%}
)JINJA";

// Gemma has no system role; rather than refuse, the fallback prepends it to the first user turn.
const std::string kGemma = R"JINJA(
{{- bos_token -}}
{%- if messages[0].role == 'system' -%}
    {%- set first_user_prefix = messages[0].content | trim + '\n\n' -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = '' -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message.role == 'user') != (loop.index0 % 2 == 0) -%}
        {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') -}}
    {%- endif -%}
    {%- set role = 'model' if message.role == 'assistant' else message.role -%}
    {{- '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') + message.content | trim + '<end_of_turn>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{- '<start_of_turn>model\n' -}}
{%- endif -%}
)JINJA";

// Plain completion for models that are not chat-tuned: the text is the prompt, the reply is its
// continuation, so turns are joined without markup. BOS is left to the tokenizer.
const std::string kPlain = R"JINJA(
{%- for message in messages -%}
    {%- if message.role == 'system' -%}
        {%- if message.content -%}
            {{- message.content + '\n\n' -}}
        {%- endif -%}
    {%- else -%}
        {{- message.content -}}
    {%- endif -%}
{%- endfor -%}
)JINJA";

std::string lowercase(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool containsAny(const std::string& haystack, std::initializer_list<const char*> needles)
{
    for (const char* n : needles)
        if (haystack.find(n) != std::string::npos)
            return true;
    return false;
}

} // namespace

const char* builtinTemplateName(BuiltinTemplate kind)
{
    switch (kind) {
    case BuiltinTemplate::ChatML: return "chatml";
    case BuiltinTemplate::Llama2: return "llama2";
    case BuiltinTemplate::Llama3: return "llama3";
    case BuiltinTemplate::Mistral: return "mistral";
    case BuiltinTemplate::Phi3: return "phi3";
    case BuiltinTemplate::Gemma: return "gemma";
    case BuiltinTemplate::Plain: return "plain";
    }
    return "?";
}

std::optional<BuiltinTemplate> builtinTemplateFromName(const std::string& name)
{
    std::string n = lowercase(name);
    n.erase(std::remove_if(n.begin(), n.end(), [](char c) { return c == '-' || c == '_' || c == ' '; }), n.end());
    for (BuiltinTemplate k : {BuiltinTemplate::ChatML, BuiltinTemplate::Llama2, BuiltinTemplate::Llama3,
                              BuiltinTemplate::Mistral, BuiltinTemplate::Phi3, BuiltinTemplate::Gemma,
                              BuiltinTemplate::Plain})
        if (n == builtinTemplateName(k))
            return k;
    if (n == "completion" || n == "none")
        return BuiltinTemplate::Plain;
    return std::nullopt;
}

const std::string& builtinTemplateSource(BuiltinTemplate kind)
{
    switch (kind) {
    case BuiltinTemplate::ChatML: return kChatML;
    case BuiltinTemplate::Llama2: return kLlama2;
    case BuiltinTemplate::Llama3: return kLlama3;
    case BuiltinTemplate::Mistral: return kMistral;
    case BuiltinTemplate::Phi3: return kPhi3;
    case BuiltinTemplate::Gemma: return kGemma;
    case BuiltinTemplate::Plain: return kPlain;
    }
    return kPlain;
}

std::vector<std::string> builtinStopStrings(BuiltinTemplate kind)
{
    switch (kind) {
    case BuiltinTemplate::ChatML: return {"<|im_end|>", "<|im_start|>"};
    case BuiltinTemplate::Llama2: return {"[INST]"};
    case BuiltinTemplate::Llama3: return {"<|eot_id|>", "<|eom_id|>", "<|start_header_id|>"};
    case BuiltinTemplate::Mistral: return {"[INST]"};
    case BuiltinTemplate::Phi3: return {"<|end|>", "<|user|>", "<|assistant|>"};
    case BuiltinTemplate::Gemma: return {"<end_of_turn>", "<start_of_turn>"};
    case BuiltinTemplate::Plain: return {};
    }
    return {};
}

BuiltinTemplate guessBuiltinTemplate(const std::string& name, const std::string& architecture)
{
    std::string n = lowercase(name);
    std::string arch = lowercase(architecture);
    bool chatTuned = containsAny(n, {"instruct", "chat", "-it", "_it", " it", ".it", "hermes", "assistant", "sft",
                                     "dpo", "rlhf"});
    if (!chatTuned)
        return BuiltinTemplate::Plain;
    if (containsAny(n, {"llama-3", "llama3", "llama 3", "llama_3"}))
        return BuiltinTemplate::Llama3;
    if (containsAny(n, {"llama-2", "llama2", "llama 2", "llama_2"}))
        return BuiltinTemplate::Llama2;
    if (containsAny(n, {"mistral", "mixtral", "ministral"}))
        return BuiltinTemplate::Mistral;
    if (containsAny(n, {"phi-3", "phi3", "phi 3", "phi-4", "phi4"}) || arch == "phi3")
        return BuiltinTemplate::Phi3;
    if (n.find("gemma") != std::string::npos || arch.rfind("gemma", 0) == 0)
        return BuiltinTemplate::Gemma;
    // ChatML is the format most fine-tunes (Qwen, Hermes, Yi, many others) use.
    return BuiltinTemplate::ChatML;
}

ChatTemplate selectChatTemplate(const ChatModelInfo& info)
{
    if (info.chatTemplate && !info.chatTemplate->empty()) {
        try {
            ChatTemplate own(*info.chatTemplate, info.name.empty() ? std::string("model") : info.name);
            // A template that parses may still use something this engine lacks; try it once on the
            // simplest conversation (raise_exception is the template's own, acceptable, answer).
            try {
                own.render({{"user", "Hello"}}, true, "<s>", "</s>");
            } catch (const TemplateRaisedError&) {
            }
            return own;
        } catch (const TemplateError&) {
            // A model that ships a template is chat-tuned whatever its name says; use the closest
            // built-in rather than no chat format at all.
            return ChatTemplate::builtin(guessBuiltinTemplate(info.name + " chat", info.architecture));
        }
    }
    return ChatTemplate::builtin(guessBuiltinTemplate(info.name, info.architecture));
}

} // namespace tenfold
