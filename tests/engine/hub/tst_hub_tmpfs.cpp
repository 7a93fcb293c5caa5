// A full disk on a real small file system: a 1 MiB tmpfs mounted by the test. Mounting needs
// privileges (root here, not every CI runner): without them the suite skips (77). The same
// "disk full while writing" path is also covered without privileges in tst_hub_client
// (fullDiskWhileWriting, RLIMIT_FSIZE), and the check before starting by fullDiskBeforeStarting.
#include "hub/hub_download.h"
#include "hub_test_server.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <fstream>

using namespace tenfold;
using namespace tenfold::hub;
using tenfold::test::HubTestServer;

class TestHubTmpfs : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::string mountPoint_;
    bool mounted_ = false;

private slots:
    void initTestCase()
    {
        mountPoint_ = dir_.filePath("small").toStdString();
        std::filesystem::create_directories(mountPoint_);
        if (::mount("tenfold-hub-test", mountPoint_.c_str(), "tmpfs", 0, "size=1m") != 0)
            QSKIP(qPrintable(QStringLiteral("cannot mount a tmpfs here (%1): needs root or CAP_SYS_ADMIN")
                                 .arg(QString::fromLocal8Bit(std::strerror(errno)))));
        mounted_ = true;
    }
    void cleanupTestCase()
    {
        if (mounted_)
            ::umount2(mountPoint_.c_str(), MNT_DETACH);
    }

    void tooLargeIsRefusedBeforeStarting()
    {
        HubTestServer server;
        server.addModel({"o/m", 1, 1});
        const QByteArray bytes = test::randomBytes(2 << 20, 60); // 2 MiB into 1 MiB
        const RepoFile file{"big-Q4_0.gguf", uint64_t(bytes.size()), server.addFile({"o/m", "big-Q4_0.gguf", bytes})};
        HubConfig config;
        config.endpoint = server.endpoint();
        const auto dest = destinationFor(mountPoint_, "o/m", file.path);
        QVERIFY_THROWS_EXCEPTION(DiskFullError, downloadFile(HubClient(config), "o/m", "main", file, dest));
        QVERIFY(!std::filesystem::exists(partPathOf(dest)));
        QVERIFY(server.requestsTo("storage", "/lfs/").empty());
    }

    void fillingUpWhileWritingKeepsThePart()
    {
        HubTestServer server;
        server.addModel({"o/m", 1, 1});
        HubTestServer::File f{"o/m", "fits-Q4_0.gguf", test::randomBytes(600 * 1024, 61)};
        f.mode = HubTestServer::Mode::Slow;
        const std::string sha = server.addFile(f);
        const RepoFile file{f.path, uint64_t(f.bytes.size()), sha};
        HubConfig config;
        config.endpoint = server.endpoint();
        const auto dest = destinationFor(mountPoint_, "o/m", file.path);
        // Once the download is under way, another writer takes most of what is left.
        const std::string filler = mountPoint_ + "/filler";
        bool filled = false;
        DownloadOptions options;
        options.progressIntervalMs = 0;
        options.progress = [&](const DownloadProgress& p) {
            if (filled || p.bytesDone < 64 * 1024)
                return;
            filled = true;
            std::ofstream out(filler, std::ios::binary);
            const std::string block(4096, 'x');
            while (out.write(block.data(), block.size()) && out.flush()) {
            }
        };
        try {
            downloadFile(HubClient(config), "o/m", "main", file, dest, options);
            QFAIL("expected the disk to fill");
        } catch (const DiskFullError& e) {
            QVERIFY2(std::string(e.what()).find("disk is full") != std::string::npos, e.what());
        }
        const uint64_t kept = std::filesystem::file_size(partPathOf(dest));
        QVERIFY(kept >= 64 * 1024 && kept < file.size);
        std::filesystem::remove(filler);
        downloadFile(HubClient(config), "o/m", "main", file, dest);
        QCOMPARE(test::sha256sumOfFile(QString::fromStdString(dest.string())), sha);
        QCOMPARE(server.requestsTo("storage", "/lfs/").back().range, "bytes=" + std::to_string(kept) + "-");
    }
};

QTEST_GUILESS_MAIN(TestHubTmpfs)
#include "tst_hub_tmpfs.moc"
