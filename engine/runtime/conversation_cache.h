#pragma once
// Keeps conversations' KV caches between replies, so the next reply of a chat computes only what
// is new (the new turn and the end-of-turn markers around the last reply), not the whole
// conversation again. One live context holds the current conversation; a few others are kept as
// saved states (InferenceContext::exportKv) and come back when the user returns to them. A
// conversation is recognised by its tokens: the state whose tokens share the longest prefix with
// the new prompt wins. Not thread-safe: one session drives it.
#include "runtime/prompt_state.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <list>
#include <span>
#include <vector>

namespace tenfold {

class InferenceContext;
class Model;

class ConversationCache {
public:
    explicit ConversationCache(size_t maxSaved = 4) : maxSaved_(maxSaved) {}

    // Readies ctx for `prompt`: keeps or restores the longest known prefix (at most
    // prompt.size() - 1 positions: the last prompt token is always computed) and drops the rest.
    // The live conversation is saved first when a saved one fits better. Returns the positions
    // reused; the caller passes prompt.subspan(returned) to generate().
    int prepare(InferenceContext& ctx, const Model& model, GGMLType cacheType,
                std::span<const int32_t> prompt);
    // After a reply: ctx holds `tokens` (the prompt and the reply tokens it was fed), in order.
    void update(std::span<const int32_t> tokens);
    // The live context was emptied or replaced behind our back (a new model, a draft run).
    void forgetLive() { live_.clear(); }
    void clear();
    size_t savedCount() const { return saved_.size(); }

    // Across restarts of the app: persist() writes the live conversation (captured from ctx) and
    // the saved ones, most recent first while they fit maxBytes, into dir as prompt-state files
    // (runtime/prompt_state.h, "conversation-..."), replacing this model's earlier ones; restore()
    // reads this model's files back as saved states (newest first, up to the limit), so the first
    // reply after a restart computes only the new turn. A file that does not match the model, is
    // truncated or corrupted is skipped. Both return warnings (what was skipped or not written).
    std::vector<std::string> persist(const InferenceContext& ctx, const Model& model, GGMLType cacheType,
                                     const std::filesystem::path& dir, uint64_t maxBytes) const;
    std::vector<std::string> restore(const Model& model, GGMLType cacheType, const std::filesystem::path& dir);

private:
    // Fewer positions than this beyond the match are recomputed rather than saved.
    static constexpr size_t kParkMinimum = 8;
    size_t maxSaved_;
    std::vector<int32_t> live_;   // what the live context holds
    std::list<PromptState> saved_; // most recently used first
};

} // namespace tenfold
