#pragma once
// The parts of tenfold-server's start-up that `tenfold-worker serve` shares: the scheduler built
// from the options, the served model's description, the response cache, and binding and
// listening until SIGINT/SIGTERM. One copy, linked by both programs (tenfold_server_core).
#include "server_context.h"

#include <csignal>
#include <memory>
#include <string>

namespace tenfold {
class Backend;
class Model;
} // namespace tenfold

namespace tenfold::server {

// --chat-template: a built-in by name, else a Jinja file; absent: the desktop app's choice.
ChatTemplate chatTemplateFor(const Model& model, const std::string& choice);

// The continuous-batching scheduler tenfold-server runs: a batched context of --parallel
// sequences on `backend`, the draft model when --draft is given, the prefix cache options.
// prefixCacheDir overrides options.prefixCacheDir (each replica keeps its own). Throws
// UnsupportedError when the backend cannot serve.
std::unique_ptr<Scheduler> makeScheduler(const ServerOptions& options, std::shared_ptr<Model> model,
                                         Backend& backend, const std::string& prefixCacheDir,
                                         std::unique_ptr<BatchedContext> batched = nullptr);
// The served model's batched-context parameters from the options (context, parallel, threads).
BatchedParams batchedParams(const ServerOptions& options, const Model& model);

// The response cache (--response-cache), or null when off or unusable (said on stderr).
std::unique_ptr<ResponseCache> openResponseCache(const ServerOptions& options, const std::string& fingerprint);

// Fills ctx.served (id, template, context length, ledger facts) and the energy meter.
void describeServedModel(ServerContext& ctx, std::shared_ptr<Model> model, const std::string& deviceTag,
                         int contextLength, int threads);

// Binds --host/--port, prints the start-up line to stderr (`what` describes the generation
// side) and "Tenfold server listening on http://HOST:PORT" to stdout, and serves until one of
// stop request arrives (platform::waitForStopSignal; main() called platform::blockStopSignals). 0 when stopped by a signal, 1 when it could not listen.
int listenUntilStopped(ServerContext& ctx, const std::string& what);

} // namespace tenfold::server
