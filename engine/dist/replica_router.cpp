#include "dist/replica_router.h"

#include "dist/serve_protocol.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

namespace tenfold::dist {
namespace {

using Clock = MpiLink::Clock;

void add(SchedulerMetrics& to, const SchedulerMetrics& m)
{
    to.requestsTotal += m.requestsTotal;
    to.requestsRejected += m.requestsRejected;
    to.requestsCancelled += m.requestsCancelled;
    to.requestsFailed += m.requestsFailed;
    to.promptTokensTotal += m.promptTokensTotal;
    to.generatedTokensTotal += m.generatedTokensTotal;
    to.preemptions += m.preemptions;
    to.steps += m.steps;
    to.running += m.running;
    to.waiting += m.waiting;
    to.lastBatchRows = std::max(to.lastBatchRows, m.lastBatchRows);
    to.kvBlocksUsed += m.kvBlocksUsed;
    to.kvBlocksTotal += m.kvBlocksTotal;
    to.busySeconds += m.busySeconds;
    to.draftProposed += m.draftProposed;
    to.draftAccepted += m.draftAccepted;
    to.prefixLookups += m.prefixLookups;
    to.prefixHits += m.prefixHits;
    to.prefixTokensReused += m.prefixTokensReused;
    to.prefixBlocksHeld += m.prefixBlocksHeld;
}

// The state letter of a process on this machine ('R', 'S', 'T' stopped, ...); 0 when it is gone.
char processState(int64_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line))
        return 0;
    const auto close = line.rfind(')'); // the name may hold spaces and parentheses
    return close != std::string::npos && close + 2 < line.size() ? line[close + 2] : '?';
}

} // namespace

ReplicaRouter::ReplicaRouter(MpiLink& link, const SchedulerConfig& replicaConfig, int maxSequenceLength,
                             double rankTimeoutS, std::function<std::string(int)> describeRank)
    : link_(link), config_(replicaConfig), maxSequenceLength_(maxSequenceLength), rankTimeoutS_(rankTimeoutS),
      describeRank_(std::move(describeRank))
{
    for (int r = 1; r < link.size(); ++r) {
        Replica rep;
        rep.status.rank = r;
        rep.status.host = link.ranks()[size_t(r)].host;
        rep.status.pid = link.ranks()[size_t(r)].pid;
        rep.lastHeard = Clock::now();
        replicas_.push_back(rep);
    }
    lastBeat_ = Clock::now();
}

ReplicaRouter::Replica* ReplicaRouter::replica(int rank)
{
    return rank >= 1 && rank <= int(replicas_.size()) ? &replicas_[size_t(rank - 1)] : nullptr;
}

std::shared_ptr<ServeRequest> ReplicaRouter::submit(ServeRequestParams params)
{
    if (params.prompt.empty())
        throw InvalidArgument("the prompt is empty");
    if (params.n < 1 || params.n > 16)
        throw InvalidArgument("n must be 1..16, got " + std::to_string(params.n));
    if (params.topLogprobs < -1 || params.topLogprobs > 20)
        throw InvalidArgument("top logprobs must be 0..20, got " + std::to_string(params.topLogprobs));
    if (!params.embedding && params.maxTokens <= 0)
        throw InvalidArgument("max tokens must be positive, got " + std::to_string(params.maxTokens));
    std::lock_guard lock(mutex_);
    // The least loaded live replica; the lowest rank among equals.
    Replica* best = nullptr;
    std::string lost;
    for (Replica& r : replicas_) {
        if (r.status.lost) {
            lost += (lost.empty() ? "" : "; ") + describeRank_(r.status.rank) + ": " + r.status.lostReason;
            continue;
        }
        if (r.status.ready && (!best || r.status.inFlight < best->status.inFlight))
            best = &r;
    }
    if (!best)
        throw ServiceUnavailable("no replica is left to serve the request (" +
                                 (lost.empty() ? std::string("none is ready") : "lost: " + lost) + ")");
    // A replica holds at most its running slots plus its queue; beyond that it would refuse.
    if (best->status.inFlight >= config_.maxRunning + config_.maxQueued) {
        ++rejected_;
        throw QueueFull("every replica is full");
    }
    const uint64_t id = nextId_++;
    InFlight f;
    f.handle = ServeRequest::relayed(id);
    f.replica = best->status.rank;
    f.client = params.client;
    f.promptTokens = int(params.prompt.size());
    f.n = params.n;
    f.submitted = Clock::now();
    ServeMessage m;
    m.op = ServeOp::Submit;
    m.id = id;
    m.params = std::move(params);
    outbox_.push_back({best->status.rank, encodeServe(m)});
    best->status.inFlight += 1;
    best->status.routed += 1;
    auto handle = f.handle;
    inFlight_.emplace(id, std::move(f));
    return handle;
}

SchedulerMetrics ReplicaRouter::metrics() const
{
    std::lock_guard lock(mutex_);
    SchedulerMetrics sum;
    for (const Replica& r : replicas_)
        add(sum, r.status.metrics);
    sum.requestsRejected += rejected_;
    return sum;
}

std::vector<RequestInfo> ReplicaRouter::activeRequests() const
{
    std::lock_guard lock(mutex_);
    std::vector<RequestInfo> out;
    for (const auto& [id, f] : inFlight_) { // ids grow with time: oldest first
        RequestInfo info;
        info.id = id;
        info.client = f.client;
        info.state = f.generating ? "generating" : "queued";
        info.promptTokens = f.promptTokens;
        info.generatedTokens = f.generated;
        info.n = f.n;
        info.elapsedMs = secondsSince(f.submitted) * 1000.0;
        out.push_back(info);
    }
    return out;
}

std::vector<ReplicaStatus> ReplicaRouter::replicas() const
{
    std::lock_guard lock(mutex_);
    std::vector<ReplicaStatus> out;
    for (const Replica& r : replicas_) {
        out.push_back(r.status);
        out.back().lastHeardS = secondsSince(r.lastHeard);
    }
    return out;
}

std::vector<int> ReplicaRouter::lostRanks() const
{
    std::lock_guard lock(mutex_);
    std::vector<int> out;
    for (const Replica& r : replicas_)
        if (r.status.lost)
            out.push_back(r.status.rank);
    return out;
}

bool ReplicaRouter::canServe() const
{
    std::lock_guard lock(mutex_);
    return std::any_of(replicas_.begin(), replicas_.end(), [](const Replica& r) { return !r.status.lost; });
}

std::string ReplicaRouter::whyLost(int rank, double silentS) const
{
    char text[200];
    std::snprintf(text, sizeof text, "no sign of life for %.1f s", silentS);
    std::string why = text;
    // On this machine the process itself says more: gone, or stopped (SIGSTOP, a debugger).
    const auto& ranks = link_.ranks();
    if (rank < int(ranks.size()) && ranks[size_t(rank)].host == ranks[0].host) {
        const char state = processState(ranks[size_t(rank)].pid);
        if (state == 0 || state == 'Z' || state == 'X')
            why += ": its process " + std::to_string(ranks[size_t(rank)].pid) + " is gone";
        else if (state == 'T' || state == 't')
            why += ": its process " + std::to_string(ranks[size_t(rank)].pid) + " is stopped";
        else
            why += ": it stopped answering";
    } else {
        why += ": it, its machine or the link to it stopped answering";
    }
    return why;
}

void ReplicaRouter::markLost(int rank, const std::string& why)
{
    Replica* r = replica(rank);
    if (!r || r->status.lost)
        return;
    r->status.lost = true;
    r->status.lostReason = why;
    r->status.lostAfterS = secondsSince(r->lastHeard);
    const std::string text = describeRank_(rank) + " was lost (" + why +
                             "); the request failed with it, the other replicas still serve";
    std::fprintf(stderr, "tenfold-worker serve: %s was lost: %s; %d request(s) in flight on it failed\n",
                 describeRank_(rank).c_str(), why.c_str(), r->status.inFlight);
    for (auto it = inFlight_.begin(); it != inFlight_.end();) {
        if (it->second.replica != rank) {
            ++it;
            continue;
        }
        ServeEvent e;
        e.kind = ServeEvent::Kind::Error;
        e.error = text;
        e.errorCode = "rank_lost";
        it->second.handle->deliver(std::move(e));
        r->status.failed += 1;
        it = inFlight_.erase(it);
    }
    r->status.inFlight = 0;
}

int ReplicaRouter::awaitReplicas(double startupS)
{
    const auto deadline = deadlineAfter(startupS);
    for (;;) {
        bool moved = false;
        receiveAll(moved);
        int ready = 0, pending = 0;
        {
            std::lock_guard lock(mutex_);
            for (const Replica& r : replicas_) {
                ready += r.status.ready && !r.status.lost;
                pending += !r.status.ready && !r.status.lost;
            }
            if (pending == 0)
                return ready;
            if (Clock::now() >= deadline) {
                char why[120];
                std::snprintf(why, sizeof why, "it was not ready within %.0f s of the start", startupS);
                for (const Replica& r : std::vector<Replica>(replicas_))
                    if (!r.status.ready && !r.status.lost)
                        markLost(r.status.rank, why);
                return ready;
            }
        }
        if (!moved)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void ReplicaRouter::receiveAll(bool& moved)
{
    for (;;) {
        int from = -1;
        try {
            from = link_.tryReceive(MpiLink::kAnySource, kTagServeUp, in_, deadlineAfter(rankTimeoutS_));
        } catch (const RankLost& e) {
            std::lock_guard lock(mutex_);
            moved = true;
            if (!replica(e.rank())) {
                // MPI could not even look (no sender known): try again next round.
                std::fprintf(stderr, "tenfold-worker serve: %s\n", e.what());
                return;
            }
            markLost(e.rank(), e.what());
            continue;
        }
        if (from < 0)
            return;
        moved = true;
        ServeMessage m;
        std::lock_guard lock(mutex_);
        Replica* r = replica(from);
        if (!r || r->status.lost)
            continue; // a late word from a rank already given up (it was stopped, then resumed)
        r->lastHeard = Clock::now();
        try {
            decodeServe(in_, m);
        } catch (const Error& e) {
            markLost(from, std::string("it sent a malformed message: ") + e.what());
            continue;
        }
        switch (m.op) {
        case ServeOp::Heartbeat:
            r->status.ready = true;
            r->status.metrics = m.metrics;
            r->status.residentBytes = m.residentBytes;
            break;
        case ServeOp::Failed:
            markLost(from, "it could not start: " + m.event.error);
            break;
        case ServeOp::Stopped:
            r->status.metrics = m.metrics;
            break;
        case ServeOp::Event: {
            auto it = inFlight_.find(m.id);
            if (it == inFlight_.end() || it->second.replica != from)
                break; // a request this rank no longer waits for
            InFlight& f = it->second;
            const bool last = m.event.kind == ServeEvent::Kind::Done || m.event.kind == ServeEvent::Kind::Error;
            if (m.event.kind == ServeEvent::Kind::Text) {
                f.generating = true;
                f.generated += int(m.event.tokens.size());
            }
            if (last) {
                (m.event.kind == ServeEvent::Kind::Done ? r->status.completed : r->status.failed) += 1;
                r->status.inFlight = std::max(0, r->status.inFlight - 1);
            }
            f.handle->deliver(std::move(m.event));
            if (last)
                inFlight_.erase(it);
            break;
        }
        default:
            markLost(from, "it sent an unexpected operation " + std::to_string(int(m.op)));
        }
    }
}

bool ReplicaRouter::pump()
{
    bool moved = false;
    std::vector<Outgoing> out;
    {
        std::lock_guard lock(mutex_);
        out.swap(outbox_);
        // Cancels (the client went away) go to the replica that holds the request.
        for (auto& [id, f] : inFlight_) {
            if (f.cancelSent || !f.handle->cancelRequested())
                continue;
            f.cancelSent = true;
            ServeMessage m;
            m.op = ServeOp::Cancel;
            m.id = id;
            out.push_back({f.replica, encodeServe(m)});
        }
        // Rank 0's own heartbeat, so a replica whose front end is gone leaves rather than waits.
        if (secondsSince(lastBeat_) > 0.25) {
            lastBeat_ = Clock::now();
            ServeMessage m;
            m.op = ServeOp::Heartbeat;
            const std::vector<uint8_t> beat = encodeServe(m);
            for (const Replica& r : replicas_)
                if (!r.status.lost)
                    out.push_back({r.status.rank, beat});
        }
    }
    for (Outgoing& o : out) {
        moved = true;
        {
            std::lock_guard lock(mutex_);
            const Replica* r = replica(o.rank);
            if (!r || r->status.lost)
                continue;
        }
        try {
            // Non-blocking: a replica that stopped reading must not stall the others.
            link_.post(o.rank, kTagServeDown, o.bytes.data(), o.bytes.size());
        } catch (const RankLost& e) {
            std::lock_guard lock(mutex_);
            markLost(o.rank, e.what());
        }
    }
    receiveAll(moved);
    std::lock_guard lock(mutex_);
    for (Replica& r : replicas_) {
        const double silent = secondsSince(r.lastHeard);
        if (!r.status.lost && r.status.ready && silent > rankTimeoutS_) {
            markLost(r.status.rank, whyLost(r.status.rank, silent));
            moved = true;
        }
    }
    return moved;
}

void ReplicaRouter::stop()
{
    ServeMessage m;
    m.op = ServeOp::Stop;
    const std::vector<uint8_t> bytes = encodeServe(m);
    std::vector<int> waiting;
    for (const ReplicaStatus& r : replicas())
        if (!r.lost) {
            try {
                link_.post(r.rank, kTagServeDown, bytes.data(), bytes.size());
                waiting.push_back(r.rank);
            } catch (const RankLost& e) {
                std::lock_guard lock(mutex_);
                markLost(r.rank, e.what());
            }
        }
    const auto deadline = deadlineAfter(rankTimeoutS_);
    std::vector<uint8_t> in;
    while (!waiting.empty() && Clock::now() < deadline) {
        const int from = link_.tryReceive(MpiLink::kAnySource, kTagServeUp, in, deadline);
        if (from < 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            continue;
        }
        ServeMessage reply;
        try {
            decodeServe(in, reply);
        } catch (const Error&) {
            continue;
        }
        if (reply.op == ServeOp::Stopped)
            waiting.erase(std::remove(waiting.begin(), waiting.end(), from), waiting.end());
    }
    std::lock_guard lock(mutex_);
    for (int rank : waiting)
        markLost(rank, "it did not confirm the stop within the rank timeout");
}

} // namespace tenfold::dist
