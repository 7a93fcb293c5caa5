// tenfold-cli end to end: runs the built binary with QProcess on the shared models and checks
// what a user sees: output contents, exit codes and error messages. Greedy generations must equal
// another engine's continuations (reference/greedy.json); tokenization must equal the
// llama.cpp vocabulary test vectors.
#include "common/oracle.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <QFileInfo>

#include <cmath>
#include <fstream>

namespace {

struct Run {
    int code = -1;
    bool crashed = false;
    QString out, err;
};

Run cli(const QStringList& args, const QByteArray& input = {}, int timeoutMs = 240000)
{
    QProcess p;
    p.start(QStringLiteral(TENFOLD_CLI_PATH), args);
    if (!p.waitForStarted(20000))
        return {};
    if (!input.isEmpty())
        p.write(input);
    p.closeWriteChannel();
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
    }
    Run r;
    r.crashed = p.exitStatus() != QProcess::NormalExit;
    r.code = p.exitCode();
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

QString shared(const char* rel)
{
    return QString::fromStdString(tenfold::test::sharedFile(rel).string());
}

QJsonArray greedyReference()
{
    QFile f(shared("reference/greedy.json"));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).array();
}

QString referenceContinuation(const QString& model, const QString& prompt)
{
    for (const auto& v : greedyReference()) {
        const QJsonObject o = v.toObject();
        if (o["model"].toString() == model && o["prompt"].toString() == prompt)
            return o["continuation"].toString();
    }
    return {};
}

#define EXPECT_EXIT(run, expected)                                                          \
    do {                                                                                    \
        QVERIFY2(!(run).crashed, qPrintable("crashed; stderr: " + (run).err));              \
        QVERIFY2((run).code == (expected),                                                  \
                 qPrintable(QString("exit code %1, expected %2; stderr: %3")                \
                                .arg((run).code).arg(expected).arg((run).err)));            \
    } while (0)

} // namespace

class TestCliE2E : public QObject {
    Q_OBJECT
private slots:
    void inspectShowsMetadataTensorsAndMemory()
    {
        const QString model = shared("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(model.toStdString());
        const Run r = cli({"inspect", model, "--ctx", "512"});
        EXPECT_EXIT(r, 0);
        QVERIFY(r.out.contains(QRegularExpression(R"(general\.architecture\s+"llama")")));
        QVERIFY(r.out.contains(QRegularExpression(R"(llama\.attention\.head_count_kv\s+2)")));
        QVERIFY(r.out.contains(QRegularExpression(R"(token_embd\.weight\s+F16\s+384 x 8192\s+6,291,456)")));
        QVERIFY(r.out.contains(QRegularExpression(R"(blk\.7\.ffn_down\.weight\s+F16\s+1024 x 384)")));
        QVERIFY(r.out.contains("tensors (74)"));
        QVERIFY(r.out.contains("parameters: 15,735,168"));
        // KV cache: 2 (K and V) x 8 layers x 512 positions x 128 (2 KV heads x 64) x 2 bytes
        QVERIFY2(r.out.contains("KV cache (F16) 2.00 MiB"), qPrintable(r.out.right(300)));
        // The 8192-entry vocabulary arrays are elided, not dumped.
        QVERIFY(r.out.contains("tokenizer.ggml.tokens"));
        QVERIFY(r.out.size() < 20000);
    }

    void tokenizeMatchesVocabTestVectors()
    {
        const auto vocab = tenfold::test::sharedFile("vocab/ggml-vocab-llama-spm.gguf");
        TENFOLD_REQUIRE_SHARED(vocab);
        std::ifstream inp(vocab.string() + ".inp", std::ios::binary), outp(vocab.string() + ".out");
        const std::string all{std::istreambuf_iterator<char>(inp), {}};
        const std::string sep = "\n__ggml_vocab_test__\n";
        QTemporaryDir dir;
        size_t start = 0;
        int checked = 0;
        std::string expected;
        while (start < all.size() && checked < 12 && std::getline(outp, expected)) {
            size_t end = all.find(sep, start);
            if (end == std::string::npos)
                end = all.size();
            const std::string text = all.substr(start, end - start);
            start = end + sep.size();
            const QString file = dir.filePath(QString("t%1.txt").arg(checked));
            std::ofstream(file.toStdString(), std::ios::binary) << text;
            const Run r = cli({"tokenize", QString::fromStdString(vocab.string()), "--file", file,
                               "--no-bos", "--ids-only"});
            EXPECT_EXIT(r, 0);
            QCOMPARE(r.out.trimmed(), QString::fromStdString(expected).trimmed());
            ++checked;
        }
        QCOMPARE(checked, 12);
    }

    void tokenizeListsPiecesAndCounts()
    {
        const QString model = shared("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(model.toStdString());
        const Run r = cli({"tokenize", model, "Once upon a time"});
        EXPECT_EXIT(r, 0);
        QVERIFY(r.out.contains(QRegularExpression(R"(0\s+1\s+'<s>')")));
        QVERIFY(r.out.contains("'▁upon'"));
        QVERIFY(r.out.contains("tokens: 5  bytes: 16  characters: 16"));
    }

    void greedyGenerationMatchesReference_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<int>("n");
        QTest::newRow("stories260K once") << "stories260K.gguf" << "Once upon a time" << 48;
        QTest::newRow("stories260K lily") << "stories260K.gguf" << "Lily and Tom" << 48;
        QTest::newRow("ref-main jury") << "tenfold-ref-main-f16.gguf" << "The jury said that" << 32;
    }
    void greedyGenerationMatchesReference()
    {
        QFETCH(QString, model);
        QFETCH(QString, prompt);
        QFETCH(int, n);
        const QString path = shared("models/") + model;
        TENFOLD_REQUIRE_SHARED(path.toStdString());
        TENFOLD_REQUIRE_SHARED(tenfold::test::sharedFile("reference/greedy.json"));
        const QString expected = referenceContinuation(model, prompt);
        QVERIFY(!expected.isEmpty());
        const Run r = cli({"generate", path, "-p", prompt, "-n", QString::number(n), "--temp", "0",
                           "--repeat-penalty", "1", "--threads", "2"});
        EXPECT_EXIT(r, 0);
        QCOMPARE(r.out, prompt + expected + "\n");
        QVERIFY(r.err.contains("generated: " + QString::number(n) + " tokens"));
    }

    void convertThenGenerate()
    {
        const QString bin = shared("models/stories260K.bin"), tok = shared("models/tok512.bin");
        TENFOLD_REQUIRE_SHARED(bin.toStdString());
        TENFOLD_REQUIRE_SHARED(tok.toStdString());
        QTemporaryDir dir;
        const QString out = dir.filePath("converted.gguf");
        const Run c = cli({"convert", bin, tok, "-o", out});
        EXPECT_EXIT(c, 0);
        QVERIFY(c.out.contains("dim 64, 5 layers, 8 heads, 4 KV heads, vocab 512"));
        const Run g = cli({"generate", out, "-p", "Lily and Tom", "-n", "48", "--temp", "0",
                           "--repeat-penalty", "1"});
        EXPECT_EXIT(g, 0);
        QCOMPARE(g.out, "Lily and Tom" + referenceContinuation("stories260K.gguf", "Lily and Tom") + "\n");
        const Run missing = cli({"convert", dir.filePath("nope.bin"), tok, "-o", out});
        EXPECT_EXIT(missing, 1);
        QVERIFY(missing.err.contains("nope.bin"));
    }

    void quantizeThenInspect()
    {
        const QString model = shared("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(model.toStdString());
        QTemporaryDir dir;
        const QString out = dir.filePath("q8.gguf");
        const Run q = cli({"quantize", model, out, "q8_0", "--threads", "2"});
        EXPECT_EXIT(q, 0);
        QVERIFY(q.out.contains("-> ") && q.out.contains("bytes)"));
        const Run i = cli({"inspect", out});
        EXPECT_EXIT(i, 0);
        QVERIFY(i.out.contains(QRegularExpression(R"(general\.file_type\s+7)")));
        QVERIFY(i.out.contains(QRegularExpression(R"(blk\.0\.attn_q\.weight\s+Q8_0)")));
        QVERIFY(i.out.contains(QRegularExpression(R"(blk\.0\.attn_norm\.weight\s+F32)")));
        const Run g = cli({"generate", out, "-p", "Once upon a time", "-n", "16", "--temp", "0"});
        EXPECT_EXIT(g, 0);
        QVERIFY(g.out.startsWith("Once upon a time") && g.out.size() > 30);
        EXPECT_EXIT(cli({"quantize", model, out, "Q9_9"}), 2);
        EXPECT_EXIT(cli({"quantize", model, out}), 2);
    }

    void synthWritesARunnableModel()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath("synth.gguf");
        const Run s = cli({"synth", "stories260k", "--type", "Q8_0", "-o", out, "--seed", "5"});
        EXPECT_EXIT(s, 0);
        const Run i = cli({"inspect", out});
        EXPECT_EXIT(i, 0);
        QVERIFY(i.out.contains("parameters: 260,032"));
        QVERIFY(i.out.contains(QRegularExpression(R"(blk\.4\.ffn_down\.weight\s+F16\s+172 x 64)")));
        const Run g = cli({"generate", out, "-p", "hello", "-n", "8", "--seed", "1"});
        EXPECT_EXIT(g, 0);
        EXPECT_EXIT(cli({"synth", "gpt-9", "-o", out}), 2);
        EXPECT_EXIT(cli({"synth", "stories260k"}), 2);
    }

    void benchJsonHasTheFields()
    {
        const QString model = shared("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(model.toStdString());
        const Run r = cli({"bench", model, "-p", "32", "-n", "8", "-r", "2", "--threads", "2", "--json"});
        EXPECT_EXIT(r, 0);
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(r.out.toUtf8(), &error);
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString() + "\n" + r.out));
        const QJsonObject o = doc.object();
        QVERIFY(o["backend"].toString().startsWith("CPU"));
        QVERIFY(o["weight_bytes"].toDouble() > 1e6);
        QVERIFY(o["file_bytes"].toDouble() > o["weight_bytes"].toDouble());
        QVERIFY(o["peak_rss_bytes"].toDouble() > 0);
        QCOMPARE(o["repetitions"].toInt(), 2);
        const QJsonArray results = o["results"].toArray();
        QCOMPARE(results.size(), 2);
        QCOMPARE(results[0].toObject()["test"].toString(), QString("pp32"));
        QCOMPARE(results[1].toObject()["test"].toString(), QString("tg8"));
        for (const auto& v : results) {
            const QJsonObject t = v.toObject();
            QVERIFY(t["tokens_per_s"].toDouble() > 0);
            QVERIFY(t["stddev"].toDouble() >= 0);
            QCOMPARE(t["samples"].toArray().size(), 2);
        }
        QVERIFY(results[1].toObject()["gb_per_s"].toDouble() > 0);
        // pp32 at tokens_per_s: 2 flops per matmul weight per token. stories260K's matmul weights
        // (dim 64, 4 KV heads of 8 = 32, FFN 172, vocab 512): 5 layers x (64x64 x 2 + 64x32 x 2 +
        // 64x172 x 3) + the 64x512 output head = 5 x 45,312 + 32,768 = 259,328.
        const QJsonObject pp = results[0].toObject();
        QVERIFY(std::fabs(pp["gflop_per_s"].toDouble() - 2.0 * 259328 * pp["tokens_per_s"].toDouble() / 1e9) <
                1e-3 * pp["gflop_per_s"].toDouble() + 1e-3);
        QCOMPARE(results[1].toObject()["gflop_per_s"].toDouble(), 0.0);
        QCOMPARE(o["memory_read_gb_per_s"].toDouble(), 0.0); // only measured with --memory
        const Run mem = cli({"bench", model, "-p", "0", "-n", "4", "-r", "1", "--threads", "2", "--memory"});
        EXPECT_EXIT(mem, 0);
        const auto bw = QRegularExpression(R"(memory read bandwidth: ([0-9.]+) GB/s \(2 threads)").match(mem.out);
        QVERIFY2(bw.hasMatch() && bw.captured(1).toDouble() > 0.1, qPrintable(mem.out));
        QVERIFY2(mem.out.contains(QRegularExpression(R"(tg4 .* [0-9]+%)")), qPrintable(mem.out));
    }

    void chatContinuesAndExitsCleanly()
    {
        const QString model = shared("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(model.toStdString());
        const Run r = cli({"chat", model, "--temp", "0", "--repeat-penalty", "1", "-n", "12"},
                          "Once upon a time\n/reset\nLily and Tom\n/exit\nnever read\n");
        EXPECT_EXIT(r, 0);
        // Each reply is the model's continuation (stopping at a newline or 12 tokens).
        QVERIFY2(r.out.startsWith(", there was a little girl named Lily."), qPrintable(r.out));
        QVERIFY2(r.out.contains("\n were playing in the park."), qPrintable(r.out));
        const Run eof = cli({"chat", model, "--temp", "0", "-n", "4"}, "Once upon a time\n");
        EXPECT_EXIT(eof, 0);
    }

    // With a Jinja template the reply must be exactly the greedy continuation of the rendered
    // prompt (Phi-3.5's format, written out here by hand).
    void chatWithTemplateRendersTheConversation()
    {
        const QString model = shared("models/stories260K.gguf");
        const QString tmpl = shared("templates/microsoft-Phi-3.5-mini-instruct.jinja");
        TENFOLD_REQUIRE_SHARED(model.toStdString());
        TENFOLD_REQUIRE_SHARED(tmpl.toStdString());
        const QStringList greedy = {"--temp", "0", "--repeat-penalty", "1", "-n", "8"};
        const Run chat = cli(QStringList{"chat", model, "--chat-template", tmpl} + greedy,
                             "Once upon a time\nTell me more\n");
        EXPECT_EXIT(chat, 0);
        const QString first = "<|user|>\nOnce upon a time<|end|>\n<|assistant|>\n";
        const Run one = cli(QStringList{"generate", model, "--no-echo", "-p", first} + greedy);
        EXPECT_EXIT(one, 0);
        const QString reply = one.out.chopped(1); // generate ends with a newline of its own
        const QString second = first + reply + "<|end|>\n<|user|>\nTell me more<|end|>\n<|assistant|>\n";
        const Run two = cli(QStringList{"generate", model, "--no-echo", "-p", second} + greedy);
        EXPECT_EXIT(two, 0);
        QCOMPARE(chat.out, one.out + two.out);
    }

    // Two windows against the reference engine's llama-perplexity on the same two windows.
    void perplexityOnAFewChunks()
    {
        const QString model = shared("models/tenfold-ref-main-f16.gguf");
        const QString text = shared("text/valid.txt");
        const auto peer = tenfold::test::peerTool("llama-perplexity", true);
        TENFOLD_REQUIRE_SHARED(model.toStdString());
        TENFOLD_REQUIRE_SHARED(text.toStdString());
        TENFOLD_REQUIRE_PEER(peer);
        const Run r = cli({"perplexity", model, "-f", text, "--chunks", "2", "--threads", "2"});
        EXPECT_EXIT(r, 0);
        const auto m = QRegularExpression(R"(PPL = ([0-9.]+) \+/- ([0-9.]+))").match(r.out);
        QVERIFY2(m.hasMatch(), qPrintable(r.out));
        QVERIFY(r.out.contains("510 predictions in 2 chunks"));
        const auto ref = tenfold::test::runProcess(QString::fromStdString(peer.string()),
                                                   {"-m", model, "-f", text, "-c", "512", "--chunks", "2", "-t", "2"});
        QVERIFY2(ref.ok(), qPrintable("llama-perplexity: " + ref.describe()));
        const auto pm = QRegularExpression(R"(Final estimate: PPL = ([0-9.]+))").match(QString::fromUtf8(ref.out + ref.err));
        QVERIFY2(pm.hasMatch(), ref.err.right(2000).constData());
        const double ours = m.captured(1).toDouble(), theirs = pm.captured(1).toDouble();
        qInfo("2 windows: PPL %.4f, reference engine %.4f", ours, theirs);
        QVERIFY2(std::fabs(ours - theirs) / theirs < 5e-4, qPrintable(QString("%1 vs %2").arg(ours).arg(theirs)));
        EXPECT_EXIT(cli({"perplexity", model}), 2);
    }

    // The README's quantize + perplexity commands on the whole validation text, against the
    // reference engine's published figures for its Q4_0 file (reference/perplexity.json): the
    // same bytes of weights, so the same size; PPL and KL statistics within arithmetic rounding
    // (it multiplies Q4_0 weights by activations rounded to Q8_0, we dequantize to F32; measured
    // 2026-11-30: PPL 0.011%, mean KLD 1.2%, 99th percentile 0.9%, same top 0.11 points apart).
    void quantizedRefMainMatchesPublishedFigures()
    {
        const QString f16 = shared("models/tenfold-ref-main-f16.gguf");
        const QString text = shared("text/valid.txt");
        TENFOLD_REQUIRE_SHARED(f16.toStdString());
        TENFOLD_REQUIRE_SHARED(text.toStdString());
        TENFOLD_REQUIRE_SHARED(tenfold::test::sharedFile("reference/perplexity.json"));
        QFile jf(shared("reference/perplexity.json"));
        QVERIFY(jf.open(QIODevice::ReadOnly));
        const QJsonObject want = QJsonDocument::fromJson(jf.readAll())
                                     .object()["quantized_ref_main_on_valid_txt"].toObject()["Q4_0"].toObject();
        QVERIFY(want["ppl"].toDouble() > 0);

        QTemporaryDir dir;
        const QString q4 = dir.filePath("ref-q4_0.gguf");
        EXPECT_EXIT(cli({"quantize", f16, q4, "Q4_0", "--output-type", "Q6_K", "--threads", "2"}), 0);
        QCOMPARE(QFileInfo(q4).size(), qint64(want["file_bytes"].toDouble()));
        const Run r = cli({"perplexity", q4, "-f", text, "--kl-base", f16, "--threads", "2"}, {}, 900000);
        EXPECT_EXIT(r, 0);
        const auto ppl = QRegularExpression(R"(model: PPL = ([0-9.]+))").match(r.out);
        const auto kl = QRegularExpression(
            R"(KL divergence: mean ([0-9.]+) \+/- \S+, 99th percentile ([0-9.]+), same top token ([0-9.]+)%)").match(r.out);
        QVERIFY2(ppl.hasMatch() && kl.hasMatch(), qPrintable(r.out));
        const double gotPpl = ppl.captured(1).toDouble(), gotKld = kl.captured(1).toDouble();
        const double got99 = kl.captured(2).toDouble(), gotTop = kl.captured(3).toDouble();
        qInfo("Q4_0 on valid.txt: PPL %.4f (reference %.4f), mean KLD %.6f (%.6f), 99th %.6f (%.6f), "
              "same top %.3f%% (%.3f%%)", gotPpl, want["ppl"].toDouble(), gotKld, want["mean_kld"].toDouble(),
              got99, want["kld_99pct"].toDouble(), gotTop, want["same_top_pct"].toDouble());
        QVERIFY(std::fabs(gotPpl - want["ppl"].toDouble()) / want["ppl"].toDouble() < 1e-3);
        QVERIFY(std::fabs(gotKld - want["mean_kld"].toDouble()) / want["mean_kld"].toDouble() < 0.03);
        QVERIFY(std::fabs(got99 - want["kld_99pct"].toDouble()) / want["kld_99pct"].toDouble() < 0.05);
        QVERIFY(std::fabs(gotTop - want["same_top_pct"].toDouble()) < 0.5);
    }

    // evaluate on stories260K: the JSON report, the base read from the cache the second time,
    // the runs recorded, and clear errors (the reference figures: tst_eval_reference).
    void evaluateReportsCachesAndRecords()
    {
        const QString base = shared("models/stories260K.gguf");
        const QString text = shared("text/tinystories_sample.txt");
        TENFOLD_REQUIRE_SHARED(base.toStdString());
        TENFOLD_REQUIRE_SHARED(text.toStdString());
        QTemporaryDir dir;
        const QString q = dir.filePath("q8.gguf"), db = dir.filePath("runs.db");
        EXPECT_EXIT(cli({"quantize", base, q, "Q8_0"}), 0);
        const QStringList args = {"evaluate", q, "--base", base, "-f", text, "--ctx", "128", "--threads", "2",
                                  "--cache-dir", dir.filePath("cache"), "--db", db};
        const Run first = cli(args + QStringList{"--json"});
        EXPECT_EXIT(first, 0);
        const QJsonObject j = QJsonDocument::fromJson(first.out.toUtf8()).object();
        QVERIFY2(j["kld"].toObject()["mean"].toDouble() > 0, qPrintable(first.out));
        QVERIFY(!j["cache"].toObject()["base_from_cache"].toBool());
        QCOMPARE(j["file_bytes"].toInteger(), QFileInfo(q).size());
        QVERIFY(first.err.contains("about") && first.err.contains("recorded as run 1"));
        const Run second = cli(args);
        EXPECT_EXIT(second, 0);
        QVERIFY2(second.out.contains("KL divergence") && second.out.contains("read from"), qPrintable(second.out));
        QVERIFY(second.err.contains("recorded as run 2"));

        const Run noBase = cli({"evaluate", q, "-f", text});
        EXPECT_EXIT(noBase, 2);
        QVERIFY(noBase.err.contains("--base"));
        const Run missing = cli({"evaluate", dir.filePath("absent.gguf"), "--base", base, "-f", text});
        EXPECT_EXIT(missing, 1);
        QVERIFY(missing.err.contains("absent.gguf"));
        const QString ref = shared("models/tenfold-ref-main-f16.gguf");
        if (QFileInfo::exists(ref)) {
            const Run vocab = cli({"evaluate", ref, "--base", base, "-f", text});
            EXPECT_EXIT(vocab, 1);
            QVERIFY2(vocab.err.contains("vocabulary"), qPrintable(vocab.err));
        }
        const QString shortText = dir.filePath("short.txt");
        std::ofstream(shortText.toStdString()) << "Once upon a time there was a cat.";
        const Run tooShort = cli({"evaluate", q, "--base", base, "-f", shortText});
        EXPECT_EXIT(tooShort, 1);
        QVERIFY2(tooShort.err.contains("short.txt has") && tooShort.err.contains("needs at least 512"),
                 qPrintable(tooShort.err));
    }

    // -m/--model MODEL wherever a command takes MODEL first, as llama.cpp's tools do.
    void modelOptionLikeLlamaCpp()
    {
        const QString model = shared("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(model.toStdString());
        const QStringList greedy = {"-p", "Once upon a time", "-n", "8", "--temp", "0"};
        const Run positional = cli(QStringList{"generate", model} + greedy);
        EXPECT_EXIT(positional, 0);
        const Run shortOpt = cli(QStringList{"generate", "-m", model} + greedy);
        EXPECT_EXIT(shortOpt, 0);
        QCOMPARE(shortOpt.out, positional.out);
        const Run longOpt = cli(QStringList{"generate"} + greedy + QStringList{"--model=" + model});
        EXPECT_EXIT(longOpt, 0);
        QCOMPARE(longOpt.out, positional.out);
        for (const char* cmd : {"inspect", "bench", "perplexity", "chat"})
            QVERIFY2(cli({cmd, "--help"}).out.contains("-m, --model MODEL"), cmd);
        const Run tok = cli({"tokenize", "-m", model, "Once upon a time", "--ids-only"});
        EXPECT_EXIT(tok, 0);
        QCOMPARE(tok.out, cli({"tokenize", model, "Once upon a time", "--ids-only"}).out);
        const Run twice = cli({"inspect", model, "-m", model});
        EXPECT_EXIT(twice, 2);
        QVERIFY2(twice.err.contains("given twice"), qPrintable(twice.err));
        EXPECT_EXIT(cli({"inspect", "-m"}), 2);
    }

    // generate --draft: the same text as plain greedy decoding, with the acceptance rate reported;
    // sampled runs with a seed repeat exactly.
    void speculativeGenerateMatchesPlain()
    {
        const QString model = shared("models/tenfold-ref-main-f16.gguf");
        const QString draft = shared("models/tenfold-ref-draft-f16.gguf");
        TENFOLD_REQUIRE_SHARED(model.toStdString());
        TENFOLD_REQUIRE_SHARED(draft.toStdString());
        const QStringList args = {"generate", model, "-p", "Scientists have found", "-n", "48", "--temp", "0",
                                  "--threads", "2"};
        const Run plain = cli(args);
        EXPECT_EXIT(plain, 0);
        const Run spec = cli(args + QStringList{"--draft", draft, "--draft-max", "6"});
        EXPECT_EXIT(spec, 0);
        QCOMPARE(spec.out, plain.out);
        QVERIFY2(spec.err.contains(QRegularExpression(R"(\[draft\] \d+ proposed, \d+ accepted \([0-9.]+%\))")),
                 qPrintable(spec.err));
        const Run sampled = cli(args + QStringList{"--draft", draft, "--temp", "0.8", "--seed", "4"});
        EXPECT_EXIT(sampled, 0);
        QVERIFY2(sampled.err.contains("[draft]"), qPrintable(sampled.err));
        QCOMPARE(cli(args + QStringList{"--draft", draft, "--temp", "0.8", "--seed", "4"}).out, sampled.out);
        const Run otherVocab = cli(args + QStringList{"--draft", shared("models/stories260K.gguf")});
        EXPECT_EXIT(otherVocab, 1);
        QVERIFY2(otherVocab.err.contains("vocabulary"), qPrintable(otherVocab.err));
        EXPECT_EXIT(cli(args + QStringList{"--draft-max", "4"}), 2);
        // Self-speculative: the model's own first layers draft.
        const Run self = cli(args + QStringList{"--self-speculative", "--exit-layer", "4"});
        EXPECT_EXIT(self, 0);
        QCOMPARE(self.out, plain.out);
        QVERIFY2(self.err.contains("[draft]"), qPrintable(self.err));
        EXPECT_EXIT(cli(args + QStringList{"--exit-layer", "4"}), 2);
        EXPECT_EXIT(cli(args + QStringList{"--self-speculative", "--draft", draft}), 2);
        EXPECT_EXIT(cli(args + QStringList{"--self-speculative", "--exit-layer", "9"}), 2);
        // Early exit (lossy): runs, reports the layers per token; a threshold of 1 never exits
        // early and gives the plain text.
        const Run early = cli(args + QStringList{"--early-exit", "0.5", "--exit-layer", "4"});
        EXPECT_EXIT(early, 0);
        QVERIFY2(early.err.contains(QRegularExpression(R"(\[early exit\] [0-9.]+ of 8 layers)")), qPrintable(early.err));
        QCOMPARE(cli(args + QStringList{"--early-exit", "1"}).out, plain.out);
        EXPECT_EXIT(cli(args + QStringList{"--early-exit", "1.5"}), 2);
        EXPECT_EXIT(cli(args + QStringList{"--early-exit", "0.5", "--self-speculative"}), 2);
    }

    // --prompt-cache: the first run saves the prompt's state, the second restores all but the
    // last prompt token and prints the same text; a corrupted file is reported and not used.
    void promptCacheGivesTheSameText()
    {
        const QString model = shared("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(model.toStdString());
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString cache = dir.filePath("prompt.tfkv");
        const QStringList args = {"generate", model, "-p",
                                  "The history of the town began with a mill on the river, a church and a school",
                                  "-n", "32", "--temp", "0", "--threads", "2"};
        const Run plain = cli(args);
        EXPECT_EXIT(plain, 0);
        const Run first = cli(args + QStringList{"--prompt-cache", cache});
        EXPECT_EXIT(first, 0);
        QCOMPARE(first.out, plain.out);
        QVERIFY2(first.err.contains("not used") && QFileInfo::exists(cache), qPrintable(first.err));
        const Run second = cli(args + QStringList{"--prompt-cache", cache});
        EXPECT_EXIT(second, 0);
        QCOMPARE(second.out, plain.out);
        QVERIFY2(second.err.contains(QRegularExpression(R"(\[prompt cache\] (\d+) of (\d+) prompt tokens restored)")),
                 qPrintable(second.err));
        const auto m = QRegularExpression(R"((\d+) of (\d+) prompt tokens restored)").match(second.err);
        QCOMPARE(m.captured(1).toInt(), m.captured(2).toInt() - 1);
        QVERIFY2(second.err.contains("prompt: 1 tokens"), qPrintable(second.err));
        // Corrupt one byte in the middle: refused with a reason, recomputed, same text.
        QFile f(cache);
        QVERIFY(f.open(QIODevice::ReadWrite));
        QByteArray bytes = f.readAll();
        bytes[bytes.size() / 2] = char(bytes[bytes.size() / 2] ^ 0x40);
        f.seek(0);
        f.write(bytes);
        f.close();
        const Run corrupted = cli(args + QStringList{"--prompt-cache", cache});
        EXPECT_EXIT(corrupted, 0);
        QCOMPARE(corrupted.out, plain.out);
        QVERIFY2(corrupted.err.contains("checksum"), qPrintable(corrupted.err));
        // Another model's file is not used either.
        const Run other = cli({"generate", shared("models/stories260K.gguf"), "-p", "Once upon a time", "-n", "8",
                               "--temp", "0", "--prompt-cache", cache});
        EXPECT_EXIT(other, 0);
        QVERIFY2(other.err.contains("different model"), qPrintable(other.err));
    }

    // calibrate-exits writes a model with fitted exits: self-speculative decoding with them gives
    // the plain text, and --early-exit auto uses the threshold it chose (or says there is none).
    void calibrateExitsWritesAUsableModel()
    {
        const QString model = shared("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(model.toStdString());
        TENFOLD_REQUIRE_SHARED(tenfold::test::sharedFile("text/calibration.txt"));
        QTemporaryDir dir;
        const QString out = dir.filePath("exits.gguf");
        const Run cal = cli({"calibrate-exits", model, "-f", shared("text/calibration.txt"), "-o", out, "--layers",
                             "3,5", "--tokens", "2048", "--threads", "2"});
        EXPECT_EXIT(cal, 0);
        QVERIFY2(cal.out.contains("KL adapted") && cal.out.contains("wrote"), qPrintable(cal.out));
        const QStringList args = {"generate", out, "-p", "Scientists have found", "-n", "32", "--temp", "0",
                                  "--threads", "2"};
        const Run plain = cli(args);
        EXPECT_EXIT(plain, 0);
        const Run self = cli(args + QStringList{"--self-speculative"});
        EXPECT_EXIT(self, 0);
        QCOMPARE(self.out, plain.out);
        const Run automatic = cli(args + QStringList{"--early-exit", "auto"});
        EXPECT_EXIT(automatic, cal.out.contains("\ndefault early-exit threshold") ? 0 : 2);
        // The original file has no calibrated threshold.
        EXPECT_EXIT(cli({"generate", model, "-p", "x", "-n", "4", "--early-exit", "auto"}), 2);
        EXPECT_EXIT(cli({"calibrate-exits", model, "-f", shared("text/calibration.txt"), "-o", out, "--layers", "8"}), 2);
    }

    void errorsAreMessagesNotCrashes()
    {
        const QString model = shared("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(model.toStdString());
        QTemporaryDir dir;

        const Run missing = cli({"generate", dir.filePath("absent.gguf"), "-p", "hi"});
        EXPECT_EXIT(missing, 1);
        QVERIFY(missing.err.contains("not found") && missing.err.contains("absent.gguf"));

        const QString text = dir.filePath("notes.gguf");
        std::ofstream(text.toStdString()) << "These are notes, not a model.\n";
        for (const char* cmd : {"inspect", "generate", "tokenize", "bench"}) {
            QStringList args = {cmd, text};
            if (QString(cmd) == "generate")
                args << "-p" << "hi";
            if (QString(cmd) == "tokenize")
                args << "hi";
            const Run r = cli(args);
            EXPECT_EXIT(r, 1);
            QVERIFY2(r.err.contains("GGUF") && r.err.contains("notes.gguf"), qPrintable(r.err));
        }

        const Run overlong = cli({"generate", model, "-p", "Once upon a time there was a girl",
                                  "--ctx", "8", "-n", "4"});
        EXPECT_EXIT(overlong, 1);
        QVERIFY2(overlong.err.contains("context"), qPrintable(overlong.err));

        const Run unknown = cli({"summon", model});
        EXPECT_EXIT(unknown, 2);
        QVERIFY(unknown.err.contains("unknown command 'summon'"));
        const Run badOption = cli({"generate", model, "-p", "hi", "--temperature", "1"});
        EXPECT_EXIT(badOption, 2);
        QVERIFY(badOption.err.contains("unknown option '--temperature'"));
        const Run badNumber = cli({"generate", model, "-p", "hi", "-n", "many"});
        EXPECT_EXIT(badNumber, 2);
        QVERIFY(badNumber.err.contains("-n") || badNumber.err.contains("--n-predict"));
        EXPECT_EXIT(cli({"generate", model}), 2);
        EXPECT_EXIT(cli({"generate", model, "-p", "hi", "--device", "abacus"}), 2);
        EXPECT_EXIT(cli({}), 2);

        // Non-finite numbers and a repeat penalty that would divide by zero are usage errors.
        for (const char* bad : {"nan", "inf", "-inf"}) {
            const Run r = cli({"generate", model, "-p", "hi", QString("--temp=") + bad});
            EXPECT_EXIT(r, 2);
            QVERIFY2(r.err.contains("--temp") && r.err.contains("finite"), qPrintable(r.err));
        }
        for (const char* bad : {"0", "-1"}) {
            const Run r = cli({"generate", model, "-p", "hi", QString("--repeat-penalty=") + bad});
            EXPECT_EXIT(r, 2);
            QVERIFY2(r.err.contains("--repeat-penalty"), qPrintable(r.err));
        }
        const Run nanPenalty = cli({"generate", model, "-p", "hi", "--repeat-penalty", "nan"});
        EXPECT_EXIT(nanPenalty, 2);
        QVERIFY2(nanPenalty.err.contains("finite"), qPrintable(nanPenalty.err));

        // A prompt file that is a directory, or missing, is an error naming it, not an empty prompt.
        const Run dirPrompt = cli({"generate", model, "-f", dir.path()});
        EXPECT_EXIT(dirPrompt, 1);
        QVERIFY2(dirPrompt.err.contains(dir.path()) && dirPrompt.err.contains("directory"),
                 qPrintable(dirPrompt.err));
        const Run noPrompt = cli({"generate", model, "-f", dir.filePath("absent.txt")});
        EXPECT_EXIT(noPrompt, 1);
        QVERIFY2(noPrompt.err.contains("absent.txt"), qPrintable(noPrompt.err));
    }

    // prune --sequential: runs for the calibrated methods (the file is written, half the weights
    // of a layer matrix are zero), and is refused for the others before any work.
    void pruneSequential()
    {
        const QString model = shared("models/stories260K.gguf");
        const QString calib = shared("text/calibration.txt");
        TENFOLD_REQUIRE_SHARED(model.toStdString());
        TENFOLD_REQUIRE_SHARED(calib.toStdString());
        QTemporaryDir dir;
        const QString out = dir.filePath("seq.gguf");
        const Run ok = cli({"prune", model, out, "--method", "wanda", "--sequential", "-f", calib, "--chunks", "2",
                            "--ctx", "64", "-t", "2"});
        EXPECT_EXIT(ok, 0);
        QVERIFY2(ok.out.contains("wanda") && ok.out.contains("(50.00%)"), qPrintable(ok.out));
        const Run info = cli({"inspect", out});
        EXPECT_EXIT(info, 0);
        QVERIFY2(info.out.contains("tenfold.prune.sequential"), qPrintable(info.out));

        const QString refused = dir.filePath("mag.gguf");
        const Run bad = cli({"prune", model, refused, "--method", "magnitude", "--sequential"});
        EXPECT_EXIT(bad, 2);
        QVERIFY2(bad.err.contains("--sequential") && bad.err.contains("magnitude"), qPrintable(bad.err));
        QVERIFY(!QFile::exists(refused));
    }

    void everyCommandHasHelp()
    {
        const Run top = cli({"--help"});
        EXPECT_EXIT(top, 0);
        for (const char* cmd : {"inspect", "tokenize", "generate", "chat", "perplexity", "evaluate",
                                "bench", "quantize", "synth", "convert"}) {
            QVERIFY2(top.out.contains(cmd), cmd);
            const Run r = cli({cmd, "--help"});
            EXPECT_EXIT(r, 0);
            QVERIFY2(r.out.startsWith(QString("usage: tenfold-cli ") + cmd), qPrintable(r.out));
        }
        QVERIFY(cli({"perplexity", "--help"}).out.contains("second half"));
    }
};

QTEST_GUILESS_MAIN(TestCliE2E)
#include "test_cli_e2e.moc"
