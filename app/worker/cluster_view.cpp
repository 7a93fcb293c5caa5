#include "cluster_view.h"

#include <sstream>

namespace tenfold::worker {

using server::Json;

Json ClusterStatusView::statusJson() const
{
    Json ranks = Json::array();
    const dist::RankInfo& front = link_.ranks()[0];
    ranks.push_back({{"rank", 0}, {"host", front.host}, {"pid", front.pid}, {"role", "front end"}, {"lost", false}});
    Json lost = Json::array();
    for (const dist::ReplicaStatus& r : router_.replicas()) {
        Json j = {{"rank", r.rank},
                  {"host", r.host},
                  {"pid", r.pid},
                  {"role", "replica"},
                  {"first_layer", 0},
                  {"end_layer", nLayers_},
                  {"ready", r.ready},
                  {"lost", r.lost},
                  {"in_flight", r.inFlight},
                  {"routed", r.routed},
                  {"completed", r.completed},
                  {"failed", r.failed},
                  {"last_heard_s", r.lastHeardS},
                  {"running", r.metrics.running},
                  {"waiting", r.metrics.waiting},
                  {"generated_tokens_total", r.metrics.generatedTokensTotal},
                  {"busy_seconds", r.metrics.busySeconds},      // its forward passes' time
                  {"resident_bytes", r.residentBytes}};
        if (r.lost) {
            j["lost_reason"] = r.lostReason;
            lost.push_back(r.rank);
        }
        ranks.push_back(std::move(j));
    }
    return Json{{"mode", "data_parallel"}, {"ranks", ranks}, {"lost_ranks", lost}};
}

std::string ClusterStatusView::prometheusText() const
{
    const std::vector<dist::ReplicaStatus> replicas = router_.replicas();
    std::ostringstream os;
    auto series = [&](const char* name, const char* type, const char* help, auto value) {
        os << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
        for (const dist::ReplicaStatus& r : replicas)
            os << name << "{rank=\"" << r.rank << "\",host=\"" << r.host << "\"} " << value(r) << '\n';
    };
    series("tenfold_mpi_replica_up", "gauge", "1 while the replica on this MPI rank serves, 0 once it is lost.",
           [](const dist::ReplicaStatus& r) { return r.lost ? 0 : 1; });
    series("tenfold_mpi_replica_in_flight", "gauge", "Requests the replica holds now.",
           [](const dist::ReplicaStatus& r) { return r.inFlight; });
    series("tenfold_mpi_replica_requests_routed_total", "counter", "Requests sent to the replica.",
           [](const dist::ReplicaStatus& r) { return r.routed; });
    series("tenfold_mpi_replica_requests_completed_total", "counter", "Requests the replica answered to the end.",
           [](const dist::ReplicaStatus& r) { return r.completed; });
    series("tenfold_mpi_replica_requests_failed_total", "counter",
           "Requests that failed on the replica (its own errors, or lost with it).",
           [](const dist::ReplicaStatus& r) { return r.failed; });
    int lost = 0;
    for (const dist::ReplicaStatus& r : replicas)
        lost += r.lost;
    os << "# HELP tenfold_mpi_ranks_lost Replicas lost since the start.\n# TYPE tenfold_mpi_ranks_lost gauge\n"
       << "tenfold_mpi_ranks_lost " << lost << '\n';
    return os.str();
}

Json PipelineStatusView::statusJson() const
{
    Json ranks = Json::array();
    Json lost = Json::array();
    for (const dist::StageStatus& st : pipeline_.stageStatus()) {
        Json j = {{"rank", st.rank},
                  {"host", st.host},
                  {"pid", st.pid},
                  {"role", st.rank == 0 ? "front end and stage" : "stage"},
                  {"first_layer", st.firstLayer},
                  {"end_layer", st.endLayer},
                  {"ready", true},
                  {"lost", st.lost},
                  {"passes", st.passes},
                  {"busy_seconds", st.busySeconds}, // its share of the forward passes
                  {"resident_bytes", st.residentBytes},
                  {"last_heard_s", st.lastHeardS}};
        if (st.lost) {
            j["lost_reason"] = st.lostReason;
            lost.push_back(st.rank);
        }
        ranks.push_back(std::move(j));
    }
    return Json{{"mode", "pipeline"}, {"ranks", ranks}, {"lost_ranks", lost}};
}

std::vector<int> PipelineStatusView::lostRanks() const
{
    std::vector<int> out;
    for (const dist::StageStatus& st : pipeline_.stageStatus())
        if (st.lost)
            out.push_back(st.rank);
    return out;
}

std::string PipelineStatusView::prometheusText() const
{
    const std::vector<dist::StageStatus> stages = pipeline_.stageStatus();
    std::ostringstream os;
    auto series = [&](const char* name, const char* type, const char* help, auto value) {
        os << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
        for (const dist::StageStatus& st : stages)
            os << name << "{rank=\"" << st.rank << "\",host=\"" << st.host << "\",layers=\"" << st.firstLayer
               << ".." << st.endLayer - 1 << "\"} " << value(st) << '\n';
    };
    series("tenfold_mpi_stage_up", "gauge", "1 while the pipeline stage on this MPI rank answers, 0 once it is lost.",
           [](const dist::StageStatus& st) { return st.lost ? 0 : 1; });
    series("tenfold_mpi_stage_passes_total", "counter", "Pipeline passes (batch pieces) the stage computed.",
           [](const dist::StageStatus& st) { return st.passes; });
    series("tenfold_mpi_stage_busy_seconds_total", "counter", "Seconds the stage spent computing its layers.",
           [](const dist::StageStatus& st) { return st.busySeconds; });
    series("tenfold_mpi_stage_resident_bytes", "gauge", "The stage process's resident memory.",
           [](const dist::StageStatus& st) { return st.residentBytes; });
    int lost = 0;
    for (const dist::StageStatus& st : stages)
        lost += st.lost;
    os << "# HELP tenfold_mpi_ranks_lost Stages lost since the start.\n# TYPE tenfold_mpi_ranks_lost gauge\n"
       << "tenfold_mpi_ranks_lost " << lost << '\n';
    return os.str();
}

} // namespace tenfold::worker
