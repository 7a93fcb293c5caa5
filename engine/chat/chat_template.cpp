#include "chat/chat_template.h"

#include "chat/jinja_eval.h"
#include "chat/jinja_json.h"
#include "chat/jinja_parser.h"

#include "core/platform.h"

#include <ctime>

namespace tenfold {

namespace {

std::string todayDateString()
{
    // "26 Jul 2024", the form Llama 3.1's template uses as its default.
    std::time_t now = std::time(nullptr);
    std::tm local{};
    platform::localTime(now, local);
    char buf[32];
    size_t n = std::strftime(buf, sizeof buf, "%d %b %Y", &local);
    return std::string(buf, n);
}

} // namespace

ChatTemplate::ChatTemplate(std::string jinjaSource, std::string name)
    : name_(std::move(name)), source_(std::move(jinjaSource)), program_(jinja::parseTemplate(source_))
{
}

ChatTemplate ChatTemplate::builtin(BuiltinTemplate kind)
{
    ChatTemplate t(builtinTemplateSource(kind), builtinTemplateName(kind));
    t.builtin_ = kind;
    return t;
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool addGenerationPrompt,
                                 const std::string& bos, const std::string& eos) const
{
    ChatRenderOptions options;
    options.addGenerationPrompt = addGenerationPrompt;
    options.bosToken = bos;
    options.eosToken = eos;
    return render(messages, options);
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, const ChatRenderOptions& options) const
{
    jinja::ValueList list;
    list.reserve(messages.size());
    for (const ChatMessage& m : messages) {
        jinja::ValueDict d;
        d.set("role", jinja::Value(m.role));
        d.set("content", jinja::Value(m.content));
        list.push_back(jinja::Value::dict(std::move(d)));
    }
    return renderValues(jinja::Value::list(std::move(list)), options);
}

std::string ChatTemplate::renderJson(const std::string& conversationJson, const ChatRenderOptions& options) const
{
    jinja::Value parsed;
    try {
        parsed = jinja::parseJson(conversationJson);
    } catch (const jinja::ValueError& e) {
        throw InvalidArgument(std::string("conversation JSON: ") + e.what());
    }
    ChatRenderOptions effective = options;
    jinja::Value messages = parsed;
    if (parsed.isDict()) {
        const jinja::Value* found = parsed.asDict().find("messages");
        if (!found)
            throw InvalidArgument("conversation JSON: the object has no \"messages\" array");
        messages = *found;
        if (const jinja::Value* tools = parsed.asDict().find("tools"); tools && !tools->isNone()) {
            if (!tools->isList())
                throw InvalidArgument("conversation JSON: \"tools\" must be an array");
            effective.toolsJson = jinja::toJson(*tools);
        }
    }
    if (!messages.isList())
        throw InvalidArgument("conversation JSON: \"messages\" must be an array of message objects");
    const jinja::ValueList& list = messages.asList();
    for (size_t i = 0; i < list.size(); ++i) {
        if (!list[i].isDict())
            throw InvalidArgument("conversation JSON: message " + std::to_string(i) + " is not an object");
        const jinja::Value* role = list[i].asDict().find("role");
        if (!role || !role->isString())
            throw InvalidArgument("conversation JSON: message " + std::to_string(i) + " has no \"role\" string");
    }
    return renderValues(messages, effective);
}

std::string ChatTemplate::renderValues(const jinja::Value& messages, const ChatRenderOptions& options) const
{
    jinja::ValueDict vars;
    vars.set("messages", messages);
    vars.set("add_generation_prompt", jinja::Value(options.addGenerationPrompt));
    vars.set("bos_token", jinja::Value(options.bosToken));
    vars.set("eos_token", jinja::Value(options.eosToken));
    if (options.defineDateString)
        vars.set("date_string", jinja::Value(options.dateString.empty() ? todayDateString() : options.dateString));
    if (!options.toolsJson.empty()) {
        jinja::Value tools;
        try {
            tools = jinja::parseJson(options.toolsJson);
        } catch (const jinja::ValueError& e) {
            throw InvalidArgument(std::string("tool definitions: ") + e.what());
        }
        if (!tools.isList())
            throw InvalidArgument("tool definitions must be a JSON array");
        vars.set("tools", tools);
    }
    return jinja::renderProgram(*program_, vars);
}

std::vector<std::string> ChatTemplate::stopStrings() const
{
    if (builtin_)
        return builtinStopStrings(*builtin_);
    static const char* const markers[] = {"<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>",
                                          "<end_of_turn>", "<|endoftext|>", "[INST]"};
    std::vector<std::string> found;
    for (const char* m : markers)
        if (source_.find(m) != std::string::npos)
            found.emplace_back(m);
    return found;
}

} // namespace tenfold
