#pragma once
// Store's private state, shared by the store_*.cpp files that implement its parts.
#include "store/sqlite_db.h"
#include "store/store.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tenfold {

// Throws InvalidArgument "<operation>: no <what>" when the statement just run changed no row
// (an UPDATE whose WHERE matched nothing).
inline void requireRowChanged(sqlite::Database& db, const char* operation, const std::string& what)
{
    if (db.changes() == 0)
        throw InvalidArgument(std::string(operation) + ": no " + what);
}

// Steps `s` to the end, reading each row with readRow.
template <typename ReadRow>
auto readAllRows(sqlite::Statement& s, ReadRow readRow)
{
    std::vector<decltype(readRow(s))> out;
    while (s.step())
        out.push_back(readRow(s));
    return out;
}

struct Store::Impl {
    std::filesystem::path path;
    std::unique_ptr<sqlite::Database> db;
    bool fullText = false;
    int recovered = 0;
    mutable std::recursive_mutex mutex;
    std::function<void(std::string_view)> statementObserver;

    // Streaming text not yet committed, per message id.
    struct PendingText {
        std::string text;
    };
    std::map<int64_t, PendingText> pending;
    std::chrono::steady_clock::time_point lastFlush = std::chrono::steady_clock::now();
    std::chrono::milliseconds flushInterval{100};
    size_t flushBytes = 256;

    // Commits buffered streaming text; caller holds the mutex.
    void flushPendingLocked();
    // Same, for reads: a failure (disk full) leaves the text buffered and lets the read go on,
    // so a full disk never hides what is already stored.
    void flushPendingForRead();
    // Bumps a conversation's updated_at; caller holds the mutex and is inside a transaction.
    void touchConversation(int64_t conversationId, int64_t time);
    void requireMessage(int64_t id, const char* what);
};

} // namespace tenfold
