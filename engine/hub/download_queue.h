#pragma once
// The model hub's download queue: files wait in SQLite (the store's hub_downloads table), at most
// `maxConcurrent` download at once on the queue's own threads, each can be paused (cancel; its
// .part is kept) and resumed, and a queue opened on the same database after a restart continues
// whatever was queued or running (with HTTP Range, from the bytes in the .part files).
#include "hub/gguf_choices.h"
#include "hub/hub_download.h"
#include "store/store.h"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tenfold::hub {

struct QueueEvent {
    HubDownload download;        // the row as it now stands (state, error, destination ...)
    DownloadProgress progress;   // bytes, speed and time left while running
};

class DownloadQueue {
public:
    // `store` must outlive the queue (it is thread-safe; the queue writes from its threads).
    DownloadQueue(Store& store, HubConfig config, std::filesystem::path modelsDir, int maxConcurrent = 2);
    // Stops the running downloads without marking them paused: they stay queued in the database
    // and continue when a queue is next started on it.
    ~DownloadQueue();
    DownloadQueue(const DownloadQueue&) = delete;
    DownloadQueue& operator=(const DownloadQueue&) = delete;

    // Called on the downloading threads for every state change and progress step; must be quick
    // and must not call back into the queue.
    void setListener(std::function<void(const QueueEvent&)> listener);
    void setMinFreeBytes(uint64_t bytes) { minFreeBytes_ = bytes; }
    const std::filesystem::path& modelsDir() const { return modelsDir_; }

    // Queues every file of `choice` (all parts of a split set). Returns their ids, in part order.
    std::vector<int64_t> enqueue(const std::string& repo, const std::string& revision, const GgufChoice& choice);
    // Starts the worker threads; rows already queued (an earlier run's) begin at once.
    void start();
    // Pauses a queued or running download; the .part is kept.
    void pause(int64_t id);
    // Queues a paused or failed download again.
    void resume(int64_t id);
    // Pauses and forgets a download, deleting its .part (never a finished file).
    void remove(int64_t id);
    // True once nothing is queued or running, false if `timeout` passed first.
    bool waitIdle(std::chrono::milliseconds timeout);
    std::vector<HubDownload> downloads() const { return store_.hubDownloads(); }

private:
    void work();
    void runOne(HubDownload download);
    void notify(const HubDownload& d, const DownloadProgress& p = {});
    HubDownload row(int64_t id) const;

    Store& store_;
    HubClient client_;
    std::filesystem::path modelsDir_;
    int maxConcurrent_;
    std::atomic<uint64_t> minFreeBytes_{0};

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    bool stopping_ = false;
    bool started_ = false;
    int active_ = 0;
    // Running downloads' cancel tokens, and why each was cancelled (pause or remove).
    std::map<int64_t, std::shared_ptr<CancelToken>> running_;
    std::map<int64_t, std::string> cancelReason_;
    std::function<void(const QueueEvent&)> listener_;
    std::vector<std::thread> threads_;
};

} // namespace tenfold::hub
