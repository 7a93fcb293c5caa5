#pragma once
// Rank 0's watch over a pass travelling along a pipeline (the generate path's PipelineContext and
// the server's PipelineBatchedContext): each stage posts a Progress note when it takes a pass and
// when it hands it on, every note restarts the deadline, and when the deadline passes the watch
// names the rank that holds the pass and why.
#include "dist/mpi_link.h"
#include "dist/protocol.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace tenfold::dist {

class PassWatch {
public:
    // A new pass (or batch of pieces) from pass number firstPass on, first handed to rank 1.
    void start(int64_t firstPass)
    {
        firstPass_ = firstPass;
        holder_ = 1;
        computing_ = false;
    }
    void restart(double limit) { deadline_ = deadlineAfter(limit); }
    MpiLink::Clock::time_point deadline() const { return deadline_; }

    // Takes every note that has arrived on `tag`; heard(stage) runs for each, also for notes of
    // earlier passes (the stage is alive), which do not move the holder.
    template <class Heard>
    void takeNotes(MpiLink& link, int tag, int nStages, double limit, Heard&& heard)
    {
        while (link.tryReceive(MpiLink::kAnySource, tag, note_, deadline_) >= 0) {
            Progress p;
            if (note_.size() != sizeof p)
                continue;
            std::memcpy(&p, note_.data(), sizeof p);
            heard(int(p.stage));
            if (p.pass < firstPass_)
                continue; // a late note of an earlier pass
            if (p.handedOn) {
                holder_ = std::min(nStages - 1, int(p.stage) + 1);
                computing_ = false;
            } else {
                holder_ = int(p.stage);
                computing_ = true;
            }
            restart(limit);
        }
    }

    // Throws RankLost naming the holder (describe(rank) says where it runs) once the deadline has
    // passed; otherwise waits a little, longer the longer it has waited (spins: the caller's count).
    template <class Describe>
    void checkOrWait(double limit, int& spins, Describe&& describe) const
    {
        if (MpiLink::Clock::now() >= deadline_) {
            char why[160];
            std::snprintf(why, sizeof why, "%s within %.1f s",
                          computing_ ? "it took a pass and did not hand it on"
                                     : "it was handed a pass and did not take it",
                          limit);
            throw RankLost(holder_, describe(holder_) + ": " + why);
        }
        ++spins;
        if (spins < 64)
            std::this_thread::yield();
        else
            std::this_thread::sleep_for(std::chrono::microseconds(spins < 1024 ? 50 : 1000));
    }

    int64_t firstPass() const { return firstPass_; }

private:
    int64_t firstPass_ = 0;
    int holder_ = 1;         // the rank that should be working on the pass now
    bool computing_ = false; // it has taken the pass (else: it was handed to it)
    MpiLink::Clock::time_point deadline_;
    std::vector<uint8_t> note_;
};

} // namespace tenfold::dist
