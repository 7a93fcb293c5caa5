#include "session/prompt_builder.h"

#include "chat/chat_template.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"

#include <algorithm>

namespace tenfold::ui {
namespace {

std::vector<int32_t> encodeRendered(const Tokenizer& tokenizer, const ChatTemplate& chatTemplate,
                                    const std::vector<ChatMessage>& messages)
{
    const std::string bos = tokenizer.bos() >= 0 ? tokenizer.tokenBytes(tokenizer.bos(), true) : std::string();
    const std::string eos = tokenizer.eos() >= 0 ? tokenizer.tokenBytes(tokenizer.eos(), true) : std::string();
    const std::string text = chatTemplate.render(messages, true, bos, eos);
    // Templates that print bos_token themselves already start with it; others get it here, so the
    // model always sees exactly one BOS.
    std::vector<int32_t> tokens = tokenizer.encode(text, false, true);
    if (tokenizer.addBos() && tokenizer.bos() >= 0 && (tokens.empty() || tokens.front() != tokenizer.bos()))
        tokens.insert(tokens.begin(), tokenizer.bos());
    return tokens;
}

} // namespace

BuiltPrompt buildPrompt(const Tokenizer& tokenizer, const ChatTemplate& chatTemplate,
                        const ChatRequest& request, int contextSize)
{
    BuiltPrompt out;
    // Room for the reply: what the user asked for, but never more than half the context, so a
    // long max-tokens setting does not push the whole history out.
    out.reservedForReply = std::clamp(request.sampling.maxTokens, 1, std::max(1, contextSize / 2));
    const int budget = contextSize - out.reservedForReply;

    const bool hasSystem = !request.systemPrompt.trimmed().isEmpty();
    const int nTurns = int(request.turns.size());
    for (int first = 0; first < nTurns; ++first) {
        // Never start the kept history with an assistant turn: templates expect user first.
        if (first > 0 && request.turns[first].role == QLatin1String("assistant") && first + 1 < nTurns)
            continue;
        std::vector<ChatMessage> messages;
        if (hasSystem)
            messages.push_back({"system", request.systemPrompt.toStdString()});
        for (int i = first; i < nTurns; ++i)
            messages.push_back({request.turns[i].role.toStdString(), request.turns[i].content.toStdString()});
        std::vector<int32_t> tokens = encodeRendered(tokenizer, chatTemplate, messages);
        if (int(tokens.size()) <= budget) {
            out.tokens = std::move(tokens);
            out.droppedTurns = first;
            return out;
        }
        if (first == nTurns - 1)
            throw InvalidArgument("the message is " + std::to_string(tokens.size()) +
                                  " tokens long, but the context holds " + std::to_string(contextSize) +
                                  " tokens of which " + std::to_string(out.reservedForReply) +
                                  " are kept for the reply");
    }
    // No turns at all: just the system prompt (or nothing) and the generation prompt.
    std::vector<ChatMessage> messages;
    if (hasSystem)
        messages.push_back({"system", request.systemPrompt.toStdString()});
    out.tokens = encodeRendered(tokenizer, chatTemplate, messages);
    return out;
}

} // namespace tenfold::ui
