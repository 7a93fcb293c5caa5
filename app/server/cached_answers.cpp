#include "cached_answers.h"

#include "model/model.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace tenfold::server {

CachePlan planCache(const ServerContext& ctx, const GenerationRequest& r, const std::vector<int32_t>& prompt)
{
    CachePlan plan;
    if (!ctx.responseCache)
        return plan;
    const std::string mode = r.cache.empty() ? ctx.options.responseCache : r.cache;
    if (mode == "off" || r.topLogprobs >= 0 || !ResponseCache::cacheable(float(r.temperature), r.seed.has_value()))
        return plan;
    plan.mode = mode;
    std::ostringstream params;
    params.precision(9);
    params << endpointName(r.endpoint) << ";t=" << r.temperature << ";top_p=" << r.topP;
    if (r.temperature > 0)
        params << ";seed=" << *r.seed;
    params << ";max=" << (r.maxTokens ? *r.maxTokens : -1) << ";n=" << r.n << ";ignore_eos=" << r.ignoreEos
           << ";template=" << ctx.served.chatTemplate->name() << ";stop=";
    for (const std::string& s : r.stop)
        params << s.size() << ':' << s;
    plan.params = params.str();
    std::string key;
    key.reserve(prompt.size() * 6);
    for (int32_t t : prompt)
        key += std::to_string(t) + ',';
    plan.promptKey = std::move(key);
    if (mode == "semantic")
        plan.prompt = prompt;
    plan.choices = r.n;
    plan.threshold = float(r.cacheThreshold > 0 ? r.cacheThreshold : ctx.options.semanticThreshold);
    return plan;
}

namespace {

std::string encodeAnswer(const std::vector<ChoiceResult>& choices)
{
    Json list = Json::array();
    for (const ChoiceResult& c : choices)
        list.push_back(Json{{"text", c.text}, {"finish_reason", c.finishReason}, {"tokens", c.tokens}});
    return dumpJson(Json{{"choices", list}});
}

std::optional<std::vector<ChoiceResult>> decodeAnswer(const std::string& text, int n)
{
    try {
        const Json j = Json::parse(text);
        const Json& list = j.at("choices");
        if (!list.is_array() || int(list.size()) != n)
            return std::nullopt;
        std::vector<ChoiceResult> out;
        for (const Json& c : list) {
            ChoiceResult r;
            r.text = c.at("text").get<std::string>();
            r.finishReason = c.at("finish_reason").get<std::string>();
            r.tokens = c.at("tokens").get<std::vector<int32_t>>();
            out.push_back(std::move(r));
        }
        return out;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// The prompt's embedding from the served model (the scheduler's mean-pooled final state).
std::vector<float> promptEmbedding(ServerContext& ctx, const std::vector<int32_t>& prompt)
{
    ServeRequestParams p;
    p.prompt = prompt;
    p.embedding = true;
    p.client = "response-cache";
    try {
        auto h = ctx.scheduler->submit(std::move(p));
        ServeEvent ev;
        while (h->next(ev, std::chrono::seconds(120))) {
            if (ev.kind == ServeEvent::Kind::Done)
                return ev.embedding;
            if (ev.kind == ServeEvent::Kind::Error)
                break;
        }
    } catch (const Error&) {
        // A full queue or a prompt that fits no embedding: no semantic lookup this time.
    }
    return {};
}

} // namespace

std::optional<CachedAnswer> lookupAnswer(ServerContext& ctx, CachePlan& plan)
{
    if (plan.mode.empty())
        return std::nullopt;
    std::optional<CachedResponse> hit =
        ctx.responseCache->findExact(ctx.served.fingerprint, plan.params, plan.promptKey);
    if (!hit && plan.mode == "semantic") {
        plan.embedding = promptEmbedding(ctx, plan.prompt);
        if (!plan.embedding.empty())
            hit = ctx.responseCache->findSimilar(ctx.served.fingerprint, plan.params, plan.embedding, plan.threshold);
    }
    if (!hit)
        return std::nullopt;
    CachedAnswer a;
    a.kind = hit->kind;
    auto decoded = decodeAnswer(hit->response, plan.choices);
    if (!decoded) {
        std::fprintf(stderr, "tenfold-server: a cached answer did not parse; recomputing it\n");
        return std::nullopt;
    }
    a.choices = std::move(*decoded);
    a.promptTokens = hit->promptTokens;
    a.completionTokens = hit->completionTokens;
    return a;
}

void storeAnswer(ServerContext& ctx, const CachePlan& plan, const std::vector<ChoiceResult>& choices,
                 int promptTokens, int completionTokens, double computeMs)
{
    if (plan.mode.empty() || !ctx.responseCache)
        return;
    for (const ChoiceResult& c : choices)
        if (c.finishReason != "stop" && c.finishReason != "length")
            return; // only whole answers
    try {
        ctx.responseCache->store(ctx.served.fingerprint, std::filesystem::absolute(ctx.options.modelPath).string(), plan.params, plan.promptKey,
                                 encodeAnswer(choices), promptTokens, completionTokens, computeMs, plan.embedding);
    } catch (const std::exception& e) {
        // A full disk or a locked database costs the cache entry, never the answer.
        std::fprintf(stderr, "tenfold-server: could not store a cached answer: %s\n", e.what());
    }
}

void replayAnswer(ServerContext& ctx, const GenerationRequest& r, const CachedAnswer& a, httplib::Response& res,
                  const std::string& client, double lookupMs)
{
    ResponseMeta meta;
    const bool chat = r.endpoint == Endpoint::Chat;
    meta.id = ctx.newResponseId(chat ? "chatcmpl-" : "cmpl-");
    meta.model = ctx.served.id;
    meta.created = unixMs() / 1000;
    const Tokenizer& tok = ctx.served.model->tokenizer();
    if (r.stream) {
        std::string out;
        auto sse = [&](const Json& j) { out += "data: " + dumpJson(j) + "\n\n"; };
        for (int i = 0; i < int(a.choices.size()); ++i) {
            const ChoiceResult& c = a.choices[size_t(i)];
            if (chat) {
                sse(chatChunk(meta, i, Json{{"role", "assistant"}, {"content", ""}}, Json(), ""));
                if (!c.text.empty())
                    sse(chatChunk(meta, i, Json{{"content", c.text}}, Json(), ""));
                sse(chatChunk(meta, i, Json::object(), Json(), c.finishReason));
            } else {
                if (!c.text.empty())
                    sse(textChunk(meta, i, c.text, Json(), ""));
                sse(textChunk(meta, i, "", Json(), c.finishReason));
            }
        }
        if (r.includeUsage)
            sse(usageChunk(meta, r.endpoint, a.promptTokens, a.completionTokens));
        out += "data: [DONE]\n\n";
        res.set_header("Cache-Control", "no-cache");
        res.set_header("X-Tenfold-Cache", a.kind);
        res.set_content(out, "text/event-stream");
    } else {
        const Json body = chat ? chatCompletionBody(meta, tok, a.choices, false, a.promptTokens, a.completionTokens)
                               : textCompletionBody(meta, tok, a.choices, false, a.promptTokens, a.completionTokens);
        res.set_header("X-Tenfold-Cache", a.kind);
        res.set_content(dumpJson(body) + "\n", kJsonType);
    }
    FinishedRequest f;
    f.id = 0;
    f.finishedAt = unixMs();
    f.endpoint = endpointName(r.endpoint);
    f.client = client;
    f.promptTokens = a.promptTokens;
    f.completionTokens = a.completionTokens;
    f.timeToFirstTokenMs = lookupMs;
    f.totalMs = lookupMs;
    f.finishReason = a.choices.empty() ? "stop" : a.choices.front().finishReason;
    f.cacheHit = a.kind;
    ctx.recordFinished(f);
}

} // namespace tenfold::server
