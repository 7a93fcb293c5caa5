#pragma once
// Tenfold's persistent state in one SQLite database (<data dir>/tenfold.db): conversations and
// their messages, the model library, settings, the usage ledger (with what each generation cost,
// schema v8), optimization runs, the model hub's download queue (v7) and recorded profiles (v8).
//
// Durability: WAL journal, synchronous=NORMAL (a power cut may lose the last commits, never
// corrupts). Streaming replies are written in small, frequent transactions so a crash loses at
// most the last fraction of a second of text; a message still marked `streaming` when the store is
// next opened is marked `interrupted` with its text kept.
//
// Errors: any SQLite failure (unwritable folder, disk full, corrupt file) throws tenfold::IoError
// naming the database path, the operation and SQLite's message; every write is one transaction,
// so a failed write leaves what was stored before intact. Unknown ids throw InvalidArgument.
//
// Thread safety: all members may be called from any thread; calls are serialized internally.
// Times are Unix epoch milliseconds (UTC).
#include "core/error.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tenfold {

enum class MessageState { Complete, Streaming, Interrupted, Error, Stopped };
const char* messageStateName(MessageState state);             // "complete", "streaming", ...
MessageState messageStateFromName(const std::string& name);   // throws InvalidArgument

struct Conversation {
    int64_t id = 0;              // assigned by createConversation
    std::string title;
    int64_t createdAt = 0;       // 0 on create = now
    int64_t updatedAt = 0;       // 0 on create = now; bumped by message writes
    std::string modelPath;
    std::string systemPrompt;
    std::string settingsJson;    // sampling settings as the app serializes them ("{}" if empty)
    bool deleted = false;        // soft delete, so the UI can undo
};

struct MessageStats {
    int tokensIn = 0;            // prompt tokens evaluated for this reply
    int tokensOut = 0;           // tokens generated
    double timeToFirstTokenMs = 0;
    double totalMs = 0;          // whole generation, prompt included
    double tokensPerSecond = 0;  // generation speed after the first token
};

struct StoredMessage {
    int64_t id = 0;
    int64_t conversationId = 0;
    int ordinal = 0;             // 0, 1, 2... order within the conversation
    std::string role;
    std::string content;
    std::string model;           // model that produced it (assistant turns)
    std::string settingsJson;    // sampling settings used for it
    MessageStats stats;
    MessageState state = MessageState::Complete;
    int64_t createdAt = 0;
};

// What a caller supplies when adding a message; ordinal is assigned (last + 1).
struct NewMessage {
    std::string role;
    std::string content;
    std::string model;
    std::string settingsJson;
    MessageStats stats;
    MessageState state = MessageState::Complete;
};

struct ModelRecord {
    int64_t id = 0;
    std::string path;            // unique key
    std::string name;
    std::string architecture;
    int64_t parameterCount = 0;
    std::string weightTypes;     // e.g. "F16, Q8_0"
    int64_t fileSize = 0;
    int contextLength = 0;
    int64_t addedAt = 0;         // 0 on insert = now
    int64_t lastUsedAt = 0;      // 0 = never (schema v2)
};

// One generation, for the usage/cost view.
struct LedgerEntry {
    int64_t id = 0;
    int64_t time = 0;            // 0 on insert = now
    std::string model;
    std::string device;          // "cpu", "vulkan:NVIDIA H100", ...
    int tokensIn = 0;
    int tokensOut = 0;
    double timeToFirstTokenMs = 0;
    double totalMs = 0;
    int64_t conversationId = 0;  // 0 = none (e.g. CLI)
    int64_t messageId = 0;       // 0 = none
    std::string source = "app";  // "app", "cli" or "server" (schema v4)
    std::string client;          // server: API key label or peer address; empty otherwise
    std::string cacheHit;        // "exact" or "semantic" when the response cache answered (v5)
    // --- schema v8: what the cost history needs (0 / "" on rows written before) ---
    std::string modelHash;       // Model::fingerprint() of the file, 16 hex digits
    std::string quantization;    // the file's main weight type, e.g. "Q4_0", "F16"
    std::string kernelLevel;     // CPU kernel level ("scalar", "avx2", "avx512") or "vulkan"
    int threads = 0;
    int contextSize = 0;
    int prefillTokens = 0;       // prompt tokens computed (not reused from a cache)
    double prefillMs = 0;
    int decodeTokens = 0;        // tokens generated
    double decodeMs = 0;
    int reusedPromptTokens = 0;  // prompt tokens taken from a KV / prefix cache instead
    int speculativeTokens = 0;   // generated tokens that came from an accepted draft
    double energyJoules = 0;
    std::string energySource;    // "rapl" (measured), "estimate" (configured wattage) or ""
};

struct LedgerTotals {
    std::string model;
    std::string day;             // "YYYY-MM-DD" (UTC)
    int64_t generations = 0;
    int64_t tokensIn = 0;
    int64_t tokensOut = 0;
    double totalMs = 0;
};

// One optimization-studio run (schema v6): a model made from another (quantize, compress) or
// measured against it (evaluate), with its evaluation report.
struct OptimizationRun {
    int64_t id = 0;
    int64_t createdAt = 0;       // 0 on insert = now
    std::string inputModelHash;  // the input (base) model's Model::fingerprint(), 16 hex digits
    std::string inputPath;
    std::string method;          // "evaluate", "quantize", ... (required)
    std::string parametersJson = "{}";
    std::string outputPath;
    std::string outputHash;      // the output model's fingerprint
    int64_t outputBytes = 0;
    std::string reportJson = "{}"; // eval/evaluate.h evalReportJson
    double seconds = 0;
    std::string status = "ok";   // "ok", "failed", "cancelled"
};

// One file in the model hub's download queue (schema v7; engine/hub/download_queue.h).
struct HubDownload {
    int64_t id = 0;
    std::string repo;            // "owner/name"
    std::string revision = "main";
    std::string filePath;        // path in the repository
    std::string destination;     // where the verified file goes (unique)
    std::string sha256;          // the hub's LFS oid; empty for a non-LFS file
    int64_t size = 0;
    int64_t bytesDone = 0;       // in the .part file, as last recorded
    std::string state = "queued"; // "queued", "running", "paused", "done", "failed"
    std::string error;           // why it failed or paused, for the user
    std::string setKey;          // the parts of one split GGUF share it; empty for a single file
    int64_t createdAt = 0;       // 0 on insert = now
    int64_t updatedAt = 0;
};

// A recorded profile (the Profiler page): what ran, the speed and roofline figures, memory, and
// the time per op per layer summed over `passes` forward passes.
struct ProfileOp {
    std::string op;
    int layer = -1;
    double microseconds = 0;
    int64_t calls = 0;
};
struct ProfileRecord {
    int64_t id = 0;
    int64_t createdAt = 0;       // 0 on insert = now
    std::string name;
    std::string model;
    std::string modelHash;
    std::string quantization;
    std::string device;
    std::string kernelLevel;
    int threads = 0;
    int passes = 0;
    double decodeTokensPerSecond = 0;
    double prefillTokensPerSecond = 0;
    double prefillGflops = 0;
    double bandwidthShare = 0;   // decode's achieved bandwidth / the machine's measured read bandwidth
    double machineGbPerSecond = 0;
    int64_t residentBytes = 0;
    int64_t kvCacheBytes = 0;
    std::vector<ProfileOp> ops; // filled by profile(id), empty from profiles()
};

struct SearchHit {
    int64_t conversationId = 0;
    std::string title;
    int64_t messageId = 0;       // 0 when the title matched
    std::string snippet;         // the matching message text (shortened) or the title
};

struct StoreOptions {
    // Use SQLite's FTS5 for search when the library has it; false forces the LIKE fallback
    // (what a SQLite build without FTS5 gets).
    bool fullTextSearch = true;
};

class Store {
public:
    static constexpr int kSchemaVersion = 8;
    static constexpr const char* kFileName = "tenfold.db";

    // Opens (creating the folder and the file if needed) <dataDir>/tenfold.db and migrates it to
    // kSchemaVersion. Throws IoError when the folder or file cannot be created/opened/written.
    explicit Store(const std::filesystem::path& dataDir);
    // Opens a database file at an explicit path (its folder is created if needed).
    static Store openFile(const std::filesystem::path& databaseFile, const StoreOptions& options = {});
    ~Store();
    Store(Store&&) noexcept;
    Store& operator=(Store&&) noexcept;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const std::filesystem::path& databasePath() const;
    int schemaVersion() const;
    bool hasFullTextSearch() const;      // FTS5 available; otherwise search uses LIKE
    int recoveredInterruptedMessages() const; // `streaming` messages marked interrupted on open

    // --- conversations ---
    int64_t createConversation(const Conversation& conversation);
    std::optional<Conversation> conversation(int64_t id) const;
    // Most recently updated first; deleted ones only when asked.
    std::vector<Conversation> listConversations(bool includeDeleted = false) const;
    void updateConversation(const Conversation& conversation); // by id; bumps updatedAt
    void renameConversation(int64_t id, const std::string& title);
    void setConversationDeleted(int64_t id, bool deleted);      // soft delete / undo
    void deleteConversationPermanently(int64_t id);             // with its messages
    int purgeDeletedConversations();                            // returns how many
    // Case-insensitive match of every word of `query` anywhere in a title or in message text
    // (substring match, so a word inside a sentence of Chinese text is found); one hit per
    // matching message (and one for a matching title), newest conversations first. A reply that
    // is still streaming is found once it has finished.
    std::vector<SearchHit> searchConversations(const std::string& query, int limit = 100) const;

    // --- messages ---
    int64_t appendMessage(int64_t conversationId, const NewMessage& message);
    std::vector<StoredMessage> messages(int64_t conversationId) const; // by ordinal
    std::optional<StoredMessage> message(int64_t id) const;
    void updateMessageContent(int64_t id, const std::string& content);
    void setMessageState(int64_t id, MessageState state);
    void setMessageStats(int64_t id, const MessageStats& stats);
    // Removes messages with ordinal >= fromOrdinal (edit-and-resend, regenerate).
    void deleteMessagesFrom(int64_t conversationId, int fromOrdinal);
    // deleteMessagesFrom + appendMessage in one transaction, so an edit-and-resend never leaves
    // the conversation with its tail deleted and the new message missing. Returns the new id.
    int64_t replaceMessagesFrom(int64_t conversationId, int fromOrdinal, const NewMessage& message);

    // --- streaming persistence ---
    // Starts an (empty) message in state `streaming` and returns its id.
    int64_t beginStreamingMessage(int64_t conversationId, const std::string& role,
                                  const std::string& model, const std::string& settingsJson = "{}");
    // Buffers text; commits when the last commit is older than the flush interval or the buffer
    // holds at least the flush size. Cheap enough to call once per token.
    void appendStreamingText(int64_t messageId, std::string_view text);
    // Commits all buffered streaming text now.
    void flush();
    // Commits remaining text and sets the final state and stats.
    void finishMessage(int64_t messageId, MessageState state, const MessageStats& stats);
    void setStreamingFlushPolicy(std::chrono::milliseconds interval, size_t maxBufferedBytes);

    // --- model library ---
    int64_t upsertModel(const ModelRecord& model);    // keyed by path; returns id
    std::vector<ModelRecord> models() const;          // by name
    std::optional<ModelRecord> modelByPath(const std::string& path) const;
    void markModelUsed(const std::string& path, int64_t time = 0);
    void removeModel(const std::string& path);

    // --- settings ---
    std::optional<std::string> setting(const std::string& key) const;
    std::string setting(const std::string& key, const std::string& fallback) const;
    void setSetting(const std::string& key, const std::string& value);
    void removeSetting(const std::string& key);
    std::map<std::string, std::string> allSettings() const;

    // --- usage ledger ---
    int64_t recordUsage(const LedgerEntry& entry);
    std::vector<LedgerEntry> usage(int64_t fromTime = 0, int64_t toTime = INT64_MAX) const; // by time
    // Totals per model and UTC day within [fromTime, toTime), ordered by day then model.
    std::vector<LedgerTotals> usageTotals(int64_t fromTime = 0, int64_t toTime = INT64_MAX) const;

    // --- optimization runs ---
    int64_t recordOptimizationRun(const OptimizationRun& run); // returns the id
    // Newest first; only the runs of one input model when inputModelHash is not empty.
    std::vector<OptimizationRun> optimizationRuns(const std::string& inputModelHash = {}) const;

    // --- model hub downloads ---
    // Adds a file to the queue, keyed by destination: adding one already there (not done) puts it
    // back in the queue with its recorded progress. Returns the id.
    int64_t addHubDownload(const HubDownload& download);
    std::vector<HubDownload> hubDownloads() const;                  // by id
    std::optional<HubDownload> hubDownload(int64_t id) const;
    // The oldest queued row is marked running and returned, in one transaction, so two workers
    // never take the same file; nullopt when none is queued.
    std::optional<HubDownload> takeQueuedHubDownload();
    void setHubDownloadState(int64_t id, const std::string& state, const std::string& error = {});
    void setHubDownloadProgress(int64_t id, int64_t bytesDone);
    void removeHubDownload(int64_t id);
    // Rows left `running` by a process that ended are queued again; returns how many.
    int requeueInterruptedHubDownloads();

    // --- recorded profiles ---
    int64_t recordProfile(const ProfileRecord& profile); // with its ops, in one transaction
    std::vector<ProfileRecord> profiles() const;         // newest first, without ops
    std::optional<ProfileRecord> profile(int64_t id) const; // with ops, by layer then op
    void deleteProfile(int64_t id);

    static int64_t nowMs();

    // Caps the database at `pages` pages of 4 KiB (SQLite's max_page_count, this connection only);
    // writes past it fail exactly like a full disk. For tests of disk-full handling and for users
    // who want a hard size limit. Returns the cap in effect (never below the current size).
    int64_t setMaxPageCount(int64_t pages);

    // Calls `observer` with the SQL text of every statement as it starts, on the thread that runs
    // it (SQLite's statement trace); empty to stop. For diagnostics, and for tests that check
    // which thread touches the database.
    void setStatementObserver(std::function<void(std::string_view sql)> observer);

private:
    struct Impl;
    explicit Store(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace tenfold
