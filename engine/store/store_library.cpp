// Store: model library, settings and the usage ledger.
#include "store/store.h"

#include "store/store_impl.h"

namespace tenfold {

namespace {

constexpr const char* kModelColumns =
    "id, path, name, architecture, parameter_count, weight_types, file_size, context_length, added_at, last_used_at";

ModelRecord readModel(const sqlite::Statement& s)
{
    ModelRecord m;
    m.id = s.columnInt(0);
    m.path = s.columnText(1);
    m.name = s.columnText(2);
    m.architecture = s.columnText(3);
    m.parameterCount = s.columnInt(4);
    m.weightTypes = s.columnText(5);
    m.fileSize = s.columnInt(6);
    m.contextLength = static_cast<int>(s.columnInt(7));
    m.addedAt = s.columnInt(8);
    m.lastUsedAt = s.columnInt(9);
    return m;
}

LedgerEntry readLedger(const sqlite::Statement& s)
{
    LedgerEntry e;
    e.id = s.columnInt(0);
    e.time = s.columnInt(1);
    e.model = s.columnText(2);
    e.device = s.columnText(3);
    e.tokensIn = static_cast<int>(s.columnInt(4));
    e.tokensOut = static_cast<int>(s.columnInt(5));
    e.timeToFirstTokenMs = s.columnDouble(6);
    e.totalMs = s.columnDouble(7);
    e.conversationId = s.columnInt(8);
    e.messageId = s.columnInt(9);
    e.source = s.columnText(10);
    e.client = s.columnText(11);
    e.cacheHit = s.columnText(12);
    e.modelHash = s.columnText(13);
    e.quantization = s.columnText(14);
    e.kernelLevel = s.columnText(15);
    e.threads = static_cast<int>(s.columnInt(16));
    e.contextSize = static_cast<int>(s.columnInt(17));
    e.prefillTokens = static_cast<int>(s.columnInt(18));
    e.prefillMs = s.columnDouble(19);
    e.decodeTokens = static_cast<int>(s.columnInt(20));
    e.decodeMs = s.columnDouble(21);
    e.reusedPromptTokens = static_cast<int>(s.columnInt(22));
    e.speculativeTokens = static_cast<int>(s.columnInt(23));
    e.energyJoules = s.columnDouble(24);
    e.energySource = s.columnText(25);
    return e;
}

LedgerTotals readLedgerTotals(const sqlite::Statement& s)
{
    LedgerTotals t;
    t.model = s.columnText(0);
    t.day = s.columnText(1);
    t.generations = s.columnInt(2);
    t.tokensIn = s.columnInt(3);
    t.tokensOut = s.columnInt(4);
    t.totalMs = s.columnDouble(5);
    return t;
}

} // namespace

int64_t Store::upsertModel(const ModelRecord& model)
{
    if (model.path.empty())
        throw InvalidArgument("upsertModel: the model path is empty");
    std::lock_guard lock(impl_->mutex);
    auto& db = *impl_->db;
    sqlite::Transaction tx(db);
    // added_at and last_used_at survive an update: re-scanning a library must not reset them.
    sqlite::Statement s(db,
                        "INSERT INTO models(path, name, architecture, parameter_count, weight_types, file_size, "
                        "context_length, added_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT(path) DO UPDATE SET name = excluded.name, architecture = excluded.architecture, "
                        "parameter_count = excluded.parameter_count, weight_types = excluded.weight_types, "
                        "file_size = excluded.file_size, context_length = excluded.context_length");
    s.bind(1, model.path)
        .bind(2, model.name)
        .bind(3, model.architecture)
        .bind(4, model.parameterCount)
        .bind(5, model.weightTypes)
        .bind(6, model.fileSize)
        .bind(7, model.contextLength)
        .bind(8, model.addedAt ? model.addedAt : nowMs())
        .bind(9, model.lastUsedAt)
        .run();
    sqlite::Statement id(db, "SELECT id FROM models WHERE path = ?");
    id.bind(1, model.path);
    id.step();
    int64_t result = id.columnInt(0);
    tx.commit();
    return result;
}

std::vector<ModelRecord> Store::models() const
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Statement s(*impl_->db,
                        (std::string("SELECT ") + kModelColumns + " FROM models ORDER BY name COLLATE NOCASE, path").c_str());
    return readAllRows(s, readModel);
}

std::optional<ModelRecord> Store::modelByPath(const std::string& path) const
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Statement s(*impl_->db, (std::string("SELECT ") + kModelColumns + " FROM models WHERE path = ?").c_str());
    s.bind(1, path);
    if (!s.step())
        return std::nullopt;
    return readModel(s);
}

void Store::markModelUsed(const std::string& path, int64_t time)
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement s(*impl_->db, "UPDATE models SET last_used_at = ? WHERE path = ?");
    s.bind(1, time ? time : nowMs()).bind(2, path).run();
    requireRowChanged(*impl_->db, "markModelUsed", "model with path " + path);
    tx.commit();
}

void Store::removeModel(const std::string& path)
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement s(*impl_->db, "DELETE FROM models WHERE path = ?");
    s.bind(1, path).run();
    tx.commit();
}

std::optional<std::string> Store::setting(const std::string& key) const
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Statement s(*impl_->db, "SELECT value FROM settings WHERE key = ?");
    s.bind(1, key);
    if (!s.step())
        return std::nullopt;
    return s.columnText(0);
}

std::string Store::setting(const std::string& key, const std::string& fallback) const
{
    return setting(key).value_or(fallback);
}

void Store::setSetting(const std::string& key, const std::string& value)
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement s(*impl_->db,
                        "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    s.bind(1, key).bind(2, value).run();
    tx.commit();
}

void Store::removeSetting(const std::string& key)
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement s(*impl_->db, "DELETE FROM settings WHERE key = ?");
    s.bind(1, key).run();
    tx.commit();
}

std::map<std::string, std::string> Store::allSettings() const
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Statement s(*impl_->db, "SELECT key, value FROM settings");
    std::map<std::string, std::string> out;
    while (s.step())
        out[s.columnText(0)] = s.columnText(1);
    return out;
}

int64_t Store::recordUsage(const LedgerEntry& e)
{
    std::lock_guard lock(impl_->mutex);
    auto& db = *impl_->db;
    sqlite::Transaction tx(db);
    sqlite::Statement s(db,
                        "INSERT INTO usage_ledger(time, model, device, tokens_in, tokens_out, ttft_ms, total_ms, "
                        "conversation_id, message_id, source, client, cache_hit, model_hash, quantization, "
                        "kernel_level, threads, context_size, prefill_tokens, prefill_ms, decode_tokens, decode_ms, "
                        "reused_prompt_tokens, speculative_tokens, energy_j, energy_source) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, e.time ? e.time : nowMs())
        .bind(2, e.model)
        .bind(3, e.device)
        .bind(4, e.tokensIn)
        .bind(5, e.tokensOut)
        .bind(6, e.timeToFirstTokenMs)
        .bind(7, e.totalMs);
    if (e.conversationId)
        s.bind(8, e.conversationId);
    else
        s.bindNull(8);
    if (e.messageId)
        s.bind(9, e.messageId);
    else
        s.bindNull(9);
    s.bind(10, e.source).bind(11, e.client).bind(12, e.cacheHit);
    s.bind(13, e.modelHash)
        .bind(14, e.quantization)
        .bind(15, e.kernelLevel)
        .bind(16, e.threads)
        .bind(17, e.contextSize)
        .bind(18, e.prefillTokens)
        .bind(19, e.prefillMs)
        .bind(20, e.decodeTokens)
        .bind(21, e.decodeMs)
        .bind(22, e.reusedPromptTokens)
        .bind(23, e.speculativeTokens)
        .bind(24, e.energyJoules)
        .bind(25, e.energySource);
    s.run();
    int64_t id = db.lastInsertId();
    tx.commit();
    return id;
}

std::vector<LedgerEntry> Store::usage(int64_t fromTime, int64_t toTime) const
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Statement s(*impl_->db,
                        "SELECT id, time, model, device, tokens_in, tokens_out, ttft_ms, total_ms, "
                        "coalesce(conversation_id, 0), coalesce(message_id, 0), source, client, cache_hit, model_hash, "
                        "quantization, kernel_level, threads, context_size, prefill_tokens, prefill_ms, decode_tokens, "
                        "decode_ms, reused_prompt_tokens, speculative_tokens, energy_j, energy_source FROM usage_ledger "
                        "WHERE time >= ? AND time < ? ORDER BY time, id");
    s.bind(1, fromTime).bind(2, toTime);
    return readAllRows(s, readLedger);
}

std::vector<LedgerTotals> Store::usageTotals(int64_t fromTime, int64_t toTime) const
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Statement s(*impl_->db,
                        "SELECT model, strftime('%Y-%m-%d', time / 1000, 'unixepoch') AS day, count(*), "
                        "sum(tokens_in), sum(tokens_out), sum(total_ms) FROM usage_ledger "
                        "WHERE time >= ? AND time < ? GROUP BY day, model ORDER BY day, model");
    s.bind(1, fromTime).bind(2, toTime);
    return readAllRows(s, readLedgerTotals);
}

} // namespace tenfold
