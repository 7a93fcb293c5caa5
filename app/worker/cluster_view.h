#pragma once
// The cluster as tenfold-worker serve's status endpoints show it: every rank with its host, pid
// and role, and per replica its requests in flight, served and failed, its scheduler's load and,
// when lost, why. /tenfold/status carries it as "cluster" (the desktop's Server page reads it),
// /metrics as tenfold_mpi_* series, /health as the lost ranks.
#include "server_context.h"

#include "dist/pipeline_batched.h"
#include "dist/replica_router.h"

namespace tenfold::worker {

class ClusterStatusView final : public server::ClusterView {
public:
    ClusterStatusView(const dist::MpiLink& link, const dist::ReplicaRouter& router, int nLayers)
        : link_(link), router_(router), nLayers_(nLayers) {}
    server::Json statusJson() const override;
    std::string prometheusText() const override;
    std::vector<int> lostRanks() const override { return router_.lostRanks(); }
    bool canServe() const override { return router_.canServe(); }

private:
    const dist::MpiLink& link_;
    const dist::ReplicaRouter& router_;
    int nLayers_;
};

// The same for a pipeline (--pipeline): every rank is a stage with its layers, passes, compute
// time and memory; one lost stage and nothing can be served.
class PipelineStatusView final : public server::ClusterView {
public:
    explicit PipelineStatusView(const dist::PipelineBatchedContext& pipeline) : pipeline_(pipeline) {}
    server::Json statusJson() const override;
    std::string prometheusText() const override;
    std::vector<int> lostRanks() const override;
    bool canServe() const override { return !pipeline_.lost(); }

private:
    const dist::PipelineBatchedContext& pipeline_;
};

} // namespace tenfold::worker
