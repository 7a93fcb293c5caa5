#include "http_routes.h"

#include "generation.h"

#include "core/platform.h"
#include "model/model.h"
#include "profile/op_profile.h"

#include <cstdio>
#include <exception>

namespace tenfold::server {

namespace {

void sendError(ServerContext& ctx, httplib::Response& res, const ApiError& e)
{
    ctx.metrics.countHttpError(e.status());
    res.status = e.status();
    if (e.status() == 503)
        res.set_header("Retry-After", "1");
    if (e.status() == 401)
        res.set_header("WWW-Authenticate", "Bearer");
    res.set_content(dumpJson(errorBody(e)), kJsonType);
}

// Who is asking, for metrics and the ledger: the key's label, else the peer's address.
std::string clientName(const ServerContext& ctx, const httplib::Request& req)
{
    if (ctx.keys.required()) {
        if (auto label = ctx.keys.authenticate(req.get_header_value("Authorization")); label && !label->empty())
            return *label;
    }
    return req.remote_addr;
}

// Every route's body: ApiError and engine errors become OpenAI error objects, never a crash.
httplib::Server::Handler guarded(ServerContext& ctx, std::function<void(const httplib::Request&, httplib::Response&, const std::string&)> f)
{
    return [&ctx, f = std::move(f)](const httplib::Request& req, httplib::Response& res) {
        try {
            f(req, res, clientName(ctx, req));
        } catch (const ApiError& e) {
            sendError(ctx, res, e);
        } catch (const std::bad_alloc&) {
            sendError(ctx, res, ApiError(503, "the server ran out of memory for this request"));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "tenfold-server: %s %s: %s\n", req.method.c_str(), req.path.c_str(), e.what());
            sendError(ctx, res, ApiError(500, std::string("internal error: ") + e.what()));
        }
    };
}

} // namespace

int httpThreadCount(const ServerOptions& options)
{
    return std::max(8, 2 * options.parallel + 4);
}

void configureServer(httplib::Server& http, ServerContext& ctx)
{
    const int threads = httpThreadCount(ctx.options);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
    // A client that sends or reads nothing for this long loses its connection; the others are
    // on their own threads meanwhile.
    http.set_read_timeout(10, 0);
    http.set_write_timeout(30, 0);
    http.set_keep_alive_timeout(5);
    http.set_keep_alive_max_count(100);
    http.set_payload_max_length(ctx.options.maxBodyBytes);
    http.set_tcp_nodelay(true); // SSE events go out one by one, not held for Nagle

    // Authentication runs before the body is read, so a client without a key cannot make the
    // server read 10 MB. /health stays open for liveness probes.
    http.set_pre_routing_handler([&ctx](const httplib::Request& req, httplib::Response& res) {
        if (!ctx.keys.required() || req.path == "/health")
            return httplib::Server::HandlerResponse::Unhandled;
        if (ctx.keys.authenticate(req.get_header_value("Authorization")))
            return httplib::Server::HandlerResponse::Unhandled;
        sendError(ctx, res,
                  ApiError(401,
                           req.has_header("Authorization")
                               ? "invalid API key"
                               : "this server needs an API key: send 'Authorization: Bearer KEY'",
                           "", "invalid_api_key"));
        return httplib::Server::HandlerResponse::Handled;
    });

    // httplib's own refusals (no route: 404, body over the limit: 413, bad request line: 400)
    // arrive here with an empty body; they get the OpenAI error shape too.
    http.set_error_handler(httplib::Server::HandlerWithResponse([&ctx](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty())
            return httplib::Server::HandlerResponse::Unhandled;
        std::string message;
        switch (res.status) {
        case 404: message = "no route " + req.method + " " + req.path; break;
        case 413:
            message = "the request body is larger than " + std::to_string(ctx.options.maxBodyBytes) +
                      " bytes (--max-body)";
            break;
        case 400: message = "malformed HTTP request"; break;
        default: message = "the request was refused (HTTP " + std::to_string(res.status) + ")"; break;
        }
        const int status = res.status;
        sendError(ctx, res, ApiError(status, message));
        return httplib::Server::HandlerResponse::Handled;
    }));
    http.set_exception_handler([&ctx](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        sendError(ctx, res, ApiError(500, "internal error: " + what));
    });

    http.Post("/v1/chat/completions", guarded(ctx, [&ctx](auto& req, auto& res, auto& client) {
                  handleGeneration(ctx, Endpoint::Chat, req, res, client);
              }));
    http.Post("/v1/completions", guarded(ctx, [&ctx](auto& req, auto& res, auto& client) {
                  handleGeneration(ctx, Endpoint::Completion, req, res, client);
              }));
    http.Post("/v1/embeddings", guarded(ctx, [&ctx](auto& req, auto& res, auto& client) {
                  handleEmbeddings(ctx, req, res, client);
              }));
    http.Get("/v1/models", guarded(ctx, [&ctx](auto&, auto& res, auto&) {
                 res.set_content(dumpJson(modelsBody(ctx.served.id, ctx.served.created)), kJsonType);
             }));
    http.Get(R"(/v1/models/(.+))", guarded(ctx, [&ctx](const httplib::Request& req, auto& res, auto&) {
                 const std::string name = req.matches[1];
                 if (!ctx.acceptsModel(name))
                     throw ApiError(404, "the model '" + name + "' does not exist", "model", "model_not_found");
                 res.set_content(dumpJson(modelsBody(ctx.served.id, ctx.served.created)["data"][0]), kJsonType);
             }));
    http.Get("/health", guarded(ctx, [&ctx](auto&, auto& res, auto&) {
                 if (!ctx.cluster) {
                     res.set_content(R"({"status":"ok"})", kJsonType);
                     return;
                 }
                 // An MPI front end: "degraded" while some replicas are lost, 503 when none is
                 // left. Rank numbers only: /health needs no key, so hosts stay out of it.
                 const std::vector<int> lost = ctx.cluster->lostRanks();
                 const bool serving = ctx.cluster->canServe();
                 if (!serving)
                     res.status = 503;
                 res.set_content(dumpJson(Json{{"status", !serving ? "unavailable" : lost.empty() ? "ok" : "degraded"},
                                               {"lost_ranks", lost}}),
                                 kJsonType);
             }));
    http.Get("/metrics", guarded(ctx, [&ctx](auto&, auto& res, auto&) {
                 std::string text = ctx.metrics.prometheusText(ctx.scheduler->metrics());
                 if (ctx.cluster)
                     text += ctx.cluster->prometheusText();
                 res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
             }));
    http.Get("/tenfold/status", guarded(ctx, [&ctx](auto&, auto& res, auto&) {
                 Json status = ctx.metrics.statusJson(ctx.served.id, ctx.scheduler->activeRequests(),
                                                      ctx.scheduler->metrics());
                 if (ctx.cluster)
                     status["cluster"] = ctx.cluster->statusJson();
                 res.set_content(dumpJson(status), kJsonType);
             }));
    // The Profiler's view of the server: the last forward pass's ops (with --profile), the
    // running totals it turns into rates between two polls, and what the roofline needs.
    http.Get("/tenfold/profile", guarded(ctx, [&ctx](auto&, auto& res, auto&) {
                 const SchedulerMetrics m = ctx.scheduler->metrics();
                 const PassProfile pass = ctx.scheduler->lastPassProfile();
                 Json ops = Json::array();
                 for (const OpTiming& t : pass.timings)
                     ops.push_back(Json{{"op", t.op}, {"layer", t.layer}, {"us", t.microseconds}});
                 const Model* model = ctx.served.model.get();
                 res.set_content(dumpJson(Json{{"profiling", ctx.options.profile},
                                               {"steps", m.steps},
                                               {"prompt_tokens_total", m.promptTokensTotal},
                                               {"generated_tokens_total", m.generatedTokensTotal},
                                               {"busy_seconds", m.busySeconds},
                                               {"running", m.running},
                                               {"last_pass", Json{{"rows", pass.rows},
                                                                  {"prompt_rows", pass.promptRows},
                                                                  {"ops", ops}}},
                                               {"resident_bytes", platform::residentBytes()},
                                               {"weight_bytes", model ? model->weightBytes() : 0},
                                               {"matmul_weights", model ? profile::matmulWeights(*model) : 0.0}}),
                                 kJsonType);
             }));
}

} // namespace tenfold::server
