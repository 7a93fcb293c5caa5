// `tenfold-worker serve` under a real `mpirun --enable-recovery` on loopback (label mpi): the
// data-parallel HTTP front end over whole-model replicas. The oracle is a single process:
// tenfold-cli generate's greedy text for the same prompt, which every answer through the cluster
// (plain and streamed, 2 and 3 ranks, many at once) must equal. Routing: concurrent requests must
// reach both replicas (the per-rank counters of /metrics). Failures: a replica killed (-9) while
// it holds a request is reported within 10 s, the request fails with an error naming the rank,
// and the next requests are answered by the other replica; /health and /metrics name the rank.
// A replica that stops answering (SIGSTOP) is lost the same way; with none left, requests get 503.
// The pipeline (--pipeline): the same answers through 2 and 3 ranks, every stage in the status, and
// a stage that stops answering, with a request in flight or idle, ends the job naming it.
#include "common/mpi_environment.h"
#include "common/shared_data.h"

#include "dist/serve_protocol.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

#include <cmath>
#include <csignal>
#include <cstring>
#include <future>
#include <thread>
#include <unistd.h>

using Json = nlohmann::json;
using namespace tenfold;

namespace {

const QString kPrompt = QStringLiteral("The jury said that");
constexpr int kTokens = 24;
constexpr double kRankTimeoutS = 2.0;

using test::mpiEnvironment;

// Kills a rank the test stopped (SIGSTOP) when the test ends: a stopped rank cannot take mpirun's
// SIGTERM.
struct KillAtEnd {
    qint64 pid;
    ~KillAtEnd() { ::kill(pid_t(pid), SIGKILL); }
};

// A cluster serving on a free port; stopped (SIGTERM to mpirun, which passes it on) at the end.
class Cluster {
public:
    // extra: more options of tenfold-worker serve (--pipeline ...). A pipeline runs without
    // --enable-recovery: a lost stage ends the job, and mpirun's exit code must say so.
    Cluster(const QString& model, int ranks, const QStringList& extra = {})
    {
        p_.setProcessEnvironment(mpiEnvironment());
        // --enable-recovery: a rank that dies does not end the job (the server keeps serving).
        // Loopback and shared memory only, without the single-copy path containers forbid.
        QStringList args{"--oversubscribe", "--bind-to", "none"};
        if (extra.isEmpty())
            args << "--enable-recovery";
        args << QStringList{"-np", QString::number(ranks), "--mca", "btl", "self,vader", "--mca",
                            "btl_vader_single_copy_mechanism", "none", "--mca", "oob_tcp_if_include", "lo", "--mca",
                            "btl_tcp_if_include", "lo", QStringLiteral(TENFOLD_WORKER_PATH), "serve", model, "--port",
                            "0", "--no-ledger", "--response-cache", "off", "--threads", "1", "--rank-timeout",
                            QString::number(kRankTimeoutS)}
             << extra;
        p_.start(QStringLiteral(TENFOLD_MPIRUN_PATH), args);
        QElapsedTimer t;
        t.start();
        const QRegularExpression listening("listening on http://127\\.0\\.0\\.1:(\\d+)");
        while (t.elapsed() < 60000 && port_ == 0 && p_.state() != QProcess::NotRunning) {
            p_.waitForReadyRead(100);
            out_ += QString::fromUtf8(p_.readAllStandardOutput());
            if (const auto m = listening.match(out_); m.hasMatch())
                port_ = m.captured(1).toInt();
        }
    }
    ~Cluster() { stop(); }

    int stop()
    {
        if (p_.state() != QProcess::NotRunning) {
            p_.terminate();
            if (!p_.waitForFinished(15000)) {
                p_.kill();
                p_.waitForFinished();
            }
        }
        return p_.exitCode();
    }
    // The clean stop: SIGTERM to rank 0, which stops HTTP and then the replicas, so every rank
    // finalizes and mpirun exits 0. (SIGTERM to mpirun kills the job instead.)
    int stopFrontEnd()
    {
        const qint64 front = pid(0);
        if (front <= 0 || ::kill(pid_t(front), SIGTERM) != 0 || !p_.waitForFinished(15000))
            return -1;
        return p_.exitCode();
    }
    int port() const { return port_; }
    // Waits for the job to end by itself; its exit code, or -1 when it is still running.
    int waitForExit(int ms)
    {
        if (p_.state() != QProcess::NotRunning && !p_.waitForFinished(ms))
            return -1;
        return p_.exitCode();
    }
    QString err()
    {
        if (p_.state() == QProcess::Running) {
            p_.setReadChannel(QProcess::StandardError);
            p_.waitForReadyRead(200);
            p_.setReadChannel(QProcess::StandardOutput);
        }
        err_ += QString::fromUtf8(p_.readAllStandardError());
        return err_;
    }
    // The pid of a rank, from the layout rank 0 prints.
    qint64 pid(int rank)
    {
        const QRegularExpression re(QString("\\[mpi\\] rank %1 \\(host [^,]+, pid (\\d+)").arg(rank));
        const auto m = re.match(err());
        return m.hasMatch() ? m.captured(1).toLongLong() : 0;
    }

private:
    QProcess p_;
    QString out_, err_;
    int port_ = 0;
};

Json post(int port, const std::string& path, const Json& body, int* status = nullptr, std::string* raw = nullptr)
{
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    const auto res = c.Post(path.c_str(), body.dump(), "application/json");
    if (!res)
        return Json();
    if (status)
        *status = res->status;
    if (raw)
        *raw = res->body;
    return body.value("stream", false) ? Json() : Json::parse(res->body, nullptr, false);
}

std::string get(int port, const std::string& path, int* status = nullptr)
{
    httplib::Client c("127.0.0.1", port);
    const auto res = c.Get(path.c_str());
    if (status)
        *status = res ? res->status : 0;
    return res ? res->body : std::string();
}

// The text of an SSE stream of completion chunks.
std::string streamedText(const std::string& sse)
{
    std::string text;
    size_t at = 0;
    while ((at = sse.find("data: ", at)) != std::string::npos) {
        const size_t end = sse.find("\n\n", at);
        const std::string data = sse.substr(at + 6, end - at - 6);
        at = end;
        if (data == "[DONE]")
            break;
        const Json j = Json::parse(data, nullptr, false);
        if (j.contains("choices") && !j["choices"].empty())
            text += j["choices"][0].value("text", "");
    }
    return text;
}

Json completion(int tokens, bool stream)
{
    return Json{{"prompt", kPrompt.toStdString()}, {"max_tokens", tokens}, {"temperature", 0}, {"stream", stream}};
}

// A per-rank series of /metrics: `NAME{rank="R",host="..."} VALUE`; -1 when absent.
double rankSeries(const std::string& text, const std::string& name, int rank)
{
    const size_t at = text.find(name + "{rank=\"" + std::to_string(rank) + "\"");
    if (at == std::string::npos)
        return -1;
    const size_t value = text.find("} ", at);
    return value == std::string::npos ? -1 : std::stod(text.substr(value + 2));
}

} // namespace

class TestMpiServe : public QObject {
    Q_OBJECT

    QString model_;
    std::string oracle_; // tenfold-cli generate's continuation, one process

    // Plain and streamed completions equal the single process's text.
    void checkAnswers(int port)
    {
        const Json plain = post(port, "/v1/completions", completion(kTokens, false));
        QVERIFY2(plain.contains("choices"), plain.dump().c_str());
        QCOMPARE(plain["choices"][0]["text"].get<std::string>(), oracle_);
        std::string sse;
        int status = 0;
        post(port, "/v1/completions", completion(kTokens, true), &status, &sse);
        QCOMPARE(status, 200);
        QCOMPARE(streamedText(sse), oracle_);
        QVERIFY(sse.find("data: [DONE]") != std::string::npos);
    }

private slots:
    // Every field of a request and of an event survives the trip; a truncated, padded or
    // inflated message is refused with an Error, never read past.
    void protocolCarriesEveryFieldAndRefusesMalformedMessages()
    {
        dist::ServeMessage submit;
        submit.op = dist::ServeOp::Submit;
        submit.id = 42;
        submit.params.prompt = {1, 2, 3};
        submit.params.sampling.temperature = 0.5f;
        submit.params.sampling.seed = 99;
        submit.params.maxTokens = 7;
        submit.params.stopStrings = {"\n\n", "END"};
        submit.params.stopAtEndOfGeneration = false;
        submit.params.n = 2;
        submit.params.topLogprobs = 3;
        submit.params.client = "key-label";
        dist::ServeMessage back;
        dist::decodeServe(dist::encodeServe(submit), back);
        QCOMPARE(int(back.op), int(dist::ServeOp::Submit));
        QCOMPARE(back.id, uint64_t(42));
        QCOMPARE(back.params.prompt, submit.params.prompt);
        QCOMPARE(back.params.sampling.temperature, 0.5f);
        QCOMPARE(back.params.sampling.seed, uint64_t(99));
        QCOMPARE(back.params.maxTokens, 7);
        QCOMPARE(back.params.stopStrings, submit.params.stopStrings);
        QVERIFY(!back.params.stopAtEndOfGeneration);
        QCOMPARE(back.params.n, 2);
        QCOMPARE(back.params.topLogprobs, 3);
        QCOMPARE(back.params.client, std::string("key-label"));

        dist::ServeMessage event;
        event.op = dist::ServeOp::Event;
        event.id = 7;
        event.event.kind = ServeEvent::Kind::Text;
        event.event.choice = 1;
        event.event.text = "h\xC3\xA9";
        event.event.tokens = {5, 6};
        event.event.logprobs = {-0.25f, -1.5f};
        event.event.topLogprobs = {{{5, -0.25f}, {9, -2.0f}}, {{6, -1.5f}}};
        const std::vector<uint8_t> bytes = dist::encodeServe(event);
        dist::decodeServe(bytes, back);
        QCOMPARE(int(back.event.kind), int(ServeEvent::Kind::Text));
        QCOMPARE(back.event.choice, 1);
        QCOMPARE(back.event.text, event.event.text);
        QCOMPARE(back.event.tokens, event.event.tokens);
        QCOMPARE(back.event.logprobs, event.event.logprobs);
        QCOMPARE(back.event.topLogprobs.size(), size_t(2));
        QCOMPARE(back.event.topLogprobs[0][1].token, 9);
        QCOMPARE(back.event.topLogprobs[0][1].logprob, -2.0f);

        const std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 1);
        QVERIFY_THROWS_EXCEPTION(Error, dist::decodeServe(cut, back));
        std::vector<uint8_t> longer = bytes;
        longer.push_back(0);
        QVERIFY_THROWS_EXCEPTION(Error, dist::decodeServe(longer, back));
        std::vector<uint8_t> unknownOp = bytes;
        unknownOp[0] = 99;
        QVERIFY_THROWS_EXCEPTION(Error, dist::decodeServe(unknownOp, back));
        // The text's length (after op, id, kind and choice) claims more bytes than there are.
        std::vector<uint8_t> inflated = bytes;
        const uint64_t huge = uint64_t(1) << 40;
        std::memcpy(inflated.data() + 1 + 8 + 4 + 4, &huge, 8);
        QVERIFY_THROWS_EXCEPTION(Error, dist::decodeServe(inflated, back));

        // A heartbeat carries the scheduler's metrics and the replica's memory.
        dist::ServeMessage beat;
        beat.op = dist::ServeOp::Heartbeat;
        beat.metrics.busySeconds = 1.5;
        beat.metrics.generatedTokensTotal = 77;
        beat.residentBytes = 123456789;
        dist::decodeServe(dist::encodeServe(beat), back);
        QCOMPARE(back.metrics.busySeconds, 1.5);
        QCOMPARE(back.metrics.generatedTokensTotal, uint64_t(77));
        QCOMPARE(back.residentBytes, uint64_t(123456789));
    }

    void initTestCase()
    {
        model_ = QString::fromStdString(test::sharedFile("models/tenfold-ref-main-f16.gguf").string());
        TENFOLD_REQUIRE_SHARED(model_.toStdString());
        if (!QFileInfo::exists(QStringLiteral(TENFOLD_MPIRUN_PATH)))
            QSKIP("mpirun missing (Debian: openmpi-bin)");
        QProcess cli;
        cli.start(QStringLiteral(TENFOLD_CLI_PATH), {"generate", model_, "-p", kPrompt, "-n", QString::number(kTokens),
                                                      "--temp", "0", "--repeat-penalty", "1", "--ignore-eos"});
        QVERIFY(cli.waitForFinished(60000));
        QCOMPARE(cli.exitCode(), 0);
        // It prints the prompt, the continuation and a newline; the server answers the continuation.
        const QString out = QString::fromUtf8(cli.readAllStandardOutput());
        QVERIFY2(out.startsWith(kPrompt) && out.endsWith('\n'), qPrintable(out));
        oracle_ = out.mid(kPrompt.size()).chopped(1).toStdString();
        QVERIFY(oracle_.size() > 20);
    }

    // Two ranks: one replica behind the front end; a clean stop ends the job with 0.
    void twoRanksAnswerLikeOneProcess()
    {
        Cluster cluster(model_, 2);
        QVERIFY2(cluster.port() > 0, qPrintable(cluster.err()));
        checkAnswers(cluster.port());
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(get(cluster.port(), "/health"), std::string(R"({"lost_ranks":[],"status":"ok"})"));
        // The replica's compute time and memory in the cluster status (its heartbeats, every
        // 0.2 s): time spent generating the answers, and its RSS as /proc reads it for that pid.
        const qint64 pid = cluster.pid(1);
        double busy = 0, rss = 0;
        QElapsedTimer wait;
        wait.start();
        while (busy <= 0 && wait.elapsed() < 3000) {
            const Json status = Json::parse(get(cluster.port(), "/tenfold/status"), nullptr, false);
            for (const Json& r : status["cluster"]["ranks"])
                if (r["rank"] == 1) {
                    busy = r.value("busy_seconds", 0.0);
                    rss = r.value("resident_bytes", 0.0);
                }
        }
        QVERIFY2(busy > 0, "the replica reported no compute time");
        QFile statusFile(QStringLiteral("/proc/%1/status").arg(pid));
        QVERIFY(statusFile.open(QIODevice::ReadOnly));
        double procRss = 0;
        for (const QByteArray& line : statusFile.readAll().split('\n'))
            if (line.startsWith("VmRSS:"))
                procRss = line.mid(6).trimmed().split(' ').first().toDouble() * 1024;
        QVERIFY2(rss > 0 && std::fabs(rss - procRss) < 0.25 * procRss,
                 qPrintable(QStringLiteral("reported %1, /proc %2").arg(rss).arg(procRss)));
        QCOMPARE(cluster.stopFrontEnd(), 0);
        QVERIFY2(cluster.err().contains("tenfold-server: stopped"), qPrintable(cluster.err()));
    }

    // Three ranks: answers equal the single process, concurrent requests reach both replicas,
    // and a replica killed while it holds a request is reported and routed around.
    void threeRanksSpreadAndSurviveALostReplica()
    {
        Cluster cluster(model_, 3);
        const int port = cluster.port();
        QVERIFY2(port > 0, qPrintable(cluster.err()));
        checkAnswers(port);
        if (QTest::currentTestFailed())
            return;

        // Six at once: each goes to the replica with the fewest in flight.
        std::vector<std::string> texts(6);
        std::vector<std::thread> clients;
        for (size_t i = 0; i < texts.size(); ++i)
            clients.emplace_back([&, i] {
                const Json r = post(port, "/v1/completions", completion(kTokens, false));
                texts[i] = r.contains("choices") ? r["choices"][0].value("text", "") : r.dump();
            });
        for (auto& c : clients)
            c.join();
        for (const std::string& t : texts)
            QCOMPARE(t, oracle_);
        const std::string metrics = get(port, "/metrics");
        const double one = rankSeries(metrics, "tenfold_mpi_replica_requests_routed_total", 1);
        const double two = rankSeries(metrics, "tenfold_mpi_replica_requests_routed_total", 2);
        QVERIFY2(one > 0, metrics.c_str());
        QVERIFY2(two > 0, metrics.c_str()); // both replicas served some
        QCOMPARE(one + two, double(2 + texts.size()));

        // Rank 1 is stopped, takes the next request (idle, the lowest rank), and is killed.
        const qint64 pid = cluster.pid(1);
        QVERIFY2(pid > 0, qPrintable(cluster.err()));
        QCOMPARE(::kill(pid_t(pid), SIGSTOP), 0);
        std::string failedBody;
        int failedStatus = 0;
        QElapsedTimer sinceKill;
        // A stream never times out by itself (the server writes keep-alives): the test bounds it.
        auto held = std::async(std::launch::async, [&] {
            post(port, "/v1/completions", completion(kTokens, true), &failedStatus, &failedBody);
        });
        QElapsedTimer wait;
        wait.start();
        bool onRankOne = false;
        while (!onRankOne && wait.elapsed() < 1500) {
            const Json status = Json::parse(get(port, "/tenfold/status"), nullptr, false);
            for (const Json& r : status["cluster"]["ranks"])
                onRankOne |= r["rank"] == 1 && r["in_flight"] == 1;
        }
        QCOMPARE(::kill(pid_t(pid), SIGKILL), 0);
        sinceKill.start();
        if (held.wait_for(std::chrono::seconds(12)) != std::future_status::ready) {
            cluster.stop(); // ends the stream, so the client thread returns
            held.wait();
            QFAIL("the request on the killed replica did not fail within 12 s");
        }
        const qint64 failedAfterMs = sinceKill.elapsed();
        QVERIFY2(onRankOne, "the request did not go to the idle replica of the lowest rank");
        QVERIFY2(failedAfterMs < 10000, qPrintable(QString::number(failedAfterMs)));
        // The stream carries the error: the rank and why, as a 503 "rank_lost".
        QVERIFY2(failedBody.find("rank 1 (host") != std::string::npos, failedBody.c_str());
        QVERIFY2(failedBody.find("was lost") != std::string::npos, failedBody.c_str());
        QVERIFY2(failedBody.find("\"code\":\"rank_lost\"") != std::string::npos, failedBody.c_str());
        QVERIFY2(failedBody.find("data: [DONE]") != std::string::npos, failedBody.c_str());

        // The other replica serves on, with the same answers; the lost rank is reported.
        checkAnswers(port);
        int healthStatus = 0;
        QCOMPARE(get(port, "/health", &healthStatus), std::string(R"({"lost_ranks":[1],"status":"degraded"})"));
        QCOMPARE(healthStatus, 200);
        const std::string after = get(port, "/metrics");
        QCOMPARE(rankSeries(after, "tenfold_mpi_replica_up", 1), 0.0);
        QCOMPARE(rankSeries(after, "tenfold_mpi_replica_up", 2), 1.0);
        QVERIFY2(after.find("tenfold_mpi_ranks_lost 1") != std::string::npos, after.c_str());
        const Json status = Json::parse(get(port, "/tenfold/status"), nullptr, false);
        QCOMPARE(status["cluster"]["lost_ranks"], Json::array({1}));
        QVERIFY2(status["cluster"]["ranks"][1]["lost_reason"].get<std::string>().find("no sign of life") !=
                     std::string::npos,
                 status.dump().c_str());
        QVERIFY2(cluster.err().contains(QString("rank 1 (host")) && cluster.err().contains("was lost"),
                 qPrintable(cluster.err()));

        // The last replica stops answering (SIGSTOP: alive, silent): it is lost too, then requests
        // are refused at once (503) and /health says so.
        const qint64 last = cluster.pid(2);
        QVERIFY(last > 0);
        QCOMPARE(::kill(pid_t(last), SIGSTOP), 0);
        const KillAtEnd killAtEnd{last};
        QElapsedTimer gone;
        gone.start();
        int health = 0;
        while (gone.elapsed() < 10000 && health != 503) {
            get(port, "/health", &health);
            QTest::qWait(100);
        }
        QCOMPARE(health, 503);
        QCOMPARE(get(port, "/health"), std::string(R"({"lost_ranks":[1,2],"status":"unavailable"})"));
        int refused = 0;
        const Json body = post(port, "/v1/completions", completion(kTokens, false), &refused);
        QCOMPARE(refused, 503);
        QCOMPARE(body["error"]["code"], Json("service_unavailable"));
        QVERIFY2(body["error"]["message"].get<std::string>().find("rank 2 (host") != std::string::npos, body.dump().c_str());
        const Json end = Json::parse(get(port, "/tenfold/status"), nullptr, false);
        QVERIFY2(end["cluster"]["ranks"][2]["lost_reason"].get<std::string>().find("is stopped") != std::string::npos,
                 end.dump().c_str());
    }

    // Pipeline parallel over 3 ranks (layers split by weight bytes): every answer equals the
    // single process's, plain, streamed and six at once (so the batch goes through in pieces);
    // /tenfold/status shows every stage with its layers, passes and compute time; a clean stop
    // prints each stage's figures and ends the job with 0.
    void pipelineAnswersLikeOneProcess()
    {
        Cluster cluster(model_, 3, {"--pipeline"});
        const int port = cluster.port();
        QVERIFY2(port > 0, qPrintable(cluster.err()));
        checkAnswers(port);
        if (QTest::currentTestFailed())
            return;
        std::vector<std::string> texts(6);
        std::vector<std::thread> clients;
        for (size_t i = 0; i < texts.size(); ++i)
            clients.emplace_back([&, i] {
                const Json r = post(port, "/v1/completions", completion(kTokens, false));
                texts[i] = r.contains("choices") ? r["choices"][0].value("text", "") : r.dump();
            });
        for (auto& c : clients)
            c.join();
        for (const std::string& t : texts)
            QCOMPARE(t, oracle_);
        const Json status = Json::parse(get(port, "/tenfold/status"), nullptr, false);
        QCOMPARE(status["cluster"]["mode"], Json("pipeline"));
        const Json& ranks = status["cluster"]["ranks"];
        QCOMPARE(ranks.size(), size_t(3));
        int nextLayer = 0;
        for (const Json& r : ranks) {
            QCOMPARE(r["first_layer"].get<int>(), nextLayer); // the layers in order, each once
            nextLayer = r["end_layer"].get<int>();
            QVERIFY2(r["passes"].get<int64_t>() > 0 && r["busy_seconds"].get<double>() > 0, status.dump().c_str());
            QVERIFY2(r["resident_bytes"].get<double>() > 0 && !r["lost"].get<bool>(), status.dump().c_str());
        }
        QCOMPARE(nextLayer, 8);
        QCOMPARE(get(port, "/health"), std::string(R"({"lost_ranks":[],"status":"ok"})"));
        const std::string metrics = get(port, "/metrics");
        QVERIFY2(metrics.find("tenfold_mpi_stage_busy_seconds_total{rank=\"2\"") != std::string::npos,
                 metrics.c_str());
        QCOMPARE(cluster.stopFrontEnd(), 0);
        const QString err = cluster.err();
        QVERIFY2(err.contains("[mpi] rank 2 on") && err.contains("tenfold-server: stopped"), qPrintable(err));
    }

    // Two ranks, an explicit split and pieces of one row: the same answers.
    void pipelineWithSplitAndMicroBatches()
    {
        Cluster cluster(model_, 2, {"--split", "5,3", "--micro-batch", "1"});
        QVERIFY2(cluster.port() > 0, qPrintable(cluster.err()));
        checkAnswers(cluster.port());
        const Json status = Json::parse(get(cluster.port(), "/tenfold/status"), nullptr, false);
        QCOMPARE(status["cluster"]["ranks"][1]["first_layer"], Json(5));
        QCOMPARE(cluster.stopFrontEnd(), 0);
    }

    // A stage that stops answering (SIGSTOP) takes its layers with it: the request in flight
    // fails within 10 s with an error naming the rank (503 "rank_lost"), and the job ends with a
    // non-zero code.
    void pipelineLostStageEndsTheJob()
    {
        Cluster cluster(model_, 3, {"--pipeline"});
        const int port = cluster.port();
        QVERIFY2(port > 0, qPrintable(cluster.err()));
        const qint64 pid = cluster.pid(1);
        QVERIFY2(pid > 0, qPrintable(cluster.err()));
        QCOMPARE(::kill(pid_t(pid), SIGSTOP), 0);
        const KillAtEnd killAtEnd{pid};
        QElapsedTimer since;
        since.start();
        std::string body;
        int status = 0;
        auto held = std::async(std::launch::async, [&] {
            post(port, "/v1/completions", completion(kTokens, true), &status, &body);
        });
        if (held.wait_for(std::chrono::seconds(12)) != std::future_status::ready) {
            cluster.stop();
            held.wait();
            QFAIL("the request on the stopped stage did not fail within 12 s");
        }
        QVERIFY2(since.elapsed() < 10000, qPrintable(QString::number(since.elapsed())));
        QVERIFY2(body.find("rank 1 (host") != std::string::npos, body.c_str());
        QVERIFY2(body.find("\"code\":\"rank_lost\"") != std::string::npos, body.c_str());
        const int code = cluster.waitForExit(10000);
        QVERIFY2(code > 0, qPrintable(QString::number(code) + "\n" + cluster.err()));
        QVERIFY2(since.elapsed() < 15000, qPrintable(QString::number(since.elapsed())));
        QVERIFY2(cluster.err().contains("rank 1 (host") && cluster.err().contains("ending the job"),
                 qPrintable(cluster.err()));
    }

    // Options a pipeline cannot take are refused before anything starts, saying which and why.
    void pipelineRefusesBadOptions()
    {
        const QString dir = QDir::temp().filePath(QStringLiteral("tenfold-prefixes-never-made"));
        const std::pair<QStringList, QString> cases[] = {
            {{"--pipeline", "--prefix-cache-dir", dir}, "--prefix-cache-dir saves whole sequences' KV"},
            {{"--micro-batch", "0"}, "--micro-batch must be 1..65536 rows, got '0'"},
            {{"--split", "4,4,4"}, "--split names 3 stages but mpirun started 2 ranks"},
        };
        for (const auto& [extra, message] : cases) {
            Cluster cluster(model_, 2, extra);
            QCOMPARE(cluster.port(), 0);
            const int code = cluster.waitForExit(20000);
            QVERIFY2(code > 0, qPrintable(extra.join(' ') + ": " + QString::number(code)));
            QVERIFY2(cluster.err().contains(message), qPrintable(extra.join(' ') + "\n" + cluster.err()));
            QVERIFY(!QFileInfo::exists(dir));
        }
    }

    // A stage that stops answering while no request is in flight is noticed too (rank 0 sends a
    // pass of no rows through the chain every second): the job ends non-zero within 10 s naming it.
    void pipelineIdleStageIsNoticed()
    {
        Cluster cluster(model_, 3, {"--pipeline"});
        QVERIFY2(cluster.port() > 0, qPrintable(cluster.err()));
        const Json plain = post(cluster.port(), "/v1/completions", completion(4, false));
        QVERIFY2(plain.contains("choices"), plain.dump().c_str());
        const qint64 pid = cluster.pid(2);
        QVERIFY2(pid > 0, qPrintable(cluster.err()));
        QCOMPARE(::kill(pid_t(pid), SIGSTOP), 0);
        const KillAtEnd killAtEnd{pid};
        QElapsedTimer since;
        since.start();
        const int code = cluster.waitForExit(12000);
        QVERIFY2(code > 0, qPrintable(QString::number(code) + "\n" + cluster.err()));
        QVERIFY2(since.elapsed() < 10000, qPrintable(QString::number(since.elapsed())));
        QVERIFY2(cluster.err().contains("rank 2 (host") && cluster.err().contains("ending the job"),
                 qPrintable(cluster.err()));
    }
};

QTEST_GUILESS_MAIN(TestMpiServe)
#include "tst_mpi_serve.moc"
