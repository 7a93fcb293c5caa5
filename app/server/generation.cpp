#include "generation.h"

#include "cached_answers.h"

#include "core/error.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

#include <chrono>
#include <cstdio>
#include <random>

namespace tenfold::server {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPoll{kKeepAliveMs};
// After a client vanished: how long to wait for the scheduler's final Done of the cancelled
// request (it comes at the next step), so the ledger gets the tokens already spent.
constexpr std::chrono::seconds kCancelDrain{30};
std::string sse(const Json& j) { return "data: " + dumpJson(j) + "\n\n"; }

// A request that failed while generating. The status line is long gone (the response streams),
// so the error object carries the kind: 503 "rank_lost" when the MPI replica serving it was lost
// (a retry goes to another), else 500.
ApiError failure(const std::string& error, const std::string& code)
{
    if (code == "rank_lost")
        return ApiError(503, "generation failed: " + error, "", code);
    return ApiError(500, "generation failed: " + error, "", code);
}

void checkPromptFits(const ServerContext& ctx, size_t promptTokens, const char* param, bool generates = true)
{
    const int context = ctx.served.contextLength;
    // A generation needs one position past the prompt for its first token; an embedding does not.
    if (promptTokens + (generates ? 1 : 0) > size_t(context))
        throw ApiError(400,
                       "the prompt is " + std::to_string(promptTokens) +
                           " tokens but the context holds only " + std::to_string(context) +
                           " tokens per request" + (generates ? ", the reply included" : "") +
                           " (start the server with a larger --ctx)",
                       param, "context_length_exceeded");
}

std::vector<int32_t> promptTokens(const ServerContext& ctx, const GenerationRequest& r)
{
    const Tokenizer& tok = ctx.served.model->tokenizer();
    if (r.endpoint == Endpoint::Chat) {
        // As tenfold-cli chat and the desktop app do: the template may write the BOS text
        // itself, and must then not get a second BOS token.
        const std::string bos = tok.bos() >= 0 ? tok.piece(tok.bos()) : "";
        const std::string eos = tok.eos() >= 0 ? tok.piece(tok.eos()) : "";
        std::string text;
        try {
            text = ctx.served.chatTemplate->render(r.messages, true, bos, eos);
        } catch (const TemplateError& e) {
            throw ApiError(400, std::string("the model's chat template refused the messages: ") + e.what(),
                           "messages");
        }
        const bool templateHasBos = !bos.empty() && text.rfind(bos, 0) == 0;
        return tok.encode(text, !templateHasBos, true);
    }
    if (r.promptIsTokens) {
        for (size_t i = 0; i < r.promptTokens.size(); ++i)
            if (r.promptTokens[i] >= tok.vocabSize())
                throw ApiError(400, "'prompt[" + std::to_string(i) + "]' is token " +
                                        std::to_string(r.promptTokens[i]) + " but the vocabulary has " +
                                        std::to_string(tok.vocabSize()) + " tokens", "prompt");
        return r.promptTokens;
    }
    // As tenfold-cli generate does (BOS + the text), so greedy output matches it.
    return tok.encode(r.prompt, true);
}

// Before the other fields: a request for another model is answered 404 whatever else it holds.
void checkModel(const ServerContext& ctx, const Json& body)
{
    const auto it = body.find("model");
    if (it == body.end() || it->is_null())
        return;
    if (!it->is_string())
        throw ApiError(400, "'model' must be a string", "model");
    const std::string name = it->get<std::string>();
    if (!ctx.acceptsModel(name))
        throw ApiError(404, "the model '" + name + "' does not exist; this server serves '" +
                                ctx.served.id + "'", "model", "model_not_found");
}

uint64_t randomSeed()
{
    std::random_device rd;
    return (uint64_t(rd()) << 32) ^ rd();
}

ServeRequestParams generationParams(const ServerContext& ctx, const GenerationRequest& r,
                                    std::vector<int32_t> prompt, const std::string& client)
{
    ServeRequestParams p;
    const int room = ctx.served.contextLength - int(prompt.size());
    p.prompt = std::move(prompt);
    // OpenAI's sampling is temperature and nucleus only. The engine's other filters are off, so
    // temperature 0 is plain greedy decoding, the same as `tenfold-cli generate --temp 0`.
    p.sampling.temperature = float(r.temperature);
    p.sampling.topP = float(r.topP);
    p.sampling.topK = 0;
    p.sampling.minP = 0.0f;
    p.sampling.repeatPenalty = 1.0f;
    p.sampling.seed = r.seed ? *r.seed : randomSeed();

    const int limit = ctx.options.maxTokens;
    const char* param = "max_tokens";
    if (r.maxTokens && limit > 0 && *r.maxTokens > limit)
        throw ApiError(400, "'max_tokens' is " + std::to_string(*r.maxTokens) +
                                " but this server allows at most " + std::to_string(limit) +
                                " tokens per choice (--max-tokens)", param);
    const int asked = r.maxTokens ? *r.maxTokens : (limit > 0 ? limit : room);
    // More than the context leaves ends with finish_reason "length", as the sequence fills.
    p.maxTokens = std::max(1, std::min(asked, room));
    p.stopStrings = r.stop;
    if (r.endpoint == Endpoint::Chat)
        for (const std::string& s : ctx.served.chatTemplate->stopStrings())
            p.stopStrings.push_back(s);
    p.stopAtEndOfGeneration = !r.ignoreEos;
    p.n = r.n;
    p.topLogprobs = r.topLogprobs;
    p.client = client;
    return p;
}

std::shared_ptr<ServeRequest> submitOrRefuse(ServerContext& ctx, ServeRequestParams params)
{
    try {
        return ctx.scheduler->submit(std::move(params));
    } catch (const ServiceUnavailable& e) {
        throw ApiError(503, e.what(), "", "service_unavailable");
    } catch (const QueueFull&) {
        throw ApiError(503, "the server is busy: " + std::to_string(ctx.scheduler->config().maxQueued) +
                                " requests are already waiting; try again later", "", "queue_full");
    } catch (const InvalidArgument& e) {
        throw ApiError(400, e.what());
    }
}

// One generation request from submit to the last byte. Shared by the HTTP thread's content
// provider calls and the releaser that runs when the response ends (or the client vanished).
class GenerationResponse {
public:
    GenerationResponse(ServerContext& ctx, GenerationRequest request, std::shared_ptr<ServeRequest> handle,
                       std::string client, int promptTokens, CachePlan plan)
        : ctx_(ctx), request_(std::move(request)), plan_(std::move(plan)), handle_(std::move(handle)),
          client_(std::move(client)), promptTokens_(promptTokens), choices_(size_t(request_.n)),
          textOffsets_(size_t(request_.n), 0)
    {
        meta_.id = ctx.newResponseId(request_.endpoint == Endpoint::Chat ? "chatcmpl-" : "cmpl-");
        meta_.model = ctx.served.id;
        meta_.created = unixMs() / 1000;
        if (ctx_.energy)
            energyTicket_ = ctx_.energy->begin();
    }

    // Streaming: writes the events that arrived (or a keep-alive comment after a quiet interval).
    bool streamStep(httplib::DataSink& sink)
    {
        std::string out;
        if (!started_) {
            started_ = true;
            if (request_.endpoint == Endpoint::Chat)
                for (int i = 0; i < request_.n; ++i)
                    out += sse(chatChunk(meta_, i, Json{{"role", "assistant"}, {"content", ""}}, Json(), ""));
        }
        ServeEvent ev;
        bool got = handle_->next(ev, out.empty() ? kPoll : std::chrono::milliseconds(0));
        while (got) {
            out += streamEvent(ev);
            if (finished_)
                break;
            got = handle_->next(ev, std::chrono::milliseconds(0));
        }
        if (out.empty())
            out = ": keep-alive\n\n"; // an SSE comment: clients ignore it, a dead socket fails it
        if (!sink.write(out.data(), out.size()))
            return false; // the client is gone: the releaser cancels
        if (finished_) {
            record(); // before done(): a client that reads the end and asks /tenfold/status sees it
            sink.done();
        }
        return true;
    }

    // Non-streaming: gathers events; writes a space while waiting, the body at the end.
    bool bodyStep(httplib::DataSink& sink)
    {
        const auto deadline = Clock::now() + kPoll;
        ServeEvent ev;
        while (!finished_) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0 || !handle_->next(ev, left))
                break;
            gather(ev);
        }
        // Leading whitespace is legal JSON: it keeps the connection tested while we wait.
        const std::string out = finished_ ? dumpJson(finalBody()) + "\n" : std::string(" ");
        if (!sink.write(out.data(), out.size()))
            return false;
        if (finished_) {
            record(); // before done(): a client that reads the end and asks /tenfold/status sees it
            sink.done();
        }
        return true;
    }

    // The response is over: a request still running lost its client (or the server is
    // stopping). Cancel it, wait for its final Done for the token counts, record it.
    void release()
    {
        if (!finished_) {
            cancelled_ = true;
            handle_->cancel();
            const auto deadline = Clock::now() + kCancelDrain;
            ServeEvent ev;
            while (!finished_ && Clock::now() < deadline)
                if (handle_->next(ev, kPoll))
                    gather(ev);
        }
        record();
    }

private:
    std::string streamEvent(const ServeEvent& ev)
    {
        gather(ev);
        const bool chat = request_.endpoint == Endpoint::Chat;
        const bool withLogprobs = request_.topLogprobs >= 0;
        const Tokenizer& tok = ctx_.served.model->tokenizer();
        switch (ev.kind) {
        case ServeEvent::Kind::Text: {
            if (ev.text.empty() && ev.tokens.empty())
                return {};
            if (chat)
                return sse(chatChunk(meta_, ev.choice, Json{{"content", ev.text}},
                                     withLogprobs ? chatLogprobs(tok, ev.tokens, ev.logprobs, ev.topLogprobs) : Json(), ""));
            const size_t offset = textOffsets_[size_t(ev.choice)];
            textOffsets_[size_t(ev.choice)] += ev.text.size();
            return sse(textChunk(meta_, ev.choice, ev.text,
                                 withLogprobs ? completionLogprobs(tok, ev.tokens, ev.logprobs, ev.topLogprobs, offset) : Json(),
                                 ""));
        }
        case ServeEvent::Kind::ChoiceDone:
            return chat ? sse(chatChunk(meta_, ev.choice, Json::object(), Json(), ev.finishReason))
                        : sse(textChunk(meta_, ev.choice, "", Json(), ev.finishReason));
        case ServeEvent::Kind::Done: {
            std::string out;
            if (request_.includeUsage)
                out += sse(usageChunk(meta_, request_.endpoint, ev.promptTokens, ev.completionTokens));
            return out + "data: [DONE]\n\n";
        }
        case ServeEvent::Kind::Error:
            return sse(errorBody(failure(ev.error, ev.errorCode))) + "data: [DONE]\n\n";
        }
        return {};
    }

    void gather(const ServeEvent& ev)
    {
        if (ev.kind == ServeEvent::Kind::Text || ev.kind == ServeEvent::Kind::ChoiceDone) {
            if (ev.choice < 0 || ev.choice >= request_.n)
                return; // never expected; a bad index must not write out of bounds
            ChoiceResult& c = choices_[size_t(ev.choice)];
            if (ev.kind == ServeEvent::Kind::ChoiceDone) {
                c.finishReason = ev.finishReason;
                return;
            }
            c.text += ev.text;
            c.tokens.insert(c.tokens.end(), ev.tokens.begin(), ev.tokens.end());
            c.logprobs.insert(c.logprobs.end(), ev.logprobs.begin(), ev.logprobs.end());
            c.topLogprobs.insert(c.topLogprobs.end(), ev.topLogprobs.begin(), ev.topLogprobs.end());
            return;
        }
        finished_ = true;
        if (ev.kind == ServeEvent::Kind::Error) {
            failed_ = true;
            error_ = ev.error;
            errorCode_ = ev.errorCode;
        } else {
            done_ = ev;
        }
    }

    Json finalBody() const
    {
        if (failed_)
            return errorBody(failure(error_, errorCode_));
        const Tokenizer& tok = ctx_.served.model->tokenizer();
        const bool withLogprobs = request_.topLogprobs >= 0;
        return request_.endpoint == Endpoint::Chat
                   ? chatCompletionBody(meta_, tok, choices_, withLogprobs, done_.promptTokens, done_.completionTokens)
                   : textCompletionBody(meta_, tok, choices_, withLogprobs, done_.promptTokens, done_.completionTokens);
    }

    void record()
    {
        if (recorded_)
            return;
        recorded_ = true;
        FinishedRequest r;
        r.id = handle_->id();
        r.finishedAt = unixMs();
        r.endpoint = endpointName(request_.endpoint);
        r.client = client_;
        r.promptTokens = finished_ && !failed_ ? done_.promptTokens : promptTokens_;
        r.completionTokens = done_.completionTokens;
        r.timeToFirstTokenMs = done_.timeToFirstTokenMs;
        r.totalMs = done_.totalMs;
        r.finishReason = cancelled_ ? "cancelled" : failed_ ? "error" : choices_.front().finishReason;
        r.queueMs = done_.queueMs;
        if (ctx_.energy) {
            const cost::EnergyReading e = ctx_.energy->finish(energyTicket_);
            r.energyJoules = e.joules;
            r.energySource = e.source;
        }
        ctx_.recordFinished(r);
        if (finished_ && !failed_ && !cancelled_)
            storeAnswer(ctx_, plan_, choices_, done_.promptTokens, done_.completionTokens, done_.totalMs);
    }

    ServerContext& ctx_;
    GenerationRequest request_;
    CachePlan plan_;
    std::shared_ptr<ServeRequest> handle_;
    ResponseMeta meta_;
    std::string client_;
    int promptTokens_;
    std::vector<ChoiceResult> choices_;
    std::vector<size_t> textOffsets_;
    bool started_ = false, finished_ = false, failed_ = false, cancelled_ = false, recorded_ = false;
    double energyTicket_ = 0;
    ServeEvent done_;
    std::string error_, errorCode_;
};

} // namespace

void handleGeneration(ServerContext& ctx, Endpoint endpoint, const httplib::Request& req,
                      httplib::Response& res, const std::string& client)
{
    const Json body = parseBody(req.body);
    checkModel(ctx, body);
    GenerationRequest request =
        endpoint == Endpoint::Chat ? parseChatRequest(body) : parseCompletionRequest(body);
    if (request.n > ctx.options.parallel)
        throw ApiError(400, "'n' is " + std::to_string(request.n) + " but this server generates at most " +
                                std::to_string(ctx.options.parallel) + " sequences at once (--parallel)", "n");
    std::vector<int32_t> prompt = promptTokens(ctx, request);
    checkPromptFits(ctx, prompt.size(), endpoint == Endpoint::Chat ? "messages" : "prompt");
    const int promptCount = int(prompt.size());
    // A deterministic request answered before is answered from the response cache.
    CachePlan plan = planCache(ctx, request, prompt);
    const auto lookupStart = Clock::now();
    if (auto hit = lookupAnswer(ctx, plan)) {
        replayAnswer(ctx, request, *hit, res, client,
                     std::chrono::duration<double, std::milli>(Clock::now() - lookupStart).count());
        return;
    }
    auto handle = submitOrRefuse(ctx, generationParams(ctx, request, std::move(prompt), client));

    const bool stream = request.stream;
    auto response = std::make_shared<GenerationResponse>(ctx, std::move(request), std::move(handle),
                                                          client, promptCount, std::move(plan));
    auto releaser = [response](bool) { response->release(); };
    if (stream) {
        res.set_header("Cache-Control", "no-cache");
        res.set_chunked_content_provider(
            "text/event-stream",
            [response](size_t, httplib::DataSink& sink) { return response->streamStep(sink); }, releaser);
    } else {
        res.set_chunked_content_provider(
            kJsonType, [response](size_t, httplib::DataSink& sink) { return response->bodyStep(sink); },
            releaser);
    }
}

namespace {

// All inputs of one /v1/embeddings request, one scheduler request each.
class EmbeddingResponse {
public:
    EmbeddingResponse(ServerContext& ctx, EmbeddingRequest request,
                      std::vector<std::shared_ptr<ServeRequest>> handles, std::string client,
                      int promptTokens)
        : ctx_(ctx), request_(std::move(request)), handles_(std::move(handles)),
          client_(std::move(client)), promptTokens_(promptTokens), done_(handles_.size())
    {
        if (ctx_.energy)
            energyTicket_ = ctx_.energy->begin();
    }

    bool step(httplib::DataSink& sink)
    {
        const auto deadline = Clock::now() + kPoll;
        ServeEvent ev;
        while (!finished()) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0 || !handles_[next_]->next(ev, left))
                break;
            take(ev);
        }
        const std::string out = finished() ? dumpJson(body()) + "\n" : std::string(" ");
        if (!sink.write(out.data(), out.size()))
            return false;
        if (finished()) {
            record();
            sink.done();
        }
        return true;
    }

    void release()
    {
        if (!finished()) {
            cancelled_ = true;
            for (size_t i = next_; i < handles_.size(); ++i)
                handles_[i]->cancel();
            const auto deadline = Clock::now() + kCancelDrain;
            ServeEvent ev;
            while (!finished() && Clock::now() < deadline)
                if (handles_[next_]->next(ev, kPoll))
                    take(ev);
        }
        record();
    }

private:
    bool finished() const { return failed_ || next_ == handles_.size(); }

    void take(const ServeEvent& ev)
    {
        if (ev.kind == ServeEvent::Kind::Error) {
            failed_ = true;
            error_ = ev.error;
            for (size_t i = next_ + 1; i < handles_.size(); ++i)
                handles_[i]->cancel();
        } else if (ev.kind == ServeEvent::Kind::Done) {
            done_[next_++] = ev;
        }
    }

    Json body() const
    {
        if (failed_)
            return errorBody(ApiError(500, "embedding failed: " + error_));
        std::vector<std::vector<float>> vectors;
        int tokens = 0;
        for (const ServeEvent& d : done_) {
            vectors.push_back(d.embedding);
            tokens += d.promptTokens;
        }
        return embeddingBody(ctx_.served.id, vectors, request_.base64, tokens);
    }

    void record()
    {
        if (recorded_)
            return;
        recorded_ = true;
        FinishedRequest r;
        r.id = handles_.front()->id();
        r.finishedAt = unixMs();
        r.endpoint = endpointName(Endpoint::Embedding);
        r.client = client_;
        int tokens = 0;
        for (size_t i = 0; i < next_; ++i) {
            tokens += done_[i].promptTokens;
            r.totalMs = std::max(r.totalMs, done_[i].totalMs);
        }
        r.promptTokens = next_ == handles_.size() ? tokens : promptTokens_;
        r.finishReason = cancelled_ ? "cancelled" : failed_ ? "error" : "stop";
        if (ctx_.energy) {
            const cost::EnergyReading e = ctx_.energy->finish(energyTicket_);
            r.energyJoules = e.joules;
            r.energySource = e.source;
        }
        ctx_.recordFinished(r);
    }

    ServerContext& ctx_;
    EmbeddingRequest request_;
    std::vector<std::shared_ptr<ServeRequest>> handles_;
    std::string client_;
    int promptTokens_;
    double energyTicket_ = 0;
    std::vector<ServeEvent> done_;
    size_t next_ = 0; // inputs before it are done (events are read in input order)
    bool failed_ = false, cancelled_ = false, recorded_ = false;
    std::string error_;
};

} // namespace

void handleEmbeddings(ServerContext& ctx, const httplib::Request& req, httplib::Response& res,
                      const std::string& client)
{
    const Json body = parseBody(req.body);
    checkModel(ctx, body);
    EmbeddingRequest request = parseEmbeddingRequest(body);
    const Tokenizer& tok = ctx.served.model->tokenizer();
    std::vector<std::vector<int32_t>> prompts;
    int promptTokens = 0;
    for (const std::string& input : request.inputs) {
        prompts.push_back(tok.encode(input, true));
        checkPromptFits(ctx, prompts.back().size(), "input", false);
        promptTokens += int(prompts.back().size());
    }
    std::vector<std::shared_ptr<ServeRequest>> handles;
    try {
        for (auto& prompt : prompts) {
            ServeRequestParams p;
            p.prompt = std::move(prompt);
            p.embedding = true;
            p.maxTokens = 1;
            p.client = client;
            handles.push_back(submitOrRefuse(ctx, std::move(p)));
        }
    } catch (...) {
        for (auto& h : handles) // a later input refused: the earlier ones are not wanted either
            h->cancel();
        throw;
    }
    auto response = std::make_shared<EmbeddingResponse>(ctx, std::move(request), std::move(handles),
                                                         client, promptTokens);
    res.set_chunked_content_provider(
        kJsonType, [response](size_t, httplib::DataSink& sink) { return response->step(sink); },
        [response](bool) { response->release(); });
}

} // namespace tenfold::server
