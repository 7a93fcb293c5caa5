#pragma once
// What every route shares: the options, the served model, the scheduler, metrics, the ledger
// writer and the API keys. Built once in main before the HTTP server starts; routes only read it
// (the members that change are thread-safe themselves).
#include "api_keys.h"
#include "chat/chat_template.h"
#include "cost/energy_meter.h"
#include "server_metrics.h"
#include "server_options.h"
#include "serve/scheduler.h"
#include "store/response_cache.h"
#include "usage_writer.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace tenfold {
class Model;
}

namespace tenfold::server {

// The Content-Type of every JSON body. "; charset=utf-8" also keeps httplib from gzip-compressing
// the body when the client accepts it: httplib compresses "application/json" exactly, and its
// compressor would hold back the keep-alive spaces that detect a vanished client.
inline constexpr const char* kJsonType = "application/json; charset=utf-8";

int64_t unixMs(); // wall clock, Unix milliseconds

// What an MPI front end adds to the status endpoints (tenfold-worker serve implements it).
class ClusterView {
public:
    virtual ~ClusterView() = default;
    virtual Json statusJson() const = 0;            // "cluster" of /tenfold/status
    virtual std::string prometheusText() const = 0; // appended to /metrics
    virtual std::vector<int> lostRanks() const = 0; // /health: "degraded" when any
    virtual bool canServe() const = 0;              // /health: 503 "unavailable" when false
};

struct ServedModel {
    std::shared_ptr<const Model> model;
    std::string id;          // what /v1/models reports: --model-alias, else the file stem
    std::string fileStem;    // also accepted as a model name
    std::string deviceTag;   // the ledger's device: "cpu" or "vulkan:NAME"
    std::unique_ptr<ChatTemplate> chatTemplate;
    int contextLength = 0;   // positions per sequence
    int64_t created = 0;     // Unix seconds: when the server loaded it
    std::string fingerprint; // Model::fingerprint() in hex: the response cache's model key
    std::string quantization; // the ledger's: the weight type holding most of the bytes
    std::string kernelLevel;  // the ledger's: CPU kernel level or "vulkan"
    int threads = 0;          // CPU threads (0 on a GPU)
};

struct ServerContext {
    ServerOptions options;
    ServedModel served;
    // The Scheduler of this process, or (tenfold-worker serve) the router over MPI replicas.
    GenerationService* scheduler = nullptr;
    // tenfold-worker serve: the cluster's ranks for /health, /metrics and /tenfold/status; null
    // in tenfold-server.
    const ClusterView* cluster = nullptr;
    UsageWriter* usage = nullptr; // null with --no-ledger
    // Each request's share of the machine's energy while it ran (RAPL, else an estimate); null
    // with --no-ledger.
    std::unique_ptr<cost::EnergyMeter> energyMeter;
    std::unique_ptr<cost::SharedEnergy> energy;
    ResponseCache* responseCache = nullptr; // null with --response-cache off
    ApiKeys keys{{}};
    ServerMetrics metrics;
    std::atomic<uint64_t> responseCounter{0};

    // The model names a request may use: "" (absent), the id and the file stem.
    bool acceptsModel(const std::string& name) const
    {
        return name.empty() || name == served.id || name == served.fileStem;
    }
    // "chatcmpl-…"/"cmpl-…" ids: the time and a counter, unique within the server's run.
    std::string newResponseId(const char* prefix);
    // Counts the request for /tenfold/status and queues its ledger row.
    void recordFinished(const FinishedRequest& r);
};

} // namespace tenfold::server
