#include "dist/replica_server.h"

#include "dist/serve_protocol.h"

#include "core/platform.h"

#include <cstdio>
#include <map>
#include <memory>
#include <thread>

namespace tenfold::dist {
namespace {

using Clock = MpiLink::Clock;

void postUp(MpiLink& link, const ServeMessage& m)
{
    const std::vector<uint8_t> bytes = encodeServe(m);
    link.post(0, kTagServeUp, bytes.data(), bytes.size());
}

void postError(MpiLink& link, uint64_t id, const std::string& text, const std::string& code)
{
    ServeMessage m;
    m.op = ServeOp::Event;
    m.id = id;
    m.event.kind = ServeEvent::Kind::Error;
    m.event.error = text;
    m.event.errorCode = code;
    postUp(link, m);
}

} // namespace

void runReplica(MpiLink& link, Scheduler& scheduler, double rankTimeoutS)
{
    std::map<uint64_t, std::shared_ptr<ServeRequest>> running;
    std::vector<uint8_t> in;
    ServeMessage beat;
    beat.op = ServeOp::Heartbeat;
    beat.metrics = scheduler.metrics();
    beat.residentBytes = platform::residentBytes();
    postUp(link, beat); // the first one: ready
    auto lastBeat = Clock::now(), lastFromFront = Clock::now();
    int idle = 0;
    for (;;) {
        bool moved = false;
        while (link.tryReceive(0, kTagServeDown, in, deadlineAfter(rankTimeoutS)) >= 0) {
            moved = true;
            lastFromFront = Clock::now();
            ServeMessage m;
            decodeServe(in, m);
            if (m.op == ServeOp::Stop) {
                for (auto& [id, h] : running)
                    h->cancel();
                scheduler.stop();
                ServeMessage done;
                done.op = ServeOp::Stopped;
                done.metrics = scheduler.metrics();
                done.residentBytes = platform::residentBytes();
                const std::vector<uint8_t> bytes = encodeServe(done);
                link.send(0, kTagServeUp, bytes.data(), bytes.size(), deadlineAfter(rankTimeoutS));
                return;
            }
            if (m.op == ServeOp::Submit) {
                try {
                    running[m.id] = scheduler.submit(std::move(m.params));
                } catch (const QueueFull& e) {
                    postError(link, m.id, e.what(), "queue_full");
                } catch (const Error& e) {
                    postError(link, m.id, e.what(), "");
                }
            } else if (m.op == ServeOp::Cancel) {
                if (auto it = running.find(m.id); it != running.end())
                    it->second->cancel();
            } else if (m.op != ServeOp::Heartbeat) {
                throw Error("rank 0 sent a replica the unexpected operation " + std::to_string(int(m.op)));
            }
        }
        // Each request's events, in order, as the scheduler produced them.
        for (auto it = running.begin(); it != running.end();) {
            ServeMessage m;
            m.op = ServeOp::Event;
            m.id = it->first;
            bool last = false;
            while (!last && it->second->next(m.event, std::chrono::milliseconds(0))) {
                moved = true;
                last = m.event.kind == ServeEvent::Kind::Done || m.event.kind == ServeEvent::Kind::Error;
                postUp(link, m);
                m.event = ServeEvent{};
            }
            it = last ? running.erase(it) : std::next(it);
        }
        if (secondsSince(lastBeat) > 0.2) {
            lastBeat = Clock::now();
            beat.metrics = scheduler.metrics();
            beat.residentBytes = platform::residentBytes();
            postUp(link, beat);
        }
        if (secondsSince(lastFromFront) > rankTimeoutS) {
            char why[120];
            std::snprintf(why, sizeof why, "the front end gave no sign of life for %.1f s", secondsSince(lastFromFront));
            throw RankLost(0, why);
        }
        // Polling keeps an idle replica off the cores its scheduler computes on.
        idle = moved ? 0 : idle + 1;
        if (idle > 16)
            std::this_thread::sleep_for(std::chrono::microseconds(idle > 256 ? 1000 : 100));
        else if (idle > 0)
            std::this_thread::yield();
    }
}

void reportReplicaFailed(MpiLink& link, const std::string& why, double rankTimeoutS)
{
    ServeMessage m;
    m.op = ServeOp::Failed;
    m.event.kind = ServeEvent::Kind::Error;
    m.event.error = why;
    const std::vector<uint8_t> bytes = encodeServe(m);
    try {
        link.send(0, kTagServeUp, bytes.data(), bytes.size(), deadlineAfter(rankTimeoutS));
    } catch (const Error&) {
        // Rank 0 is gone too: nobody to tell.
    }
}

} // namespace tenfold::dist
