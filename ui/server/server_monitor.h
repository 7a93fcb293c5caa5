#pragma once
// Polls a running tenfold-server once a second: GET /tenfold/status (the requests in flight and
// the last ones finished) and GET /metrics (Prometheus counters). Requests are asynchronous
// (QNetworkAccessManager); a poll is skipped while the previous one is still out, so a slow
// server never piles requests up. Throughput is the change of the generated-token counter
// between two polls divided by the time between them. A server started with --profile is also
// asked for GET /tenfold/profile, and each answer becomes a ProfileSample for the Profiler page.
#include "session/engine_types.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QString>
#include <QTimer>
#include <QUrl>
#include <QVector>

#include <optional>

class QNetworkAccessManager;
class QNetworkReply;

namespace tenfold::ui {

struct ServerRequestInfo {
    QString id;
    QString client;
    QString state;          // "queued", "prefill", "generating"; "finished" for recent ones
    int promptTokens = 0;
    int generatedTokens = 0;
    int choices = 1;
    double elapsedMs = 0;   // in flight: time since it arrived; finished: total time
    double ttftMs = -1;     // finished only; -1: unknown
    QString finishReason;   // finished only
    bool finished = false;
};

// One rank of an MPI server (tenfold-worker serve), as the "cluster" of /tenfold/status lists it.
struct ServerClusterRank {
    int rank = 0;
    QString host;
    qint64 pid = 0;
    QString role;           // "front end", "replica", "stage" or "front end and stage" (pipeline rank 0)
    int firstLayer = -1;    // the layers it holds, [firstLayer, endLayer); -1: none (front end)
    int endLayer = -1;
    bool ready = false;     // a replica that has loaded its model (the front end: always)
    bool lost = false;
    QString lostReason;
    int inFlight = 0;       // requests it holds now
    qint64 completed = 0;   // answered to the end
    qint64 failed = 0;      // failed on it (or lost with it)
    double busySeconds = -1; // time inside its forward passes; -1: not reported
    qint64 residentBytes = 0; // its process's RSS; 0: not reported
};

struct ServerStatus {
    QString model;
    double uptimeSeconds = 0;
    QVector<ServerRequestInfo> active;  // as the server lists them
    QVector<ServerRequestInfo> recent;  // the last ones finished, newest first
    QString clusterMode;                // "data_parallel"; empty for a single-process server
    QVector<ServerClusterRank> cluster; // by rank; empty for a single-process server
};

// The counters and gauges of /metrics the page shows; -1 where the server did not report one.
struct ServerMetrics {
    double requestsTotal = -1;
    double requestsRejected = -1;
    double requestsCancelled = -1;
    double requestsFailed = -1;
    double responseCacheHits = -1; // answered from the server's response cache
    double promptTokens = -1;
    double generatedTokens = -1;
    double queueDepth = -1;
    double running = -1;
    double lastBatchSize = -1;
    double kvBlocksUsed = -1;
    double kvBlocksTotal = -1;
};

struct ThroughputPoint {
    double seconds = 0;         // since monitoring started
    double tokensPerSecond = 0; // generated tokens per second over the last interval
    double running = 0;         // requests running at the time of the poll
};

// GET /tenfold/profile of a server started with --profile.
struct ServerProfile {
    bool profiling = false;
    double steps = 0;                 // forward passes so far
    double promptTokensTotal = 0;
    double generatedTokensTotal = 0;
    double busySeconds = 0;           // time inside forward passes
    int running = 0;
    int lastPassRows = 0;
    int lastPassPromptRows = 0;
    std::vector<OpTiming> lastPassOps;
    qint64 residentBytes = 0;
    qint64 weightBytes = 0;
    double matmulWeights = 0;
};
std::optional<ServerProfile> parseServerProfile(const QByteArray& json);
// The Profiler's sample from two profiles `seconds` apart (`previous` null: the first, no rates):
// tokens generated and prompt tokens computed per second of that interval, and the weight reads
// of its passes (each batched pass reads the weights once) per second.
ProfileSample profileSampleBetween(const ServerProfile* previous, const ServerProfile& now, double intervalSeconds,
                                   double sinceStartSeconds);

// Parses /tenfold/status; nullopt when the body is not the expected JSON object.
std::optional<ServerStatus> parseServerStatus(const QByteArray& json);
// Prometheus text format: metric name -> value, summed over label sets; comments skipped.
QHash<QString, double> parsePrometheusText(const QByteArray& text);
ServerMetrics metricsFromPrometheus(const QHash<QString, double>& samples);

class ServerMonitor : public QObject {
    Q_OBJECT
public:
    explicit ServerMonitor(QObject* parent = nullptr);

    // Polls `base` (http://host:port) every `intervalMs`; `apiKey` is sent as a bearer token when
    // not empty. Clears the history of any earlier server.
    void start(const QUrl& base, const QString& apiKey, int intervalMs = 1000);
    void stop();
    bool isActive() const { return timer_.isActive(); }
    QUrl baseUrl() const { return base_; }

    const std::optional<ServerStatus>& status() const { return status_; }
    const ServerMetrics& metrics() const { return metrics_; }
    int pollsCompleted() const { return pollsCompleted_; }

signals:
    void statusUpdated(const tenfold::ui::ServerStatus& status);
    void metricsUpdated(const tenfold::ui::ServerMetrics& metrics);
    void throughputSampled(const tenfold::ui::ThroughputPoint& point);
    // A --profile server's last pass and rates (ProfileSample::fromServer set).
    void profileSampled(const tenfold::ui::ProfileSample& sample);
    // A poll failed (connection refused, HTTP error, unreadable body); the next one retries.
    void pollFailed(const QString& message);

private:
    void poll();
    QNetworkReply* get(const QString& path);
    void onStatusReply(QNetworkReply* reply);
    void onMetricsReply(QNetworkReply* reply);
    void onProfileReply(QNetworkReply* reply);

    QNetworkAccessManager* network_ = nullptr;
    QTimer timer_;
    QUrl base_;
    QByteArray authorization_;
    QNetworkReply* statusReply_ = nullptr;
    QNetworkReply* metricsReply_ = nullptr;
    QNetworkReply* profileReply_ = nullptr;
    bool askProfile_ = true;                 // until the server says it is not profiling
    std::optional<ServerProfile> lastProfile_;
    double lastProfileSeconds_ = 0;
    std::optional<ServerStatus> status_;
    ServerMetrics metrics_;
    QElapsedTimer clock_;
    double lastGenerated_ = -1;
    double lastSampleSeconds_ = 0;
    int pollsCompleted_ = 0;
    quint64 generation_ = 0; // replies from an earlier start() are ignored
};

} // namespace tenfold::ui

Q_DECLARE_METATYPE(tenfold::ui::ServerStatus)
Q_DECLARE_METATYPE(tenfold::ui::ServerMetrics)
Q_DECLARE_METATYPE(tenfold::ui::ThroughputPoint)
