// engine/core/platform: the OS layer the Windows port goes through, checked on this OS against
// the file system itself (std::filesystem and plain reads) as the oracle. The same behaviour on
// Windows is checked end to end under wine by tests/e2e/test_windows.sh.
#include "core/error.h"
#include "core/platform.h"

#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <fstream>
#include <sstream>

using namespace tenfold;
namespace fs = std::filesystem;

class TestPlatform : public QObject {
    Q_OBJECT

    static std::string readAll(const fs::path& p)
    {
        std::ifstream in(p, std::ios::binary);
        std::ostringstream os;
        os << in.rdbuf();
        return os.str();
    }

private slots:
    void utf8PathsRoundTrip()
    {
        // A name outside ASCII and the Basic Multilingual Plane, created through pathFromUtf8 and
        // found again by listing the folder.
        QTemporaryDir dir;
        const std::string name = "模型 \xF0\x9F\xA6\x99.gguf"; // "模型 🦙.gguf"
        const fs::path p = fs::path(dir.path().toStdString()) / platform::pathFromUtf8(name);
        std::ofstream(p) << "x";
        bool found = false;
        for (const auto& e : fs::directory_iterator(dir.path().toStdString()))
            found = found || platform::pathToUtf8(e.path().filename()) == name;
        QVERIFY(found);
        QCOMPARE(platform::pathToUtf8(platform::pathFromUtf8(name)), name);
    }

    void argumentsAreKept()
    {
        char a0[] = "prog", a1[] = "模型.gguf", a2[] = "-p";
        char* argv[] = {a0, a1, a2};
        const std::vector<std::string> args = platform::utf8Arguments(3, argv);
        QCOMPARE(args, (std::vector<std::string>{"prog", "模型.gguf", "-p"}));
    }

    void mapsWholeFiles()
    {
        QTemporaryDir dir;
        const fs::path p = fs::path(dir.path().toStdString()) / "data.bin";
        std::string bytes(70000, '\0');
        for (size_t i = 0; i < bytes.size(); ++i)
            bytes[i] = char(i * 7 + 3);
        std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
        platform::MappedFile m = platform::MappedFile::open(p);
        QCOMPARE(m.size(), uint64_t(bytes.size()));
        QVERIFY(std::memcmp(m.data(), bytes.data(), bytes.size()) == 0);
        // Moving keeps one owner of the mapping.
        platform::MappedFile moved = std::move(m);
        QVERIFY(m.data() == nullptr);
        QCOMPARE(moved.data()[69999], char(69999 * 7 + 3));
    }

    void mapRefusesWhatIsNotAFile()
    {
        QTemporaryDir dir;
        const fs::path folder(dir.path().toStdString());
        try {
            platform::MappedFile::open(folder / "missing.gguf");
            QFAIL("a missing file mapped");
        } catch (const IoError& e) {
            QVERIFY2(std::string(e.what()).find("missing.gguf") != std::string::npos, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(IoError, platform::MappedFile::open(folder));
        std::ofstream(folder / "empty");
        const platform::MappedFile empty = platform::MappedFile::open(folder / "empty");
        QCOMPARE(empty.size(), uint64_t(0));
        QVERIFY(empty.data() == nullptr);
    }

    void uniqueFilesAndReplace()
    {
        QTemporaryDir dir;
        const std::string target = dir.path().toStdString() + "/out.gguf";
        std::ofstream(target) << "old contents";
        std::string a, b;
        const int fa = platform::createUniqueFile(target + ".tmp-", a);
        const int fb = platform::createUniqueFile(target + ".tmp-", b);
        QVERIFY(fa >= 0 && fb >= 0);
        QVERIFY(a != b);
        QVERIFY(fs::exists(a) && fs::exists(b));
        const std::string text = "new\ncontents\n"; // binary: "\n" stays one byte
        QCOMPARE(platform::writeSome(fa, text.data(), text.size()), int64_t(text.size()));
        QVERIFY(platform::syncFile(fa));
        QVERIFY(platform::closeFile(fa));
        QVERIFY(platform::closeFile(fb));
        QVERIFY(platform::replaceFile(a, target)); // over an existing file
        QCOMPARE(readAll(target), text);
        QVERIFY(!fs::exists(a));
        QVERIFY(platform::removeFile(b));
        QVERIFY(!fs::exists(b));
        QVERIFY(!platform::removeFile(b)); // already gone
    }

    void appendAndTruncate()
    {
        QTemporaryDir dir;
        const fs::path p = fs::path(dir.path().toStdString()) / "part";
        std::ofstream(p) << "abc";
        const int fd = platform::openForAppend(p);
        QVERIFY(fd >= 0);
        QCOMPARE(platform::writeSome(fd, "de", 2), int64_t(2));
        QVERIFY(platform::closeFile(fd));
        QCOMPARE(readAll(p), std::string("abcde"));
        const int fd2 = platform::openForAppend(p);
        QVERIFY(platform::truncateFile(fd2));
        QCOMPARE(platform::writeSome(fd2, "z", 1), int64_t(1));
        QVERIFY(platform::closeFile(fd2));
        QCOMPARE(readAll(p), std::string("z"));
    }

    void alignedMemory()
    {
        for (size_t align : {size_t(16), size_t(32), size_t(64), size_t(4096)})
            for (size_t bytes : {size_t(1), size_t(100), size_t(4097)}) {
                void* p = platform::alignedAlloc(align, bytes);
                QVERIFY(p != nullptr);
                QCOMPARE(reinterpret_cast<uintptr_t>(p) % align, uintptr_t(0));
                std::memset(p, 0xAB, bytes); // the whole request is usable
                platform::alignedFree(p);
            }
    }

    void machineFacts()
    {
        QVERIFY(platform::pageSize() >= 4096);
        QVERIFY(platform::physicalMemoryBytes() > (64ull << 20));
        const uint64_t avail = platform::availableMemoryBytes();
        QVERIFY(avail > 0 && avail <= platform::physicalMemoryBytes());
        // Touch 32 MiB: the resident size must grow by about that much and the peak follow it.
        const uint64_t before = platform::residentBytes();
        std::vector<char> block(32u << 20);
        for (size_t i = 0; i < block.size(); i += 4096)
            block[i] = char(i);
        const uint64_t after = platform::residentBytes();
        QVERIFY2(after >= before + (24u << 20), qPrintable(QString("%1 -> %2").arg(before).arg(after)));
        QVERIFY(platform::peakResidentBytes() >= after);
        QVERIFY(platform::processId() > 0);
    }

    void localTimeMatchesTheCLibrary()
    {
        const std::time_t t = 1764547200; // 2025-12-01 00:00:00 UTC
        std::tm ours{};
        QVERIFY(platform::localTime(t, ours));
        const std::tm* theirs = std::localtime(&t);
        QCOMPARE(ours.tm_year, theirs->tm_year);
        QCOMPARE(ours.tm_yday, theirs->tm_yday);
        QCOMPARE(ours.tm_hour, theirs->tm_hour);
    }
};

QTEST_GUILESS_MAIN(TestPlatform)
#include "tst_platform.moc"
