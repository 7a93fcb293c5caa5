#include "session/reply_cache.h"

#include "core/error.h"
#include "core/fnv.h"

#include <QtGlobal>

#include <cstdio>

namespace tenfold::ui {
namespace {

std::string num(double v)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

} // namespace

ReplyCache::ReplyCache(const std::filesystem::path& databaseFile)
    : cache_(std::make_unique<ResponseCache>(databaseFile))
{
}

std::string ReplyCache::canonicalParams(const SamplingSettings& s)
{
    std::string p = "desktop-chat;";
    if (s.temperature <= 0.0) {
        p += "greedy";
    } else {
        p += "temperature=" + num(s.temperature) + ";top_k=" + std::to_string(s.topK) + ";top_p=" + num(s.topP) +
             ";min_p=" + num(s.minP) + ";seed=" + std::to_string(s.seed);
        // Speculative sampling keeps the distribution, not the seeded text: the draft is part of it.
        if (!s.draftModelPath.isEmpty())
            p += ";draft=" + s.draftModelPath.toStdString() + "/" + std::to_string(s.draftMax);
    }
    p += ";repeat_penalty=" + num(s.repeatPenalty) + ";max_tokens=" + std::to_string(s.maxTokens);
    return p;
}

std::optional<ReplyCache::Key> ReplyCache::keyFor(uint64_t modelFingerprint, const SamplingSettings& sampling,
                                                  std::span<const int32_t> promptTokens)
{
    if (!ResponseCache::cacheable(float(sampling.temperature), sampling.seed >= 0))
        return std::nullopt;
    Key key;
    key.model = hex64(modelFingerprint);
    key.params = canonicalParams(sampling);
    key.prompt.reserve(promptTokens.size() * 6 + 7);
    key.prompt = "tokens:";
    for (size_t i = 0; i < promptTokens.size(); ++i) {
        if (i)
            key.prompt += ',';
        key.prompt += std::to_string(promptTokens[i]);
    }
    key.semantic = sampling.semanticCache;
    key.threshold = float(sampling.similarityThreshold);
    return key;
}

std::optional<CachedResponse> ReplyCache::lookup(Key& key, const std::function<std::vector<float>()>& embed)
{
    try {
        if (auto hit = cache_->findExact(key.model, key.params, key.prompt))
            return hit;
    } catch (const std::exception& e) {
        qWarning("response cache lookup failed: %s", e.what());
        return std::nullopt;
    }
    if (!key.semantic)
        return std::nullopt;
    try {
        key.embedding = embed();
    } catch (const Cancelled&) {
        throw;
    } catch (const std::exception& e) {
        qWarning("no prompt embedding for the semantic cache: %s", e.what());
        key.embedding.clear();
        return std::nullopt;
    }
    try {
        return cache_->findSimilar(key.model, key.params, key.embedding, key.threshold);
    } catch (const std::exception& e) {
        qWarning("response cache lookup failed: %s", e.what());
        return std::nullopt;
    }
}

void ReplyCache::store(const Key& key, const std::string& modelPath, const QString& text, int promptTokens,
                       int completionTokens, double computeMs)
{
    try {
        cache_->store(key.model, modelPath, key.params, key.prompt, text.toStdString(), promptTokens,
                      completionTokens, computeMs, key.embedding);
    } catch (const std::exception& e) {
        qWarning("could not store the reply in the response cache: %s", e.what());
    }
}

void ReplyCache::invalidateStale(const std::string& modelPath, uint64_t modelFingerprint)
{
    try {
        cache_->invalidateStale(modelPath, hex64(modelFingerprint));
    } catch (const std::exception& e) {
        qWarning("response cache: %s", e.what());
    }
}

} // namespace tenfold::ui
