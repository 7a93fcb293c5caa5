#pragma once
// A fixed set of persistent worker threads for the CPU backend. A forward pass of a small model
// issues a few hundred parallel regions per token, so waking the workers must cost microseconds:
// workers spin on a generation counter for a short while before sleeping on a condition variable,
// and the calling thread takes part as slot 0.
//
// Work is split into chunks that threads claim from an atomic counter, and a worker that has not
// started by the time the caller has run out of chunks simply sits that region out. So when the
// machine is oversubscribed (a descheduled worker), the caller finishes alone instead of waiting.
//
// A worker the OS deschedules in the middle of a chunk still makes the caller wait for the rest of
// its time slice (milliseconds, against tens of microseconds of work per decode region), and a
// spinning worker takes CPU time from the caller. So when regions keep waiting on a worker longer
// than the caller's own share took, the pool runs the next regions on the caller alone (the
// workers stop spinning and sleep), for a period that doubles while the machine stays busy (2 ms
// to 256 ms) and is forgotten after a run of regions without such waits.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tenfold {

class ThreadPool {
public:
    // nThreads counts the calling thread; 0 picks one per core.
    explicit ThreadPool(int nThreads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return nThreads_; }

    // Calls body(chunk, slot) once for every chunk in [0, nChunks). `slot` (0 .. size()-1) is
    // unique among the threads running at the same time, for per-thread scratch. Returns when
    // every chunk is done. One caller at a time. If a body throws, no further chunks are handed
    // out, the region still closes and waits for its workers, and the first exception is
    // rethrown to the caller; the pool stays usable.
    void runChunks(int64_t nChunks, const std::function<void(int64_t, int)>& body);

    // body(begin, end, slot) over [0, n) in pieces of at least `grain` items (a few per thread,
    // so that threads that finish early take more).
    template <class F>
    void parallelFor(int64_t n, int64_t grain, F&& body)
    {
        if (n <= 0)
            return;
        grain = std::max<int64_t>(1, grain);
        int64_t units = (n + grain - 1) / grain;
        if (nThreads_ == 1 || units == 1) {
            body(int64_t(0), n, 0);
            return;
        }
        const int64_t perChunk = std::max<int64_t>(1, units / (int64_t(nThreads_) * 4));
        const int64_t chunkItems = perChunk * grain;
        const int64_t chunks = (n + chunkItems - 1) / chunkItems;
        // One captured pointer keeps the std::function in its small buffer: no allocation.
        struct Range {
            F* body;
            int64_t n, chunkItems;
        } range{&body, n, chunkItems};
        runChunks(chunks, [&range](int64_t c, int slot) {
            const int64_t b = c * range.chunkItems;
            (*range.body)(b, std::min(range.n, b + range.chunkItems), slot);
        });
    }

    static int hardwareThreads();

    // Regions run on the caller alone because the machine was busy, since construction.
    int64_t soloRegions() const { return soloRegions_; }

private:
    // After a region: the caller's own share took `ownNs`, then it waited `waitedNs` for workers.
    void noteWait(int64_t ownNs, int64_t waitedNs, int64_t at);
    void workerLoop(int slot);
    void work(int slot);

    int nThreads_;
    std::vector<std::thread> workers_;
    const std::function<void(int64_t, int)>* job_ = nullptr;
    int64_t nChunks_ = 0;
    std::atomic<int64_t> nextChunk_{0};
    std::atomic<uint64_t> generation_{0};
    std::atomic<bool> open_{false};   // workers may still join the current region
    std::atomic<int> joined_{0};      // workers inside the current region
    std::atomic<bool> stop_{false};
    std::mutex errorMutex_;
    std::exception_ptr error_; // first exception thrown by a body in the current region
    std::atomic<int> sleepers_{0};
    std::mutex mutex_;
    std::condition_variable wake_;
    // Busy-machine fallback (above); the caller's alone, one caller at a time.
    int64_t soloUntilNs_ = 0;   // steady clock: regions before this run on the caller alone
    int64_t soloForNs_ = 0;     // the current fallback period (0: none yet)
    int strikes_ = 0;           // regions that waited on a descheduled worker, recently
    int64_t lastStrikeNs_ = 0;  // when the last of them ended
    int cleanRegions_ = 0;      // parallel regions since the last such wait
    int64_t soloRegions_ = 0;
};

} // namespace tenfold
