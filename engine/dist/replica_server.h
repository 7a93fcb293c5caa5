#pragma once
// A replica rank of `tenfold-worker serve`: runs the requests rank 0 relays on this rank's own
// scheduler (the whole model, continuous batching) and sends their events back, with a
// heartbeat several times a second (with the scheduler's metrics) so rank 0 knows it lives.
#include "dist/mpi_link.h"
#include "serve/scheduler.h"

#include <string>

namespace tenfold::dist {

// Serves until rank 0 says stop; then stops the scheduler and confirms. Throws RankLost when
// rank 0 (which sends a heartbeat too) is silent for rankTimeoutS: the front end is gone.
void runReplica(MpiLink& link, Scheduler& scheduler, double rankTimeoutS);

// Tells rank 0 this replica could not start (the model did not load, ...), so it is reported at
// once rather than after the start-up timeout.
void reportReplicaFailed(MpiLink& link, const std::string& why, double rankTimeoutS);

} // namespace tenfold::dist
