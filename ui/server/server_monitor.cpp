#include "server/server_monitor.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>

#include <algorithm>
#include <utility>

namespace tenfold::ui {

namespace {

constexpr int kRequestTimeoutMs = 3000;

ServerRequestInfo requestFromJson(const QJsonObject& o, bool finished)
{
    ServerRequestInfo r;
    // Ids may come as numbers or strings; both show the same.
    const QJsonValue id = o.value(QStringLiteral("id"));
    r.id = id.isString() ? id.toString() : QString::number(id.toInteger());
    r.client = o.value(QStringLiteral("client")).toString();
    r.promptTokens = o.value(QStringLiteral("prompt_tokens")).toInt();
    r.finished = finished;
    if (finished) {
        r.state = QStringLiteral("finished");
        r.generatedTokens = o.value(QStringLiteral("completion_tokens")).toInt();
        r.ttftMs = o.value(QStringLiteral("ttft_ms")).toDouble(-1);
        r.elapsedMs = o.value(QStringLiteral("total_ms")).toDouble();
        r.finishReason = o.value(QStringLiteral("finish_reason")).toString();
    } else {
        r.state = o.value(QStringLiteral("state")).toString();
        r.generatedTokens = o.value(QStringLiteral("generated_tokens")).toInt();
        r.choices = std::max(1, o.value(QStringLiteral("n")).toInt(1));
        r.elapsedMs = o.value(QStringLiteral("elapsed_ms")).toDouble();
    }
    return r;
}

} // namespace

std::optional<ServerStatus> parseServerStatus(const QByteArray& json)
{
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    const QJsonObject root = doc.object();
    if (!root.value(QStringLiteral("requests")).isArray())
        return std::nullopt;
    ServerStatus s;
    s.model = root.value(QStringLiteral("model")).toString();
    s.uptimeSeconds = root.value(QStringLiteral("uptime_s")).toDouble();
    for (const QJsonValue& v : root.value(QStringLiteral("requests")).toArray())
        s.active.push_back(requestFromJson(v.toObject(), false));
    // Newest first, as the server lists them.
    for (const QJsonValue& v : root.value(QStringLiteral("recent")).toArray())
        s.recent.push_back(requestFromJson(v.toObject(), true));
    // tenfold-worker serve (an MPI job) adds its ranks.
    const QJsonObject cluster = root.value(QStringLiteral("cluster")).toObject();
    s.clusterMode = cluster.value(QStringLiteral("mode")).toString();
    for (const QJsonValue& v : cluster.value(QStringLiteral("ranks")).toArray()) {
        const QJsonObject o = v.toObject();
        ServerClusterRank r;
        r.rank = o.value(QStringLiteral("rank")).toInt();
        r.host = o.value(QStringLiteral("host")).toString();
        r.pid = o.value(QStringLiteral("pid")).toInteger();
        r.role = o.value(QStringLiteral("role")).toString();
        r.firstLayer = o.value(QStringLiteral("first_layer")).toInt(-1);
        r.endLayer = o.value(QStringLiteral("end_layer")).toInt(-1);
        r.ready = o.value(QStringLiteral("ready")).toBool(r.role != QLatin1String("replica"));
        r.lost = o.value(QStringLiteral("lost")).toBool();
        r.lostReason = o.value(QStringLiteral("lost_reason")).toString();
        r.inFlight = o.value(QStringLiteral("in_flight")).toInt();
        r.completed = o.value(QStringLiteral("completed")).toInteger();
        r.failed = o.value(QStringLiteral("failed")).toInteger();
        r.busySeconds = o.value(QStringLiteral("busy_seconds")).toDouble(-1);
        r.residentBytes = qint64(o.value(QStringLiteral("resident_bytes")).toDouble(0));
        s.cluster.push_back(r);
    }
    return s;
}

QHash<QString, double> parsePrometheusText(const QByteArray& text)
{
    QHash<QString, double> out;
    for (const QByteArray& rawLine : text.split('\n')) {
        const QByteArray line = rawLine.trimmed();
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        // name{label="v",...} value [timestamp]; label values may hold spaces, so the name ends
        // at '{' or at the first space.
        qsizetype nameEnd = line.indexOf('{');
        qsizetype valueStart;
        if (nameEnd >= 0) {
            const qsizetype close = line.lastIndexOf('}');
            if (close < nameEnd)
                continue;
            valueStart = close + 1;
        } else {
            nameEnd = line.indexOf(' ');
            if (nameEnd < 0)
                continue;
            valueStart = nameEnd;
        }
        const QByteArray name = line.left(nameEnd);
        const QList<QByteArray> fields = line.mid(valueStart).simplified().split(' ');
        if (name.isEmpty() || fields.isEmpty())
            continue;
        bool ok = false;
        const double value = fields.front().toDouble(&ok);
        if (ok)
            out[QString::fromLatin1(name)] += value;
    }
    return out;
}

ServerMetrics metricsFromPrometheus(const QHash<QString, double>& samples)
{
    // tenfold-server's metric names (app/server/server_metrics.cpp); one it does not report
    // stays -1 and shows as a dash.
    ServerMetrics m;
    const std::pair<const char*, double ServerMetrics::*> fields[] = {
        {"tenfold_requests_total", &ServerMetrics::requestsTotal},
        {"tenfold_requests_rejected_total", &ServerMetrics::requestsRejected},
        {"tenfold_requests_cancelled_total", &ServerMetrics::requestsCancelled},
        {"tenfold_requests_failed_total", &ServerMetrics::requestsFailed},
        {"tenfold_response_cache_hits_total", &ServerMetrics::responseCacheHits},
        {"tenfold_prompt_tokens_total", &ServerMetrics::promptTokens},
        {"tenfold_generated_tokens_total", &ServerMetrics::generatedTokens},
        {"tenfold_queue_depth", &ServerMetrics::queueDepth},
        {"tenfold_running_sequences", &ServerMetrics::running},
        {"tenfold_last_batch_size", &ServerMetrics::lastBatchSize},
        {"tenfold_kv_blocks_used", &ServerMetrics::kvBlocksUsed},
        {"tenfold_kv_blocks_total", &ServerMetrics::kvBlocksTotal},
    };
    for (const auto& [name, field] : fields) {
        const auto it = samples.constFind(QLatin1String(name));
        if (it != samples.constEnd())
            m.*field = it.value();
    }
    return m;
}

ServerMonitor::ServerMonitor(QObject* parent) : QObject(parent), network_(new QNetworkAccessManager(this))
{
    // The server is this machine's child process: an http_proxy in the environment must not
    // route the polls elsewhere.
    network_->setProxy(QNetworkProxy::NoProxy);
    qRegisterMetaType<ServerStatus>();
    qRegisterMetaType<ServerMetrics>();
    qRegisterMetaType<ThroughputPoint>();
    connect(&timer_, &QTimer::timeout, this, &ServerMonitor::poll);
}

void ServerMonitor::start(const QUrl& base, const QString& apiKey, int intervalMs)
{
    stop();
    base_ = base;
    authorization_ = apiKey.isEmpty() ? QByteArray() : QByteArray("Bearer ") + apiKey.toUtf8();
    status_.reset();
    metrics_ = ServerMetrics{};
    lastGenerated_ = -1;
    lastSampleSeconds_ = 0;
    askProfile_ = true;
    lastProfile_.reset();
    lastProfileSeconds_ = 0;
    pollsCompleted_ = 0;
    clock_.start();
    timer_.start(intervalMs);
    poll(); // the first figures at once, not a second later
}

void ServerMonitor::stop()
{
    timer_.stop();
    ++generation_;
    for (QNetworkReply* reply : {statusReply_, metricsReply_, profileReply_})
        if (reply) {
            reply->disconnect(this);
            reply->abort();
            reply->deleteLater();
        }
    statusReply_ = metricsReply_ = profileReply_ = nullptr;
}

QNetworkReply* ServerMonitor::get(const QString& path)
{
    QUrl url = base_;
    url.setPath(path);
    QNetworkRequest request(url);
    request.setTransferTimeout(kRequestTimeoutMs);
    if (!authorization_.isEmpty())
        request.setRawHeader("Authorization", authorization_);
    return network_->get(request);
}

void ServerMonitor::poll()
{
    if (statusReply_ || metricsReply_ || profileReply_)
        return; // the last poll is still out
    const quint64 generation = generation_;
    statusReply_ = get(QStringLiteral("/tenfold/status"));
    connect(statusReply_, &QNetworkReply::finished, this, [this, generation, reply = statusReply_] {
        if (generation == generation_)
            onStatusReply(reply);
        reply->deleteLater();
    });
    metricsReply_ = get(QStringLiteral("/metrics"));
    connect(metricsReply_, &QNetworkReply::finished, this, [this, generation, reply = metricsReply_] {
        if (generation == generation_)
            onMetricsReply(reply);
        reply->deleteLater();
    });
    if (askProfile_) {
        profileReply_ = get(QStringLiteral("/tenfold/profile"));
        connect(profileReply_, &QNetworkReply::finished, this, [this, generation, reply = profileReply_] {
            if (generation == generation_)
                onProfileReply(reply);
            reply->deleteLater();
        });
    }
}

void ServerMonitor::onProfileReply(QNetworkReply* reply)
{
    profileReply_ = nullptr;
    if (reply->error() != QNetworkReply::NoError)
        return; // an older server without the route; status and metrics report failures
    std::optional<ServerProfile> profile = parseServerProfile(reply->readAll());
    if (!profile || !profile->profiling) {
        askProfile_ = false; // started without --profile: nothing to show, stop asking
        return;
    }
    const double now = clock_.elapsed() / 1000.0;
    const bool first = !lastProfile_;
    emit profileSampled(profileSampleBetween(first ? nullptr : &*lastProfile_, *profile,
                                             first ? 0.0 : now - lastProfileSeconds_, now));
    lastProfile_ = std::move(profile);
    lastProfileSeconds_ = now;
}

void ServerMonitor::onStatusReply(QNetworkReply* reply)
{
    statusReply_ = nullptr;
    if (reply->error() != QNetworkReply::NoError) {
        emit pollFailed(reply->errorString());
        return;
    }
    std::optional<ServerStatus> status = parseServerStatus(reply->readAll());
    if (!status) {
        emit pollFailed(tr("The server's status is not the JSON Tenfold expects."));
        return;
    }
    status_ = std::move(status);
    ++pollsCompleted_;
    emit statusUpdated(*status_);
}

std::optional<ServerProfile> parseServerProfile(const QByteArray& json)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    const QJsonObject o = doc.object();
    if (!o.value(QLatin1String("profiling")).isBool() || !o.value(QLatin1String("last_pass")).isObject())
        return std::nullopt;
    ServerProfile p;
    p.profiling = o.value(QLatin1String("profiling")).toBool();
    p.steps = o.value(QLatin1String("steps")).toDouble();
    p.promptTokensTotal = o.value(QLatin1String("prompt_tokens_total")).toDouble();
    p.generatedTokensTotal = o.value(QLatin1String("generated_tokens_total")).toDouble();
    p.busySeconds = o.value(QLatin1String("busy_seconds")).toDouble();
    p.running = o.value(QLatin1String("running")).toInt();
    p.residentBytes = qint64(o.value(QLatin1String("resident_bytes")).toDouble());
    p.weightBytes = qint64(o.value(QLatin1String("weight_bytes")).toDouble());
    p.matmulWeights = o.value(QLatin1String("matmul_weights")).toDouble();
    const QJsonObject last = o.value(QLatin1String("last_pass")).toObject();
    p.lastPassRows = last.value(QLatin1String("rows")).toInt();
    p.lastPassPromptRows = last.value(QLatin1String("prompt_rows")).toInt();
    for (const QJsonValue& v : last.value(QLatin1String("ops")).toArray()) {
        const QJsonObject op = v.toObject();
        p.lastPassOps.push_back({op.value(QLatin1String("op")).toString().toStdString(),
                                 op.value(QLatin1String("layer")).toInt(-1), op.value(QLatin1String("us")).toDouble()});
    }
    return p;
}

ProfileSample profileSampleBetween(const ServerProfile* previous, const ServerProfile& now, double intervalSeconds,
                                   double sinceStartSeconds)
{
    ProfileSample s;
    s.requestId = kServerProfileRequestId;
    s.fromServer = true;
    s.seconds = sinceStartSeconds;
    s.timings = now.lastPassOps;
    s.residentBytes = now.residentBytes;
    s.serverWeightBytes = now.weightBytes;
    s.serverMatmulWeights = now.matmulWeights;
    s.batchRows = now.lastPassRows;
    s.batchPromptRows = now.lastPassPromptRows;
    s.running = now.running;
    if (previous && intervalSeconds > 0) {
        // Counters only grow within one server; a negative change would be another server.
        s.generatedTokens = int(std::max(0.0, now.generatedTokensTotal - previous->generatedTokensTotal));
        s.decodeMs = intervalSeconds * 1000.0;
        s.promptTokens = int(std::max(0.0, now.promptTokensTotal - previous->promptTokensTotal));
        s.promptMs = intervalSeconds * 1000.0;
        s.passesPerSecond = std::max(0.0, now.steps - previous->steps) / intervalSeconds;
        s.busyShare = std::clamp((now.busySeconds - previous->busySeconds) / intervalSeconds, 0.0, 1.0);
    }
    return s;
}

void ServerMonitor::onMetricsReply(QNetworkReply* reply)
{
    metricsReply_ = nullptr;
    if (reply->error() != QNetworkReply::NoError) {
        emit pollFailed(reply->errorString());
        return;
    }
    metrics_ = metricsFromPrometheus(parsePrometheusText(reply->readAll()));
    emit metricsUpdated(metrics_);
    const double now = clock_.elapsed() / 1000.0;
    if (metrics_.generatedTokens >= 0) {
        // The first poll has nothing to compare with; later ones give the rate since the last.
        if (lastGenerated_ >= 0 && now > lastSampleSeconds_) {
            ThroughputPoint p;
            p.seconds = now;
            // A restarted counter (never expected within one server) would give a negative rate.
            p.tokensPerSecond = std::max(0.0, metrics_.generatedTokens - lastGenerated_) / (now - lastSampleSeconds_);
            p.running = std::max(0.0, metrics_.running);
            emit throughputSampled(p);
        }
        lastGenerated_ = metrics_.generatedTokens;
        lastSampleSeconds_ = now;
    }
}

} // namespace tenfold::ui
