#include "worker_serve.h"

#include "cluster_view.h"

#include "cli_common.h"
#include "server_context.h"
#include "server_options.h"
#include "server_setup.h"

#include "core/error.h"
#include "core/platform.h"
#include "core/fnv.h"
#include "dist/replica_router.h"
#include "dist/replica_server.h"
#include "model/model.h"
#include "store/store.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <unistd.h>

namespace tenfold::worker {
namespace {

// How long the replicas may take to load the model and say they are ready.
constexpr double kStartupSeconds = 300.0;

std::string describeRank(const dist::MpiLink& link, int rank)
{
    const dist::RankInfo& info = link.ranks()[size_t(rank)];
    return "rank " + std::to_string(rank) + " (host " + info.host + ", pid " + std::to_string(info.pid) + ", " +
           (rank == 0 ? "HTTP front end" : "whole-model replica") + ")";
}

// --rank-timeout S is the worker's own; the rest is tenfold-server's command line.
double takeRankTimeout(std::vector<std::string>& args)
{
    double timeout = 8.0;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] != "--rank-timeout")
            continue;
        if (i + 1 >= args.size())
            throw cli::UsageError("--rank-timeout needs a value (seconds)");
        char* end = nullptr;
        timeout = std::strtod(args[i + 1].c_str(), &end);
        if (end == args[i + 1].c_str() || *end != '\0' || !(timeout >= 0.1 && timeout <= 3600))
            throw cli::UsageError("--rank-timeout must be 0.1..3600 seconds, got '" + args[i + 1] + "'");
        args.erase(args.begin() + std::ptrdiff_t(i), args.begin() + std::ptrdiff_t(i) + 2);
        --i;
    }
    return timeout;
}

int runReplicaRank(dist::MpiLink& link, const server::ServerOptions& options, double rankTimeout)
{
    // mpirun ends the job with SIGTERM (Ctrl-C on mpirun, rank 0 gone): a replica just leaves.
    std::thread([] {
        platform::waitForStopSignal();
        _exit(143);
    }).detach();
    std::unique_ptr<Scheduler> scheduler;
    try {
        const std::shared_ptr<Model> model = cli::loadModel(options.modelPath);
        std::unique_ptr<Backend> backend = cli::createBackend(options.backendArgs);
        // Each replica keeps its own saved prefixes: they are its own KV states.
        const std::string prefixDir = options.prefixCacheDir.empty()
                                          ? std::string()
                                          : (std::filesystem::path(options.prefixCacheDir) /
                                             ("rank-" + std::to_string(link.rank())))
                                                .string();
        scheduler = server::makeScheduler(options, model, *backend, prefixDir);
    } catch (const std::exception& e) {
        dist::reportReplicaFailed(link, e.what(), rankTimeout);
        throw;
    }
    std::fprintf(stderr, "[mpi] %s ready\n", describeRank(link, link.rank()).c_str());
    dist::runReplica(link, *scheduler, rankTimeout);
    return 0;
}

int runFrontEnd(dist::MpiLink& link, const server::ServerOptions& options, double rankTimeout,
                bool* skipFinalize)
{
    using namespace server;
    ServerContext ctx;
    ctx.options = options;
    ctx.keys = ApiKeys(options.apiKeys);
    // Rank 0 maps the model for its tokenizer and chat template; it computes nothing with it.
    const std::shared_ptr<Model> model = cli::loadModel(options.modelPath);
    std::unique_ptr<UsageWriter> usage;
    if (options.ledger)
        usage = std::make_unique<UsageWriter>(std::make_unique<Store>(options.dataDir));
    const std::string fingerprint = hex64(model->fingerprint());
    std::unique_ptr<ResponseCache> responseCache = openResponseCache(options, fingerprint);

    SchedulerConfig replicaConfig;
    replicaConfig.maxRunning = options.parallel;
    replicaConfig.maxQueued = options.maxQueue;
    const int contextLength = cli::contextFromArgs(options.backendArgs, *model);
    dist::ReplicaRouter router(link, replicaConfig, contextLength, rankTimeout,
                               [&link](int r) { return describeRank(link, r); });
    for (int r = 0; r < link.size(); ++r)
        std::fprintf(stderr, "[mpi] %s\n", describeRank(link, r).c_str());
    const char* recovery = std::getenv("OMPI_MCA_orte_enable_recovery");
    if (!recovery || std::string(recovery) != "1")
        std::fprintf(stderr, "tenfold-worker serve: warning: mpirun was started without --enable-recovery, so "
                             "a replica that dies ends the whole job; with it, the others keep serving\n");
    const int ready = router.awaitReplicas(kStartupSeconds);
    if (ready == 0) {
        std::fprintf(stderr, "tenfold-worker serve: no replica is ready; nothing to serve\n");
        *skipFinalize = true;
        return 1;
    }

    ClusterStatusView view(link, router, model->hparams().nLayer);
    ctx.scheduler = &router;
    ctx.cluster = &view;
    ctx.usage = usage.get();
    ctx.responseCache = responseCache.get();
    ctx.served.fingerprint = fingerprint;
    const int threads = cli::threadCount(options.backendArgs);
    describeServedModel(ctx, model, "cpu", contextLength,
                        threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency())));

    // HTTP on its own threads; this (the main) thread is the only one that calls MPI.
    std::atomic<bool> httpEnded{false};
    int rc = 1;
    const std::string what = std::to_string(ready) + " replica" + (ready == 1 ? "" : "s") + " (MPI ranks 1.." +
                             std::to_string(link.size() - 1) + ") x " + std::to_string(options.parallel) +
                             " in parallel";
    std::thread http([&] {
        rc = listenUntilStopped(ctx, what);
        httpEnded = true;
    });
    int idle = 0;
    while (!httpEnded) {
        idle = router.pump() ? 0 : idle + 1;
        if (idle > 16)
            std::this_thread::sleep_for(std::chrono::microseconds(idle > 256 ? 1000 : 100));
        else if (idle > 0)
            std::this_thread::yield();
    }
    http.join();
    router.stop();
    const std::vector<int> lost = router.lostRanks();
    *skipFinalize = !lost.empty();
    std::fprintf(stderr, "tenfold-server: stopped\n");
    return rc;
}

} // namespace

std::string serveHelpText()
{
    std::string text = server::serverHelpText();
    const std::string from = "usage: tenfold-server";
    if (text.rfind(from, 0) == 0)
        text.replace(0, from.size(), "usage: mpirun -np N --enable-recovery tenfold-worker serve");
    return "tenfold-server over the ranks of an mpirun job, data parallel (CPU): rank 0 runs the\n"
           "HTTP front end, ranks 1..N-1 each hold the whole model and its own scheduler; each\n"
           "request goes to the replica with the fewest requests in flight. A replica silent for\n"
           "--rank-timeout S seconds (default 8) is lost: its requests fail with an error naming\n"
           "it, the others keep serving (start mpirun with --enable-recovery, else Open MPI ends\n"
           "the whole job when a rank dies). /health, /metrics and /tenfold/status report the\n"
           "ranks. MPI's launch (ssh) is the trust boundary; the only listener is the HTTP one.\n\n" +
           text + "  --rank-timeout S            seconds without a heartbeat before a replica is lost (default 8)\n";
}

int runServe(dist::MpiLink& link, const std::vector<std::string>& argsIn,
             bool* skipFinalize)
{
    std::vector<std::string> args = argsIn;
    const double rankTimeout = takeRankTimeout(args);
    const server::ServerOptions options = server::parseServerOptions(args);
    if (options.backendArgs.getString("--device", "cpu") != "cpu")
        throw cli::UsageError("tenfold-worker serve computes on the CPU of every replica; --device " +
                              options.backendArgs.getString("--device", "cpu") + " is not supported across ranks");
    if (link.size() < 2)
        throw cli::UsageError("serve needs at least 2 ranks (rank 0 is the HTTP front end, ranks 1.. the "
                              "replicas); for one process run tenfold-server");
    if (link.rank() != 0)
        return runReplicaRank(link, options, rankTimeout);
    return runFrontEnd(link, options, rankTimeout, skipFinalize);
}

} // namespace tenfold::worker
