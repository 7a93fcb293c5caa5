// tenfold-server MODEL [options]: an OpenAI-compatible HTTP server over the continuous-batching
// scheduler. See server_options.cpp for the options and README.md for the endpoints.
#include "cli_common.h"
#include "cli_ledger.h"
#include "server_context.h"
#include "server_options.h"
#include "server_setup.h"

#include "core/error.h"
#include "core/platform.h"
#include "core/fnv.h"
#include "model/model.h"
#include "serve/scheduler.h"
#include "store/store.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <thread>

using namespace tenfold;
using namespace tenfold::server;

namespace {

int serve(ServerOptions options)
{
    ServerContext ctx;
    ctx.options = options;
    ctx.keys = ApiKeys(options.apiKeys);

    const std::shared_ptr<Model> model = cli::loadModel(options.modelPath);
    std::unique_ptr<Backend> backend = cli::createBackend(options.backendArgs);

    // Declared before the scheduler, so it is destroyed after it: rows queued while requests
    // end are still written.
    std::unique_ptr<UsageWriter> usage;
    if (options.ledger)
        usage = std::make_unique<UsageWriter>(std::make_unique<Store>(options.dataDir));
    const std::string fingerprint = hex64(model->fingerprint());
    std::unique_ptr<ResponseCache> responseCache = openResponseCache(options, fingerprint);

    std::unique_ptr<Scheduler> scheduler;
    try {
        scheduler = makeScheduler(options, model, *backend, options.prefixCacheDir);
    } catch (const UnsupportedError& e) {
        std::fprintf(stderr,
                     "tenfold-server: the %s backend cannot serve yet (%s); start it with --device cpu\n",
                     backend->name().c_str(), e.what());
        return 1;
    }

    ctx.scheduler = scheduler.get();
    ctx.usage = usage.get();
    ctx.responseCache = responseCache.get();
    ctx.served.fingerprint = fingerprint;
    const std::string device = options.backendArgs.getString("--device", "cpu");
    int threads = 0;
    if (device == "cpu") {
        const int t = cli::threadCount(options.backendArgs);
        threads = t > 0 ? t : int(std::max(1u, std::thread::hardware_concurrency()));
    }
    describeServedModel(ctx, model, cli::ledgerDeviceTag(device, backend->name()), scheduler->maxSequenceLength(), threads);

    const int rc = listenUntilStopped(ctx, std::to_string(options.parallel) + " in parallel");
    const PrefixStateReport saved = scheduler->stop();
    for (const std::string& w : saved.warnings)
        std::fprintf(stderr, "tenfold-server: warning: %s\n", w.c_str());
    if (!options.prefixCacheDir.empty())
        std::fprintf(stderr, "tenfold-server: saved %d cached prefixes (%d tokens) to %s\n", saved.files,
                     saved.tokens, options.prefixCacheDir.c_str());
    std::fprintf(stderr, "tenfold-server: stopped\n");
    return rc;
}

} // namespace

int main(int argc, char** argv)
{
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (cli::wantsHelp(args)) {
        std::fputs(serverHelpText().c_str(), stdout);
        return 0;
    }
    if (args.size() == 1 && (args[0] == "--version" || args[0] == "-V")) {
        std::printf("tenfold-server %s\n", TENFOLD_VERSION);
        return 0;
    }
    // SIGINT and SIGTERM are blocked in every thread (threads inherit the mask) and taken by one
    // waiter with sigwait, so shutdown is ordinary code rather than a signal handler. A write to
    // a vanished client must fail with EPIPE, not kill the process.
    platform::blockStopSignals();
    try {
        return serve(parseServerOptions(args));
    } catch (const cli::UsageError& e) {
        std::fprintf(stderr, "tenfold-server: %s\n(tenfold-server --help lists the options)\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tenfold-server: %s\n", e.what());
        return 1;
    }
}
