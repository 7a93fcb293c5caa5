#pragma once
// One prune-and-measure run for the desktop app (engine/passes/prune.h), optionally followed by
// recovery fine-tuning on the trainer (engine/train/trainer.h) with the pruned weights held at
// zero, then measured against the input like every optimization (session/optimize_job.h).
#include "session/optimize_job.h"

namespace tenfold::ui {

struct PruneJobRequest {
    QString input, output;
    QString method = QStringLiteral("wanda"); // magnitude, wanda, sparsegpt, heads, ffn, layers
    double sparsity = 0.5;                    // fraction removed (unstructured, heads, ffn)
    int nmKeep = 0, nmGroup = 0;              // N:M instead of sparsity when nmGroup > 0
    int layersKeep = 0;                       // layers: how many stay
    int recoverSteps = 0;                     // 0: no recovery fine-tuning
    double recoverLr = 2e-4;
    int recoverBatch = 4;
    int recoverCtx = 128;
    QString textFile;                         // calibration + recovery + evaluation; empty: shipped
    QString evalCacheDir;
    int threads = 0;
};

// The run's parameters as optimization_runs keeps them (JSON), with the chart's "label".
QString pruneParametersJson(const PruneJobRequest& r, const QString& error = {});
// "wanda 50%", "sparsegpt 2:4", "layers 6 kept", "ffn 25% + 200 recovery steps"
QString pruneLabel(const PruneJobRequest& r);

class PruneJob : public OptimizeJob {
    Q_OBJECT
public:
    using OptimizeJob::OptimizeJob;
    // Starts the run; false (nothing started) when one is going.
    bool start(const PruneJobRequest& request);
};

} // namespace tenfold::ui
