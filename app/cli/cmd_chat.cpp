// chat MODEL: an interactive loop on stdin/stdout.
//
// Plain mode (models without a chat template, like the ref models, which are English-prose
// models): the conversation is one running text. Each line typed is appended to it and the model
// continues it until a newline or -n tokens. The KV cache keeps the whole text, so each turn
// evaluates only the new tokens; when the context fills up, the oldest half is dropped and the
// rest re-evaluated after a fresh BOS.
//
// Template mode (the model's tokenizer.chat_template, or --chat-template FILE): the conversation
// is a list of messages rendered by engine/chat into the exact prompt format the model was tuned
// on. Each turn re-renders the whole conversation; the KV cache keeps the longest common token
// prefix, so only the new part is evaluated.
#include "cli_common.h"
#include "commands.h"
#include "sampling_options.h"

#include "chat/chat_template.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "runtime/generator.h"
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include "core/platform.h"

namespace tenfold::cli {

CommandSpec chatSpec()
{
    CommandSpec spec{"chat", "MODEL [options]",
                     "Reads one message per line from stdin and streams the model's reply to\n"
                     "stdout. Models without a chat template run in plain completion mode: the\n"
                     "conversation is kept as one running text that the model continues, each\n"
                     "reply ending at a newline or after -n tokens.\n"
                     "Commands: /reset forgets the conversation, /exit (or end of input) quits.",
                     {"MODEL"},
                     {},
                     {{"--n-predict", "-n", "N", "most tokens per reply (default 256)"},
                      {"--chat-template", "", "FILE", "Jinja chat template to use instead of the model's"},
                      {"--plain", "", "", "plain completion mode even if the model has a template"},
                      {"--ctx", "-c", "N", "context length (default: the model's, at most 4096)"},
                      {"--system", "", "TEXT", "text placed before the conversation"}}};
    for (auto& o : samplingOptions())
        spec.options.push_back(o);
    for (auto& o : backendOptions())
        spec.options.push_back(o);
    return spec;
}

namespace {

class PlainChat {
public:
    PlainChat(const Model& model, InferenceContext& ctx, GenerateOptions options, std::string system)
        : model_(model), ctx_(ctx), options_(std::move(options)), system_(std::move(system))
    {
        options_.stopStrings.push_back("\n");
        reset();
    }

    void reset()
    {
        ctx_.truncate(0);
        history_ = model_.tokenizer().encode(system_, true);
        evaluated_ = 0;
    }

    void turn(const std::string& line)
    {
        const Tokenizer& tok = model_.tokenizer();
        // A SentencePiece tokenizer puts its word-boundary mark before the text, which is the
        // space between this line and what came before.
        const std::vector<int32_t> added = tok.encode(line, false);
        history_.insert(history_.end(), added.begin(), added.end());
        makeRoom();

        std::vector<int32_t> pending(history_.begin() + evaluated_, history_.end());
        const GenerationStats stats =
            generate(ctx_, model_, pending, options_, [this](int32_t id, std::string_view piece) {
                history_.push_back(id);
                std::fwrite(piece.data(), 1, piece.size(), stdout);
                std::fflush(stdout);
                return true;
            });
        std::printf("\n");
        std::fflush(stdout);
        // The last sampled token is in history_ but may not be in the cache yet; next turn's
        // pending tokens start from what the cache really holds.
        evaluated_ = std::min(size_t(ctx_.position()), history_.size());
        if (stats.stopReason == StopReason::ContextFull)
            std::fprintf(stderr, "[context full: older text will be dropped next turn]\n");
    }

private:
    // Keeps room for a full reply: drops the oldest half of the conversation when needed.
    void makeRoom()
    {
        const size_t limit = size_t(ctx_.contextSize());
        if (history_.size() + size_t(options_.maxTokens) + 1 <= limit)
            return;
        const size_t keep = std::min(history_.size(), limit / 2);
        const Tokenizer& tok = model_.tokenizer();
        std::vector<int32_t> kept;
        if (tok.addBos() && tok.bos() >= 0)
            kept.push_back(tok.bos());
        kept.insert(kept.end(), history_.end() - long(keep), history_.end());
        history_ = std::move(kept);
        ctx_.truncate(0);
        evaluated_ = 0;
        std::fprintf(stderr, "[context full: kept the last %zu tokens]\n", keep);
    }

    const Model& model_;
    InferenceContext& ctx_;
    GenerateOptions options_;
    std::string system_;
    std::vector<int32_t> history_; // every token of the conversation so far
    size_t evaluated_ = 0;         // how many of them are in the KV cache
};

class TemplateChat {
public:
    TemplateChat(const Model& model, InferenceContext& ctx, GenerateOptions options,
                 ChatTemplate tmpl, std::string system)
        : model_(model), ctx_(ctx), options_(std::move(options)), template_(std::move(tmpl)),
          system_(std::move(system))
    {
        for (const std::string& s : template_.stopStrings())
            options_.stopStrings.push_back(s);
        reset();
    }

    void reset()
    {
        messages_.clear();
        if (!system_.empty())
            messages_.push_back({"system", system_});
    }

    void turn(const std::string& line)
    {
        messages_.push_back({"user", line});
        std::vector<int32_t> prompt = render();
        // Forget the oldest turns (never the system message) until a full reply fits.
        const size_t limit = size_t(ctx_.contextSize());
        const size_t first = system_.empty() ? 0 : 1;
        while (prompt.size() + size_t(options_.maxTokens) > limit && messages_.size() > first + 1) {
            messages_.erase(messages_.begin() + long(first));
            prompt = render();
        }
        if (prompt.size() + size_t(options_.maxTokens) > limit) {
            messages_.pop_back();
            throw InvalidArgument("this message is " + std::to_string(prompt.size()) +
                                  " tokens with the template; with -n " +
                                  std::to_string(options_.maxTokens) + " it does not fit the " +
                                  std::to_string(limit) + "-token context");
        }

        size_t common = 0;
        while (common < cached_.size() && common + 1 < prompt.size() && cached_[common] == prompt[common])
            ++common;
        ctx_.truncate(int(common));
        cached_.assign(prompt.begin(), prompt.begin() + long(common));
        std::vector<int32_t> all = prompt;
        std::string reply;
        const std::span<const int32_t> pending(prompt.data() + common, prompt.size() - common);
        generate(ctx_, model_, pending, options_, [&](int32_t id, std::string_view piece) {
            all.push_back(id);
            reply += piece;
            std::fwrite(piece.data(), 1, piece.size(), stdout);
            std::fflush(stdout);
            return true;
        });
        std::printf("\n");
        std::fflush(stdout);
        for (const std::string& stop : options_.stopStrings)
            if (auto at = reply.find(stop); at != std::string::npos)
                reply.resize(at);
        messages_.push_back({"assistant", reply});
        all.resize(std::min(all.size(), size_t(ctx_.position())));
        cached_ = std::move(all);
    }

private:
    std::vector<int32_t> render() const
    {
        const Tokenizer& tok = model_.tokenizer();
        const std::string bos = tok.bos() >= 0 ? tok.piece(tok.bos()) : "";
        const std::string eos = tok.eos() >= 0 ? tok.piece(tok.eos()) : "";
        const std::string text = template_.render(messages_, true, bos, eos);
        // A template that writes the BOS text itself must not get a second BOS.
        const bool templateHasBos = !bos.empty() && text.rfind(bos, 0) == 0;
        return tok.encode(text, !templateHasBos, true);
    }

    const Model& model_;
    InferenceContext& ctx_;
    GenerateOptions options_;
    ChatTemplate template_;
    std::string system_;
    std::vector<ChatMessage> messages_;
    std::vector<int32_t> cached_; // the tokens in the KV cache
};

} // namespace

int runChat(const ParsedArgs& args)
{
    GenerateOptions options;
    options.maxTokens = int(args.getInt("--n-predict", 256, 1, 1 << 20));
    options.sampling = samplingFromArgs(args);
    // Ctrl-C during a reply stops that reply; at the prompt it quits.
    options.cancel = installInterruptHandler();
    ContextParams cp;
    cp.nThreads = threadCount(args);

    const std::shared_ptr<Model> model = loadModel(args.positional(0));
    cp.nCtx = contextFromArgs(args, *model);
    std::unique_ptr<Backend> backend = createBackend(args);
    std::unique_ptr<InferenceContext> ctx = backend->createContext(model, cp);
    if (options.maxTokens >= ctx->contextSize())
        throw UsageError("-n must be smaller than the context (" +
                         std::to_string(ctx->contextSize()) + ")");
    const std::string system = args.getString("--system", "");
    std::optional<ChatTemplate> tmpl;
    if (const auto file = args.get("--chat-template")) {
        if (args.has("--plain"))
            throw UsageError("give either --chat-template or --plain, not both");
        tmpl.emplace(readTextFile(*file), *file);
    } else if (!args.has("--plain") && model->gguf()) {
        if (const auto source = model->gguf()->getString("tokenizer.chat_template"))
            tmpl.emplace(*source, "the model's chat template");
    }
    std::optional<PlainChat> plain;
    std::optional<TemplateChat> templated;
    if (tmpl)
        templated.emplace(*model, *ctx, options, std::move(*tmpl), system);
    else
        plain.emplace(*model, *ctx, options, system);

    const bool interactive = platform::stdinIsTerminal();
    if (interactive)
        std::fprintf(stderr, "%s on %s, %s. /reset, /exit.\n", model->displayName().c_str(),
                     backend->name().c_str(),
                     templated ? "chat template mode" : "plain completion mode");
    std::string line;
    while (true) {
        if (interactive) {
            std::fputs("> ", stdout);
            std::fflush(stdout);
        }
        clearInterrupt();
        if (!std::getline(std::cin, line)) {
            if (interrupted()) {
                std::fputs("\n", stdout);
                return kInterruptedExitCode;
            }
            break;
        }
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line == "/exit" || line == "/quit")
            break;
        if (line == "/reset") {
            templated ? templated->reset() : plain->reset();
            std::fprintf(stderr, "[conversation cleared]\n");
            continue;
        }
        if (line.empty())
            continue;
        try {
            templated ? templated->turn(line) : plain->turn(line);
        } catch (const InvalidArgument& e) { // one message too long: say so, keep the session
            std::fprintf(stderr, "[%s]\n", e.what());
        }
        if (interrupted())
            std::fprintf(stderr, "[reply stopped]\n");
    }
    return 0;
}

} // namespace tenfold::cli
