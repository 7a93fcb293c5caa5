// tenfold-server MODEL [options]: an OpenAI-compatible HTTP server over the continuous-batching
// scheduler. See server_options.cpp for the options and README.md for the endpoints.
#include "cli_common.h"
#include "cli_ledger.h"
#include "http_routes.h"
#include "server_context.h"
#include "server_options.h"

#include "core/error.h"
#include "cost/ledger_facts.h"
#include "core/fnv.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "serve/scheduler.h"
#include "store/store.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <pthread.h>
#include <thread>

using namespace tenfold;
using namespace tenfold::server;

namespace {

ChatTemplate chatTemplateFor(const Model& model, const std::string& choice)
{
    // --chat-template: a built-in format by name, else a Jinja file.
    if (!choice.empty()) {
        if (const auto kind = builtinTemplateFromName(choice))
            return ChatTemplate::builtin(*kind);
        return ChatTemplate(cli::readTextFile(choice), choice);
    }
    // The same choice the desktop app makes, so a chat over HTTP reads like a chat in the app.
    ChatModelInfo info;
    info.name = model.displayName();
    info.architecture = model.hparams().architecture;
    if (const GGUFFile* file = model.gguf())
        info.chatTemplate = file->getString("tokenizer.chat_template");
    return selectChatTemplate(info);
}

std::string urlHost(const std::string& host)
{
    return host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
}

int serve(ServerOptions options, const sigset_t& stopSignals)
{
    ServerContext ctx;
    ctx.options = options;
    ctx.keys = ApiKeys(options.apiKeys);

    const std::shared_ptr<Model> model = cli::loadModel(options.modelPath);
    std::unique_ptr<Backend> backend = cli::createBackend(options.backendArgs);
    BatchedParams bp;
    bp.maxSequenceLength = cli::contextFromArgs(options.backendArgs, *model);
    bp.maxSequences = options.parallel;
    bp.nThreads = cli::threadCount(options.backendArgs);
    std::unique_ptr<BatchedContext> batched;
    try {
        batched = backend->createBatchedContext(model, bp);
    } catch (const UnsupportedError& e) {
        std::fprintf(stderr,
                     "tenfold-server: the %s backend cannot serve yet (%s); start it with --device cpu\n",
                     backend->name().c_str(), e.what());
        return 1;
    }

    // Declared before the scheduler, so it is destroyed after it: rows queued while requests
    // end are still written.
    std::unique_ptr<UsageWriter> usage;
    if (options.ledger)
        usage = std::make_unique<UsageWriter>(std::make_unique<Store>(options.dataDir));

    // The response cache shares the app's database; a folder it cannot use costs the cache only.
    std::unique_ptr<ResponseCache> responseCache;
    const std::string fingerprint = hex64(model->fingerprint());
    if (options.responseCache != "off") {
        try {
            ResponseCacheOptions co;
            co.ttlSeconds = options.cacheTtlSeconds;
            co.maxBytes = options.cacheMaxMb << 20;
            responseCache = std::make_unique<ResponseCache>(options.dataDir / Store::kFileName, co);
            const std::string modelPath = std::filesystem::absolute(options.modelPath).string();
            if (const int stale = responseCache->invalidateStale(modelPath, fingerprint); stale > 0)
                std::fprintf(stderr, "tenfold-server: the model file changed; %d cached answers dropped\n", stale);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "tenfold-server: response cache off: %s\n", e.what());
            responseCache.reset();
        }
    }

    // Speculative decoding of greedy requests with a draft model of the same vocabulary.
    DraftModelConfig draft;
    std::shared_ptr<Model> draftModel;
    if (!options.draftPath.empty()) {
        draftModel = cli::loadModel(options.draftPath);
        if (draftModel->hparams().nVocab != model->hparams().nVocab)
            throw InvalidArgument("the draft model " + options.draftPath + " has a vocabulary of " +
                                  std::to_string(draftModel->hparams().nVocab) + " tokens, the model " +
                                  std::to_string(model->hparams().nVocab));
        BatchedParams dp = bp;
        draft.context = backend->createBatchedContext(draftModel, dp);
        draft.maxDraft = options.draftMax;
    }

    SchedulerConfig sc;
    sc.maxRunning = options.parallel;
    sc.maxQueued = options.maxQueue;
    if (!options.prefixCache)
        sc.prefixCacheBlocks = 0;
    if (!options.prefixCacheDir.empty()) {
        sc.prefixStateDir = options.prefixCacheDir;
        sc.prefixStateMaxBytes = options.prefixCacheSaveMb << 20;
    }
    Scheduler scheduler(std::move(batched), model, sc, std::move(draft));
    for (const std::string& w : scheduler.restoredPrefixes().warnings)
        std::fprintf(stderr, "tenfold-server: warning: %s\n", w.c_str());
    if (scheduler.restoredPrefixes().files > 0)
        std::fprintf(stderr, "tenfold-server: restored %d cached prefixes (%d tokens) from %s\n",
                     scheduler.restoredPrefixes().files, scheduler.restoredPrefixes().tokens,
                     options.prefixCacheDir.c_str());

    ctx.scheduler = &scheduler;
    ctx.usage = usage.get();
    ctx.responseCache = responseCache.get();
    ctx.served.fingerprint = fingerprint;
    ctx.served.model = model;
    ctx.served.fileStem = std::filesystem::path(options.modelPath).stem().string();
    ctx.served.id = options.modelAlias.empty() ? ctx.served.fileStem : options.modelAlias;
    const std::string device = options.backendArgs.getString("--device", "cpu");
    ctx.served.deviceTag = cli::ledgerDeviceTag(device, backend->name());
    ctx.served.chatTemplate = std::make_unique<ChatTemplate>(chatTemplateFor(*model, options.chatTemplate));
    ctx.served.contextLength = scheduler.maxSequenceLength();
    ctx.served.quantization = cost::dominantWeightType(*model);
    ctx.served.kernelLevel = cost::kernelLevelFor(ctx.served.deviceTag);
    if (device == "cpu") {
        const int threads = cli::threadCount(options.backendArgs);
        ctx.served.threads = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
    }
    if (usage) {
        ctx.energyMeter = std::make_unique<cost::EnergyMeter>();
        ctx.energy = std::make_unique<cost::SharedEnergy>(*ctx.energyMeter, device != "cpu");
    }
    ctx.served.created = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();

    httplib::Server http;
    configureServer(http, ctx);
    const std::string bindHost =
        options.host.size() > 2 && options.host.front() == '[' ? options.host.substr(1, options.host.size() - 2)
                                                                : options.host;
    int port = options.port;
    if (port == 0)
        port = http.bind_to_any_port(bindHost);
    else if (!http.bind_to_port(bindHost, port))
        port = -1;
    if (port < 0) {
        std::fprintf(stderr, "tenfold-server: cannot listen on %s:%d (address in use or not available)\n",
                     options.host.c_str(), options.port);
        return 1;
    }

    std::fprintf(stderr, "tenfold-server: %s (%s), %d-token context per sequence, %d in parallel, chat template '%s'%s\n",
                 ctx.served.id.c_str(), ctx.served.deviceTag.c_str(), ctx.served.contextLength,
                 options.parallel, ctx.served.chatTemplate->name().c_str(),
                 usage ? (", ledger " + usage->databasePath().string()).c_str() : ", no ledger");
    // The desktop app waits for exactly this line.
    std::printf("Tenfold server listening on http://%s:%d\n", urlHost(options.host).c_str(), port);
    std::fflush(stdout);

    std::atomic<bool> stopRequested{false}, listenEnded{false};
    std::thread signalWaiter([&] {
        int sig = 0;
        sigwait(&stopSignals, &sig);
        if (listenEnded)
            return; // woken by the code below: listening ended on its own
        stopRequested = true;
        // httplib's stop() only acts once listening has begun, and must be called once: a signal
        // that came during startup waits for it.
        while (!http.is_running() && !listenEnded)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (!listenEnded)
            http.stop();
    });
    const bool listened = http.listen_after_bind();
    listenEnded = true;
    if (!stopRequested) // listening failed on its own: wake the waiter so it can be joined
        pthread_kill(signalWaiter.native_handle(), SIGTERM);
    signalWaiter.join();
    const PrefixStateReport saved = scheduler.stop();
    for (const std::string& w : saved.warnings)
        std::fprintf(stderr, "tenfold-server: warning: %s\n", w.c_str());
    if (!options.prefixCacheDir.empty())
        std::fprintf(stderr, "tenfold-server: saved %d cached prefixes (%d tokens) to %s\n", saved.files,
                     saved.tokens, options.prefixCacheDir.c_str());
    std::fprintf(stderr, "tenfold-server: stopped\n");
    return listened || stopRequested ? 0 : 1;
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
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    try {
        return serve(parseServerOptions(args), stopSignals);
    } catch (const cli::UsageError& e) {
        std::fprintf(stderr, "tenfold-server: %s\n(tenfold-server --help lists the options)\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tenfold-server: %s\n", e.what());
        return 1;
    }
}
