#pragma once
// `mpirun -np N tenfold-worker serve MODEL [tenfold-server's options] [--rank-timeout S]
// [--pipeline | --split A,B,... | --micro-batch N]`: data-parallel serving by default, pipeline
// parallel (dist/pipeline_batched.h) with --pipeline. Data parallel: Rank 0 runs tenfold-server's HTTP front end (app/server, the same code)
// and is not a replica itself: it tokenizes, routes and streams, while ranks 1..N-1 each hold the
// whole model and a continuous-batching scheduler. Requests and their events travel as MPI
// messages (dist/serve_protocol.h); the only listener is the HTTP front end.
#include "dist/mpi_link.h"

#include <csignal>
#include <string>
#include <vector>

namespace tenfold::worker {

// Runs this rank's part; the exit code. main() has blocked the stop signals in every thread
// (platform::blockStopSignals). Rank 0 sets *skipFinalize when a rank was lost (MPI_Finalize would wait for it).
int runServe(dist::MpiLink& link, const std::vector<std::string>& args, bool* skipFinalize);
std::string serveHelpText();

} // namespace tenfold::worker
