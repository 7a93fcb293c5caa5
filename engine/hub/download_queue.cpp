#include "hub/download_queue.h"

#include <chrono>

namespace tenfold::hub {

DownloadQueue::DownloadQueue(Store& store, HubConfig config, std::filesystem::path modelsDir, int maxConcurrent)
    : store_(store), client_(std::move(config)), modelsDir_(std::move(modelsDir)),
      maxConcurrent_(maxConcurrent < 1 ? 1 : maxConcurrent)
{
    store_.requeueInterruptedHubDownloads();
}

DownloadQueue::~DownloadQueue()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        for (auto& [id, token] : running_) {
            cancelReason_[id] = "shutdown";
            token->cancel();
        }
    }
    wake_.notify_all();
    for (std::thread& t : threads_)
        t.join();
}

void DownloadQueue::setListener(std::function<void(const QueueEvent&)> listener)
{
    std::lock_guard lock(mutex_);
    listener_ = std::move(listener);
}

std::vector<int64_t> DownloadQueue::enqueue(const std::string& repo, const std::string& revision,
                                            const GgufChoice& choice)
{
    if (choice.files.empty())
        throw InvalidArgument("nothing to download in " + repo);
    if (!choice.complete)
        throw InvalidArgument(repo + ": the split set " + choice.name + " lacks parts in the repository listing");
    std::vector<int64_t> ids;
    for (const RepoFile& f : choice.files) {
        HubDownload d;
        d.repo = repo;
        d.revision = revision.empty() ? "main" : revision;
        d.filePath = f.path;
        d.destination = destinationFor(modelsDir_, repo, f.path).string();
        d.sha256 = f.sha256;
        d.size = int64_t(f.size);
        d.setKey = choice.files.size() > 1 ? repo + "/" + choice.name : std::string();
        const int64_t id = store_.addHubDownload(d);
        // A file finished earlier and deleted since is fetched again.
        std::error_code ec;
        if (row(id).state == "done" && !std::filesystem::exists(d.destination, ec))
            store_.setHubDownloadState(id, "queued");
        ids.push_back(id);
    }
    for (int64_t id : ids)
        notify(row(id));
    wake_.notify_all();
    return ids;
}

void DownloadQueue::start()
{
    std::lock_guard lock(mutex_);
    if (started_)
        return;
    started_ = true;
    for (int i = 0; i < maxConcurrent_; ++i)
        threads_.emplace_back([this] { work(); });
}

void DownloadQueue::pause(int64_t id)
{
    std::unique_lock lock(mutex_);
    if (auto it = running_.find(id); it != running_.end()) {
        cancelReason_[id] = "pause";
        it->second->cancel();
        return; // the worker records the pause when the transfer has stopped
    }
    lock.unlock();
    const HubDownload d = row(id);
    if (d.state == "queued") {
        store_.setHubDownloadState(id, "paused");
        notify(row(id));
    }
}

void DownloadQueue::resume(int64_t id)
{
    const HubDownload d = row(id);
    if (d.state == "paused" || d.state == "failed") {
        store_.setHubDownloadState(id, "queued");
        notify(row(id));
        wake_.notify_all();
    }
}

void DownloadQueue::remove(int64_t id)
{
    std::unique_lock lock(mutex_);
    if (auto it = running_.find(id); it != running_.end()) {
        cancelReason_[id] = "remove";
        it->second->cancel();
        return; // the worker deletes the part and the row
    }
    lock.unlock();
    const HubDownload d = row(id);
    std::error_code ec;
    std::filesystem::remove(partPathOf(d.destination), ec);
    store_.removeHubDownload(id);
}

bool DownloadQueue::waitIdle(std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        bool busy = false;
        for (const HubDownload& d : store_.hubDownloads())
            busy = busy || d.state == "queued" || d.state == "running";
        if (!busy)
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::unique_lock lock(mutex_);
        idle_.wait_for(lock, std::chrono::milliseconds(50));
    }
}

HubDownload DownloadQueue::row(int64_t id) const
{
    auto d = store_.hubDownload(id);
    if (!d)
        throw InvalidArgument("no hub download with id " + std::to_string(id));
    return *d;
}

void DownloadQueue::notify(const HubDownload& d, const DownloadProgress& p)
{
    std::function<void(const QueueEvent&)> listener;
    {
        std::lock_guard lock(mutex_);
        listener = listener_;
    }
    if (listener)
        listener(QueueEvent{d, p});
}

void DownloadQueue::work()
{
    for (;;) {
        std::optional<HubDownload> next;
        {
            std::unique_lock lock(mutex_);
            if (stopping_)
                return;
            try {
                next = store_.takeQueuedHubDownload();
            } catch (const Error&) {
                next.reset(); // a failing database: wait and try again rather than spin
            }
            if (!next) {
                idle_.notify_all();
                wake_.wait_for(lock, std::chrono::milliseconds(500));
                continue;
            }
            running_[next->id] = std::make_shared<CancelToken>();
            ++active_;
        }
        runOne(*next);
        {
            std::lock_guard lock(mutex_);
            running_.erase(next->id);
            cancelReason_.erase(next->id);
            --active_;
        }
        idle_.notify_all();
    }
}

void DownloadQueue::runOne(HubDownload d)
{
    std::shared_ptr<CancelToken> token;
    {
        std::lock_guard lock(mutex_);
        token = running_.at(d.id);
    }
    notify(d);
    RepoFile file;
    file.path = d.filePath;
    file.size = uint64_t(d.size);
    file.sha256 = d.sha256;
    DownloadOptions options;
    options.cancel = token.get();
    options.minFreeBytes = minFreeBytes_;
    auto lastSaved = std::chrono::steady_clock::now();
    options.progress = [&](const DownloadProgress& p) {
        d.bytesDone = int64_t(p.bytesDone);
        // The database hears of progress once a second; the listener every step.
        if (std::chrono::steady_clock::now() - lastSaved > std::chrono::seconds(1)) {
            lastSaved = std::chrono::steady_clock::now();
            try {
                store_.setHubDownloadProgress(d.id, d.bytesDone);
            } catch (const Error&) {
            }
        }
        notify(d, p);
    };
    std::string state = "done", error;
    try {
        downloadFile(client_, d.repo, d.revision, file, d.destination, options);
        d.bytesDone = d.size;
    } catch (const Cancelled&) {
        std::lock_guard lock(mutex_);
        const std::string reason = cancelReason_.count(d.id) ? cancelReason_[d.id] : "pause";
        state = reason == "shutdown" ? "queued" : reason == "remove" ? "removed" : "paused";
    } catch (const Error& e) {
        state = "failed";
        error = e.what();
    }
    std::error_code ec;
    const auto part = partPathOf(d.destination);
    if (state != "done")
        d.bytesDone = std::filesystem::exists(part, ec) ? int64_t(std::filesystem::file_size(part, ec)) : 0;
    try {
        if (state == "removed") {
            std::filesystem::remove(part, ec);
            store_.removeHubDownload(d.id);
            d.state = "removed";
            notify(d);
            return;
        }
        store_.setHubDownloadProgress(d.id, d.bytesDone);
        store_.setHubDownloadState(d.id, state, error);
        d = row(d.id);
    } catch (const Error& e) {
        d.state = "failed";
        d.error = e.what();
    }
    notify(d);
}

} // namespace tenfold::hub
