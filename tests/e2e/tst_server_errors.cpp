// tenfold-server under bad input and bad clients, over raw HTTP: every refusal has the right
// status and OpenAI's error object naming the problem, a client that vanishes mid-answer gets its
// request cancelled, keys are enforced off loopback, and after all of it a normal request still
// works and SIGTERM ends the server with exit code 0.
#include "common/oracle.h"
#include "common/shared_data.h"
#include "server/server_process.h"

#include <QTemporaryDir>
#include <QtTest>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

using namespace tenfold::test;
using Json = nlohmann::json;

namespace {

// Opens a TCP connection to 127.0.0.1:port, sends `request` as is, reads until `until` appears
// in the answer (or 30 s pass), then closes the socket without reading the rest.
bool sendAndVanish(int port, const std::string& request, const std::string& until, std::string* got)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return false;
    }
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) {
        ::close(fd);
        return false;
    }
    timeval tv{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    char buf[4096];
    while (got->find(until) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0)
            break;
        if (n > 0)
            got->append(buf, size_t(n));
    }
    ::close(fd);
    return got->find(until) != std::string::npos;
}

std::string postRequest(const std::string& path, const std::string& body)
{
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

} // namespace

class TestServerErrors : public QObject {
    Q_OBJECT

private:
    ServerProcess server_;
    std::unique_ptr<httplib::Client> http_;
    QTemporaryDir dataDir_;
    std::filesystem::path model_;

    httplib::Result post(const char* path, const std::string& body)
    {
        return http_->Post(path, body, "application/json");
    }

    // The refusal's status and OpenAI error object; the message must contain `mentions`.
    void expectError(const httplib::Result& r, int status, const std::string& mentions, const char* param = nullptr)
    {
        QVERIFY2(r, "no HTTP response");
        QVERIFY2(r->status == status, qPrintable(QStringLiteral("status %1, expected %2: %3")
                                                     .arg(r->status).arg(status).arg(QString::fromStdString(r->body))));
        const Json j = Json::parse(r->body, nullptr, false);
        QVERIFY2(j.is_object() && j.contains("error"), r->body.c_str());
        const Json& e = j["error"];
        QVERIFY(e["message"].is_string() && e["type"].is_string());
        QVERIFY(e.contains("param") && e.contains("code"));
        const std::string message = e["message"].get<std::string>();
        QVERIFY2(message.find(mentions) != std::string::npos,
                 qPrintable(QStringLiteral("'%1' does not mention '%2'").arg(QString::fromStdString(message), QString::fromStdString(mentions))));
        if (param)
            QCOMPARE(QString::fromStdString(e["param"].get<std::string>()), QString::fromUtf8(param));
    }

    long long metricValue(const std::string& name)
    {
        auto r = http_->Get("/metrics");
        if (!r || r->status != 200)
            return -1;
        const std::string key = "\n" + name + " ";
        const auto at = r->body.find(key);
        return at == std::string::npos ? -1 : std::stoll(r->body.substr(at + key.size()));
    }

    // Waits until /metrics counts `atLeast` cancelled requests.
    bool waitForCancelled(long long atLeast)
    {
        for (int i = 0; i < 150; ++i) {
            if (metricValue("tenfold_requests_cancelled_total") >= atLeast)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }

private slots:
    void initTestCase()
    {
        std::signal(SIGPIPE, SIG_IGN); // a server that closes on an unread body must not kill the test
        model_ = sharedFile("models/tenfold-ref-main-f16.gguf");
        if (!std::filesystem::exists(model_))
            QSKIP(qPrintable(missingMessage(model_)));
        QVERIFY(dataDir_.isValid());
        QVERIFY2(server_.start(QStringLiteral(TENFOLD_SERVER_PATH),
                               {QString::fromStdString(model_.string()), QStringLiteral("--port"), QStringLiteral("0"),
                                QStringLiteral("--data-dir"), dataDir_.path(), QStringLiteral("--ctx"),
                                QStringLiteral("1024"), QStringLiteral("--parallel"), QStringLiteral("4")}),
                 qPrintable(server_.error()));
        http_ = std::make_unique<httplib::Client>("127.0.0.1", server_.port());
        http_->set_read_timeout(120, 0);
    }

    void malformedJson()
    {
        expectError(post("/v1/chat/completions", R"({"messages": [)"), 400, "not valid JSON");
        expectError(post("/v1/completions", "[1, 2]"), 400, "must be a JSON object");
    }

    void wrongTypes_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("body");
        QTest::addColumn<QString>("param");
        QTest::newRow("temperature string") << "/v1/completions" << R"({"prompt":"x","temperature":"hot"})" << "temperature";
        QTest::newRow("max_tokens string") << "/v1/completions" << R"({"prompt":"x","max_tokens":"ten"})" << "max_tokens";
        QTest::newRow("n fraction") << "/v1/completions" << R"({"prompt":"x","n":1.5})" << "n";
        QTest::newRow("stream string") << "/v1/completions" << R"({"prompt":"x","stream":"yes"})" << "stream";
        QTest::newRow("stop number") << "/v1/completions" << R"({"prompt":"x","stop":5})" << "stop";
        QTest::newRow("prompt object") << "/v1/completions" << R"({"prompt":{"a":1}})" << "prompt";
        QTest::newRow("messages string") << "/v1/chat/completions" << R"({"messages":"hi"})" << "messages";
        QTest::newRow("content number") << "/v1/chat/completions" << R"({"messages":[{"role":"user","content":5}]})"
                                        << "messages[0].content";
        QTest::newRow("role missing") << "/v1/chat/completions" << R"({"messages":[{"content":"hi"}]})"
                                      << "messages[0].role";
        QTest::newRow("input number") << "/v1/embeddings" << R"({"input":5})" << "input";
        QTest::newRow("temperature range") << "/v1/completions" << R"({"prompt":"x","temperature":7})" << "temperature";
        QTest::newRow("tools") << "/v1/chat/completions"
                               << R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]})" << "tools";
        QTest::newRow("presence_penalty") << "/v1/completions" << R"({"prompt":"x","presence_penalty":0.5})"
                                          << "presence_penalty";
        QTest::newRow("response_format") << "/v1/chat/completions"
                                         << R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}})"
                                         << "response_format";
    }

    void wrongTypes()
    {
        QFETCH(QString, path);
        QFETCH(QString, body);
        QFETCH(QString, param);
        const std::string p = param.toStdString();
        expectError(post(path.toUtf8().constData(), body.toStdString()), 400, "'" + p + "'", p.c_str());
    }

    void unknownModelAndRoute()
    {
        expectError(post("/v1/completions", R"({"model":"gpt-4","prompt":"x"})"), 404, "gpt-4", "model");
        expectError(post("/v1/chat/completions", R"({"model":"gpt-4","messages":[{"role":"user","content":"x"}]})"),
                    404, "gpt-4", "model");
        expectError(http_->Get("/v1/nothing-here"), 404, "/v1/nothing-here");
        // The file stem is accepted as the model's name.
        auto ok = post("/v1/completions",
                       Json{{"model", model_.stem().string()}, {"prompt", "The"}, {"max_tokens", 2}}.dump());
        QVERIFY(ok && ok->status == 200);
    }

    void emptyMessages()
    {
        expectError(post("/v1/chat/completions", R"({"messages":[]})"), 400, "at least one message", "messages");
        expectError(post("/v1/completions", R"({"prompt":""})"), 400, "must not be empty", "prompt");
    }

    void promptOverContext()
    {
        std::string prompt;
        for (int i = 0; i < 1500; ++i)
            prompt += "the jury said ";
        auto r = post("/v1/completions", Json{{"prompt", prompt}, {"max_tokens", 4}}.dump());
        expectError(r, 400, "holds only 1024 tokens", "prompt");
        // ... and the message names the prompt's own length too.
        const std::string message = Json::parse(r->body)["error"]["message"];
        QVERIFY2(message.find("the prompt is ") != std::string::npos, message.c_str());
        const int promptTokens = std::stoi(message.substr(message.find("the prompt is ") + 14));
        QVERIFY(promptTokens > 1024);
    }

    void maxTokensZero()
    {
        expectError(post("/v1/completions", R"({"prompt":"x","max_tokens":0})"), 400, "at least 1", "max_tokens");
        expectError(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"max_completion_tokens":-3})"),
                    400, "at least 1", "max_completion_tokens");
    }

    void invalidUtf8()
    {
        expectError(post("/v1/completions", "{\"prompt\":\"caf\xC3\x28\"}"), 400, "not valid UTF-8");
        expectError(post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"\xED\xA0\x80\"}]}"),
                    400, "not valid UTF-8");
    }

    void bodyTooLarge()
    {
        const std::string big = "{\"prompt\":\"" + std::string(10 * 1024 * 1024, 'a') + "\"}";
        expectError(post("/v1/completions", big), 413, "larger than 1048576 bytes");
    }

    void clientVanishesMidStream()
    {
        const long long before = metricValue("tenfold_requests_cancelled_total");
        QVERIFY(before >= 0);
        // Greedy on ref-main repeats itself rather than ending: ~1000 tokens take seconds.
        const std::string body = Json{{"prompt", "The jury said that"}, {"max_tokens", 1000}, {"temperature", 0},
                                      {"stream", true}, {"ignore_eos", true}}.dump();
        std::string got;
        QVERIFY2(sendAndVanish(server_.port(), postRequest("/v1/completions", body), "\"text\"", &got), got.c_str());
        QVERIFY2(got.find("HTTP/1.1 200") == 0, got.c_str());
        QVERIFY2(waitForCancelled(before + 1), "the vanished client's request was not cancelled");
        // /tenfold/status lists it as cancelled, with fewer tokens than asked. (The scheduler
        // counts the cancel as it hands over the final event; the HTTP thread records the request
        // a moment later, so the list is polled.)
        Json newest;
        for (int i = 0; i < 100; ++i) {
            auto status = http_->Get("/tenfold/status");
            QVERIFY(status && status->status == 200);
            const Json recent = Json::parse(status->body)["recent"];
            if (!recent.empty() && recent[0]["finish_reason"] == "cancelled") {
                newest = recent[0];
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        QVERIFY2(newest.is_object(), "/tenfold/status never listed the cancelled request");
        QVERIFY(newest["completion_tokens"].get<int>() < 1000);
    }

    void clientVanishesWhileWaiting()
    {
        // Not streamed: the server writes JSON-legal spaces while it works, and the failed write
        // tells it the client left.
        const long long before = metricValue("tenfold_requests_cancelled_total");
        const std::string body = Json{{"prompt", "The jury said that"}, {"max_tokens", 1000}, {"temperature", 0},
                                      {"n", 4}, {"ignore_eos", true}}.dump();
        std::string got;
        QVERIFY2(sendAndVanish(server_.port(), postRequest("/v1/completions", body), "200 OK", &got), got.c_str());
        QVERIFY2(waitForCancelled(before + 1), "the vanished client's request was not cancelled");
    }

    void queueFull()
    {
        ServerProcess small;
        QVERIFY2(small.start(QStringLiteral(TENFOLD_SERVER_PATH),
                             {QString::fromStdString(model_.string()), QStringLiteral("--port"), QStringLiteral("0"),
                              QStringLiteral("--no-ledger"), QStringLiteral("--ctx"), QStringLiteral("4096"),
                              QStringLiteral("--parallel"), QStringLiteral("1"), QStringLiteral("--max-queue"),
                              QStringLiteral("1")}),
                 qPrintable(small.error()));
        // One long request runs, one waits; the next is refused at once with 503. 4000 greedy
        // tokens take seconds; the third request goes out as soon as /tenfold/status shows the
        // other two held.
        const std::string longBody = Json{{"prompt", "The jury said that"}, {"max_tokens", 4000},
                                          {"temperature", 0}, {"ignore_eos", true}}.dump();
        std::vector<std::thread> holders;
        // However this function ends, the held requests end with the server and are joined.
        const auto joinHolders = qScopeGuard([&] {
            small.stop();
            for (auto& t : holders)
                t.join();
        });
        httplib::Client status("127.0.0.1", small.port());
        std::string lastStatus;
        // Waits until /tenfold/status lists `count` requests, the first of them generating.
        auto waitForHeld = [&](size_t count) {
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
            while (std::chrono::steady_clock::now() < deadline) {
                auto r = status.Get("/tenfold/status");
                lastStatus = r ? r->body : "no answer";
                if (r && r->status == 200) {
                    const Json requests = Json::parse(r->body)["requests"];
                    if (requests.size() == count && requests[0]["state"] == "generating")
                        return true;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            return false;
        };
        // One at a time: a second request sent while the first still waits for admission would
        // find the one-place queue full.
        for (size_t i = 1; i <= 2; ++i) {
            holders.emplace_back([&] {
                httplib::Client c("127.0.0.1", small.port());
                c.set_read_timeout(120, 0);
                c.Post("/v1/completions", longBody, "application/json");
            });
            QVERIFY2(waitForHeld(i), ("the long requests never showed up as running and queued: " + lastStatus).c_str());
        }
        httplib::Client c("127.0.0.1", small.port());
        expectError(c.Post("/v1/completions", longBody, "application/json"), 503, "busy");
        QCOMPARE(small.stop(), 0); // SIGTERM ends the held requests too
    }

    void apiKeys()
    {
        // One key on the command line, two in a file (one labelled, with comments and blanks).
        QTemporaryDir dir;
        QFile keyFile(dir.filePath(QStringLiteral("keys.txt")));
        QVERIFY(keyFile.open(QIODevice::WriteOnly));
        keyFile.write("# team keys\nalice: sk-alice-1\n\nsk-unlabelled-2\n");
        keyFile.close();
        ServerProcess keyed;
        QVERIFY2(keyed.start(QStringLiteral(TENFOLD_SERVER_PATH),
                             {QString::fromStdString(model_.string()), QStringLiteral("--port"), QStringLiteral("0"),
                              QStringLiteral("--no-ledger"), QStringLiteral("--host"), QStringLiteral("0.0.0.0"),
                              QStringLiteral("--api-key"), QStringLiteral("k"), QStringLiteral("--api-key-file"),
                              keyFile.fileName(), QStringLiteral("--model-alias"), QStringLiteral("jury-7")}),
                 qPrintable(keyed.error()));
        httplib::Client c("127.0.0.1", keyed.port());
        const std::string body = R"({"prompt":"The","max_tokens":2})";
        expectError(c.Post("/v1/completions", body, "application/json"), 401, "API key");
        expectError(c.Post("/v1/completions", {{"Authorization", "Bearer wrong"}}, body, "application/json"), 401,
                    "invalid API key");
        expectError(c.Get("/v1/models", {{"Authorization", "Bearer kk"}}), 401, "invalid API key");
        // A key is checked before the body is read: 10 MB without a key is refused at once (the
        // server answers 401 and closes, so the client may not even get to read the answer), never
        // read and answered 413.
        auto big = c.Post("/v1/completions", std::string(10 * 1024 * 1024, 'a'), "application/json");
        QVERIFY2(!big || big->status == 401, big ? big->body.c_str() : "");
        auto ok = c.Post("/v1/completions", {{"Authorization", "Bearer k"}}, body, "application/json");
        QVERIFY(ok && ok->status == 200);
        auto health = c.Get("/health"); // liveness probes need no key
        QVERIFY(health && health->status == 200);
        // --model-alias: the id /v1/models reports; the alias and the file stem are both accepted.
        auto models = c.Get("/v1/models", {{"Authorization", "Bearer k"}});
        QVERIFY(models && models->status == 200);
        QCOMPARE(QString::fromStdString(Json::parse(models->body)["data"][0]["id"].get<std::string>()),
                 QStringLiteral("jury-7"));
        for (const std::string& name : {std::string("jury-7"), model_.stem().string()}) {
            auto r = c.Post("/v1/completions", {{"Authorization", "Bearer k"}},
                            Json{{"model", name}, {"prompt", "The"}, {"max_tokens", 2}}.dump(), "application/json");
            QVERIFY(r && r->status == 200);
            QCOMPARE(QString::fromStdString(Json::parse(r->body)["model"].get<std::string>()), QStringLiteral("jury-7"));
        }
        // A labelled key names its client; an unlabelled one leaves the peer's address.
        for (const char* key : {"Bearer sk-alice-1", "Bearer sk-unlabelled-2"}) {
            auto r = c.Post("/v1/completions", {{"Authorization", key}}, body, "application/json");
            QVERIFY(r && r->status == 200);
        }
        auto status = c.Get("/tenfold/status", {{"Authorization", "Bearer k"}});
        QVERIFY(status && status->status == 200);
        const Json recent = Json::parse(status->body)["recent"]; // newest first
        QCOMPARE(recent.size(), size_t(5));
        QCOMPARE(QString::fromStdString(recent[0]["client"].get<std::string>()), QStringLiteral("127.0.0.1"));
        QCOMPARE(QString::fromStdString(recent[1]["client"].get<std::string>()), QStringLiteral("alice"));
        QCOMPARE(keyed.stop(), 0);
    }

    void idleConnectionsDoNotStallOthers()
    {
        // Four clients connect, send half a request line and go quiet; a fifth is served at
        // once, and the quiet ones are dropped after the read timeout.
        std::vector<int> quiet;
        for (int i = 0; i < 4; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_port = htons(uint16_t(server_.port()));
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            QCOMPARE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
            QVERIFY(::send(fd, "POST /v1/compl", 14, MSG_NOSIGNAL) == 14);
            quiet.push_back(fd);
        }
        const auto closeQuiet = qScopeGuard([&] {
            for (int fd : quiet)
                ::close(fd);
        });
        const auto start = std::chrono::steady_clock::now();
        auto r = post("/v1/completions", R"({"prompt":"The jury","max_tokens":4,"temperature":0})");
        QVERIFY(r && r->status == 200);
        QVERIFY(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
        // The server hangs up on a quiet one after its 10-second read timeout (it may say 400
        // or 408 first), so idle sockets cannot hold its connection threads for ever.
        timeval tv{30, 0};
        setsockopt(quiet[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[512];
        ssize_t n;
        while ((n = ::recv(quiet[0], buf, sizeof buf, 0)) > 0) {
        }
        QVERIFY2(n == 0, "the quiet connection was still open after 30 s");
        QVERIFY(std::chrono::steady_clock::now() - start < std::chrono::seconds(25));
    }

    void refusesNonLoopbackWithoutKey()
    {
        const ProcessResult r = runProcess(QStringLiteral(TENFOLD_SERVER_PATH),
                                           {QString::fromStdString(model_.string()), QStringLiteral("--port"),
                                            QStringLiteral("0"), QStringLiteral("--no-ledger"), QStringLiteral("--host"),
                                            QStringLiteral("0.0.0.0")},
                                           60000);
        QVERIFY(r.finished);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("--api-key"), r.err.constData());
        QVERIFY(r.out.isEmpty()); // never said it listens
    }

    void normalRequestStillSucceeds()
    {
        auto r = post("/v1/chat/completions",
                      R"({"messages":[{"role":"user","content":"The jury said that"}],"max_tokens":8,"temperature":0,)"
                      R"("presence_penalty":0,"frequency_penalty":0,"logit_bias":{},"response_format":{"type":"text"},"user":"u1"})");
        QVERIFY(r && r->status == 200);
        const Json j = Json::parse(r->body);
        QCOMPARE(j["choices"][0]["finish_reason"].get<std::string>(), std::string("length"));
        QCOMPARE(j["usage"]["completion_tokens"].get<int>(), 8);
        QVERIFY(!j["choices"][0]["message"]["content"].get<std::string>().empty());
        auto health = http_->Get("/health");
        QVERIFY(health && health->status == 200);
    }

    void sigtermExitsZero()
    {
        QCOMPARE(server_.stop(), 0);
    }
};

QTEST_GUILESS_MAIN(TestServerErrors)
#include "tst_server_errors.moc"
