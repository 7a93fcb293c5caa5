#pragma once
// Appends ledger rows on a thread of its own, so HTTP threads never wait for SQLite: record()
// only queues. The destructor writes what is still queued, then joins.
#include "store/store.h"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace tenfold::server {

class UsageWriter {
public:
    explicit UsageWriter(std::unique_ptr<Store> store);
    ~UsageWriter();
    UsageWriter(const UsageWriter&) = delete;
    UsageWriter& operator=(const UsageWriter&) = delete;

    void record(LedgerEntry entry);
    const std::filesystem::path& databasePath() const { return store_->databasePath(); }

private:
    void run();
    std::unique_ptr<Store> store_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<LedgerEntry> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace tenfold::server
