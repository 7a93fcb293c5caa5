#pragma once
// Plain values that cross the boundary between the GUI thread and the engine worker thread. They
// are copied into queued signal/slot calls, so they hold no pointers into engine state.
#include "runtime/backend.h"
#include "store/response_cache.h"

#include <QMetaType>

#include <QString>
#include <QVector>

#include <atomic>
#include <memory>

namespace tenfold::ui {

// Per-conversation sampling settings; serialized as JSON into the store.
struct SamplingSettings {
    double temperature = 0.8;
    int topK = 40;
    double topP = 0.95;
    double minP = 0.05;
    double repeatPenalty = 1.0; // off, as in the engine and llama.cpp; small models degrade with it on
    int maxTokens = 256;
    qint64 seed = -1; // -1: a fresh random seed per reply
    // Speculative decoding: a smaller model with the same vocabulary proposes tokens that the
    // conversation's model checks several at a time. Empty: off.
    QString draftModelPath;
    int draftMax = 8;
    // "Answer from similar earlier questions": a deterministic reply may come from the response
    // cache's nearest stored prompt (the model's own embedding) when it is at least this similar.
    // Exact repeats are answered from the cache either way.
    bool semanticCache = false;
    double similarityThreshold = double(tenfold::kDefaultSimilarityThreshold);

    QString toJson() const;
    static SamplingSettings fromJson(const QString& json); // missing keys keep their defaults
    bool operator==(const SamplingSettings&) const = default;
};

enum class ComputeBackend { Auto, Cpu, Vulkan };

struct LoadRequest {
    QString path;
    ComputeBackend backend = ComputeBackend::Auto;
    int contextSize = 0; // 0: the model's training context
    int threads = 0;     // 0: all cores
    bool profile = false; // time every op (the Profiler page); costs a little speed
    // Set by ModelHost: every load has its own id and cancel flag, so a superseded load can be
    // cancelled on its own and its late results recognised and ignored.
    quint64 loadId = 0;
    std::shared_ptr<std::atomic<bool>> cancel;
};

struct LoadedModel {
    QString path;
    QString name;
    QString architecture;
    QString backendName;  // as the backend names itself
    QString deviceTag;    // "cpu" or "vulkan:<device>", for the usage ledger
    QString templateName; // chat template in use ("plain" for completion models)
    bool plainCompletion = false;
    int contextSize = 0;
    qint64 parameters = 0;
    // For the usage ledger's cost columns.
    QString modelHash;    // Model::fingerprint(), 16 hex digits
    QString quantization; // the weight type holding most of the file's bytes ("Q4_0", "F16")
    QString kernelLevel;  // CPU kernel level in use, or "vulkan"
    int threads = 0;      // CPU threads (0 on a GPU)
    // For the Profiler page.
    bool profiled = false;     // loaded with per-op timing on
    qint64 weightBytes = 0;    // what decode reads per token
    double matmulWeights = 0;  // multiply-adds per prompt token (profile/op_profile.h)
    qint64 kvCacheBytes = 0;   // the F16 KV cache for the whole context
};

// What the Profiler page draws while a reply is generated (only for a model loaded with
// LoadRequest::profile): sent every ~250 ms and once at the end.
struct ProfileSample {
    quint64 requestId = 0;
    double seconds = 0;          // since the reply started
    int promptTokens = 0;        // computed for the prompt
    double promptMs = 0;         // 0 until the first token
    int generatedTokens = 0;
    double decodeMs = 0;         // since the first token
    std::vector<OpTiming> timings; // the last forward pass's ops
    qint64 residentBytes = 0;    // the process's RSS
    std::vector<DeviceHeapUse> deviceHeaps; // the accelerator's heaps (empty on the CPU)
    bool final = false;
    // From a tenfold-server started with --profile (ServerMonitor): the token counts and times
    // above are those of the last poll interval (tokens/s over it), the timings its last pass's.
    bool fromServer = false;
    int batchRows = 0;           // rows of the last pass
    int batchPromptRows = 0;     // of which prompt (prefill) rows
    int running = 0;             // sequences generating
    double passesPerSecond = 0;  // forward passes per second over the interval
    double busyShare = 0;        // share of the interval inside forward passes
    qint64 serverWeightBytes = 0;
    double serverMatmulWeights = 0;
};
// ProfileSample::requestId of a server's samples (chat and benchmark ids are small counters).
inline constexpr quint64 kServerProfileRequestId = quint64(1) << 62;

// A benchmark of the loaded model from the Profiler page, as tenfold-cli bench runs one: a prompt
// of promptTokens fixed pseudo-random tokens in one pass from an empty cache, then genTokens
// decoded one at a time (each the argmax of the last logits). No warm-up run: the weights were
// paged in at load. ProfileSamples stream while it runs (timings when the model is profiled).
struct BenchRequest {
    quint64 id = 0;
    int promptTokens = 256;
    int genTokens = 128;
};

struct BenchResult {
    quint64 id = 0;
    int promptTokens = 0;
    double promptMs = 0;
    int genTokens = 0;          // decoded (fewer when cancelled)
    double decodeMs = 0;
    double energyJoules = 0;    // over the whole run
    QString energySource;       // "rapl" or "estimate"
    bool cancelled = false;
    double promptTokensPerSecond() const { return promptMs > 0 ? 1000.0 * promptTokens / promptMs : 0; }
    double decodeTokensPerSecond() const { return decodeMs > 0 ? 1000.0 * genTokens / decodeMs : 0; }
};

struct ChatTurn {
    QString role; // "user" or "assistant"
    QString content;
};

struct ChatRequest {
    quint64 id = 0;
    QString systemPrompt;
    QVector<ChatTurn> turns; // oldest first; the last one is the user turn to answer
    SamplingSettings sampling;
};

struct GenerationResult {
    quint64 id = 0;
    QString text;          // the whole reply, stop strings removed
    int promptTokens = 0;          // computed for this reply
    int reusedPromptTokens = 0;    // taken from the conversation's cache instead
    int generatedTokens = 0;
    double timeToFirstTokenMs = 0;
    double totalMs = 0;
    double tokensPerSecond = 0;
    int droppedTurns = 0;  // turns left out because the conversation outgrew the context
    bool cancelled = false;
    QString stopReason;
    int draftedTokens = 0;         // speculative decoding: tokens the draft model proposed
    int acceptedDraftTokens = 0;   // and how many of them the model kept
    // Set when the response cache answered ("exact" or "semantic"): nothing was computed, the
    // token counts above are 0 and these say what the stored answer had cost.
    QString cacheHit;
    int cachedPromptTokens = 0;
    int cachedCompletionTokens = 0;
    double cacheSimilarity = 0;
    // Prompt evaluation and decoding times apart (they cost differently), and the energy used
    // while this reply was computed: measured from RAPL ("rapl") or configured wattage x time
    // ("estimate"), engine/cost/energy_meter.h.
    double promptMs = 0;
    double decodeMs = 0;
    double energyJoules = 0;
    QString energySource;
};

} // namespace tenfold::ui

Q_DECLARE_METATYPE(tenfold::ui::LoadRequest)
Q_DECLARE_METATYPE(tenfold::ui::LoadedModel)
Q_DECLARE_METATYPE(tenfold::ui::ChatRequest)
Q_DECLARE_METATYPE(tenfold::ui::GenerationResult)
Q_DECLARE_METATYPE(tenfold::ui::ProfileSample)
Q_DECLARE_METATYPE(tenfold::ui::BenchRequest)
Q_DECLARE_METATYPE(tenfold::ui::BenchResult)
