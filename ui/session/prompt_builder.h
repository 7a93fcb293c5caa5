#pragma once
// Turns a conversation into prompt tokens that fit the context. When the conversation has grown
// past the context, the oldest turns are dropped (the system prompt and the newest user turn are
// always kept) and the caller is told how many were left out, so the UI can say so.
#include "session/engine_types.h"

#include <cstdint>
#include <vector>

namespace tenfold {
class ChatTemplate;
class Tokenizer;
}

namespace tenfold::ui {

struct BuiltPrompt {
    std::vector<int32_t> tokens;
    int droppedTurns = 0;
    int reservedForReply = 0;
};

// Throws InvalidArgument when even the system prompt plus the newest turn leave no room to reply.
BuiltPrompt buildPrompt(const Tokenizer& tokenizer, const ChatTemplate& chatTemplate,
                        const ChatRequest& request, int contextSize);

} // namespace tenfold::ui
