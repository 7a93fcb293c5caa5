#pragma once
// Messages between the ranks of one `mpirun` job, over Open MPI's point-to-point calls, with a
// deadline on every wait. MPI's own blocking calls wait forever for a peer that stopped
// answering; here the communicator's error handler returns errors instead of aborting, and every
// send and receive is a non-blocking request polled until it completes or its deadline passes,
// so a lost rank becomes a RankLost error naming it, never a hang.
//
// MPI is initialised once per process (MpiLink is the only owner); not thread-safe: one thread
// (the rank's main thread, or one other while it is silent) talks.
#include "core/error.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tenfold::dist {

// A rank did not answer within its deadline, or MPI reported its connection broken.
class RankLost : public PeerLost {
public:
    RankLost(int rank, const std::string& why)
        : PeerLost("rank " + std::to_string(rank) + " lost: " + why), rank_(rank) {}
    int rank() const { return rank_; }

private:
    int rank_;
};

// Where a rank runs, gathered once at start-up for the status report.
struct RankInfo {
    int rank = 0;
    std::string host;
    int64_t pid = 0;
};

class MpiLink {
public:
    // MPI_Init_thread; throws Error when MPI cannot start (not launched by mpirun is fine: a
    // singleton job of one rank).
    MpiLink(int* argc, char*** argv);
    ~MpiLink(); // MPI_Finalize, unless abort() ran
    MpiLink(const MpiLink&) = delete;
    MpiLink& operator=(const MpiLink&) = delete;

    int rank() const { return rank_; }
    int size() const { return size_; }
    // Whether MPI lets another thread than the main one make the calls (one at a time), as
    // pipeline-parallel serving needs.
    bool serializedThreads() const;
    const std::vector<RankInfo>& ranks() const { return ranks_; } // every rank, by rank

    using Clock = std::chrono::steady_clock;
    // Sends bytes to `dest` with `tag`; waits until MPI has taken them, at most until deadline.
    // whileWaiting, when given, runs between polls (rank 0 drains answers with it, so a chain of
    // ranks blocked on each other's sends always moves).
    void send(int dest, int tag, const void* data, size_t bytes, Clock::time_point deadline,
              const std::function<void()>& whileWaiting = {});
    // Receives one message from `source` with `tag` into out (resized to its length).
    void receive(int source, int tag, std::vector<uint8_t>& out, Clock::time_point deadline);
    // The same without a deadline for a rank idling between commands; it still returns (throws
    // RankLost) when MPI reports the connection broken.
    void receiveForever(int source, int tag, std::vector<uint8_t>& out);
    // Without waiting: receives a message with `tag` from `source` (kAnySource: any rank) when one
    // has arrived and returns its sender, else -1. Completing a message that has begun to arrive
    // waits at most until deadline.
    static constexpr int kAnySource = -1;
    int tryReceive(int source, int tag, std::vector<uint8_t>& out, Clock::time_point deadline);
    // Sends without waiting for MPI to take the bytes (small notes: progress acknowledgements).
    // The bytes are copied.
    void post(int dest, int tag, const void* data, size_t bytes);

    // Ends the whole job with `code` (MPI_Abort): the way out once a rank is lost, since
    // MPI_Finalize would wait for it.
    [[noreturn]] void abort(int code);

private:
    void wait(void* request, int peer, const char* what, const Clock::time_point* deadline,
              const std::function<void()>* whileWaiting = nullptr);

    int rank_ = 0;
    int size_ = 1;
    bool aborted_ = false;
    int threadLevel_ = 0;
    std::vector<std::pair<void*, std::vector<uint8_t>>> posted_; // post()'s requests in flight
    std::vector<RankInfo> ranks_;
};

// Seconds since t on MpiLink's clock, and the deadline `seconds` from now (every wait has one).
inline double secondsSince(MpiLink::Clock::time_point t)
{
    return std::chrono::duration<double>(MpiLink::Clock::now() - t).count();
}

inline MpiLink::Clock::time_point deadlineAfter(double seconds)
{
    return MpiLink::Clock::now() +
           std::chrono::duration_cast<MpiLink::Clock::duration>(std::chrono::duration<double>(seconds));
}

} // namespace tenfold::dist
