#pragma once
// The messages of a tenfold-worker job. One message per hop: a fixed header, then the token ids,
// then floats (a residual stream or logits), then the per-stage compute times so far.
//   Layers  0 -> 1 -> ... -> N-1 -> 0   pipeline: each rank runs its layers on the stream
//   Decode  0 -> replica -> 0           data parallel: a whole-model pass, logits back
//   Stop    along the same path; each worker answers with its Report to rank 0 and leaves
// The header carries the sequence's position, so a stage that holds more cached positions than
// rank 0 (after a truncate: regenerate, speculative undo) drops them first; no separate message.
#include "core/error.h"

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace tenfold::dist {

enum class Op : int64_t { Layers = 1, Decode = 2, Stop = 3 };

constexpr int kTagWork = 1;   // commands along the pipeline / to a replica
constexpr int kTagResult = 2; // the last stage's stream / a replica's logits, to rank 0
constexpr int kTagReport = 3; // a worker's report, to rank 0, on Stop
constexpr int kTagProgress = 4; // pipeline: "stage k got pass p" / "stage k passed pass p on"

// Every stage tells rank 0 when it takes a pass and when it has handed it on, so when the
// chain stalls rank 0 knows which rank holds it: the one that took it and never handed it on, or
// the one after the last hand-over.
struct Progress {
    int64_t pass = 0;
    int64_t stage = 0;
    int64_t handedOn = 0; // 0: taken, 1: handed on
};

struct Header {
    int64_t op = 0;
    int64_t nTokens = 0;
    int64_t position = 0; // where the tokens go in the sequence
    int64_t firstRow = 0; // Decode: logits of rows firstRow..nTokens-1
    int64_t nFloats = 0;
    int64_t nTimes = 0;   // stage compute times (microseconds), one per stage so far
    int64_t pass = 0;     // rank 0's pass counter, for the progress notes
};

struct Message {
    Header h;
    std::vector<int32_t> tokens;
    std::vector<float> floats;
    std::vector<double> times;
};

inline std::vector<uint8_t> encode(const Message& m)
{
    Header h = m.h;
    h.nTokens = int64_t(m.tokens.size());
    h.nFloats = int64_t(m.floats.size());
    h.nTimes = int64_t(m.times.size());
    std::vector<uint8_t> out(sizeof h + m.tokens.size() * 4 + m.floats.size() * 4 + m.times.size() * 8);
    uint8_t* at = out.data();
    std::memcpy(at, &h, sizeof h);
    at += sizeof h;
    if (!m.tokens.empty())
        std::memcpy(at, m.tokens.data(), m.tokens.size() * 4);
    at += m.tokens.size() * 4;
    if (!m.floats.empty())
        std::memcpy(at, m.floats.data(), m.floats.size() * 4);
    at += m.floats.size() * 4;
    if (!m.times.empty())
        std::memcpy(at, m.times.data(), m.times.size() * 8);
    return out;
}

// Throws Error when the bytes are not a whole message (a peer of another build).
inline void decode(std::span<const uint8_t> bytes, Message& m)
{
    if (bytes.size() < sizeof(Header))
        throw Error("a worker message of " + std::to_string(bytes.size()) + " bytes is shorter than its header");
    std::memcpy(&m.h, bytes.data(), sizeof(Header));
    const Header& h = m.h;
    if (h.nTokens < 0 || h.nFloats < 0 || h.nTimes < 0 ||
        bytes.size() != sizeof(Header) + uint64_t(h.nTokens) * 4 + uint64_t(h.nFloats) * 4 + uint64_t(h.nTimes) * 8)
        throw Error("a worker message of " + std::to_string(bytes.size()) + " bytes does not match its header");
    const uint8_t* at = bytes.data() + sizeof(Header);
    m.tokens.resize(size_t(h.nTokens));
    m.floats.resize(size_t(h.nFloats));
    m.times.resize(size_t(h.nTimes));
    if (h.nTokens)
        std::memcpy(m.tokens.data(), at, size_t(h.nTokens) * 4);
    at += size_t(h.nTokens) * 4;
    if (h.nFloats)
        std::memcpy(m.floats.data(), at, size_t(h.nFloats) * 4);
    at += size_t(h.nFloats) * 4;
    if (h.nTimes)
        std::memcpy(m.times.data(), at, size_t(h.nTimes) * 8);
}

// What a worker tells rank 0 when it stops (and what rank 0 knows of itself).
struct RankReport {
    int64_t rank = 0;
    int64_t firstLayer = 0, endLayer = 0; // layers [firstLayer, endLayer); a replica: all
    int64_t passes = 0;                   // forward passes (pipeline hops or replica decodes)
    double computeMs = 0;                 // time in those passes
    uint64_t kvBytes = 0;                 // its context's KV cache and buffers
    uint64_t peakRssBytes = 0;            // the process's peak resident memory
    uint64_t weightBytes = 0;             // the weights its layers read
    double waitMs = 0;                    // rank 0: pass time not spent computing on any rank
                                          // (messages, polling, queueing behind other work)
    // The same for one-token passes only (decode steps), for the per-token cost model.
    int64_t tokenPasses = 0;
    double tokenComputeMs = 0;
    double tokenWaitMs = 0;
};

} // namespace tenfold::dist
