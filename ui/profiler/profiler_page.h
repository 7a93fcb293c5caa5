#pragma once
// Profiler: live while a reply is generated, or a benchmark of the loaded model runs from this
// page (a prompt pass and a decode run, as tenfold-cli bench; recorded in the usage ledger as a
// "benchmark"), on a model loaded with per-op timing (the switch on this page; off, the engine
// times nothing and only speed and memory show): tokens/s over time, the time per op per layer of the
// last forward pass as a stacked chart and, summed over the reply, a sortable table; memory
// (process RSS, the KV cache, a GPU's heaps: VK_EXT_memory_budget or what Tenfold holds); CPU use
// per core; decode's achieved memory bandwidth as a share of the machine's measured read
// bandwidth (the roofline) and prefill GFLOP/s. A profile can be
// recorded to the database and two recordings compared side by side.
#include "core/page.h"
#include "profile/op_profile.h"
#include "profile/process_sampler.h"
#include "session/engine_types.h"
#include "store/store.h"

#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;

QT_BEGIN_NAMESPACE
class QChartView;
class QLineSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace tenfold::ui {

class ProfilerPage : public Page {
    Q_OBJECT
public:
    ProfilerPage(AppContext& context, QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("profiler"); }
    QString title() const override { return tr("Profiler"); }
    IconKind icon() const override { return IconKind::Info; }
    void pageShown() override;

    // Measures the machine's read bandwidth on a background thread (bandwidthMeasured follows).
    void measureBandwidth(quint64 bytes = 1ull << 30);
    // Records what the current reply's profile shows; profileRecorded(id) follows.
    void recordProfile(const QString& name = QString());
    // Reads the recorded profiles for the comparison (recordingsShown follows).
    void refreshRecordings();
    void compare(qint64 a, qint64 b);
    // Runs the benchmark on the loaded model with the page's token counts (benchmarkDone follows).
    void runBenchmark();

    // For tests.
    QCheckBox* profilingBox() const { return enable_; }
    QPushButton* reloadButton() const { return reload_; }
    QPushButton* recordButton() const { return record_; }
    QTableWidget* opsTable() const { return ops_; }
    QTableWidget* compareTable() const { return compare_; }
    QComboBox* firstRecording() const { return first_; }
    QComboBox* secondRecording() const { return second_; }
    QLabel* figuresLabel() const { return figures_; }
    QChartView* speedChart() const { return speedView_; }
    QChartView* opsChart() const { return opsView_; }
    QChartView* coresChart() const { return coresView_; }
    QSpinBox* benchPromptTokens() const { return benchPrompt_; }
    QSpinBox* benchGenTokens() const { return benchGen_; }
    QPushButton* benchButton() const { return benchRun_; }
    QPushButton* benchCancelButton() const { return benchCancel_; }
    QProgressBar* benchProgress() const { return benchProgress_; }
    QLabel* benchSummary() const { return benchSummary_; }
    const BenchResult& lastBenchmark() const { return bench_; }
    const profile::OpProfile& replyProfile() const { return reply_; }
    double machineGbPerSecond() const { return machineGbPerSecond_; }
    int samplesSeen() const { return samples_; }

signals:
    void bandwidthMeasured(double gbPerSecond);
    void profileRecorded(qint64 id);
    void recordingsShown();
    void comparisonShown();
    void sampleShown();
    // ok: it ran to the end or was cancelled (then partial figures); false: it failed.
    void benchmarkDone(bool ok);

private:
    void onSample(const ProfileSample& sample);
    void showFigures();
    void showServerFigures();
    void recordServerProfile(const QString& name);
    // Adds the reply's op sums to `r` and writes it on the store thread (profileRecorded follows).
    void storeRecording(ProfileRecord r);
    void showOps(const std::vector<OpTiming>& lastPass);
    void sampleCores();
    void showLoaded();
    void showBenchmark(const BenchResult& result);
    void recordBenchmark(const BenchResult& result);
    void setBenchmarkBusy(bool busy);

    AppContext& context_;
    profile::OpProfile reply_;
    ProfileSample last_;
    quint64 replyId_ = 0;
    int samples_ = 0;
    double machineGbPerSecond_ = 0;
    std::vector<profile::CoreTimes> cores_;
    std::vector<ProfileRecord> recordings_;

    QCheckBox* enable_ = nullptr;
    QPushButton* reload_ = nullptr;
    QLabel* loadedState_ = nullptr;
    QPushButton* measure_ = nullptr;
    QLabel* bandwidth_ = nullptr;
    QLabel* figures_ = nullptr;
    QChartView* speedView_ = nullptr;
    QLineSeries* speed_ = nullptr;
    QValueAxis* speedX_ = nullptr;
    QValueAxis* speedY_ = nullptr;
    QChartView* opsView_ = nullptr;
    QChartView* coresView_ = nullptr;
    QTableWidget* ops_ = nullptr;
    QPushButton* record_ = nullptr;
    QLabel* recordStatus_ = nullptr;
    QComboBox* first_ = nullptr;
    QComboBox* second_ = nullptr;
    QTableWidget* compare_ = nullptr;
    QTimer* coreTimer_ = nullptr;
    QSpinBox* benchPrompt_ = nullptr;
    QSpinBox* benchGen_ = nullptr;
    QPushButton* benchRun_ = nullptr;
    QPushButton* benchCancel_ = nullptr;
    QProgressBar* benchProgress_ = nullptr;
    QLabel* benchSummary_ = nullptr;
    quint64 benchId_ = 0;   // the benchmark running, 0: none
    int benchTarget_ = 0;   // its tokens to decode
    BenchResult bench_;
};

} // namespace tenfold::ui
