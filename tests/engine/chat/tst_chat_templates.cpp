// Real model chat templates (../shared/templates) and the built-in formats, rendered for typical
// conversations. Each expected prompt is written out by hand from the template's own rules (and
// the model cards' documented formats), not produced by the engine.
#include "chat/chat_template.h"
#include "common/shared_data.h"

#include <QtTest>

#include <fstream>
#include <sstream>

using namespace tenfold;

namespace {

const std::vector<ChatMessage> kWithSystem = {
    {"system", "You are terse."}, {"user", "Hi there"}, {"assistant", " Hello! "}, {"user", "2+2?"}};
const std::vector<ChatMessage> kWithoutSystem = {{"user", "Hi there"}, {"assistant", " Hello! "}, {"user", "2+2?"}};

std::string readFile(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

ChatRenderOptions options(bool generationPrompt, const std::string& bos, const std::string& eos)
{
    ChatRenderOptions o;
    o.addGenerationPrompt = generationPrompt;
    o.bosToken = bos;
    o.eosToken = eos;
    o.dateString = "01 Jan 2025";
    return o;
}

} // namespace

class TestChatTemplates : public QObject {
    Q_OBJECT

    ChatTemplate shared(const char* file)
    {
        auto path = test::sharedFile((std::string("templates/") + file).c_str());
        if (!std::filesystem::exists(path))
            throw std::runtime_error(test::missingMessage(path).toStdString());
        return ChatTemplate(readFile(path), file);
    }

#define SHARED_TEMPLATE(var, file)                                                                 \
    TENFOLD_REQUIRE_SHARED(test::sharedFile("templates/" file));                                   \
    ChatTemplate var = shared(file)

private slots:
    void qwen25()
    {
        SHARED_TEMPLATE(t, "Qwen-Qwen2.5-7B-Instruct.jinja");
        // Without a system message the template inserts its default one.
        QCOMPARE(t.render(kWithoutSystem, options(true, "", "<|endoftext|>")),
                 std::string("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                             "<|im_start|>user\nHi there<|im_end|>\n"
                             "<|im_start|>assistant\n Hello! <|im_end|>\n"
                             "<|im_start|>user\n2+2?<|im_end|>\n"
                             "<|im_start|>assistant\n"));
        QCOMPARE(t.render(kWithSystem, options(false, "", "<|endoftext|>")),
                 std::string("<|im_start|>system\nYou are terse.<|im_end|>\n"
                             "<|im_start|>user\nHi there<|im_end|>\n"
                             "<|im_start|>assistant\n Hello! <|im_end|>\n"
                             "<|im_start|>user\n2+2?<|im_end|>\n"));
        auto stops = t.stopStrings();
        QVERIFY(std::find(stops.begin(), stops.end(), "<|im_end|>") != stops.end());
    }

    void qwen25Tools()
    {
        SHARED_TEMPLATE(t, "Qwen-Qwen2.5-7B-Instruct.jinja");
        ChatRenderOptions o = options(true, "", "");
        o.toolsJson = R"([{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}])";
        QCOMPARE(t.render({{"system", "Be brief."}, {"user", "Time?"}}, o),
                 std::string("<|im_start|>system\nBe brief.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                             "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
                             "{\"type\": \"function\", \"function\": {\"name\": \"get_time\", \"parameters\": {\"type\": \"object\", \"properties\": {}}}}\n"
                             "</tools>\n\nFor each function call, return a json object with function name and arguments within "
                             "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n"
                             "</tool_call><|im_end|>\n"
                             "<|im_start|>user\nTime?<|im_end|>\n"
                             "<|im_start|>assistant\n"));
    }

    void llama31()
    {
        SHARED_TEMPLATE(t, "meta-llama-Llama-3.1-8B-Instruct.jinja");
        const std::string header = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                                   "Cutting Knowledge Date: December 2023\nToday Date: 01 Jan 2025\n\n";
        const std::string turns = "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
                                  "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                                  "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>";
        QCOMPARE(t.render(kWithSystem, options(true, "<|begin_of_text|>", "<|eot_id|>")),
                 header + "You are terse.<|eot_id|>" + turns + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        QCOMPARE(t.render(kWithoutSystem, options(false, "<|begin_of_text|>", "<|eot_id|>")), header + "<|eot_id|>" + turns);
        auto stops = t.stopStrings();
        QVERIFY(std::find(stops.begin(), stops.end(), "<|eot_id|>") != stops.end());
        QVERIFY(std::find(stops.begin(), stops.end(), "<|eom_id|>") != stops.end());
    }

    void llama31Tools()
    {
        SHARED_TEMPLATE(t, "meta-llama-Llama-3.1-8B-Instruct.jinja");
        ChatRenderOptions o = options(true, "<|begin_of_text|>", "<|eot_id|>");
        o.toolsJson = R"([{"name":"now","parameters":{"tz":"UTC"}}])";
        // Tools go into the first user message, each as JSON indented by 4.
        QCOMPARE(t.render({{"user", "  What time is it?  "}}, o),
                 std::string("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                             "Environment: ipython\nCutting Knowledge Date: December 2023\nToday Date: 01 Jan 2025\n\n<|eot_id|>"
                             "<|start_header_id|>user<|end_header_id|>\n\n"
                             "Given the following functions, please respond with a JSON for a function call with its proper "
                             "arguments that best answers the given prompt.\n\n"
                             "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}."
                             "Do not use variables.\n\n"
                             "{\n    \"name\": \"now\",\n    \"parameters\": {\n        \"tz\": \"UTC\"\n    }\n}\n\n"
                             "What time is it?<|eot_id|>"
                             "<|start_header_id|>assistant<|end_header_id|>\n\n"));
    }

    void phi35()
    {
        SHARED_TEMPLATE(t, "microsoft-Phi-3.5-mini-instruct.jinja");
        QCOMPARE(t.render(kWithSystem, options(true, "<s>", "<|endoftext|>")),
                 std::string("<|system|>\nYou are terse.<|end|>\n<|user|>\nHi there<|end|>\n<|assistant|>\n Hello! <|end|>\n"
                             "<|user|>\n2+2?<|end|>\n<|assistant|>\n"));
        // Without the generation prompt the template closes with EOS; an empty system message is skipped.
        QCOMPARE(t.render({{"system", ""}, {"user", "Hi"}}, options(false, "<s>", "<|endoftext|>")),
                 std::string("<|user|>\nHi<|end|>\n<|endoftext|>"));
    }

    void mistralNemo()
    {
        SHARED_TEMPLATE(t, "mistralai-Mistral-Nemo-Instruct-2407.jinja");
        // The system message is folded into the *last* user turn; assistant turns end with EOS.
        QCOMPARE(t.render(kWithSystem, options(true, "<s>", "</s>")),
                 std::string("<s>[INST]Hi there[/INST] Hello! </s>[INST]You are terse.\n\n2+2?[/INST]"));
        QCOMPARE(t.render(kWithoutSystem, options(true, "<s>", "</s>")),
                 std::string("<s>[INST]Hi there[/INST] Hello! </s>[INST]2+2?[/INST]"));
        try {
            t.render({{"user", "a"}, {"user", "b"}}, options(true, "<s>", "</s>"));
            QFAIL("two user turns in a row were accepted");
        } catch (const TemplateRaisedError& e) {
            QCOMPARE(std::string(e.what()),
                     std::string("After the optional system message, conversation roles must alternate user/assistant/user/assistant/..."));
        }
    }

    void gemma2()
    {
        SHARED_TEMPLATE(t, "google-gemma-2-2b-it.jinja");
        QCOMPARE(t.render(kWithoutSystem, options(true, "<bos>", "<eos>")),
                 std::string("<bos><start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
                             "<start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n"));
        QCOMPARE(t.render({{"user", "x"}}, options(false, "<bos>", "<eos>")),
                 std::string("<bos><start_of_turn>user\nx<end_of_turn>\n"));
        try {
            t.render(kWithSystem, options(true, "<bos>", "<eos>"));
            QFAIL("Gemma accepted a system message");
        } catch (const TemplateRaisedError& e) {
            QCOMPARE(std::string(e.what()), std::string("System role not supported"));
            QCOMPARE(e.line(), 1);
        }
    }

    void builtins_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<bool>("withSystem");
        QTest::addColumn<QString>("expected");
        auto row = [](const char* name, BuiltinTemplate kind, bool sys, const char* expected) {
            QTest::newRow(name) << static_cast<int>(kind) << sys << QString::fromUtf8(expected);
        };
        row("chatml", BuiltinTemplate::ChatML, true,
            "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n"
            "<|im_start|>assistant\n Hello! <|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n");
        row("chatml no system", BuiltinTemplate::ChatML, false,
            "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n Hello! <|im_end|>\n"
            "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n");
        row("llama2", BuiltinTemplate::Llama2, true,
            "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi there [/INST] Hello! </s><s>[INST] 2+2? [/INST]");
        row("llama2 no system", BuiltinTemplate::Llama2, false, "<s>[INST] Hi there [/INST] Hello! </s><s>[INST] 2+2? [/INST]");
        row("llama3", BuiltinTemplate::Llama3, true,
            "<s><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
        row("mistral", BuiltinTemplate::Mistral, true, "<s>[INST] You are terse.\n\nHi there [/INST]  Hello! </s>[INST] 2+2? [/INST]");
        row("mistral no system", BuiltinTemplate::Mistral, false, "<s>[INST] Hi there [/INST]  Hello! </s>[INST] 2+2? [/INST]");
        row("phi3", BuiltinTemplate::Phi3, true,
            "<|system|>\nYou are terse.<|end|>\n<|user|>\nHi there<|end|>\n<|assistant|>\n Hello! <|end|>\n"
            "<|user|>\n2+2?<|end|>\n<|assistant|>\n");
        row("gemma", BuiltinTemplate::Gemma, true,
            "<s><start_of_turn>user\nYou are terse.\n\nHi there<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
            "<start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n");
        row("gemma no system", BuiltinTemplate::Gemma, false,
            "<s><start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
            "<start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n");
        row("plain", BuiltinTemplate::Plain, true, "You are terse.\n\nHi there Hello! 2+2?");
        row("plain no system", BuiltinTemplate::Plain, false, "Hi there Hello! 2+2?");
    }

    void builtins()
    {
        QFETCH(int, kind);
        QFETCH(bool, withSystem);
        QFETCH(QString, expected);
        ChatTemplate t = ChatTemplate::builtin(static_cast<BuiltinTemplate>(kind));
        QCOMPARE(t.builtinKind(), std::optional<BuiltinTemplate>(static_cast<BuiltinTemplate>(kind)));
        QCOMPARE(QString::fromStdString(t.render(withSystem ? kWithSystem : kWithoutSystem, true, "<s>", "</s>")), expected);
    }

    void builtinAlternationError()
    {
        for (BuiltinTemplate k : {BuiltinTemplate::Llama2, BuiltinTemplate::Mistral, BuiltinTemplate::Gemma})
            QVERIFY_THROWS_EXCEPTION(TemplateRaisedError, ChatTemplate::builtin(k).render({{"user", "a"}, {"user", "b"}}, true, "", ""));
    }

    void plainCompletion()
    {
        // A base model continues the text: the reply is appended verbatim, no markup, no BOS text.
        ChatTemplate t = ChatTemplate::plainCompletion();
        QVERIFY(t.isPlainCompletion());
        QCOMPARE(t.render({{"system", "A short story."}, {"user", "Once upon a time"}}, true, "<s>", "</s>"),
                 std::string("A short story.\n\nOnce upon a time"));
        QCOMPARE(t.render({{"user", "Once upon a time"}, {"assistant", " there was a cat."}, {"user", " The cat"}}, true, "<s>", "</s>"),
                 std::string("Once upon a time there was a cat. The cat"));
        QVERIFY(t.stopStrings().empty());
    }

    void stopStrings()
    {
        QCOMPARE(builtinStopStrings(BuiltinTemplate::ChatML), (std::vector<std::string>{"<|im_end|>", "<|im_start|>"}));
        QCOMPARE(builtinStopStrings(BuiltinTemplate::Llama3), (std::vector<std::string>{"<|eot_id|>", "<|eom_id|>", "<|start_header_id|>"}));
        QCOMPARE(builtinStopStrings(BuiltinTemplate::Gemma), (std::vector<std::string>{"<end_of_turn>", "<start_of_turn>"}));
        QCOMPARE(builtinStopStrings(BuiltinTemplate::Phi3), (std::vector<std::string>{"<|end|>", "<|user|>", "<|assistant|>"}));
        QCOMPARE(builtinStopStrings(BuiltinTemplate::Mistral), (std::vector<std::string>{"[INST]"}));
        QCOMPARE(builtinStopStrings(BuiltinTemplate::Llama2), (std::vector<std::string>{"[INST]"}));
    }

    void names()
    {
        QCOMPARE(builtinTemplateFromName("ChatML"), std::optional<BuiltinTemplate>(BuiltinTemplate::ChatML));
        QCOMPARE(builtinTemplateFromName("llama-3"), std::optional<BuiltinTemplate>(BuiltinTemplate::Llama3));
        QCOMPARE(builtinTemplateFromName("plain"), std::optional<BuiltinTemplate>(BuiltinTemplate::Plain));
        QCOMPARE(builtinTemplateFromName("completion"), std::optional<BuiltinTemplate>(BuiltinTemplate::Plain));
        QCOMPARE(builtinTemplateFromName("vicuna"), std::nullopt);
    }

    void selection_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("arch");
        QTest::addColumn<int>("expected");
        auto row = [](const char* name, const char* arch, BuiltinTemplate k) {
            QTest::newRow(name) << QString(name) << QString(arch) << static_cast<int>(k);
        };
        row("tenfold-ref-main", "llama", BuiltinTemplate::Plain);
        row("stories260K", "llama", BuiltinTemplate::Plain);
        row("Meta-Llama-3.1-8B-Instruct", "llama", BuiltinTemplate::Llama3);
        row("Llama-2-7b-chat-hf", "llama", BuiltinTemplate::Llama2);
        row("Mistral-7B-Instruct-v0.2", "llama", BuiltinTemplate::Mistral);
        row("Phi-3-mini-4k-instruct", "phi3", BuiltinTemplate::Phi3);
        row("gemma-2-2b-it", "gemma2", BuiltinTemplate::Gemma);
        row("Qwen2.5-7B-Instruct", "qwen2", BuiltinTemplate::ChatML);
        row("OpenHermes-2.5", "llama", BuiltinTemplate::ChatML);
    }

    void selection()
    {
        QFETCH(QString, name);
        QFETCH(QString, arch);
        QFETCH(int, expected);
        ChatModelInfo info{std::nullopt, name.toStdString(), arch.toStdString()};
        QCOMPARE(static_cast<int>(guessBuiltinTemplate(info.name, info.architecture)), expected);
        ChatTemplate t = selectChatTemplate(info);
        QCOMPARE(t.builtinKind(), std::optional<BuiltinTemplate>(static_cast<BuiltinTemplate>(expected)));
    }

    void selectionPrefersModelTemplate()
    {
        ChatModelInfo info{std::string("{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"), "tenfold-ref-main", "llama"};
        ChatTemplate t = selectChatTemplate(info);
        QCOMPARE(t.builtinKind(), std::nullopt);
        QCOMPARE(t.render({{"user", "hi"}}, true, "", ""), std::string("<user>hi"));

        // A template that does not parse falls back to a built-in; shipping one means chat-tuned.
        ChatModelInfo broken{std::string("{% if %}"), "some-model", "qwen2"};
        QCOMPARE(selectChatTemplate(broken).builtinKind(), std::optional<BuiltinTemplate>(BuiltinTemplate::ChatML));
        ChatModelInfo broken3{std::string("{{ x | nosuchfilter }}"), "Meta-Llama-3-8B-Instruct", "llama"};
        QCOMPARE(selectChatTemplate(broken3).builtinKind(), std::optional<BuiltinTemplate>(BuiltinTemplate::Llama3));
    }

    void allSharedTemplatesParse()
    {
        auto dir = test::sharedFile("templates");
        TENFOLD_REQUIRE_SHARED(dir);
        int count = 0;
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            ChatTemplate t(readFile(entry.path()), entry.path().filename().string());
            // Every template renders a plain user turn (Gemma/Mistral accept it too).
            std::string out = t.render({{"user", "Hello"}}, true, "<s>", "</s>");
            QVERIFY2(out.find("Hello") != std::string::npos, entry.path().string().c_str());
            ++count;
        }
        QCOMPARE(count, 5);
    }

    void badToolsJson()
    {
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, ChatTemplate::builtin(BuiltinTemplate::ChatML).render({{"user", "x"}}, ChatRenderOptions{true, "", "", "{not json", ""}));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, ChatTemplate::builtin(BuiltinTemplate::ChatML).render({{"user", "x"}}, ChatRenderOptions{true, "", "", "{}", ""}));
    }
};

QTEST_APPLESS_MAIN(TestChatTemplates)
#include "tst_chat_templates.moc"
