#pragma once
// The messages of `tenfold-worker serve` (data parallel): rank 0 runs the HTTP front end and
// relays each request to one whole-model replica, whose scheduler generates and sends the
// request's events back one message each. One tag per direction, so MPI's ordering of messages
// between two ranks on one tag keeps a request's Submit before its Cancel and its events in order.
//   down (rank 0 -> replica): Submit, Cancel, Heartbeat (rank 0 is alive), Stop
//   up (replica -> rank 0):   Event, Heartbeat (alive, with its scheduler's metrics and its RSS; the first
//                             one says it is ready), Stopped, Failed (it could not start)
#include "serve/scheduler.h"

#include <cstdint>
#include <span>
#include <vector>

namespace tenfold::dist {

constexpr int kTagServeDown = 20;
constexpr int kTagServeUp = 21;

enum class ServeOp : uint8_t { Submit = 1, Cancel = 2, Stop = 3, Event = 4, Heartbeat = 5, Stopped = 6, Failed = 7 };

struct ServeMessage {
    ServeOp op = ServeOp::Heartbeat;
    uint64_t id = 0;            // the request (rank 0's numbering): Submit, Cancel, Event
    ServeRequestParams params;  // Submit
    ServeEvent event;           // Event; Failed: event.error says why
    SchedulerMetrics metrics;   // Heartbeat (from a replica), Stopped
    uint64_t residentBytes = 0; // Heartbeat, Stopped: the replica process's RSS
};

std::vector<uint8_t> encodeServe(const ServeMessage& m);
// Throws Error when the bytes are not a whole message (a peer of another build).
void decodeServe(std::span<const uint8_t> bytes, ServeMessage& m);

} // namespace tenfold::dist
