// tenfold-server's caches and speculative decoding over real HTTP (label `server`):
// - a repeated deterministic request is answered from the response cache (X-Tenfold-Cache:
//   exact) with the same text, streamed or not, and recorded in the ledger as a hit; sampled
//   requests without a seed and "cache": "off" are never cached; a damaged row is recomputed;
// - requests sharing a long prefix reuse the prefix KV cache (its counters move) and still give
//   the text `tenfold-cli generate --temp 0` gives (the single-sequence oracle);
// - with --draft, greedy answers are the same text and the draft counters move.
#include "common/shared_data.h"
#include "server/server_process.h"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using Json = nlohmann::json;
using tenfold::test::ServerProcess;

namespace {

std::string cliGreedy(const std::string& model, const std::string& prompt, int n)
{
    QProcess p;
    p.start(QStringLiteral(TENFOLD_CLI_PATH), {"generate", QString::fromStdString(model), "-p",
                                               QString::fromStdString(prompt), "-n", QString::number(n), "--temp", "0",
                                               "--no-echo", "--threads", "2"});
    p.waitForFinished(120000);
    std::string out = p.readAllStandardOutput().toStdString();
    if (!out.empty() && out.back() == '\n')
        out.pop_back(); // generate ends its output with a newline
    return out;
}

long long sqliteCount(const std::filesystem::path& db, const char* sql)
{
    sqlite3* h = nullptr;
    if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
        return -1;
    sqlite3_stmt* st = nullptr;
    long long v = -1;
    if (sqlite3_prepare_v2(h, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

} // namespace

class TestServerCache : public QObject {
    Q_OBJECT
    std::filesystem::path main_, draft_;

    long long metric(httplib::Client& c, const std::string& name)
    {
        auto r = c.Get("/metrics");
        if (!r)
            return -1;
        const std::string key = "\n" + name + " ";
        const auto at = r->body.find(key);
        return at == std::string::npos ? -1 : std::stoll(r->body.substr(at + key.size()));
    }

private slots:
    void initTestCase()
    {
        main_ = tenfold::test::sharedFile("models/tenfold-ref-main-f16.gguf");
        draft_ = tenfold::test::sharedFile("models/tenfold-ref-draft-f16.gguf");
        TENFOLD_REQUIRE_SHARED(main_);
        TENFOLD_REQUIRE_SHARED(draft_);
    }

    void responseCache()
    {
        QTemporaryDir data;
        ServerProcess server;
        QVERIFY2(server.start(TENFOLD_SERVER_PATH, {QString::fromStdString(main_.string()), "--port", "0", "--data-dir",
                                                    data.path(), "--threads", "2"}),
                 qPrintable(server.error()));
        httplib::Client c(server.host().toStdString(), server.port());
        c.set_read_timeout(120, 0);
        const std::string body = R"({"prompt": "The jury said that", "max_tokens": 24, "temperature": 0})";
        auto first = c.Post("/v1/completions", body, "application/json");
        QVERIFY(first && first->status == 200);
        QVERIFY(!first->has_header("X-Tenfold-Cache"));
        const std::string text = Json::parse(first->body)["choices"][0]["text"];
        QCOMPARE(QString::fromStdString(text), QString::fromStdString(cliGreedy(main_.string(), "The jury said that", 24)));
        auto second = c.Post("/v1/completions", body, "application/json");
        QVERIFY(second && second->status == 200);
        QCOMPARE(QString::fromStdString(second->get_header_value("X-Tenfold-Cache")), QString("exact"));
        QCOMPARE(QString::fromStdString(Json::parse(second->body)["choices"][0]["text"].get<std::string>()),
                 QString::fromStdString(text));
        // Streamed from the cache: the same text in SSE chunks.
        auto streamed = c.Post("/v1/completions",
                               R"({"prompt": "The jury said that", "max_tokens": 24, "temperature": 0, "stream": true})",
                               "application/json");
        QVERIFY(streamed && streamed->status == 200);
        QVERIFY(streamed->body.find("data: [DONE]") != std::string::npos);
        std::string joined;
        for (size_t at = 0; (at = streamed->body.find("data: {", at)) != std::string::npos; ++at) {
            const size_t end = streamed->body.find("\n\n", at);
            const Json j = Json::parse(streamed->body.substr(at + 6, end - at - 6));
            if (!j["choices"].empty())
                joined += j["choices"][0]["text"].get<std::string>();
        }
        QCOMPARE(QString::fromStdString(joined), QString::fromStdString(text));
        // Not deterministic, or opted out: computed every time.
        const std::string sampled = R"({"prompt": "The jury said that", "max_tokens": 8, "temperature": 0.8})";
        QVERIFY(!c.Post("/v1/completions", sampled, "application/json")->has_header("X-Tenfold-Cache"));
        QVERIFY(!c.Post("/v1/completions", sampled, "application/json")->has_header("X-Tenfold-Cache"));
        const std::string off = R"({"prompt": "The jury said that", "max_tokens": 24, "temperature": 0, "cache": "off"})";
        QVERIFY(!c.Post("/v1/completions", off, "application/json")->has_header("X-Tenfold-Cache"));
        auto bad = c.Post("/v1/completions", R"({"prompt": "x", "cache": "sometimes"})", "application/json");
        QVERIFY(bad && bad->status == 400 && bad->body.find("cache") != std::string::npos);
        QVERIFY(metric(c, "tenfold_response_cache_hits_total") == 2);
        QCOMPARE(server.stop(), 0);
        const auto db = std::filesystem::path(data.path().toStdString()) / "tenfold.db";
        QCOMPARE(sqliteCount(db, "SELECT count(*) FROM usage_ledger WHERE cache_hit = 'exact'"), 2LL);
        QVERIFY(sqliteCount(db, "SELECT count(*) FROM response_cache") >= 1);

        // Damage the stored answer: the restarted server recomputes instead of serving it.
        {
            sqlite3* h = nullptr;
            QCOMPARE(sqlite3_open(db.c_str(), &h), SQLITE_OK);
            QCOMPARE(sqlite3_exec(h, "UPDATE response_cache SET response = replace(response, 'a', 'b')", nullptr,
                                  nullptr, nullptr),
                     SQLITE_OK);
            sqlite3_close(h);
        }
        ServerProcess again;
        QVERIFY2(again.start(TENFOLD_SERVER_PATH, {QString::fromStdString(main_.string()), "--port", "0", "--data-dir",
                                                   data.path(), "--threads", "2"}),
                 qPrintable(again.error()));
        httplib::Client c2(again.host().toStdString(), again.port());
        c2.set_read_timeout(120, 0);
        auto recomputed = c2.Post("/v1/completions", body, "application/json");
        QVERIFY(recomputed && recomputed->status == 200);
        QVERIFY(!recomputed->has_header("X-Tenfold-Cache"));
        QCOMPARE(QString::fromStdString(Json::parse(recomputed->body)["choices"][0]["text"].get<std::string>()),
                 QString::fromStdString(text));
        QCOMPARE(again.stop(), 0);
    }

    void prefixCacheAndDraft()
    {
        QTemporaryDir data;
        ServerProcess server;
        QVERIFY2(server.start(TENFOLD_SERVER_PATH,
                              {QString::fromStdString(main_.string()), "--port", "0", "--data-dir", data.path(),
                               "--threads", "2", "--response-cache", "off", "--draft",
                               QString::fromStdString(draft_.string()), "--draft-max", "4"}),
                 qPrintable(server.error()));
        httplib::Client c(server.host().toStdString(), server.port());
        c.set_read_timeout(120, 0);
        const std::string shared =
            "The history of the town began with a mill on the river, a church, a school and a market where farmers "
            "sold grain, wool and cheese every week of the year, and the people who lived there";
        for (const char* tail : {" worked", " said", " built"}) {
            const std::string prompt = shared + tail;
            const Json req = {{"prompt", prompt}, {"max_tokens", 20}, {"temperature", 0}};
            auto r = c.Post("/v1/completions", req.dump(), "application/json");
            QVERIFY(r && r->status == 200);
            QCOMPARE(QString::fromStdString(Json::parse(r->body)["choices"][0]["text"].get<std::string>()),
                     QString::fromStdString(cliGreedy(main_.string(), prompt, 20)));
        }
        QVERIFY2(metric(c, "tenfold_prefix_cache_tokens_reused_total") >= 2 * 16,
                 qPrintable(QString::number(metric(c, "tenfold_prefix_cache_tokens_reused_total"))));
        QVERIFY(metric(c, "tenfold_draft_tokens_proposed_total") > 0);
        QVERIFY(metric(c, "tenfold_draft_tokens_accepted_total") > 0);
        QCOMPARE(server.stop(), 0);
        // A draft with another vocabulary is refused at start.
        ServerProcess wrong;
        QVERIFY(!wrong.start(TENFOLD_SERVER_PATH,
                             {QString::fromStdString(main_.string()), "--port", "0", "--data-dir", data.path(), "--draft",
                              QString::fromStdString(tenfold::test::sharedFile("models/stories260K.gguf").string())},
                             30000));
    }

    // --prefix-cache-dir: the prefix cache is saved when the server stops and restored when it
    // starts again, so the restarted server reuses the long prompt from its first request (and
    // still answers it as the CLI's plain generation does).
    void prefixCacheSurvivesRestart()
    {
        QTemporaryDir data;
        const QString dir = data.filePath("prefixes");
        const QStringList args{QString::fromStdString(main_.string()), "--port", "0", "--data-dir", data.path(),
                               "--threads", "2", "--response-cache", "off", "--prefix-cache-dir", dir};
        const std::string prompt =
            "You answer questions about the town. The history of the town began with a mill on the river, a church, "
            "a school and a market where farmers sold grain, wool and cheese every week of the year. Question:";
        const Json req = {{"prompt", prompt}, {"max_tokens", 12}, {"temperature", 0}};
        const QString want = QString::fromStdString(cliGreedy(main_.string(), prompt, 12));
        {
            ServerProcess server;
            QVERIFY2(server.start(TENFOLD_SERVER_PATH, args), qPrintable(server.error()));
            httplib::Client c(server.host().toStdString(), server.port());
            c.set_read_timeout(120, 0);
            auto r = c.Post("/v1/completions", req.dump(), "application/json");
            QVERIFY(r && r->status == 200);
            QCOMPARE(QString::fromStdString(Json::parse(r->body)["choices"][0]["text"].get<std::string>()), want);
            QCOMPARE(metric(c, "tenfold_prefix_cache_tokens_reused_total"), 0.0);
            QCOMPARE(server.stop(), 0);
            const QString err = QString::fromUtf8(server.stderrText());
            QVERIFY2(err.contains(QRegularExpression("saved [1-9][0-9]* cached prefixes")), qPrintable(err));
        }
        ServerProcess again;
        QVERIFY2(again.start(TENFOLD_SERVER_PATH, args), qPrintable(again.error()));
        httplib::Client c(again.host().toStdString(), again.port());
        c.set_read_timeout(120, 0);
        auto r = c.Post("/v1/completions", req.dump(), "application/json");
        QVERIFY(r && r->status == 200);
        QCOMPARE(QString::fromStdString(Json::parse(r->body)["choices"][0]["text"].get<std::string>()), want);
        QVERIFY2(metric(c, "tenfold_prefix_cache_tokens_reused_total") >= 3 * 16,
                 qPrintable(QString::number(metric(c, "tenfold_prefix_cache_tokens_reused_total"))));
        QCOMPARE(again.stop(), 0);
        QVERIFY(QString::fromUtf8(again.stderrText()).contains("restored "));
    }
};

QTEST_GUILESS_MAIN(TestServerCache)
#include "tst_server_cache.moc"
