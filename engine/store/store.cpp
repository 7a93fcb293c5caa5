// Store: opening, migration, crash recovery, conversations and search.
#include "store/store.h"

#include "store/schema.h"
#include "store/store_impl.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <system_error>

namespace tenfold {

namespace {

Conversation readConversation(const sqlite::Statement& s)
{
    Conversation c;
    c.id = s.columnInt(0);
    c.title = s.columnText(1);
    c.createdAt = s.columnInt(2);
    c.updatedAt = s.columnInt(3);
    c.modelPath = s.columnText(4);
    c.systemPrompt = s.columnText(5);
    c.settingsJson = s.columnText(6);
    c.deleted = s.columnInt(7) != 0;
    return c;
}

constexpr const char* kConversationColumns =
    "id, title, created_at, updated_at, model_path, system_prompt, settings_json, deleted";

std::vector<std::string> splitWords(const std::string& query)
{
    std::vector<std::string> words;
    std::string current;
    for (char ch : query) {
        if (std::isspace(static_cast<unsigned char>(ch))) {
            if (!current.empty())
                words.push_back(std::move(current));
            current.clear();
        } else {
            current += ch;
        }
    }
    if (!current.empty())
        words.push_back(std::move(current));
    return words;
}

// LIKE pattern matching `word` literally anywhere ('\' escapes the wildcards).
std::string likePattern(const std::string& word)
{
    std::string pattern = "%";
    for (char ch : word) {
        if (ch == '%' || ch == '_' || ch == '\\')
            pattern += '\\';
        pattern += ch;
    }
    return pattern + "%";
}

// Characters (UTF-8 code points) in `word`.
size_t characterCount(const std::string& word)
{
    size_t n = 0;
    for (unsigned char ch : word)
        n += (ch & 0xC0) != 0x80;
    return n;
}

// FTS5 query for the trigram index: every word as a quoted phrase, which matches it as a
// substring anywhere ("spagh" finds "spaghetti", "北京" inside "我们今天去北京旅行").
std::string ftsQuery(const std::vector<std::string>& words)
{
    std::string q;
    for (const auto& w : words) {
        std::string quoted = "\"";
        for (char ch : w) {
            if (ch == '"')
                quoted += '"';
            quoted += ch;
        }
        quoted += "\"";
        if (!q.empty())
            q += " AND ";
        q += quoted;
    }
    return q;
}

std::string makeSnippet(const std::string& text, const std::string& firstWord)
{
    constexpr size_t kMax = 160;
    if (text.size() <= kMax)
        return text;
    std::string lowerText = text, lowerWord = firstWord;
    std::transform(lowerText.begin(), lowerText.end(), lowerText.begin(), [](unsigned char c) { return std::tolower(c); });
    std::transform(lowerWord.begin(), lowerWord.end(), lowerWord.begin(), [](unsigned char c) { return std::tolower(c); });
    size_t at = lowerText.find(lowerWord);
    size_t start = at == std::string::npos || at < 40 ? 0 : at - 40;
    // Do not cut a UTF-8 sequence in half.
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
        --start;
    size_t end = std::min(text.size(), start + kMax);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
        ++end;
    return (start > 0 ? "…" : "") + text.substr(start, end - start) + (end < text.size() ? "…" : "");
}

} // namespace

int64_t Store::nowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::Store(const std::filesystem::path& dataDir) : Store(openFile(dataDir / kFileName)) {}

Store Store::openFile(const std::filesystem::path& databaseFile, const StoreOptions& options)
{
    auto impl = std::make_unique<Impl>();
    impl->path = databaseFile;
    std::filesystem::path folder = databaseFile.parent_path();
    if (!folder.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(folder, ec);
        if (ec)
            throw IoError(folder.string() + ": cannot create the data folder: " + ec.message());
    }
    impl->db = std::make_unique<sqlite::Database>(databaseFile);
    auto& db = *impl->db;
    db.exec("PRAGMA busy_timeout = 5000", "setting the busy timeout");
    db.exec("PRAGMA foreign_keys = ON", "enabling foreign keys");
    {
        sqlite::Statement wal(db, "PRAGMA journal_mode = WAL");
        wal.step();
        // Writing the WAL needs the folder writable; a file that stays in rollback mode means we
        // could not, and every later write would fail less clearly.
        std::string mode = wal.columnText(0);
        if (mode != "wal")
            throw IoError(databaseFile.string() + ": cannot switch the database to WAL mode (got '" + mode +
                          "'); is the folder writable?");
    }
    db.exec("PRAGMA synchronous = NORMAL", "setting synchronous mode");
    store_schema::migrate(db);
    impl->fullText = options.fullTextSearch && store_schema::ensureFullTextIndex(db);

    // A message still streaming belongs to a process that died mid-reply.
    sqlite::Transaction tx(db);
    sqlite::Statement recover(db, "UPDATE messages SET state = 'interrupted' WHERE state = 'streaming'");
    recover.run();
    impl->recovered = db.changes();
    tx.commit();
    return Store(std::move(impl));
}

Store::~Store()
{
    if (!impl_)
        return;
    try {
        std::lock_guard lock(impl_->mutex);
        impl_->flushPendingLocked();
    } catch (const std::exception&) {
        // Destructors must not throw; the text lost is what the caller never flushed.
    }
}

Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;

const std::filesystem::path& Store::databasePath() const { return impl_->path; }

int Store::schemaVersion() const
{
    std::lock_guard lock(impl_->mutex);
    return store_schema::currentVersion(*impl_->db);
}

int64_t Store::setMaxPageCount(int64_t pages)
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Statement s(*impl_->db, ("PRAGMA max_page_count = " + std::to_string(pages)).c_str());
    s.step();
    return s.columnInt(0);
}

void Store::setStatementObserver(std::function<void(std::string_view sql)> observer)
{
    std::lock_guard lock(impl_->mutex);
    impl_->statementObserver = std::move(observer);
    if (!impl_->statementObserver) {
        sqlite3_trace_v2(impl_->db->handle(), 0, nullptr, nullptr);
        return;
    }
    sqlite3_trace_v2(impl_->db->handle(), SQLITE_TRACE_STMT, [](unsigned, void* context, void*, void* x) -> int {
        auto* impl = static_cast<Store::Impl*>(context);
        // x is the unexpanded SQL text; trigger sub-statements arrive as "-- ..." comments.
        if (impl->statementObserver)
            impl->statementObserver(static_cast<const char*>(x) ? static_cast<const char*>(x) : "");
        return 0;
    }, impl_.get());
}

bool Store::hasFullTextSearch() const { return impl_->fullText; }
int Store::recoveredInterruptedMessages() const { return impl_->recovered; }

void Store::Impl::touchConversation(int64_t conversationId, int64_t time)
{
    sqlite::Statement s(*db, "UPDATE conversations SET updated_at = max(updated_at, ?) WHERE id = ?");
    s.bind(1, time).bind(2, conversationId).run();
}

int64_t Store::createConversation(const Conversation& c)
{
    std::lock_guard lock(impl_->mutex);
    int64_t now = nowMs();
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement s(*impl_->db,
                        "INSERT INTO conversations(title, created_at, updated_at, model_path, system_prompt, "
                        "settings_json, deleted) VALUES (?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, c.title)
        .bind(2, c.createdAt ? c.createdAt : now)
        .bind(3, c.updatedAt ? c.updatedAt : (c.createdAt ? c.createdAt : now))
        .bind(4, c.modelPath)
        .bind(5, c.systemPrompt)
        .bind(6, c.settingsJson.empty() ? std::string("{}") : c.settingsJson)
        .bind(7, c.deleted ? 1 : 0)
        .run();
    int64_t id = impl_->db->lastInsertId();
    tx.commit();
    return id;
}

std::optional<Conversation> Store::conversation(int64_t id) const
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Statement s(*impl_->db, (std::string("SELECT ") + kConversationColumns + " FROM conversations WHERE id = ?").c_str());
    s.bind(1, id);
    if (!s.step())
        return std::nullopt;
    return readConversation(s);
}

std::vector<Conversation> Store::listConversations(bool includeDeleted) const
{
    std::lock_guard lock(impl_->mutex);
    std::string sql = std::string("SELECT ") + kConversationColumns + " FROM conversations" +
                      (includeDeleted ? "" : " WHERE deleted = 0") + " ORDER BY updated_at DESC, id DESC";
    sqlite::Statement s(*impl_->db, sql.c_str());
    return readAllRows(s, readConversation);
}

void Store::updateConversation(const Conversation& c)
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement s(*impl_->db,
                        "UPDATE conversations SET title = ?, updated_at = ?, model_path = ?, system_prompt = ?, "
                        "settings_json = ?, deleted = ? WHERE id = ?");
    s.bind(1, c.title)
        .bind(2, std::max(c.updatedAt, nowMs()))
        .bind(3, c.modelPath)
        .bind(4, c.systemPrompt)
        .bind(5, c.settingsJson.empty() ? std::string("{}") : c.settingsJson)
        .bind(6, c.deleted ? 1 : 0)
        .bind(7, c.id)
        .run();
    requireRowChanged(*impl_->db, "updateConversation", "conversation with id " + std::to_string(c.id));
    tx.commit();
}

void Store::renameConversation(int64_t id, const std::string& title)
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement s(*impl_->db, "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?");
    s.bind(1, title).bind(2, nowMs()).bind(3, id).run();
    requireRowChanged(*impl_->db, "renameConversation", "conversation with id " + std::to_string(id));
    tx.commit();
}

void Store::setConversationDeleted(int64_t id, bool deleted)
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement s(*impl_->db, "UPDATE conversations SET deleted = ? WHERE id = ?");
    s.bind(1, deleted ? 1 : 0).bind(2, id).run();
    requireRowChanged(*impl_->db, "setConversationDeleted", "conversation with id " + std::to_string(id));
    tx.commit();
}

void Store::deleteConversationPermanently(int64_t id)
{
    std::lock_guard lock(impl_->mutex);
    impl_->flushPendingLocked();
    sqlite::Transaction tx(*impl_->db);
    // Explicit delete of messages as well as the cascade, so the FTS triggers fire either way.
    sqlite::Statement m(*impl_->db, "DELETE FROM messages WHERE conversation_id = ?");
    m.bind(1, id).run();
    sqlite::Statement c(*impl_->db, "DELETE FROM conversations WHERE id = ?");
    c.bind(1, id).run();
    tx.commit();
}

int Store::purgeDeletedConversations()
{
    std::lock_guard lock(impl_->mutex);
    impl_->flushPendingLocked();
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement m(*impl_->db,
                        "DELETE FROM messages WHERE conversation_id IN (SELECT id FROM conversations WHERE deleted = 1)");
    m.run();
    sqlite::Statement c(*impl_->db, "DELETE FROM conversations WHERE deleted = 1");
    c.run();
    int removed = impl_->db->changes();
    tx.commit();
    return removed;
}

std::vector<SearchHit> Store::searchConversations(const std::string& query, int limit) const
{
    std::lock_guard lock(impl_->mutex);
    impl_->flushPendingForRead();
    std::vector<std::string> words = splitWords(query);
    std::vector<SearchHit> hits;
    if (words.empty())
        return hits;

    // Titles: every word must appear (LIKE is case-insensitive for ASCII).
    {
        std::string sql = "SELECT id, title FROM conversations WHERE deleted = 0";
        for (size_t i = 0; i < words.size(); ++i)
            sql += " AND title LIKE ? ESCAPE '\\'";
        sql += " ORDER BY updated_at DESC, id DESC LIMIT ?";
        sqlite::Statement s(*impl_->db, sql.c_str());
        int index = 1;
        for (const auto& w : words)
            s.bind(index++, likePattern(w));
        s.bind(index, limit);
        while (s.step()) {
            SearchHit hit;
            hit.conversationId = s.columnInt(0);
            hit.title = s.columnText(1);
            hit.snippet = hit.title;
            hits.push_back(std::move(hit));
        }
    }

    // Message text. The trigram index cannot look up a term shorter than three characters; such
    // queries scan with LIKE instead.
    bool useIndex = impl_->fullText;
    for (const auto& w : words)
        if (characterCount(w) < 3)
            useIndex = false;
    std::string sql;
    if (useIndex) {
        sql = "SELECT m.id, m.conversation_id, c.title, m.content FROM messages_fts f "
              "JOIN messages m ON m.id = f.rowid JOIN conversations c ON c.id = m.conversation_id "
              "WHERE messages_fts MATCH ? AND c.deleted = 0 ORDER BY c.updated_at DESC, m.ordinal LIMIT ?";
    } else {
        sql = "SELECT m.id, m.conversation_id, c.title, m.content FROM messages m "
              "JOIN conversations c ON c.id = m.conversation_id WHERE c.deleted = 0";
        for (size_t i = 0; i < words.size(); ++i)
            sql += " AND m.content LIKE ? ESCAPE '\\'";
        sql += " ORDER BY c.updated_at DESC, m.ordinal LIMIT ?";
    }
    sqlite::Statement s(*impl_->db, sql.c_str());
    int index = 1;
    if (useIndex) {
        s.bind(index++, ftsQuery(words));
    } else {
        for (const auto& w : words)
            s.bind(index++, likePattern(w));
    }
    s.bind(index, limit);
    while (s.step() && static_cast<int>(hits.size()) < limit) {
        SearchHit hit;
        hit.messageId = s.columnInt(0);
        hit.conversationId = s.columnInt(1);
        hit.title = s.columnText(2);
        hit.snippet = makeSnippet(s.columnText(3), words.front());
        hits.push_back(std::move(hit));
    }
    return hits;
}

} // namespace tenfold
