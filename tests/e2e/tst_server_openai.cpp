// tenfold-server against the official OpenAI client (the `openai` npm package, run by Node):
// chat (plain and streamed), text completions (sequential, streamed and 8 at once), sampling
// with several choices, embeddings and an unknown model. Every greedy text must equal what the
// single-sequence path prints for the same prompt: `tenfold-cli generate --temp 0` is the
// independent oracle for the batched scheduler. Then the ledger must hold one row per request.
#include "common/oracle.h"
#include "common/shared_data.h"
#include "server/server_process.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

using namespace tenfold::test;

namespace {

const QStringList kPrompts = {
    QStringLiteral("Once upon a time"),   QStringLiteral("The little dog"),
    QStringLiteral("Lily and Tom went"),  QStringLiteral("One day, a bird"),
    QStringLiteral("The jury said that"), QStringLiteral("There was a big"),
    QStringLiteral("Mom said that"),      QStringLiteral("The sun was"),
};
constexpr int kMaxTokens = 24;

struct LedgerRow {
    QString model, device, source, client;
    int tokensIn = 0, tokensOut = 0;
    // The cost columns: what was computed, the file's type, the kernel level, the energy.
    QString quantization, kernelLevel, energySource, cacheHit;
    int prefillTokens = 0, decodeTokens = 0, contextSize = 0;
    double energyJoules = 0;
};

QList<LedgerRow> readLedger(const QString& dbFile, QString* error)
{
    QList<LedgerRow> rows;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(dbFile.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        *error = QStringLiteral("cannot open %1: %2").arg(dbFile, QString::fromUtf8(sqlite3_errmsg(db)));
        sqlite3_close(db);
        return rows;
    }
    sqlite3_stmt* st = nullptr;
    const char* sql = "SELECT model, device, source, client, tokens_in, tokens_out, quantization, kernel_level, "
                      "energy_source, prefill_tokens, decode_tokens, context_size, energy_j, cache_hit FROM usage_ledger ORDER BY id";
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
        *error = QString::fromUtf8(sqlite3_errmsg(db));
    } else {
        auto text = [&](int i) { return QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(st, i))); };
        while (sqlite3_step(st) == SQLITE_ROW)
            rows.push_back({text(0), text(1), text(2), text(3), sqlite3_column_int(st, 4), sqlite3_column_int(st, 5),
                            text(6), text(7), text(8), text(13), sqlite3_column_int(st, 9), sqlite3_column_int(st, 10),
                            sqlite3_column_int(st, 11), sqlite3_column_double(st, 12)});
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rows;
}

} // namespace

class TestServerOpenAI : public QObject {
    Q_OBJECT

private:
    QString node_;
    QString clientScript_;

    // tenfold-cli generate's continuation (stdout without the newline it adds at the end).
    QString cliGreedy(const std::filesystem::path& model, const QString& prompt, const QString& device)
    {
        const ProcessResult r = runProcess(QStringLiteral(TENFOLD_CLI_PATH),
                                           {QStringLiteral("generate"), QString::fromStdString(model.string()),
                                            QStringLiteral("-p"), prompt, QStringLiteral("-n"),
                                            QString::number(kMaxTokens), QStringLiteral("--temp"), QStringLiteral("0"),
                                            QStringLiteral("--no-echo"), QStringLiteral("--device"), device},
                                           300000);
        if (!r.ok())
            return QStringLiteral("<tenfold-cli failed: %1>").arg(r.describe());
        QString out = QString::fromUtf8(r.out);
        if (out.endsWith(QLatin1Char('\n')))
            out.chop(1);
        return out;
    }

    // device: "cpu" or "vulkan"; the oracle runs the CLI on the same device.
    void runAgainst(const char* modelFile, const QString& device = QStringLiteral("cpu"))
    {
        const auto model = sharedFile(modelFile);
        TENFOLD_REQUIRE_SHARED(model);
        if (node_.isEmpty())
            QSKIP("node is not installed (the OpenAI client runs on Node)");
        if (!QFile::exists(QStringLiteral(TENFOLD_SERVER_NODE_DIR "/node_modules/openai/package.json")))
            QSKIP("the openai npm package is missing in " TENFOLD_SERVER_NODE_DIR
                  " (the build's npm install failed: no network?)");

        QTemporaryDir dataDir;
        QVERIFY(dataDir.isValid());
        ServerProcess server;
        // --parallel 8: the eight concurrent requests really share batches.
        QVERIFY2(server.start(QStringLiteral(TENFOLD_SERVER_PATH),
                              {QString::fromStdString(model.string()), QStringLiteral("--port"), QStringLiteral("0"),
                               QStringLiteral("--data-dir"), dataDir.path(), QStringLiteral("--parallel"),
                               QStringLiteral("8"), QStringLiteral("--device"), device}),
                 qPrintable(server.error()));
        QCOMPARE(server.startupOutput().count('\n'), 1); // exactly one line on stdout
        const QString modelId = QString::fromStdString(model.stem().string());

        QJsonObject spec{{QStringLiteral("baseURL"), server.baseUrl() + QStringLiteral("/v1")},
                         {QStringLiteral("model"), modelId},
                         {QStringLiteral("prompts"), QJsonArray::fromStringList(kPrompts)},
                         {QStringLiteral("maxTokens"), kMaxTokens}};
        const ProcessResult client =
            runProcess(node_, {clientScript_, QString::fromUtf8(QJsonDocument(spec).toJson(QJsonDocument::Compact))},
                       600000);
        QVERIFY2(client.ok(), qPrintable(client.describe() + QStringLiteral("\nserver stderr: ") +
                                         QString::fromUtf8(server.stderrText())));
        QJsonParseError parseError;
        const QJsonObject out = QJsonDocument::fromJson(client.out, &parseError).object();
        QVERIFY2(parseError.error == QJsonParseError::NoError, qPrintable(QString::fromUtf8(client.out)));

        QCOMPARE(out.value("models").toArray().first().toString(), modelId);

        // The oracle: the single-sequence CLI path, greedy, per prompt.
        QStringList expected;
        for (const QString& p : kPrompts)
            expected << cliGreedy(model, p, device);
        for (const QString& e : expected)
            QVERIFY2(!e.startsWith(QStringLiteral("<tenfold-cli failed")), qPrintable(e));

        // These models have no chat template: chat is plain completion of the message's text,
        // so its greedy reply is the CLI's continuation of the same text.
        QCOMPARE(out.value("chatObject").toString(), QStringLiteral("chat.completion"));
        QCOMPARE(out.value("chat").toString(), expected[0]);
        QCOMPARE(out.value("chatFinish").toString(), QStringLiteral("length"));
        QCOMPARE(out.value("chatUsage").toObject().value("completion_tokens").toInt(), kMaxTokens);
        const QJsonObject stream = out.value("chatStream").toObject();
        QCOMPARE(stream.value("text").toString(), expected[0]);
        QCOMPARE(stream.value("role").toString(), QStringLiteral("assistant"));
        QCOMPARE(stream.value("finish").toString(), QStringLiteral("length"));
        QCOMPARE(stream.value("usage").toObject().value("completion_tokens").toInt(), kMaxTokens);
        QVERIFY(stream.value("chunks").toInt() > 2); // really streamed, not one body

        const QJsonArray sequential = out.value("completions").toArray();
        const QJsonArray parallel = out.value("parallel").toArray();
        QCOMPARE(sequential.size(), kPrompts.size());
        QCOMPARE(parallel.size(), kPrompts.size());
        for (int i = 0; i < kPrompts.size(); ++i) {
            QVERIFY2(sequential[i].toString() == expected[i],
                     qPrintable(QStringLiteral("prompt '%1': server '%2', cli '%3'")
                                    .arg(kPrompts[i], sequential[i].toString(), expected[i])));
            QVERIFY2(parallel[i].toString() == expected[i],
                     qPrintable(QStringLiteral("prompt '%1' (8 at once): server '%2', cli '%3'")
                                    .arg(kPrompts[i], parallel[i].toString(), expected[i])));
        }
        QCOMPARE(out.value("completionStream").toString(), expected[0]);

        const QJsonArray four = out.value("greedyChoices").toArray();
        QCOMPARE(four.size(), 4);
        for (const auto& choice : four)
            QCOMPARE(choice.toString(), expected[0]);
        const QJsonArray same = out.value("samePrompt").toArray();
        QCOMPARE(same.size(), 4);
        for (const auto& text : same)
            QCOMPARE(text.toString(), expected[1]);
        const QJsonArray seeded = out.value("seeded").toArray();
        QCOMPARE(seeded.size(), 2);
        QCOMPARE(seeded[0].toArray(), seeded[1].toArray());
        QCOMPARE(seeded[0].toArray().size(), 2);

        const QJsonObject sampled = out.value("sampled").toObject();
        QCOMPARE(sampled.value("choices").toInt(), 2);
        QVERIFY(sampled.value("logprobTokens").toInt() > 0);
        const QJsonObject emb = out.value("embeddings").toObject();
        QCOMPARE(emb.value("count").toInt(), 2);
        QVERIFY(emb.value("dims").toInt() > 0);
        QVERIFY(qAbs(emb.value("norm").toDouble() - 1.0) < 1e-3); // L2-normalised
        QCOMPARE(out.value("unknownModelStatus").toInt(), 404);

        // SIGTERM: a clean exit, and every row written before it.
        QCOMPARE(server.stop(), 0);
        QString error;
        const QList<LedgerRow> rows = readLedger(dataDir.filePath(QStringLiteral("tenfold.db")), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(rows.size(), out.value("requests").toInt());
        int withTokens = 0, computed = 0;
        for (const LedgerRow& r : rows) {
            QCOMPARE(r.source, QStringLiteral("server"));
            QCOMPARE(r.client, QStringLiteral("127.0.0.1"));
            QCOMPARE(r.model, modelId);
            if (device == QLatin1String("cpu"))
                QCOMPARE(r.device, QStringLiteral("cpu"));
            else
                QVERIFY2(r.device.startsWith(QStringLiteral("vulkan:")) && r.device.size() > 7, qPrintable(r.device));
            QVERIFY(r.tokensIn > 0);
            withTokens += r.tokensOut == kMaxTokens ? 1 : 0;
            // Computed: every prompt and generated token was computed here; an answer from the
            // response cache computed none.
            const bool cached = !r.cacheHit.isEmpty();
            computed += cached ? 0 : 1;
            QCOMPARE(r.prefillTokens, cached ? 0 : r.tokensIn);
            QCOMPARE(r.decodeTokens, cached ? 0 : r.tokensOut);
            // ref-main is the F16 file; stories260K is F32 throughout (tenfold-cli inspect).
            QCOMPARE(r.quantization, QString::fromLatin1(QByteArray(modelFile).contains("f16") ? "F16" : "F32"));
            QCOMPARE(r.kernelLevel == QLatin1String("vulkan"), device != QLatin1String("cpu"));
            QVERIFY(r.contextSize > 0);
            if (!cached)
                QVERIFY2(r.energySource == QLatin1String("rapl") || r.energySource == QLatin1String("estimate"),
                         qPrintable(r.energySource));
            if (!cached)
                QVERIFY(r.energyJoules > 0);
        }
        // Every request ran one choice to max_tokens except five: the four-choice one, the two
        // seeded and the sampled ones (8 tokens a choice) and the embeddings (none).
        QCOMPARE(withTokens, rows.size() - 5);
        QVERIFY(computed > 0);
    }

private slots:
    void initTestCase()
    {
        node_ = QStandardPaths::findExecutable(QStringLiteral("node"));
        clientScript_ = QStringLiteral(TENFOLD_SERVER_NODE_DIR "/openai_client.mjs");
    }

    void stories260K() { runAgainst("models/stories260K.gguf"); }
    void refMain() { runAgainst("models/tenfold-ref-main-f16.gguf"); }

    // --chat-template chatml on a model without one: the server renders the ChatML prompt, and
    // stops at the format's end-of-turn strings and at the request's own `stop`. The oracle is
    // the CLI continuing the same rendered text; the server's reply is that text cut before the
    // first stop string, with finish_reason "stop" exactly when it was cut.
    void chatTemplateAndStopStrings()
    {
        const auto model = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(model);
        if (node_.isEmpty())
            QSKIP("node is not installed (the OpenAI client runs on Node)");
        if (!QFile::exists(QStringLiteral(TENFOLD_SERVER_NODE_DIR "/node_modules/openai/package.json")))
            QSKIP("the openai npm package is missing in " TENFOLD_SERVER_NODE_DIR);
        ServerProcess server;
        QVERIFY2(server.start(QStringLiteral(TENFOLD_SERVER_PATH),
                              {QString::fromStdString(model.string()), QStringLiteral("--port"), QStringLiteral("0"),
                               QStringLiteral("--no-ledger"), QStringLiteral("--chat-template"), QStringLiteral("chatml")}),
                 qPrintable(server.error()));
        const QString user = QStringLiteral("Once upon a time");
        const QString rendered = QStringLiteral("<|im_start|>user\n") + user +
                                 QStringLiteral("<|im_end|>\n<|im_start|>assistant\n");
        const QString continuation = cliGreedy(model, rendered, QStringLiteral("cpu"));
        QVERIFY2(!continuation.startsWith(QStringLiteral("<tenfold-cli failed")), qPrintable(continuation));

        auto ask = [&](const QStringList& stop) {
            QJsonObject spec{{QStringLiteral("baseURL"), server.baseUrl() + QStringLiteral("/v1")},
                             {QStringLiteral("model"), QStringLiteral("stories260K")},
                             {QStringLiteral("maxTokens"), kMaxTokens},
                             {QStringLiteral("chatOnly"), true},
                             {QStringLiteral("messages"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                                                 {QStringLiteral("content"), user}}}}};
            if (!stop.isEmpty())
                spec.insert(QStringLiteral("stop"), QJsonArray::fromStringList(stop));
            const ProcessResult r = runProcess(
                node_, {clientScript_, QString::fromUtf8(QJsonDocument(spec).toJson(QJsonDocument::Compact))}, 120000);
            return r.ok() ? QJsonDocument::fromJson(r.out).object().value("chat").toObject()
                          : QJsonObject{{QStringLiteral("error"), r.describe()}};
        };
        auto cutAtStops = [&](const QStringList& stops, bool* cut) {
            qsizetype at = continuation.size();
            for (const QString& s : stops)
                if (const qsizetype i = continuation.indexOf(s); i >= 0)
                    at = std::min(at, i);
            *cut = at < continuation.size();
            return continuation.left(at);
        };

        const QStringList templateStops = {QStringLiteral("<|im_end|>"), QStringLiteral("<|im_start|>")};
        bool cut = false;
        QString expected = cutAtStops(templateStops, &cut);
        QJsonObject reply = ask({});
        QVERIFY2(!reply.contains("error"), qPrintable(reply.value("error").toString()));
        QCOMPARE(reply.value("text").toString(), expected);
        QCOMPARE(reply.value("finish").toString(), cut ? QStringLiteral("stop") : QStringLiteral("length"));

        // A stop string taken from the middle of the oracle's reply must cut it there.
        const QString words = expected.simplified();
        const QStringList parts = words.split(QLatin1Char(' '), Qt::SkipEmptyParts);
        QVERIFY2(parts.size() >= 4, qPrintable(expected));
        const QStringList userStop = {QLatin1Char(' ') + parts[2]};
        expected = cutAtStops(templateStops + userStop, &cut);
        QVERIFY(cut);
        reply = ask(userStop);
        QVERIFY2(!reply.contains("error"), qPrintable(reply.value("error").toString()));
        QCOMPARE(reply.value("text").toString(), expected);
        QCOMPARE(reply.value("finish").toString(), QStringLiteral("stop"));
        QCOMPARE(server.stop(), 0);
    }

    // The same on the Vulkan backend's batched context (lavapipe on machines without a GPU).
    void stories260KVulkan()
    {
        const ProcessResult devices = runProcess(QStringLiteral(TENFOLD_CLI_PATH), {QStringLiteral("devices")}, 120000);
        if (!devices.ok() || !devices.out.contains("[0]"))
            QSKIP("no Vulkan device (tenfold-cli devices lists none)");
        runAgainst("models/stories260K.gguf", QStringLiteral("vulkan"));
    }
};

QTEST_GUILESS_MAIN(TestServerOpenAI)
#include "tst_server_openai.moc"
