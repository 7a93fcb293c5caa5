#include "runtime/conversation_cache.h"

#include "model/model.h"
#include "runtime/backend.h"

#include <algorithm>

namespace tenfold {
namespace {

size_t commonPrefix(std::span<const int32_t> a, std::span<const int32_t> b)
{
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i])
        ++i;
    return i;
}

} // namespace

int ConversationCache::prepare(InferenceContext& ctx, const Model& model, GGMLType cacheType,
                               std::span<const int32_t> prompt)
{
    const size_t limit = prompt.empty() ? 0 : prompt.size() - 1;
    const size_t liveMatch = std::min(commonPrefix(live_, prompt), limit);
    auto best = saved_.end();
    size_t bestMatch = liveMatch;
    for (auto it = saved_.begin(); it != saved_.end(); ++it) {
        const size_t m = std::min(commonPrefix(it->tokens, prompt), limit);
        if (m > bestMatch) {
            bestMatch = m;
            best = it;
        }
    }
    // What the live context holds beyond the match is another conversation (or an older version
    // of this one): park it when it is worth keeping, in case the user goes back to it.
    auto parkLive = [&] {
        if (live_.size() >= liveMatch + kParkMinimum && int(live_.size()) <= ctx.position()) {
            saved_.push_front(capturePromptState(ctx, model, cacheType, live_));
            if (best != saved_.end() && saved_.size() > maxSaved_ + 1)
                saved_.pop_back();
        }
    };
    if (best == saved_.end()) {
        parkLive();
        while (saved_.size() > maxSaved_)
            saved_.pop_back();
        ctx.truncate(int(liveMatch));
        live_.resize(liveMatch);
        return int(liveMatch);
    }
    parkLive();
    PromptState state = std::move(*best);
    saved_.erase(best);
    const int restored = restorePromptState(ctx, state, prompt);
    live_.assign(state.tokens.begin(), state.tokens.begin() + restored);
    while (saved_.size() > maxSaved_)
        saved_.pop_back();
    return restored;
}

void ConversationCache::update(std::span<const int32_t> tokens) { live_.assign(tokens.begin(), tokens.end()); }

void ConversationCache::clear()
{
    live_.clear();
    saved_.clear();
}

} // namespace tenfold
