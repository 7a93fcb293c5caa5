#include "worker_serve.h"

#include "cluster_view.h"

#include "cli_common.h"
#include "server_context.h"
#include "server_options.h"
#include "server_setup.h"

#include "core/error.h"
#include "core/platform.h"
#include "core/fnv.h"
#include "dist/pipeline_batched.h"
#include "dist/replica_router.h"
#include "dist/stage_plan.h"
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

// --pipeline, --split A,B,... and --micro-batch N choose pipeline-parallel serving.
struct PipelineArgs {
    bool on = false;
    std::vector<int> split;
    int microBatch = 0;
};

PipelineArgs takePipelineArgs(std::vector<std::string>& args)
{
    PipelineArgs p;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--pipeline") {
            p.on = true;
            args.erase(args.begin() + std::ptrdiff_t(i));
            --i;
            continue;
        }
        if (a != "--split" && a != "--micro-batch")
            continue;
        if (i + 1 >= args.size())
            throw cli::UsageError(a + " needs a value");
        const std::string value = args[i + 1];
        if (a == "--split") {
            try {
                p.split = dist::parseSplit(value);
            } catch (const InvalidArgument& e) {
                throw cli::UsageError(e.what());
            }
        } else {
            char* end = nullptr;
            const long n = std::strtol(value.c_str(), &end, 10);
            if (end == value.c_str() || *end != '\0' || n < 1 || n > 65536)
                throw cli::UsageError("--micro-batch must be 1..65536 rows, got '" + value + "'");
            p.microBatch = int(n);
        }
        p.on = true;
        args.erase(args.begin() + std::ptrdiff_t(i), args.begin() + std::ptrdiff_t(i) + 2);
        --i;
    }
    return p;
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

// Pipeline parallel: rank 0 runs the HTTP front end and tenfold-server's scheduler on a batched
// context whose layers are spread over every rank (dist/pipeline_batched.h); ranks 1.. run their
// layers. The scheduler's thread makes rank 0's MPI calls for passes, this thread for the pings,
// one at a time (the pipeline's lock).
int runPipeline(dist::MpiLink& link, const server::ServerOptions& options, const PipelineArgs& pipeline,
                double rankTimeout, bool* skipFinalize)
{
    using namespace server;
    if (!options.prefixCacheDir.empty())
        throw cli::UsageError("--prefix-cache-dir saves whole sequences' KV, which a pipeline spreads over its "
                              "ranks; leave it out with --pipeline (the prefix cache in memory works)");
    if (!link.serializedThreads())
        throw Error("this Open MPI does not allow MPI calls from the scheduler's thread "
                    "(MPI_THREAD_SERIALIZED), which --pipeline needs");
    const std::shared_ptr<Model> model = cli::loadModel(options.modelPath);
    dist::PipelineServeOptions po;
    try {
        po.stages = dist::planStages(*model, link.size(), pipeline.split);
    } catch (const InvalidArgument& e) {
        throw cli::UsageError(e.what());
    }
    po.rankTimeoutS = rankTimeout;
    po.microBatch = pipeline.microBatch;
    po.nThreads = cli::threadCount(options.backendArgs);
    const BatchedParams bp = batchedParams(options, *model);
    if (link.rank() != 0) {
        std::thread([] {
            platform::waitForStopSignal();
            _exit(143);
        }).detach();
        dist::runPipelineStage(link, model, bp, po);
        return 0;
    }

    auto context = std::make_unique<dist::PipelineBatchedContext>(link, model, bp, po, kStartupSeconds);
    dist::PipelineBatchedContext* pipe = context.get();
    for (int r = 0; r < link.size(); ++r)
        std::fprintf(stderr, "[mpi] %s%s\n", pipe->describeRank(r).c_str(),
                     r == 0 ? ": HTTP front end, scheduler, embedding and output head" : "");
    std::unique_ptr<Backend> backend = cli::createBackend(options.backendArgs); // a --draft runs on rank 0
    std::unique_ptr<Scheduler> scheduler = makeScheduler(options, model, *backend, "", std::move(context));

    ServerContext ctx;
    ctx.options = options;
    ctx.keys = ApiKeys(options.apiKeys);
    std::unique_ptr<UsageWriter> usage;
    if (options.ledger)
        usage = std::make_unique<UsageWriter>(std::make_unique<Store>(options.dataDir));
    const std::string fingerprint = hex64(model->fingerprint());
    std::unique_ptr<ResponseCache> responseCache = openResponseCache(options, fingerprint);
    PipelineStatusView view(*pipe);
    ctx.scheduler = scheduler.get();
    ctx.cluster = &view;
    ctx.usage = usage.get();
    ctx.responseCache = responseCache.get();
    ctx.served.fingerprint = fingerprint;
    const int threads = cli::threadCount(options.backendArgs);
    describeServedModel(ctx, model, "cpu", bp.maxSequenceLength,
                        threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency())));

    std::atomic<bool> httpEnded{false};
    int rc = 1;
    std::string what = "pipeline over " + std::to_string(link.size()) + " MPI ranks (layers";
    for (const dist::Stage& st : po.stages) {
        what += ' ';
        what += std::to_string(st.firstLayer);
        what += "..";
        what += std::to_string(st.endLayer - 1);
    }
    what += ") x " + std::to_string(options.parallel) + " in parallel";
    std::thread http([&] {
        rc = listenUntilStopped(ctx, what);
        httpEnded = true;
    });
    auto lastPing = std::chrono::steady_clock::now();
    while (!httpEnded) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        // A pass of no rows each second, so a stage that stops answering while no request is in
        // flight is noticed within the rank timeout too (a RankLost marks the pipeline lost).
        if (!pipe->lost() && std::chrono::steady_clock::now() - lastPing >= std::chrono::seconds(1)) {
            lastPing = std::chrono::steady_clock::now();
            try {
                pipe->ping();
            } catch (const Error&) {
            }
        }
        if (pipe->lost()) {
            // A lost stage took its layers with it: the requests in flight have failed with an
            // error naming it; give their answers a moment to reach the clients, then end the job.
            std::fprintf(stderr, "tenfold-worker serve: %s; its layers are gone, so the pipeline cannot serve: "
                                 "ending the job\n", pipe->lostReason().c_str());
            std::fflush(stderr);
            std::this_thread::sleep_for(std::chrono::milliseconds(1000));
            std::fflush(stdout);
            link.abort(3);
        }
    }
    http.join();
    scheduler->stop();
    if (pipe->lost()) {
        *skipFinalize = true;
        std::fprintf(stderr, "tenfold-worker serve: %s\n", pipe->lostReason().c_str());
        return 3;
    }
    try {
        std::fputs(pipe->stopStages().c_str(), stderr);
    } catch (const dist::RankLost& e) {
        *skipFinalize = true;
        std::fprintf(stderr, "tenfold-worker serve: stopping the stages: %s\n", e.what());
        return 3;
    }
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
    return "tenfold-server over the ranks of an mpirun job (CPU). Data parallel (the default): rank 0 runs the\n"
           "HTTP front end, ranks 1..N-1 each hold the whole model and its own scheduler; each\n"
           "request goes to the replica with the fewest requests in flight. A replica silent for\n"
           "--rank-timeout S seconds (default 8) is lost: its requests fail with an error naming\n"
           "it, the others keep serving (start mpirun with --enable-recovery, else Open MPI ends\n"
           "the whole job when a rank dies). /health, /metrics and /tenfold/status report the\n"
           "ranks. MPI's launch (ssh) is the trust boundary; the only listener is the HTTP one.\n\n"
           "Pipeline parallel (--pipeline): rank 0 runs the HTTP front end and the scheduler, and the\n"
           "model's layers are split over every rank (rank 0 included), each holding only its layers'\n"
           "weights and KV cache; a lost stage ends the job (its layers are gone).\n\n" +
           text + "  --rank-timeout S            seconds without a heartbeat before a replica is lost (default 8)\n"
                  "  --pipeline                  split the layers over the ranks instead of whole-model replicas\n"
                  "  --split A,B,...             layers per rank (implies --pipeline; default: by weight bytes)\n"
                  "  --micro-batch N             rows per pipeline piece (implies --pipeline; default: a batch in\n"
                  "                              as many pieces as ranks, so the stages overlap)\n";
}

int runServe(dist::MpiLink& link, const std::vector<std::string>& argsIn,
             bool* skipFinalize)
{
    std::vector<std::string> args = argsIn;
    const double rankTimeout = takeRankTimeout(args);
    const PipelineArgs pipeline = takePipelineArgs(args);
    const server::ServerOptions options = server::parseServerOptions(args);
    if (options.backendArgs.getString("--device", "cpu") != "cpu")
        throw cli::UsageError("tenfold-worker serve computes on the CPU of every replica; --device " +
                              options.backendArgs.getString("--device", "cpu") + " is not supported across ranks");
    if (link.size() < 2)
        throw cli::UsageError("serve needs at least 2 ranks (rank 0 is the HTTP front end, ranks 1.. the "
                              "replicas or the later pipeline stages); for one process run tenfold-server");
    if (pipeline.on)
        return runPipeline(link, options, pipeline, rankTimeout, skipFinalize);
    if (link.rank() != 0)
        return runReplicaRank(link, options, rankTimeout);
    return runFrontEnd(link, options, rankTimeout, skipFinalize);
}

} // namespace tenfold::worker
