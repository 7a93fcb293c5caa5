#pragma once
// One distillation run for the desktop app: a student of some of the teacher's layers (evenly
// spaced, starting from the teacher's weights) trained on the teacher's softened distributions
// plus cross-entropy (engine/train/trainer.h), saved as F16 GGUF, then measured against the
// teacher on held-out text (session/optimize_job.h). Pause holds the loop between steps.
#include "session/optimize_job.h"

namespace tenfold::ui {

struct DistillJobRequest {
    QString teacher, output;
    int layers = 4;            // the student's layers, spread evenly over the teacher's
    qint64 steps = 100;
    int batch = 4;
    int ctx = 128;
    double lr = 5e-4;
    double alpha = 0.5;        // weight of the KL term; 0 trains on cross-entropy alone
    double temperature = 2.0;
    quint64 seed = 1;
    bool noTeacher = false;    // the baseline: the same student, cross-entropy only
    QString textFile;          // training text (its last quarter measures quality); empty: shipped
    QString evalCacheDir;
    int threads = 0;
};

QString distillParametersJson(const DistillJobRequest& r, const QString& error = {});
// "4 layers, KD 200 steps" / "4 layers, CE only 200 steps"
QString distillLabel(const DistillJobRequest& r);

class DistillJob : public OptimizeJob {
    Q_OBJECT
public:
    using OptimizeJob::OptimizeJob;
    bool start(const DistillJobRequest& request);
};

} // namespace tenfold::ui
