// tenfold-worker: `mpirun -np N tenfold-worker generate MODEL [tenfold-cli generate's options]
// [--split A,B,... | --data-parallel] [--rank-timeout S]`. Every rank parses the same arguments
// and maps the same model; rank 0 is the front end (tokenizer, sampling, the text on stdout,
// exactly as tenfold-cli generate prints it), the others compute (engine/dist/cluster.h).
//
// Failures end the whole job, never hang it: a rank that stops answering is named by rank 0,
// which then ends the job with MPI_Abort and a non-zero code; a rank that dies is noticed by
// mpirun at once, which names it and stops the others (rank 0 says why it was stopped).
#include "cli_common.h"
#include "commands.h"
#include "logits_dump.h"
#ifdef TENFOLD_WORKER_SERVE
#include "worker_serve.h"
#endif

#include "core/error.h"
#include "core/platform.h"
#include "dist/cluster.h"
#include "model/model.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

using namespace tenfold;
using namespace tenfold::cli;

namespace {

constexpr int kRankLostExitCode = 3;

void onTerminate(int)
{
    // mpirun sends SIGTERM when another rank of the job died; it names that rank itself.
    static const char text[] = "tenfold-worker: stopped by mpirun: another rank of the job failed "
                               "(mpirun's message names it); the generation in flight is lost\n";
    ssize_t ignored = ::write(2, text, sizeof text - 1);
    (void)ignored;
    _exit(143);
}

CommandSpec workerGenerateSpec()
{
    CommandSpec spec = generateSpec();
    spec.synopsis = "MODEL (-p PROMPT | -f FILE) [--split A,B,... | --data-parallel] [options]";
    spec.description =
        "tenfold-cli generate across the ranks of an mpirun job (CPU). Rank 0 prints exactly\n"
        "what tenfold-cli generate prints; the cluster's layout and per-rank figures go to\n"
        "stderr. Pipeline parallel (default): each rank computes a range of layers (--split,\n"
        "or balanced by weight bytes, rank 0 also holding the embedding and output head).\n"
        "--micro-batch N sends a prompt through in pieces of N tokens, so the stages work at\n"
        "once (the logits are those of a single process decoding the prompt in such pieces).\n"
        "--data-parallel: ranks 1..N-1 each hold the whole model, rank 0 sends each sequence\n"
        "to the least loaded one. A rank that does not answer within --rank-timeout seconds\n"
        "(plus four times the compute it was given) is reported and the job ends with exit\n"
        "code 3. MPI's own launch (ssh) is the trust boundary: no port is opened.\n"
        "--self-speculative, --early-exit and --prompt-cache are not taken here.\n\n" +
        spec.description;
    spec.options.push_back({"--split", "", "A,B,...", "pipeline: layers per rank, in rank order"});
    spec.options.push_back({"--data-parallel", "", "", "whole-model replicas on ranks 1..N-1"});
    spec.options.push_back({"--micro-batch", "", "N", "pipeline: send a prompt through in pieces of N tokens, so the stages overlap"});
    spec.options.push_back({"--rank-timeout", "", "S", "seconds without an answer before a rank is lost (default 8)"});
    spec.options.push_back({"--dump-logits", "", "FILE", "write every logits row rank 0 receives (raw float32)"});
    return spec;
}

void printUsage(std::FILE* to)
{
    std::fprintf(to, "usage: mpirun -np N tenfold-worker generate MODEL [options]   "
                     "(tenfold-worker generate --help for details)\n"
                     "       mpirun -np N --enable-recovery tenfold-worker serve MODEL [options]   "
                     "(tenfold-worker serve --help)\n");
}

int runRank(dist::MpiLink& link, const ParsedArgs& args)
{
    if (args.getString("--device", "cpu") != "cpu")
        throw UsageError("tenfold-worker computes on the CPU of every rank; --device " +
                         args.getString("--device", "cpu") + " is not supported across ranks");
    for (const char* whole : {"--self-speculative", "--early-exit", "--prompt-cache"})
        if (args.has(whole))
            throw UsageError(std::string(whole) + " needs the whole model's KV cache in one process; "
                             "tenfold-worker does not take it");
    if (args.has("--split") && args.has("--data-parallel"))
        throw UsageError("give either --split or --data-parallel, not both");
    dist::ClusterOptions options;
    options.mode = args.has("--data-parallel") ? dist::Mode::DataParallel : dist::Mode::Pipeline;
    if (const auto split = args.get("--split"))
        options.split = dist::parseSplit(*split);
    options.rankTimeoutS = args.getDouble("--rank-timeout", 8.0, 0.1, 3600.0);
    options.microBatch = int(args.getInt("--micro-batch", 0, 1, 1 << 20));

    const std::shared_ptr<Model> model = loadModel(args.positional(0));
    ContextParams cp;
    cp.nThreads = threadCount(args);
    cp.nCtx = contextFromArgs(args, *model);
    dist::Cluster cluster(link, model, options, cp);

    if (link.rank() != 0) {
        std::fprintf(stderr, "[mpi] %s ready\n", cluster.describeRank(link.rank()).c_str());
        cluster.runWorker();
        return 0;
    }
    for (int r = 0; r < link.size(); ++r)
        std::fprintf(stderr, "[mpi] %s\n", cluster.describeRank(r).c_str());
    std::signal(SIGTERM, onTerminate);

    GenerateHooks hooks;
    const std::string mode = options.mode == dist::Mode::Pipeline ? "pipeline" : "data parallel";
    hooks.backendName = "MPI " + mode + ", " + std::to_string(link.size()) + " rank" +
                        (link.size() == 1 ? "" : "s") + ", CPU";
    const auto dump = args.get("--dump-logits");
    hooks.makeContext = [&](std::shared_ptr<const Model>, const ContextParams&) {
        std::unique_ptr<InferenceContext> ctx = cluster.createContext();
        if (dump)
            ctx = std::make_unique<worker::LogitsDump>(std::move(ctx), *dump);
        return ctx;
    };
    const int rc = runGenerateWith(args, hooks);
    const std::vector<dist::RankReport> reports = cluster.stopWorkers();
    std::fputs(cluster.describe(reports).c_str(), stderr);
    return rc;
}

#ifdef TENFOLD_WORKER_SERVE
// `serve`: tenfold-server's front end on rank 0, replicas on the others (worker_serve.h).
int serveMain(int argc, char** argv)
{
    const std::vector<std::string> args(argv + 2, argv + argc);
    // SIGINT/SIGTERM are blocked before MPI starts its own threads, so no thread dies of them;
    // rank 0's HTTP front end takes them with sigwait and stops in order. Writes to a vanished
    // client must fail with EPIPE, not kill the process.
    platform::blockStopSignals();
    std::unique_ptr<dist::MpiLink> link;
    try {
        link = std::make_unique<dist::MpiLink>(&argc, &argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tenfold-worker: error: %s\n", e.what());
        return 1;
    }
    const bool front = link->rank() == 0;
    if (wantsHelp(args)) {
        if (front)
            std::fputs(worker::serveHelpText().c_str(), stdout);
        return 0;
    }
    bool skipFinalize = false;
    int rc = 0;
    try {
        rc = worker::runServe(*link, args, &skipFinalize);
    } catch (const UsageError& e) {
        if (front)
            std::fprintf(stderr, "tenfold-worker serve: %s\n(see tenfold-worker serve --help)\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tenfold-worker serve: error on rank %d: %s\n", link->rank(), e.what());
        std::fflush(stdout);
        std::fflush(stderr);
        // The front end failed: end the job rather than leave the replicas waiting. A replica
        // that failed (it told rank 0 when it could) or lost its front end just leaves: MPI_Abort
        // would take the front end and the other replicas with it.
        if (front)
            link->abort(1);
        _exit(1);
    }
    if (skipFinalize) {
        // MPI_Finalize would wait for the lost rank: leave without it (mpirun ends the rest).
        std::fflush(stdout);
        std::fflush(stderr);
        _exit(rc);
    }
    return rc;
}
#endif

} // namespace

int main(int argc, char** argv)
{
#ifdef TENFOLD_WORKER_SERVE
    if (argc >= 2 && std::strcmp(argv[1], "serve") == 0)
        return serveMain(argc, argv);
#endif
    std::unique_ptr<dist::MpiLink> link;
    try {
        link = std::make_unique<dist::MpiLink>(&argc, &argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tenfold-worker: error: %s\n", e.what());
        return 1;
    }
    const bool front = link->rank() == 0;
    if (argc < 2 || std::strcmp(argv[1], "generate") != 0) {
        if (front) {
            if (argc >= 2 && std::strcmp(argv[1], "--help") != 0)
                std::fprintf(stderr, "tenfold-worker: unknown command '%s'\n", argv[1]);
            printUsage(argc >= 2 && std::strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        }
        return argc >= 2 && std::strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    const std::vector<std::string> args(argv + 2, argv + argc);
    const CommandSpec spec = workerGenerateSpec();
    if (wantsHelp(args)) {
        if (front) {
            // The shared help names tenfold-cli; this is the same command under mpirun.
            std::string text = helpText(spec);
            const std::string cli = "usage: tenfold-cli generate";
            if (text.rfind(cli, 0) == 0)
                text.replace(0, cli.size(), "usage: mpirun -np N tenfold-worker generate");
            std::fputs(text.c_str(), stdout);
        }
        return 0;
    }
    // Every rank parses the same arguments, so a usage mistake stops them all the same way
    // (and MPI_Finalize finds every rank there).
    try {
        const ParsedArgs parsed = parseArgs(spec, args);
        return runRank(*link, parsed);
    } catch (const UsageError& e) {
        if (front)
            std::fprintf(stderr, "tenfold-worker generate: %s\n(see tenfold-worker generate --help)\n", e.what());
        return 2;
    } catch (const dist::RankLost& e) {
        std::fprintf(stderr, "tenfold-worker: error on rank %d: %s; the generation in flight failed\n",
                     link->rank(), e.what());
        std::fflush(stdout);
        link->abort(kRankLostExitCode);
    } catch (const Cancelled&) {
        std::fprintf(stderr, "tenfold-worker generate: cancelled\n");
        std::fflush(stdout);
        if (link->size() > 1)
            link->abort(130);
        return 130;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tenfold-worker generate: error on rank %d: %s\n", link->rank(), e.what());
        std::fflush(stdout);
        // The other ranks may be waiting on this one: end the job rather than leave them.
        if (link->size() > 1)
            link->abort(1);
        return 1;
    }
}
