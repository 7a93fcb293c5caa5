#include "store/schema.h"

#include <sqlite3.h>

#include <string>
#include <vector>

namespace tenfold::store_schema {

namespace {

// v1: conversations, messages, model library, settings.
const char* const kV1 = R"SQL(
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    model_path TEXT NOT NULL DEFAULT '',
    system_prompt TEXT NOT NULL DEFAULT '',
    settings_json TEXT NOT NULL DEFAULT '{}',
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    settings_json TEXT NOT NULL DEFAULT '{}',
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    ttft_ms REAL NOT NULL DEFAULT 0,
    total_ms REAL NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'complete',
    created_at INTEGER NOT NULL,
    UNIQUE (conversation_id, ordinal)
);
CREATE TABLE models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    architecture TEXT NOT NULL DEFAULT '',
    parameter_count INTEGER NOT NULL DEFAULT 0,
    weight_types TEXT NOT NULL DEFAULT '',
    file_size INTEGER NOT NULL DEFAULT 0,
    context_length INTEGER NOT NULL DEFAULT 0,
    added_at INTEGER NOT NULL
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
)SQL";

// v2: the usage ledger, generation speed per message, last-used time per model, and indexes for
// the conversation list and streaming-recovery scan.
const char* const kV2 = R"SQL(
CREATE TABLE usage_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    device TEXT NOT NULL DEFAULT '',
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    ttft_ms REAL NOT NULL DEFAULT 0,
    total_ms REAL NOT NULL DEFAULT 0,
    conversation_id INTEGER,
    message_id INTEGER
);
CREATE INDEX usage_ledger_time ON usage_ledger(time);
ALTER TABLE messages ADD COLUMN tokens_per_second REAL NOT NULL DEFAULT 0;
ALTER TABLE models ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_updated ON conversations(deleted, updated_at);
CREATE INDEX messages_state ON messages(state);
)SQL";

// v3: the full-text index is rebuilt with the trigram tokenizer (so a word inside a run of CJK
// text is found) and indexes a message once, when it stops streaming, instead of re-indexing the
// whole text on every streamed commit. The old sync triggers go here; ensureFullTextIndex()
// (which depends on the SQLite build) sees the old index and rebuilds it.
const char* const kV3 = R"SQL(
DROP TRIGGER IF EXISTS messages_fts_insert;
DROP TRIGGER IF EXISTS messages_fts_delete;
DROP TRIGGER IF EXISTS messages_fts_update;
)SQL";

// v4: the usage ledger says where a generation came from ("app", "cli", "server") and, for the
// server, which client asked (the API key's label or the peer address), so the desktop's usage
// view and the Server page can tell them apart.
const char* const kV4 = R"SQL(
ALTER TABLE usage_ledger ADD COLUMN source TEXT NOT NULL DEFAULT 'app';
ALTER TABLE usage_ledger ADD COLUMN client TEXT NOT NULL DEFAULT '';
CREATE INDEX usage_ledger_source_time ON usage_ledger(source, time);
)SQL";

// v5: the response cache (engine/store/response_cache.h) and its hit counters, and a ledger
// column saying whether a generation was answered from it ('exact', 'semantic') or computed ('').
const char* const kV5 = R"SQL(
CREATE TABLE response_cache (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    model_path TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    prompt TEXT NOT NULL,
    response TEXT NOT NULL,
    checksum TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    compute_ms REAL NOT NULL DEFAULT 0,
    embedding BLOB,
    created_at INTEGER NOT NULL,
    last_hit_at INTEGER NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX response_cache_key ON response_cache(model, params, prompt_hash);
CREATE INDEX response_cache_age ON response_cache(last_hit_at);
CREATE TABLE response_cache_stats (
    kind TEXT PRIMARY KEY,
    hits INTEGER NOT NULL DEFAULT 0,
    misses INTEGER NOT NULL DEFAULT 0,
    tokens_saved INTEGER NOT NULL DEFAULT 0,
    ms_saved REAL NOT NULL DEFAULT 0
);
ALTER TABLE usage_ledger ADD COLUMN cache_hit TEXT NOT NULL DEFAULT '';
)SQL";

// v6: the optimization studio's runs (a quantization, a compression or an evaluation): what went
// in (the base model's fingerprint and path), the method and its parameters, what came out, and
// the evaluation report, so the results page can plot every earlier run of the same base.
const char* const kV6 = R"SQL(
CREATE TABLE optimization_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    input_model_hash TEXT NOT NULL DEFAULT '',
    input_path TEXT NOT NULL DEFAULT '',
    method TEXT NOT NULL,
    parameters TEXT NOT NULL DEFAULT '{}',
    output_path TEXT NOT NULL DEFAULT '',
    output_hash TEXT NOT NULL DEFAULT '',
    output_bytes INTEGER NOT NULL DEFAULT 0,
    report TEXT NOT NULL DEFAULT '{}',
    seconds REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'ok'
);
CREATE INDEX optimization_runs_input ON optimization_runs(input_model_hash, created_at);
)SQL";

// v7: the model hub's download queue (engine/hub/download_queue.h), so downloads survive an app
// restart: one row per file (a split GGUF's parts share set_key), its LFS SHA-256 and size from
// the hub's listing, the bytes in its .part file and its state (queued, running, paused, done,
// failed). No access token is ever stored here. IF NOT EXISTS: a database taken back to an
// earlier version by hand (as the store tests do) may still hold the table.
const char* const kHubDownloads = R"SQL(
CREATE TABLE IF NOT EXISTS hub_downloads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo TEXT NOT NULL,
    revision TEXT NOT NULL DEFAULT 'main',
    file_path TEXT NOT NULL,
    destination TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL DEFAULT 0,
    bytes_done INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'queued',
    error TEXT NOT NULL DEFAULT '',
    set_key TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS hub_downloads_state ON hub_downloads(state, id);
)SQL";

// v8: the Profiler's recorded profiles (a summary and the time per op per layer), and what the
// cost history needs per generation: the model file's fingerprint and quantization,
// the device's kernel level, threads and context size, prefill and decode token counts and times
// separately (prefill and decode cost differently), speculative and prefix-reused tokens (for the
// savings view), and the energy used with where the figure came from ('rapl' measured,
// 'estimate' from configured wattage, '' unknown: rows written before v8). Old rows keep their
// values; the new columns read as 0 / ''.
const char* const kLedgerCostColumns = R"SQL(
ALTER TABLE usage_ledger ADD COLUMN model_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_ledger ADD COLUMN quantization TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_ledger ADD COLUMN kernel_level TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_ledger ADD COLUMN threads INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_ledger ADD COLUMN context_size INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_ledger ADD COLUMN prefill_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_ledger ADD COLUMN prefill_ms REAL NOT NULL DEFAULT 0;
ALTER TABLE usage_ledger ADD COLUMN decode_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_ledger ADD COLUMN decode_ms REAL NOT NULL DEFAULT 0;
ALTER TABLE usage_ledger ADD COLUMN reused_prompt_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_ledger ADD COLUMN speculative_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_ledger ADD COLUMN energy_j REAL NOT NULL DEFAULT 0;
ALTER TABLE usage_ledger ADD COLUMN energy_source TEXT NOT NULL DEFAULT '';
CREATE INDEX usage_ledger_model_hash ON usage_ledger(model_hash, time);
CREATE TABLE profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    model_hash TEXT NOT NULL DEFAULT '',
    quantization TEXT NOT NULL DEFAULT '',
    device TEXT NOT NULL DEFAULT '',
    kernel_level TEXT NOT NULL DEFAULT '',
    threads INTEGER NOT NULL DEFAULT 0,
    passes INTEGER NOT NULL DEFAULT 0,
    decode_tokens_per_second REAL NOT NULL DEFAULT 0,
    prefill_tokens_per_second REAL NOT NULL DEFAULT 0,
    prefill_gflops REAL NOT NULL DEFAULT 0,
    bandwidth_share REAL NOT NULL DEFAULT 0,
    machine_gb_per_second REAL NOT NULL DEFAULT 0,
    resident_bytes INTEGER NOT NULL DEFAULT 0,
    kv_cache_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE profile_ops (
    profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    op TEXT NOT NULL,
    layer INTEGER NOT NULL,
    microseconds REAL NOT NULL,
    calls INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX profile_ops_profile ON profile_ops(profile_id);
)SQL";

const std::vector<const char*>& migrations()
{
    static const std::vector<const char*> list = {kV1, kV2, kV3, kV4, kV5, kV6, kHubDownloads, kLedgerCostColumns};
    return list;
}

} // namespace

int latestVersion() { return static_cast<int>(migrations().size()); }

int currentVersion(sqlite::Database& db)
{
    sqlite::Statement exists(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_version'");
    exists.step();
    if (exists.columnInt(0) == 0)
        return 0;
    sqlite::Statement version(db, "SELECT max(version) FROM schema_version");
    if (!version.step() || version.columnIsNull(0))
        return 0;
    return static_cast<int>(version.columnInt(0));
}

void migrate(sqlite::Database& db) { migrate(db, latestVersion()); }

void migrate(sqlite::Database& db, int targetVersion)
{
    if (targetVersion < 1 || targetVersion > latestVersion())
        throw InvalidArgument("migrate: target schema version " + std::to_string(targetVersion) +
                              " is outside 1.." + std::to_string(latestVersion()));
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
            "creating the schema_version table");
    int version = currentVersion(db);
    if (version > latestVersion())
        throw IoError(db.file().string() + ": database schema version " + std::to_string(version) +
                      " is newer than this version of Tenfold understands (" +
                      std::to_string(latestVersion()) + "); update Tenfold");
    for (int next = version + 1; next <= targetVersion; ++next) {
        sqlite::Transaction tx(db);
        db.exec(migrations()[next - 1], ("migrating the schema to version " + std::to_string(next)).c_str());
        sqlite::Statement record(db, "INSERT INTO schema_version(version, applied_at) VALUES (?, strftime('%s','now') * 1000)");
        record.bind(1, next).run();
        tx.commit();
    }
}

bool ensureFullTextIndex(sqlite::Database& db)
{
    // Probe rather than parse compile options: a build may have FTS5 loaded differently. The
    // trigram tokenizer needs SQLite 3.34; without it search uses LIKE, which also finds words
    // inside CJK text (only slower).
    if (sqlite3_exec(db.handle(), "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts5_probe USING fts5(x, tokenize='trigram')",
                     nullptr, nullptr, nullptr) != SQLITE_OK)
        return false;
    sqlite3_exec(db.handle(), "DROP TABLE IF EXISTS temp.fts5_probe", nullptr, nullptr, nullptr);

    {
        // Current when the trigram table and its one update trigger exist; anything else (no
        // index, the v1/v2 unicode61 index) is rebuilt.
        sqlite::Statement current(db, "SELECT (SELECT count(*) FROM sqlite_master WHERE name = 'messages_fts' "
                                      "AND sql LIKE '%trigram%') + (SELECT count(*) FROM sqlite_master WHERE "
                                      "type = 'trigger' AND name = 'messages_fts_update_v3')");
        current.step();
        if (current.columnInt(0) == 2)
            return true;
    }
    // External-content index over messages.content. A message is indexed when it is inserted or
    // updated in a state other than `streaming`, so the many small commits of a streaming reply
    // (UPDATE ... content = content || chunk) touch no index at all, and the finished reply is
    // indexed once. Searches therefore find a reply once it has finished.
    sqlite::Transaction tx(db);
    db.exec(R"SQL(
DROP TRIGGER IF EXISTS messages_fts_insert;
DROP TRIGGER IF EXISTS messages_fts_delete;
DROP TRIGGER IF EXISTS messages_fts_update;
DROP TRIGGER IF EXISTS messages_fts_insert_v3;
DROP TRIGGER IF EXISTS messages_fts_delete_v3;
DROP TRIGGER IF EXISTS messages_fts_update_v3;
DROP TABLE IF EXISTS messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id',
                                             tokenize='trigram');
CREATE TRIGGER messages_fts_insert_v3 AFTER INSERT ON messages WHEN new.state != 'streaming' BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete_v3 AFTER DELETE ON messages WHEN old.state != 'streaming' BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update_v3 AFTER UPDATE OF content, state ON messages
WHEN old.state != 'streaming' OR new.state != 'streaming' BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content)
        SELECT 'delete', old.id, old.content WHERE old.state != 'streaming';
    INSERT INTO messages_fts(rowid, content) SELECT new.id, new.content WHERE new.state != 'streaming';
END;
INSERT INTO messages_fts(rowid, content) SELECT id, content FROM messages WHERE state != 'streaming';
)SQL",
            "building the full-text search index");
    tx.commit();
    return true;
}

} // namespace tenfold::store_schema
