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
    // Where the kept history may start: never with an assistant turn (templates expect user
    // first), unless it is the last turn.
    std::vector<int> starts;
    for (int first = 0; first < nTurns; ++first)
        if (first == 0 || request.turns[first].role != QLatin1String("assistant") || first + 1 == nTurns)
            starts.push_back(first);
    auto encodeFrom = [&](int first) {
        std::vector<ChatMessage> messages;
        if (hasSystem)
            messages.push_back({"system", request.systemPrompt.toStdString()});
        for (int i = first; i < nTurns; ++i)
            messages.push_back({request.turns[i].role.toStdString(), request.turns[i].content.toStdString()});
        return encodeRendered(tokenizer, chatTemplate, messages);
    };
    if (!starts.empty()) {
        // The prompt only shrinks as older turns are dropped, so the earliest start that fits is
        // found by bisection: O(log n) renders instead of one per turn (quadratic over a long
        // conversation, seconds before each reply of a 2,000-message chat).
        std::vector<int32_t> best;
        int bestStart = -1;
        size_t lo = 0, hi = starts.size(); // answer in [lo, hi]; hi = none fits
        while (lo < hi) {
            const size_t mid = (lo + hi) / 2;
            std::vector<int32_t> tokens = encodeFrom(starts[mid]);
            if (int(tokens.size()) <= budget) {
                best = std::move(tokens);
                bestStart = starts[mid];
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        if (bestStart < 0) {
            const std::vector<int32_t> last = encodeFrom(starts.back());
            throw InvalidArgument("the message is " + std::to_string(last.size()) +
                                  " tokens long, but the context holds " + std::to_string(contextSize) +
                                  " tokens of which " + std::to_string(out.reservedForReply) +
                                  " are kept for the reply");
        }
        out.tokens = std::move(best);
        out.droppedTurns = bestStart;
        return out;
    }
    // No turns at all: just the system prompt (or nothing) and the generation prompt.
    std::vector<ChatMessage> messages;
    if (hasSystem)
        messages.push_back({"system", request.systemPrompt.toStdString()});
    out.tokens = encodeRendered(tokenizer, chatTemplate, messages);
    return out;
}

} // namespace tenfold::ui
