#include "runtime/thread_pool.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define TENFOLD_PAUSE() _mm_pause()
#else
#define TENFOLD_PAUSE() std::this_thread::yield()
#endif

#include <algorithm>
#include <chrono>
#include <utility>

namespace tenfold {
namespace {
// About a hundred microseconds of spinning: long enough to bridge the gap between two ops of a
// forward pass (and between two decoded tokens), short enough not to burn a core while the user
// reads the output.
constexpr int kSpinIterations = 5000;
// The caller waiting for a worker that is mid-chunk: spin briefly, then yield the core, which on
// an oversubscribed machine may be what the worker is waiting for.
constexpr int kJoinSpinIterations = 1000;
// The busy-machine fallback (thread_pool.h): a wait counts when it is over 200 us and longer than
// the caller's own share of the region; three such regions, each within 50 ms of the one before,
// start a period on the caller alone. (A virtual machine's host also takes a vCPU away now and
// then; those single waits must not halve an idle machine's speed.)
constexpr int64_t kStrikeWaitNs = 200'000;
constexpr int kStrikesToSolo = 3;
constexpr int64_t kStrikeWindowNs = 50'000'000;
constexpr int64_t kFirstSoloNs = 2'000'000, kMaxSoloNs = 256'000'000;
// Regions without a long wait after which the period starts from kFirstSoloNs again.
constexpr int kCleanRegionsToForget = 1024;

int64_t nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

int ThreadPool::hardwareThreads()
{
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : int(n);
}

ThreadPool::ThreadPool(int nThreads)
    : nThreads_(nThreads > 0 ? nThreads : hardwareThreads())
{
    workers_.reserve(size_t(nThreads_ - 1));
    for (int i = 1; i < nThreads_; ++i)
        workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool()
{
    {
        std::lock_guard lock(mutex_);
        stop_.store(true);
        generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& w : workers_)
        w.join();
}

void ThreadPool::work(int slot)
{
    for (;;) {
        const int64_t c = nextChunk_.fetch_add(1, std::memory_order_relaxed);
        if (c >= nChunks_)
            return;
        try {
            (*job_)(c, slot);
        } catch (...) {
            // An exception escaping a worker thread would terminate the process: keep the first
            // one for the caller and stop handing out chunks.
            {
                std::lock_guard lock(errorMutex_);
                if (!error_)
                    error_ = std::current_exception();
            }
            nextChunk_.store(nChunks_, std::memory_order_relaxed);
            return;
        }
    }
}

void ThreadPool::runChunks(int64_t nChunks, const std::function<void(int64_t, int)>& body)
{
    if (nChunks <= 0)
        return;
    const int64_t start = nThreads_ == 1 || nChunks == 1 ? 0 : nowNs();
    if (nThreads_ == 1 || nChunks == 1 || start < soloUntilNs_) {
        if (start != 0)
            ++soloRegions_;
        for (int64_t c = 0; c < nChunks; ++c)
            body(c, 0);
        return;
    }
    job_ = &body;
    nChunks_ = nChunks;
    nextChunk_.store(0, std::memory_order_relaxed);
    open_.store(true);
    // Bump first, then look for sleepers (both sequentially consistent); a worker registers as a
    // sleeper before re-checking the generation, so one of the two always sees the other.
    generation_.fetch_add(1);
    if (sleepers_.load() > 0) {
        std::lock_guard lock(mutex_);
        wake_.notify_all();
    }
    work(0);
    const int64_t ownDone = nowNs();
    // Close the region, then wait for the workers that joined it. A worker joins (increment)
    // before checking open_, so either it sees the region closed or we see it joined.
    open_.store(false);
    int spins = 0;
    while (joined_.load() != 0) {
        if (++spins < kJoinSpinIterations)
            TENFOLD_PAUSE();
        else
            std::this_thread::yield();
    }
    job_ = nullptr;
    const int64_t end = spins > 0 ? nowNs() : ownDone;
    noteWait(ownDone - start, end - ownDone, end);
    if (error_) {
        std::exception_ptr e = std::exchange(error_, nullptr);
        std::rethrow_exception(e);
    }
}

void ThreadPool::noteWait(int64_t ownNs, int64_t waitedNs, int64_t at)
{
    if (waitedNs > kStrikeWaitNs && waitedNs > ownNs) {
        cleanRegions_ = 0;
        if (at - lastStrikeNs_ > kStrikeWindowNs)
            strikes_ = 0;
        lastStrikeNs_ = at;
        if (++strikes_ >= kStrikesToSolo) {
            strikes_ = 0;
            soloForNs_ = soloForNs_ == 0 ? kFirstSoloNs : std::min(kMaxSoloNs, 2 * soloForNs_);
            soloUntilNs_ = at + soloForNs_;
        }
        return;
    }
    if (++cleanRegions_ >= kCleanRegionsToForget) {
        cleanRegions_ = 0;
        soloForNs_ = 0;
    }
}

void ThreadPool::workerLoop(int slot)
{
    uint64_t seen = 0;
    for (;;) {
        uint64_t g = generation_.load(std::memory_order_acquire);
        int spins = 0;
        while (g == seen && spins < kSpinIterations) {
            TENFOLD_PAUSE();
            ++spins;
            g = generation_.load(std::memory_order_acquire);
        }
        if (g == seen) {
            std::unique_lock lock(mutex_);
            sleepers_.fetch_add(1);
            wake_.wait(lock, [&] { return generation_.load() != seen; });
            sleepers_.fetch_sub(1);
            g = generation_.load();
        }
        seen = g;
        if (stop_.load())
            return;
        joined_.fetch_add(1);
        // Still the region we were woken for, and still open: take chunks.
        if (open_.load() && generation_.load() == g)
            work(slot);
        joined_.fetch_sub(1);
    }
}

} // namespace tenfold
