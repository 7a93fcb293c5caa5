// Store: messages and streaming persistence.
#include "store/store.h"

#include "store/store_impl.h"

#include <algorithm>
#include <cstring>

namespace tenfold {

namespace {

constexpr const char* kMessageColumns =
    "id, conversation_id, ordinal, role, content, model, settings_json, tokens_in, tokens_out, ttft_ms, "
    "total_ms, tokens_per_second, state, created_at";

StoredMessage readMessage(const sqlite::Statement& s)
{
    StoredMessage m;
    m.id = s.columnInt(0);
    m.conversationId = s.columnInt(1);
    m.ordinal = static_cast<int>(s.columnInt(2));
    m.role = s.columnText(3);
    m.content = s.columnText(4);
    m.model = s.columnText(5);
    m.settingsJson = s.columnText(6);
    m.stats.tokensIn = static_cast<int>(s.columnInt(7));
    m.stats.tokensOut = static_cast<int>(s.columnInt(8));
    m.stats.timeToFirstTokenMs = s.columnDouble(9);
    m.stats.totalMs = s.columnDouble(10);
    m.stats.tokensPerSecond = s.columnDouble(11);
    m.state = messageStateFromName(s.columnText(12));
    m.createdAt = s.columnInt(13);
    return m;
}

const char* const kStateNames[] = {"complete", "streaming", "interrupted", "error", "stopped"};

} // namespace

const char* messageStateName(MessageState state) { return kStateNames[static_cast<int>(state)]; }

MessageState messageStateFromName(const std::string& name)
{
    for (int i = 0; i < 5; ++i)
        if (name == kStateNames[i])
            return static_cast<MessageState>(i);
    throw InvalidArgument("unknown message state '" + name + "'");
}

void Store::Impl::requireMessage(int64_t id, const char* what)
{
    sqlite::Statement s(*db, "SELECT 1 FROM messages WHERE id = ?");
    s.bind(1, id);
    if (!s.step())
        throw InvalidArgument(std::string(what) + ": no message with id " + std::to_string(id));
}

void Store::Impl::flushPendingLocked()
{
    lastFlush = std::chrono::steady_clock::now();
    if (pending.empty())
        return;
    sqlite::Transaction tx(*db);
    sqlite::Statement s(*db, "UPDATE messages SET content = content || ? WHERE id = ?");
    for (auto& [id, buffer] : pending) {
        if (buffer.text.empty())
            continue;
        s.bind(1, buffer.text).bind(2, id).run();
        s.reset();
    }
    tx.commit();
    // Only after a successful commit: on failure the text stays buffered for the next attempt.
    pending.clear();
}

void Store::Impl::flushPendingForRead()
{
    try {
        flushPendingLocked();
    } catch (const IoError&) {
        // Reported by the next write or explicit flush(); readers see what is committed.
    }
}

namespace {

// Inserts one message after the conversation's last; the caller holds the mutex and is inside a
// transaction.
int64_t insertMessage(sqlite::Database& db, int64_t conversationId, const NewMessage& message, int64_t now,
                      const char* operation)
{
    {
        sqlite::Statement exists(db, "SELECT 1 FROM conversations WHERE id = ?");
        exists.bind(1, conversationId);
        if (!exists.step())
            throw InvalidArgument(std::string(operation) + ": no conversation with id " + std::to_string(conversationId));
    }
    sqlite::Statement s(db,
                        "INSERT INTO messages(conversation_id, ordinal, role, content, model, settings_json, tokens_in, "
                        "tokens_out, ttft_ms, total_ms, tokens_per_second, state, created_at) VALUES (?1, "
                        "(SELECT coalesce(max(ordinal), -1) + 1 FROM messages WHERE conversation_id = ?1), "
                        "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    s.bind(1, conversationId)
        .bind(2, message.role)
        .bind(3, message.content)
        .bind(4, message.model)
        .bind(5, message.settingsJson.empty() ? std::string("{}") : message.settingsJson)
        .bind(6, message.stats.tokensIn)
        .bind(7, message.stats.tokensOut)
        .bind(8, message.stats.timeToFirstTokenMs)
        .bind(9, message.stats.totalMs)
        .bind(10, message.stats.tokensPerSecond)
        .bind(11, messageStateName(message.state))
        .bind(12, now)
        .run();
    return db.lastInsertId();
}

} // namespace

int64_t Store::appendMessage(int64_t conversationId, const NewMessage& message)
{
    std::lock_guard lock(impl_->mutex);
    auto& db = *impl_->db;
    int64_t now = nowMs();
    sqlite::Transaction tx(db);
    const int64_t id = insertMessage(db, conversationId, message, now, "appendMessage");
    impl_->touchConversation(conversationId, now);
    tx.commit();
    return id;
}

int64_t Store::replaceMessagesFrom(int64_t conversationId, int fromOrdinal, const NewMessage& message)
{
    std::lock_guard lock(impl_->mutex);
    impl_->flushPendingLocked();
    auto& db = *impl_->db;
    int64_t now = nowMs();
    sqlite::Transaction tx(db);
    {
        sqlite::Statement s(db, "DELETE FROM messages WHERE conversation_id = ? AND ordinal >= ?");
        s.bind(1, conversationId).bind(2, fromOrdinal).run();
    }
    const int64_t id = insertMessage(db, conversationId, message, now, "replaceMessagesFrom");
    impl_->touchConversation(conversationId, now);
    tx.commit();
    return id;
}

std::vector<StoredMessage> Store::messages(int64_t conversationId) const
{
    std::lock_guard lock(impl_->mutex);
    impl_->flushPendingForRead();
    sqlite::Statement s(*impl_->db, (std::string("SELECT ") + kMessageColumns +
                                     " FROM messages WHERE conversation_id = ? ORDER BY ordinal").c_str());
    s.bind(1, conversationId);
    return readAllRows(s, readMessage);
}

std::optional<StoredMessage> Store::message(int64_t id) const
{
    std::lock_guard lock(impl_->mutex);
    impl_->flushPendingForRead();
    sqlite::Statement s(*impl_->db, (std::string("SELECT ") + kMessageColumns + " FROM messages WHERE id = ?").c_str());
    s.bind(1, id);
    if (!s.step())
        return std::nullopt;
    return readMessage(s);
}

void Store::updateMessageContent(int64_t id, const std::string& content)
{
    std::lock_guard lock(impl_->mutex);
    impl_->flushPendingLocked();
    impl_->pending.erase(id);
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement s(*impl_->db, "UPDATE messages SET content = ? WHERE id = ?");
    s.bind(1, content).bind(2, id).run();
    requireRowChanged(*impl_->db, "updateMessageContent", "message with id " + std::to_string(id));
    tx.commit();
}

void Store::setMessageState(int64_t id, MessageState state)
{
    std::lock_guard lock(impl_->mutex);
    impl_->flushPendingLocked();
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement s(*impl_->db, "UPDATE messages SET state = ? WHERE id = ?");
    s.bind(1, messageStateName(state)).bind(2, id).run();
    requireRowChanged(*impl_->db, "setMessageState", "message with id " + std::to_string(id));
    tx.commit();
}

void Store::setMessageStats(int64_t id, const MessageStats& stats)
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement s(*impl_->db,
                        "UPDATE messages SET tokens_in = ?, tokens_out = ?, ttft_ms = ?, total_ms = ?, "
                        "tokens_per_second = ? WHERE id = ?");
    s.bind(1, stats.tokensIn)
        .bind(2, stats.tokensOut)
        .bind(3, stats.timeToFirstTokenMs)
        .bind(4, stats.totalMs)
        .bind(5, stats.tokensPerSecond)
        .bind(6, id)
        .run();
    requireRowChanged(*impl_->db, "setMessageStats", "message with id " + std::to_string(id));
    tx.commit();
}

void Store::deleteMessagesFrom(int64_t conversationId, int fromOrdinal)
{
    std::lock_guard lock(impl_->mutex);
    impl_->flushPendingLocked();
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement s(*impl_->db, "DELETE FROM messages WHERE conversation_id = ? AND ordinal >= ?");
    s.bind(1, conversationId).bind(2, fromOrdinal).run();
    impl_->touchConversation(conversationId, nowMs());
    tx.commit();
}

int64_t Store::beginStreamingMessage(int64_t conversationId, const std::string& role, const std::string& model,
                                     const std::string& settingsJson)
{
    NewMessage m;
    m.role = role;
    m.model = model;
    m.settingsJson = settingsJson;
    m.state = MessageState::Streaming;
    return appendMessage(conversationId, m);
}

void Store::appendStreamingText(int64_t messageId, std::string_view text)
{
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->pending.find(messageId);
    if (it == impl_->pending.end()) {
        impl_->requireMessage(messageId, "appendStreamingText");
        it = impl_->pending.emplace(messageId, Impl::PendingText{}).first;
    }
    it->second.text.append(text);
    size_t buffered = 0;
    for (const auto& [id, p] : impl_->pending)
        buffered += p.text.size();
    if (buffered >= impl_->flushBytes ||
        std::chrono::steady_clock::now() - impl_->lastFlush >= impl_->flushInterval)
        impl_->flushPendingLocked();
}

void Store::flush()
{
    std::lock_guard lock(impl_->mutex);
    impl_->flushPendingLocked();
}

void Store::finishMessage(int64_t messageId, MessageState state, const MessageStats& stats)
{
    std::lock_guard lock(impl_->mutex);
    impl_->flushPendingLocked();
    auto& db = *impl_->db;
    sqlite::Transaction tx(db);
    sqlite::Statement s(db,
                        "UPDATE messages SET state = ?, tokens_in = ?, tokens_out = ?, ttft_ms = ?, total_ms = ?, "
                        "tokens_per_second = ? WHERE id = ?");
    s.bind(1, messageStateName(state))
        .bind(2, stats.tokensIn)
        .bind(3, stats.tokensOut)
        .bind(4, stats.timeToFirstTokenMs)
        .bind(5, stats.totalMs)
        .bind(6, stats.tokensPerSecond)
        .bind(7, messageId)
        .run();
    requireRowChanged(db, "finishMessage", "message with id " + std::to_string(messageId));
    sqlite::Statement touch(db, "UPDATE conversations SET updated_at = max(updated_at, ?) WHERE id = "
                                "(SELECT conversation_id FROM messages WHERE id = ?)");
    touch.bind(1, nowMs()).bind(2, messageId).run();
    tx.commit();
}

void Store::setStreamingFlushPolicy(std::chrono::milliseconds interval, size_t maxBufferedBytes)
{
    std::lock_guard lock(impl_->mutex);
    impl_->flushInterval = interval;
    impl_->flushBytes = std::max<size_t>(1, maxBufferedBytes);
}

} // namespace tenfold
