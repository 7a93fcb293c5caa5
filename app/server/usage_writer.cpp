#include "usage_writer.h"

#include <cstdio>

namespace tenfold::server {

UsageWriter::UsageWriter(std::unique_ptr<Store> store)
    : store_(std::move(store)), thread_([this] { run(); })
{
}

UsageWriter::~UsageWriter()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void UsageWriter::record(LedgerEntry entry)
{
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(entry));
    }
    cv_.notify_one();
}

void UsageWriter::run()
{
    std::unique_lock lock(mutex_);
    while (true) {
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && stopping_)
            return;
        LedgerEntry entry = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        try {
            store_->recordUsage(entry);
        } catch (const std::exception& e) {
            // A full disk or a locked database loses this row, not the server.
            std::fprintf(stderr, "tenfold-server: usage ledger: %s\n", e.what());
        }
        lock.lock();
    }
}

} // namespace tenfold::server
