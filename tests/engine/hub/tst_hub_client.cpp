// The hub client against a loopback hub (hub_test_server.h): search, the tree listing, GGUF
// choices, downloads through redirects, resume after a cut connection (bytes identical), a wrong
// SHA-256, 404, 401 without a token, cancel of a slow and of a stalled server, and a full disk
// before (free-space check) and during (RLIMIT_FSIZE: the kernel fails the write with EFBIG).
#include "hub/gguf_choices.h"
#include "hub/hub_client.h"
#include "hub/hub_download.h"
#include "hub_test_server.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <sys/resource.h>

using namespace tenfold;
using namespace tenfold::hub;
using tenfold::test::HubTestServer;

namespace {

QByteArray readAll(const std::filesystem::path& p)
{
    QFile f(QString::fromStdString(p.string()));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

HubConfig configFor(const HubTestServer& server, const std::string& token = {})
{
    HubConfig c;
    c.endpoint = server.endpoint();
    c.token = token;
    c.readTimeoutSeconds = 20;
    return c;
}

RepoFile findFile(const std::vector<RepoFile>& files, const std::string& path)
{
    for (const RepoFile& f : files)
        if (f.path == path)
            return f;
    return {};
}

// Free bytes as Python's shutil.disk_usage sees them (statvfs f_bavail * f_frsize).
uint64_t pythonFreeBytes(const QString& dir)
{
    QProcess p;
    p.start(QStringLiteral("/usr/bin/python3"),
            {QStringLiteral("-c"), QStringLiteral("import shutil,sys; print(shutil.disk_usage(sys.argv[1]).free)"), dir});
    p.waitForFinished(30000);
    return p.readAllStandardOutput().trimmed().toULongLong();
}

} // namespace

class TestHubClient : public QObject {
    Q_OBJECT

private slots:
    void quantizationAndSplitNames()
    {
        // Expected values read off the names by hand.
        QCOMPARE(quantOfFileName("Llama-3.2-1B-Instruct-Q4_K_M.gguf"), std::string("Q4_K_M"));
        QCOMPARE(quantOfFileName("tinyllama-1.1b-chat-v1.0.Q8_0.gguf"), std::string("Q8_0"));
        QCOMPARE(quantOfFileName("qwen2-0_5b-instruct-iq4_xs.gguf"), std::string("IQ4_XS"));
        QCOMPARE(quantOfFileName("sub/model-bf16-00001-of-00002.gguf"), std::string("BF16"));
        QCOMPARE(quantOfFileName("Qwen2-7B.gguf"), std::string(""));
        QCOMPARE(quantOfFileName("stories260K.gguf"), std::string(""));
        auto part = splitPartOf("big/model-Q6_K-00002-of-00003.gguf");
        QVERIFY(part);
        QCOMPARE(part->prefix, std::string("big/model-Q6_K"));
        QCOMPARE(part->index, 2);
        QCOMPARE(part->count, 3);
        QVERIFY(!splitPartOf("model-Q6_K-00004-of-00003.gguf"));

        const std::vector<RepoFile> files = {
            {"README.md", 10, ""},
            {"m-Q4_K_M.gguf", 100, ""},
            {"m-Q8_0-00002-of-00002.gguf", 70, ""},
            {"m-Q8_0-00001-of-00002.gguf", 80, ""},
            {"m-F16-00001-of-00003.gguf", 5, ""},
            {"m-F16-00003-of-00003.gguf", 5, ""},
        };
        const auto choices = ggufChoices(files);
        QCOMPARE(choices.size(), size_t(3));
        QCOMPARE(choices[0].quant, std::string("F16"));
        QVERIFY(!choices[0].complete); // part 2 of 3 is missing
        QCOMPARE(choices[1].quant, std::string("Q4_K_M"));
        QCOMPARE(choices[1].totalBytes, uint64_t(100));
        QCOMPARE(choices[2].quant, std::string("Q8_0"));
        QVERIFY(choices[2].complete);
        QCOMPARE(choices[2].totalBytes, uint64_t(150));
        QCOMPARE(choices[2].files.size(), size_t(2));
        QCOMPARE(choices[2].files[0].path, std::string("m-Q8_0-00001-of-00002.gguf"));
        QCOMPARE(findChoice(choices, "q8_0", "")->name, std::string("m-Q8_0-00001-of-00002.gguf"));
        QCOMPARE(findChoice(choices, "", "m-Q4_K_M.gguf")->quant, std::string("Q4_K_M"));
        QVERIFY(!findChoice(choices, "Q2_K", ""));
    }

    void endpointAndUrls()
    {
        qputenv("HF_ENDPOINT", "http://127.0.0.1:9/mirror/");
        qputenv("HF_TOKEN", "hf_from_env");
        const HubConfig c = HubConfig::fromEnvironment();
        QCOMPARE(c.endpoint, std::string("http://127.0.0.1:9/mirror"));
        QCOMPARE(c.token, std::string("hf_from_env"));
        QCOMPARE(tokenSourceDescription(), std::string("HF_TOKEN"));
        qunsetenv("HF_TOKEN");
        qunsetenv("HF_ENDPOINT");
        QCOMPARE(HubConfig::fromEnvironment().endpoint, std::string("https://huggingface.co"));
        qputenv("HF_ENDPOINT", "ftp://example.org");
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, HubConfig::fromEnvironment());
        qunsetenv("HF_ENDPOINT");

        const HubClient client(HubConfig{});
        QCOMPARE(client.fileUrl("TheBloke/Llama-2-7B-GGUF", "main", "sub dir/llama-2-7b.Q4_K_M.gguf"),
                 std::string("https://huggingface.co/TheBloke/Llama-2-7B-GGUF/resolve/main/sub%20dir/llama-2-7b.Q4_K_M.gguf"));
        QCOMPARE(client.fileUrl("a/b", "refs/pr/1", "x.gguf"), std::string("https://huggingface.co/a/b/resolve/refs%2Fpr%2F1/x.gguf"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, client.fileUrl("../etc", "main", "x"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, destinationFor("/tmp/m", "a/b", "../../x.gguf"));
        QCOMPARE(destinationFor("/tmp/m", "a/b", "q/x.gguf"), std::filesystem::path("/tmp/m/a/b/q/x.gguf"));
        // The HTTPS client is built (Debian's cpp-httplib has OpenSSL): a TLS connection to a
        // closed loopback port fails as a connection error, not as "https unsupported".
        HubConfig tls;
        tls.endpoint = "https://127.0.0.1:9";
        tls.connectTimeoutSeconds = 2;
        try {
            HubClient(tls).search("x");
            QFAIL("expected a connection error");
        } catch (const HubError& e) {
            QCOMPARE(e.status(), 0);
            QVERIFY2(std::string(e.what()).find("https://127.0.0.1:9/api/models") != std::string::npos, e.what());
        }
    }

    void searchAndTree()
    {
        HubTestServer server;
        server.treePageSize = 2; // three pages for four entries: the client must follow Link
        server.addModel({"tenfold-test/tiny-GGUF", 1234, 56});
        server.addModel({"other/unrelated", 1, 0});
        const QByteArray a = test::randomBytes(3000, 1), b = test::randomBytes(5000, 2);
        const std::string shaA = server.addFile({"tenfold-test/tiny-GGUF", "tiny-Q4_K_M.gguf", a});
        const std::string shaB = server.addFile({"tenfold-test/tiny-GGUF", "sub/tiny-Q8_0.gguf", b});
        HubTestServer::File readme{"tenfold-test/tiny-GGUF", "README.md", QByteArray("hello")};
        readme.lfs = false;
        server.addFile(readme);

        const HubClient client(configFor(server));
        const auto hits = client.search("TINY");
        QCOMPARE(hits.size(), size_t(1));
        QCOMPARE(hits[0].id, std::string("tenfold-test/tiny-GGUF"));
        QCOMPARE(hits[0].downloads, int64_t(1234));
        QCOMPARE(hits[0].likes, int64_t(56));
        QCOMPARE(hits[0].lastModified, std::string("2024-05-02T12:30:00.000Z"));
        const auto searches = server.requestsTo("hub", "/api/models");
        QCOMPARE(searches.size(), size_t(1));
        QVERIFY2(searches[0].query.find("filter=gguf") != std::string::npos, searches[0].query.c_str());
        QVERIFY2(searches[0].query.find("search=TINY") != std::string::npos, searches[0].query.c_str());

        const auto files = client.listFiles("tenfold-test/tiny-GGUF");
        QCOMPARE(files.size(), size_t(3)); // the directory entry is not a file
        QCOMPARE(findFile(files, "tiny-Q4_K_M.gguf").size, uint64_t(3000));
        QCOMPARE(findFile(files, "tiny-Q4_K_M.gguf").sha256, shaA);
        QCOMPARE(findFile(files, "sub/tiny-Q8_0.gguf").size, uint64_t(5000));
        QCOMPARE(findFile(files, "sub/tiny-Q8_0.gguf").sha256, shaB);
        QCOMPARE(findFile(files, "README.md").size, uint64_t(5));
        QVERIFY(findFile(files, "README.md").sha256.empty());
        QCOMPARE(server.requestsTo("hub", "/tree/").size(), size_t(2));

        QVERIFY_THROWS_EXCEPTION(HubError, parseTreeJson("{\"not\":\"a list\"}", "t"));
        QVERIFY_THROWS_EXCEPTION(HubError, parseTreeJson("[{\"type\":\"file\",\"path\":\"../x\"}]", "t"));
        QVERIFY_THROWS_EXCEPTION(HubError, parseSearchJson("[{\"downloads\":1}]", "t"));
        try {
            client.listFiles("nobody/nothing");
            QFAIL("expected 404");
        } catch (const HubError& e) {
            QCOMPARE(e.status(), 404);
        }
    }

    void downloadThroughRedirectsTokenStaysHome()
    {
        HubTestServer server;
        server.addModel({"o/m", 1, 1});
        const QByteArray bytes = test::randomBytes(300000, 3);
        server.addFile({"o/m", "m-Q4_0.gguf", bytes});
        HubTestServer::File relative{"o/m", "m-Q5_0.gguf", test::randomBytes(1000, 4)};
        relative.redirect = HubTestServer::Redirect::Relative;
        server.addFile(relative);
        QTemporaryDir dir;
        const HubClient client(configFor(server, "hf_some_user_token"));
        const auto files = client.listFiles("o/m");
        const auto dest = destinationFor(dir.path().toStdString(), "o/m", "m-Q4_0.gguf");
        std::vector<DownloadProgress> steps;
        DownloadOptions options;
        options.progressIntervalMs = 0;
        options.progress = [&](const DownloadProgress& p) { steps.push_back(p); };
        downloadFile(client, "o/m", "main", findFile(files, "m-Q4_0.gguf"), dest, options);
        QCOMPARE(readAll(dest), bytes);
        QVERIFY(!std::filesystem::exists(partPathOf(dest)));
        QVERIFY(steps.size() >= 2);
        QCOMPARE(steps.back().bytesDone, uint64_t(bytes.size()));
        QCOMPARE(steps.back().bytesTotal, uint64_t(bytes.size()));
        // The token went to the hub's resolve URL and not to the storage origin it redirected to.
        const auto resolve = server.requestsTo("hub", "/resolve/main/m-Q4_0.gguf");
        QCOMPARE(resolve.size(), size_t(1));
        QVERIFY(resolve[0].authorization);
        const auto storage = server.requestsTo("storage", "/lfs/");
        QCOMPARE(storage.size(), size_t(1));
        QVERIFY(!storage[0].authorization);

        const auto dest2 = destinationFor(dir.path().toStdString(), "o/m", "m-Q5_0.gguf");
        downloadFile(client, "o/m", "main", findFile(files, "m-Q5_0.gguf"), dest2);
        QCOMPARE(readAll(dest2), relative.bytes);
        QCOMPARE(server.requestsTo("hub", "/cdn/").size(), size_t(1));
    }

    void cutDownloadResumesWithRange()
    {
        HubTestServer server;
        server.addModel({"o/m", 1, 1});
        HubTestServer::File f{"o/m", "cut-Q4_0.gguf", test::randomBytes(1 << 20, 5)};
        f.mode = HubTestServer::Mode::CutOnce;
        const std::string sha = server.addFile(f);
        QTemporaryDir dir;
        const HubClient client(configFor(server));
        const RepoFile file = findFile(client.listFiles("o/m"), "cut-Q4_0.gguf");
        const auto dest = destinationFor(dir.path().toStdString(), "o/m", file.path);
        QVERIFY_THROWS_EXCEPTION(HubError, downloadFile(client, "o/m", "main", file, dest));
        QVERIFY(!std::filesystem::exists(dest));
        const uint64_t kept = std::filesystem::file_size(partPathOf(dest));
        QCOMPARE(kept, uint64_t(f.bytes.size() / 2));

        downloadFile(client, "o/m", "main", file, dest);
        QCOMPARE(readAll(dest), f.bytes);
        QCOMPARE(test::sha256sumOfFile(QString::fromStdString(dest.string())), sha);
        const auto storage = server.requestsTo("storage", "/lfs/");
        QCOMPARE(storage.size(), size_t(2));
        QCOMPARE(storage[0].range, std::string());
        QCOMPARE(storage[1].range, "bytes=" + std::to_string(kept) + "-");
    }

    void wrongChecksumIsRejected()
    {
        HubTestServer server;
        server.addModel({"o/m", 1, 1});
        HubTestServer::File f{"o/m", "bad-Q4_0.gguf", test::randomBytes(20000, 6)};
        f.listedSha = test::sha256sumOf(QByteArray("something else"));
        server.addFile(f);
        QTemporaryDir dir;
        const HubClient client(configFor(server));
        const RepoFile file = findFile(client.listFiles("o/m"), "bad-Q4_0.gguf");
        const auto dest = destinationFor(dir.path().toStdString(), "o/m", file.path);
        try {
            downloadFile(client, "o/m", "main", file, dest);
            QFAIL("expected a checksum error");
        } catch (const ChecksumError& e) {
            QVERIFY2(std::string(e.what()).find(f.listedSha) != std::string::npos, e.what());
        }
        QVERIFY(!std::filesystem::exists(dest));
        QVERIFY(!std::filesystem::exists(partPathOf(dest)));
    }

    void notFoundAndUnauthorized()
    {
        HubTestServer server;
        server.addModel({"o/m", 1, 1});
        server.addModel({"gated/model", 1, 1, true});
        const QByteArray secret = test::randomBytes(4000, 7);
        server.addFile({"gated/model", "g-Q4_0.gguf", secret});
        QTemporaryDir dir;
        const HubClient anonymous(configFor(server));
        const RepoFile missing{"nothere-Q4_0.gguf", 10, std::string(64, '0')};
        const auto missingDest = destinationFor(dir.path().toStdString(), "o/m", missing.path);
        try {
            downloadFile(anonymous, "o/m", "main", missing, missingDest);
            QFAIL("expected 404");
        } catch (const HubError& e) {
            QCOMPARE(e.status(), 404);
            QVERIFY2(std::string(e.what()).find("Entry not found") != std::string::npos, e.what());
        }
        QVERIFY(!std::filesystem::exists(missingDest));

        try {
            anonymous.listFiles("gated/model");
            QFAIL("expected 401");
        } catch (const HubError& e) {
            QCOMPARE(e.status(), 401);
            QVERIFY2(std::string(e.what()).find("HF_TOKEN") != std::string::npos, e.what());
        }
        const RepoFile file{"g-Q4_0.gguf", uint64_t(secret.size()), test::sha256sumOf(secret)};
        const auto dest = destinationFor(dir.path().toStdString(), "gated/model", file.path);
        try {
            downloadFile(anonymous, "gated/model", "main", file, dest);
            QFAIL("expected 401");
        } catch (const HubError& e) {
            QCOMPARE(e.status(), 401);
        }
        QVERIFY(!std::filesystem::exists(dest));
        const HubClient wrong(configFor(server, "hf_wrong"));
        try {
            wrong.listFiles("gated/model");
            QFAIL("expected 401");
        } catch (const HubError& e) {
            QCOMPARE(e.status(), 401);
            QVERIFY2(std::string(e.what()).find("hf_wrong") == std::string::npos, "the token leaked into a message");
        }
        const HubClient withToken(configFor(server, server.token));
        QCOMPARE(withToken.listFiles("gated/model").size(), size_t(1));
        downloadFile(withToken, "gated/model", "main", file, dest);
        QCOMPARE(readAll(dest), secret);
    }

    void cancelSlowAndStalledServers()
    {
        HubTestServer server;
        server.addModel({"o/m", 1, 1});
        HubTestServer::File slow{"o/m", "slow-Q4_0.gguf", test::randomBytes(4 << 20, 8)};
        slow.mode = HubTestServer::Mode::Slow;
        server.addFile(slow);
        HubTestServer::File stall{"o/m", "stall-Q4_0.gguf", test::randomBytes(1 << 20, 9)};
        stall.mode = HubTestServer::Mode::Stall;
        server.addFile(stall);
        QTemporaryDir dir;
        const HubClient client(configFor(server));
        const auto files = client.listFiles("o/m");
        for (const char* name : {"slow-Q4_0.gguf", "stall-Q4_0.gguf"}) {
            const RepoFile file = findFile(files, name);
            const auto dest = destinationFor(dir.path().toStdString(), "o/m", file.path);
            CancelToken cancel;
            std::atomic<bool> sawBytes{false};
            DownloadOptions options;
            options.cancel = &cancel;
            options.progressIntervalMs = 0;
            options.progress = [&](const DownloadProgress& p) {
                if (p.bytesDone > 0)
                    sawBytes = true;
            };
            std::chrono::steady_clock::time_point cancelledAt;
            std::thread canceller([&] {
                while (!sawBytes)
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                cancelledAt = std::chrono::steady_clock::now();
                cancel.cancel();
            });
            bool cancelled = false;
            try {
                downloadFile(client, "o/m", "main", file, dest, options);
            } catch (const Cancelled&) {
                cancelled = true;
            }
            canceller.join();
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - cancelledAt).count();
            QVERIFY2(cancelled, name);
            // The stalled server sends nothing more: only closing the connection ends the wait.
            QVERIFY2(seconds < 2.0, qPrintable(QStringLiteral("%1: cancel took %2 s").arg(name).arg(seconds)));
            QVERIFY(!std::filesystem::exists(dest));
            const uint64_t kept = std::filesystem::file_size(partPathOf(dest));
            QVERIFY2(kept > 0 && kept < file.size, name);
        }
    }

    void fullDiskBeforeStarting()
    {
        HubTestServer server;
        server.addModel({"o/m", 1, 1});
        server.addFile({"o/m", "big-Q4_0.gguf", test::randomBytes(8 << 20, 10)});
        QTemporaryDir dir;
        const HubClient client(configFor(server));
        const RepoFile file = findFile(client.listFiles("o/m"), "big-Q4_0.gguf");
        const auto dest = destinationFor(dir.path().toStdString(), "o/m", file.path);
        // Keep all but half the file's size free: the file cannot fit (margin: 4 MiB of churn).
        DownloadOptions options;
        options.minFreeBytes = pythonFreeBytes(dir.path()) - file.size / 2;
        try {
            downloadFile(client, "o/m", "main", file, dest, options);
            QFAIL("expected a disk-full refusal");
        } catch (const DiskFullError& e) {
            QVERIFY2(std::string(e.what()).find("free") != std::string::npos, e.what());
        }
        QVERIFY(!std::filesystem::exists(dest));
        QVERIFY(!std::filesystem::exists(partPathOf(dest)));
        QVERIFY(server.requestsTo("storage", "/lfs/").empty()); // refused before any transfer
    }

    void fullDiskWhileWriting()
    {
        HubTestServer server;
        server.addModel({"o/m", 1, 1});
        const QByteArray bytes = test::randomBytes(1 << 20, 11);
        const std::string sha = server.addFile({"o/m", "fsize-Q4_0.gguf", bytes});
        QTemporaryDir dir;
        const HubClient client(configFor(server));
        const RepoFile file = findFile(client.listFiles("o/m"), "fsize-Q4_0.gguf");
        const auto dest = destinationFor(dir.path().toStdString(), "o/m", file.path);
        std::filesystem::create_directories(dest.parent_path());

        // The kernel refuses writes past RLIMIT_FSIZE with EFBIG (SIGXFSZ ignored), exactly as a
        // full file system refuses them with ENOSPC.
        constexpr rlim_t kLimit = 256 * 1024;
        std::signal(SIGXFSZ, SIG_IGN);
        rlimit old{};
        QCOMPARE(getrlimit(RLIMIT_FSIZE, &old), 0);
        rlimit small = old;
        small.rlim_cur = kLimit;
        QCOMPARE(setrlimit(RLIMIT_FSIZE, &small), 0);
        bool full = false;
        std::string message;
        try {
            downloadFile(client, "o/m", "main", file, dest);
        } catch (const DiskFullError& e) {
            full = true;
            message = e.what();
        } catch (const Error& e) {
            message = e.what();
        }
        setrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, SIG_DFL);
        QVERIFY2(full, message.c_str());
        QVERIFY2(message.find("disk is full") != std::string::npos, message.c_str());
        QVERIFY(!std::filesystem::exists(dest));
        QCOMPARE(std::filesystem::file_size(partPathOf(dest)), uint64_t(kLimit)); // kept for resume

        downloadFile(client, "o/m", "main", file, dest);
        QCOMPARE(readAll(dest), bytes);
        QCOMPARE(test::sha256sumOfFile(QString::fromStdString(dest.string())), sha);
        const auto storage = server.requestsTo("storage", "/lfs/");
        QCOMPARE(storage.back().range, "bytes=" + std::to_string(kLimit) + "-");
    }
};

QTEST_GUILESS_MAIN(TestHubClient)
#include "tst_hub_client.moc"
