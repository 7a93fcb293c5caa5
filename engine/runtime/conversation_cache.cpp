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

std::vector<std::string> ConversationCache::persist(const InferenceContext& ctx, const Model& model, GGMLType cacheType,
                                                    const std::filesystem::path& dir, uint64_t maxBytes) const
{
    std::vector<std::string> warnings;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        return {"cannot create " + dir.string() + ": " + ec.message()};
    std::vector<PromptState> states;
    if (!live_.empty() && int(live_.size()) <= ctx.position())
        states.push_back(capturePromptState(ctx, model, cacheType, live_));
    states.insert(states.end(), saved_.begin(), saved_.end());
    std::vector<std::string> written;
    uint64_t total = 0;
    for (const PromptState& s : states) {
        if (s.modelFingerprint != model.fingerprint() || total + s.kv.size() > maxBytes)
            continue;
        const std::string name = promptStateFileName("conversation", model, s.tokens);
        try {
            savePromptState(dir / name, s);
        } catch (const std::exception& e) {
            warnings.push_back(std::string("a conversation's cache was not saved: ") + e.what());
            continue;
        }
        written.push_back(name);
        total += s.kv.size();
    }
    removePromptStatesExcept(dir, "conversation", model, written);
    return warnings;
}

std::vector<std::string> ConversationCache::restore(const Model& model, GGMLType cacheType, const std::filesystem::path& dir)
{
    std::vector<std::string> warnings;
    for (const std::filesystem::path& file : promptStateFiles(dir, "conversation", &model)) {
        if (saved_.size() >= maxSaved_)
            break;
        std::string why;
        std::optional<PromptState> s = loadPromptState(file, model, cacheType, &why);
        if (!s) {
            warnings.push_back(file.string() + " ignored: " + why);
            continue;
        }
        saved_.push_back(std::move(*s));
    }
    return warnings;
}

void ConversationCache::clear()
{
    live_.clear();
    saved_.clear();
}

} // namespace tenfold
