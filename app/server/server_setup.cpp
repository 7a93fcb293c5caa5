#include "server_setup.h"

#include "cli_common.h"
#include "http_routes.h"

#include "core/error.h"
#include "cost/ledger_facts.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "store/store.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include "core/platform.h"
#include <thread>

namespace tenfold::server {

namespace {

std::string urlHost(const std::string& host)
{
    return host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
}

} // namespace

ChatTemplate chatTemplateFor(const Model& model, const std::string& choice)
{
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

BatchedParams batchedParams(const ServerOptions& options, const Model& model)
{
    BatchedParams bp;
    bp.maxSequenceLength = cli::contextFromArgs(options.backendArgs, model);
    bp.maxSequences = options.parallel;
    bp.nThreads = cli::threadCount(options.backendArgs);
    bp.profile = options.profile;
    return bp;
}

// `batched`, when given, is the served model's context (tenfold-worker serve's pipeline over MPI
// ranks); otherwise the backend makes one.
std::unique_ptr<Scheduler> makeScheduler(const ServerOptions& options, std::shared_ptr<Model> model,
                                         Backend& backend, const std::string& prefixCacheDir,
                                         std::unique_ptr<BatchedContext> batched)
{
    const BatchedParams bp = batchedParams(options, *model);
    if (!batched)
        batched = backend.createBatchedContext(model, bp);

    // Speculative decoding of greedy requests with a draft model of the same vocabulary.
    DraftModelConfig draft;
    if (!options.draftPath.empty()) {
        std::shared_ptr<Model> draftModel = cli::loadModel(options.draftPath);
        if (draftModel->hparams().nVocab != model->hparams().nVocab)
            throw InvalidArgument("the draft model " + options.draftPath + " has a vocabulary of " +
                                  std::to_string(draftModel->hparams().nVocab) + " tokens, the model " +
                                  std::to_string(model->hparams().nVocab));
        BatchedParams dp = bp;
        dp.profile = false; // the profile is the served model's passes
        draft.context = backend.createBatchedContext(draftModel, dp);
        draft.maxDraft = options.draftMax;
    }

    SchedulerConfig sc;
    sc.maxRunning = options.parallel;
    sc.maxQueued = options.maxQueue;
    if (!options.prefixCache)
        sc.prefixCacheBlocks = 0;
    if (!prefixCacheDir.empty()) {
        sc.prefixStateDir = prefixCacheDir;
        sc.prefixStateMaxBytes = options.prefixCacheSaveMb << 20;
    }
    auto scheduler = std::make_unique<Scheduler>(std::move(batched), model, sc, std::move(draft));
    for (const std::string& w : scheduler->restoredPrefixes().warnings)
        std::fprintf(stderr, "tenfold-server: warning: %s\n", w.c_str());
    if (scheduler->restoredPrefixes().files > 0)
        std::fprintf(stderr, "tenfold-server: restored %d cached prefixes (%d tokens) from %s\n",
                     scheduler->restoredPrefixes().files, scheduler->restoredPrefixes().tokens,
                     prefixCacheDir.c_str());
    return scheduler;
}

std::unique_ptr<ResponseCache> openResponseCache(const ServerOptions& options, const std::string& fingerprint)
{
    // The response cache shares the app's database; a folder it cannot use costs the cache only.
    if (options.responseCache == "off")
        return nullptr;
    try {
        ResponseCacheOptions co;
        co.ttlSeconds = options.cacheTtlSeconds;
        co.maxBytes = options.cacheMaxMb << 20;
        auto cache = std::make_unique<ResponseCache>(options.dataDir / Store::kFileName, co);
        const std::string modelPath = std::filesystem::absolute(options.modelPath).string();
        if (const int stale = cache->invalidateStale(modelPath, fingerprint); stale > 0)
            std::fprintf(stderr, "tenfold-server: the model file changed; %d cached answers dropped\n", stale);
        return cache;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tenfold-server: response cache off: %s\n", e.what());
        return nullptr;
    }
}

void describeServedModel(ServerContext& ctx, std::shared_ptr<Model> model, const std::string& tag,
                         int contextLength, int threads)
{
    const ServerOptions& options = ctx.options;
    ctx.served.model = model;
    ctx.served.fileStem = std::filesystem::path(options.modelPath).stem().string();
    ctx.served.id = options.modelAlias.empty() ? ctx.served.fileStem : options.modelAlias;
    ctx.served.deviceTag = tag;
    ctx.served.chatTemplate = std::make_unique<ChatTemplate>(chatTemplateFor(*model, options.chatTemplate));
    ctx.served.contextLength = contextLength;
    ctx.served.quantization = cost::dominantWeightType(*model);
    ctx.served.kernelLevel = cost::kernelLevelFor(ctx.served.deviceTag);
    ctx.served.threads = threads;
    if (ctx.usage) {
        ctx.energyMeter = std::make_unique<cost::EnergyMeter>();
        ctx.energy = std::make_unique<cost::SharedEnergy>(*ctx.energyMeter, tag != "cpu");
    }
    ctx.served.created = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
}

int listenUntilStopped(ServerContext& ctx, const std::string& what)
{
    const ServerOptions& options = ctx.options;
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

    std::fprintf(stderr, "tenfold-server: %s (%s), %d-token context per sequence, %s, chat template '%s'%s\n",
                 ctx.served.id.c_str(), ctx.served.deviceTag.c_str(), ctx.served.contextLength, what.c_str(),
                 ctx.served.chatTemplate->name().c_str(),
                 ctx.usage ? (", ledger " + ctx.usage->databasePath().string()).c_str() : ", no ledger");
    // The desktop app waits for exactly this line.
    std::printf("Tenfold server listening on http://%s:%d\n", urlHost(options.host).c_str(), port);
    std::fflush(stdout);

    std::atomic<bool> stopRequested{false}, listenEnded{false};
    std::thread signalWaiter([&] {
        platform::waitForStopSignal();
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
        platform::wakeStopWaiter();
    signalWaiter.join();
    return listened || stopRequested ? 0 : 1;
}

} // namespace tenfold::server
