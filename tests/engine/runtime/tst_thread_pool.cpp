// The CPU backend's thread pool: every chunk runs exactly once whatever the threads do, a body's
// exception reaches the caller, and the busy-machine fallback: regions that keep waiting on a
// worker the OS took away (simulated by a worker that sleeps inside its chunk) make the next
// regions run on the caller alone, for a while.
#include "runtime/thread_pool.h"

#include <QtTest>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace tenfold;
using namespace std::chrono_literals;

namespace {

// Keeps the calling thread busy for d (a sleeping caller would not show the wait).
void busyFor(std::chrono::microseconds d)
{
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
    }
}

} // namespace

class TestThreadPool : public QObject {
    Q_OBJECT

private slots:
    void everyChunkOnce()
    {
        for (int threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            for (int64_t n : {1, 2, 7, 1000}) {
                std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
                std::atomic<int> badSlot{0};
                pool.runChunks(n, [&](int64_t c, int slot) {
                    hits[size_t(c)].fetch_add(1);
                    if (slot < 0 || slot >= pool.size())
                        badSlot.fetch_add(1);
                });
                for (auto& h : hits)
                    QCOMPARE(h.load(), 1);
                QCOMPARE(badSlot.load(), 0);
            }
            // parallelFor covers [0, n) with no overlap.
            std::vector<std::atomic<int>> items(997);
            pool.parallelFor(997, 3, [&](int64_t b, int64_t e, int) {
                for (int64_t i = b; i < e; ++i)
                    items[size_t(i)].fetch_add(1);
            });
            for (auto& h : items)
                QCOMPARE(h.load(), 1);
        }
    }

    void exceptionReachesTheCaller()
    {
        ThreadPool pool(2);
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, pool.runChunks(64, [](int64_t c, int) {
            if (c == 17)
                throw std::runtime_error("chunk 17");
        }));
        std::atomic<int> n{0};
        pool.runChunks(10, [&](int64_t, int) { n.fetch_add(1); }); // still usable
        QCOMPARE(n.load(), 10);
    }

    void busyMachineRunsOnTheCaller()
    {
        ThreadPool pool(2);
        QCOMPARE(pool.soloRegions(), int64_t(0));
        // Each region: the caller's chunks take 20 us each, a worker's chunk 3 ms (as if the OS
        // had taken its core away), so the caller waits far longer than its own share.
        std::atomic<int> workerChunks{0};
        auto stalled = [&](int64_t, int slot) {
            if (slot == 0) {
                busyFor(20us);
            } else {
                workerChunks.fetch_add(1);
                std::this_thread::sleep_for(3ms);
            }
        };
        int regions = 0, workerChunksBefore = 0;
        while (pool.soloRegions() == 0 && regions < 40) {
            workerChunksBefore = workerChunks.load();
            pool.runChunks(8, stalled);
            ++regions;
        }
        QVERIFY2(pool.soloRegions() == 1, qPrintable(QString("no fallback after %1 regions, %2 worker chunks")
                                                         .arg(regions).arg(workerChunks.load())));
        QVERIFY(workerChunks.load() >= 3); // it took three stalled regions, at least
        // The region that ran on the caller alone gave no chunk to a worker.
        QCOMPARE(workerChunks.load(), workerChunksBefore);
        // After it the workers are asked again: some region soon has a chunk on another slot.
        std::this_thread::sleep_for(10ms);
        const int64_t after = pool.soloRegions();
        std::atomic<int> joined{0};
        for (int i = 0; i < 200 && joined.load() == 0; ++i)
            pool.runChunks(8, [&](int64_t, int slot) {
                busyFor(20us);
                if (slot != 0)
                    joined.fetch_add(1);
            });
        QVERIFY(joined.load() > 0);
        QVERIFY(pool.soloRegions() >= after);
    }
};

QTEST_GUILESS_MAIN(TestThreadPool)
#include "tst_thread_pool.moc"
