#pragma once
// Rank 0 of `tenfold-worker serve`: the HTTP front end's GenerationService over whole-model
// replicas on ranks 1..N-1. Each request goes to the live replica with the fewest requests in
// flight (the lowest rank among equals); its events come back over MPI and are delivered to the
// request's handle, so the server's HTTP code runs unchanged.
//
// Threads: submit() and the status calls come from HTTP threads; every MPI call is made by the
// one thread that runs pump() (MPI is initialised FUNNELED), which takes what submit() queued.
//
// Failures: every replica sends a heartbeat several times a second. One that is silent for the
// rank timeout (killed, crashed, stopped, its machine or link gone), or whose link MPI reports
// broken, is lost: its requests in flight end with an Error event naming the rank and the
// reason (errorCode "rank_lost"), and later requests go to the others. When none is left,
// submit() throws ServiceUnavailable.
#include "dist/mpi_link.h"
#include "serve/scheduler.h"

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tenfold::dist {

struct ReplicaStatus {
    int rank = 0;
    std::string host;
    int64_t pid = 0;
    bool ready = false;       // it sent its first heartbeat: its model is loaded
    bool lost = false;
    std::string lostReason;   // "no sign of life for 2.0 s: its process is gone", ...
    double lostAfterS = 0;    // how long after its last message it was declared lost
    int inFlight = 0;         // requests it holds now
    uint64_t routed = 0;      // requests sent to it
    uint64_t completed = 0;   // ended with Done
    uint64_t failed = 0;      // ended with Error (its own, or lost with it)
    double lastHeardS = 0;    // seconds since its last message
    SchedulerMetrics metrics; // its scheduler's, as of its last heartbeat
    uint64_t residentBytes = 0; // its process's RSS, as of its last heartbeat
};

class ReplicaRouter final : public GenerationService {
public:
    // replicaConfig: each replica's scheduler configuration (the same on every rank).
    ReplicaRouter(MpiLink& link, const SchedulerConfig& replicaConfig, int maxSequenceLength,
                  double rankTimeoutS, std::function<std::string(int)> describeRank);

    std::shared_ptr<ServeRequest> submit(ServeRequestParams params) override;
    SchedulerMetrics metrics() const override; // the replicas' summed (last known for lost ones)
    std::vector<RequestInfo> activeRequests() const override;
    const SchedulerConfig& config() const override { return config_; }
    int maxSequenceLength() const override { return maxSequenceLength_; }

    // The MPI thread. Waits until every replica said it is ready (or failed, or startupS passed:
    // it is then lost); the number ready.
    int awaitReplicas(double startupS);
    // One round: sends what submit() queued and the cancels, takes the replicas' messages,
    // declares silent ones lost. True when anything moved (the caller sleeps otherwise).
    bool pump();
    // Tells the live replicas to stop and waits (at most the rank timeout) for each to confirm.
    void stop();

    std::vector<ReplicaStatus> replicas() const;
    std::vector<int> lostRanks() const;
    bool canServe() const; // some replica is live

private:
    using Clock = MpiLink::Clock;
    struct InFlight {
        std::shared_ptr<ServeRequest> handle;
        int replica = 0;
        bool cancelSent = false;
        std::string client;
        int promptTokens = 0, generated = 0, n = 1;
        bool generating = false;
        Clock::time_point submitted;
    };
    struct Outgoing {
        int rank;
        std::vector<uint8_t> bytes;
    };
    struct Replica {
        ReplicaStatus status;
        Clock::time_point lastHeard;
    };

    void receiveAll(bool& moved);
    void markLost(int rank, const std::string& why); // mutex_ held
    std::string whyLost(int rank, double silentS) const;
    Replica* replica(int rank);

    MpiLink& link_;
    SchedulerConfig config_;
    int maxSequenceLength_;
    double rankTimeoutS_;
    std::function<std::string(int)> describeRank_;

    mutable std::mutex mutex_; // everything below
    std::vector<Replica> replicas_; // ranks 1..N-1
    std::map<uint64_t, InFlight> inFlight_;
    std::vector<Outgoing> outbox_;
    uint64_t nextId_ = 1;
    uint64_t rejected_ = 0;
    Clock::time_point lastBeat_;
    std::vector<uint8_t> in_;
};

} // namespace tenfold::dist
