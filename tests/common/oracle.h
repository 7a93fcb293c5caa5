#pragma once
// Independent oracles that tests run as separate processes: the reference engine's tools in
// ../shared/peer/llama.cpp-b4748 and Python scripts in tools/ (Debian's /usr/bin/python3 with
// Debian's packages). A missing oracle is a skip with the reason, never a silent pass.
#include "common/shared_data.h"

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <filesystem>

namespace tenfold::test {

struct ProcessResult {
    bool started = false;
    bool finished = false;
    int exitCode = -1;
    QByteArray out, err;
    bool ok() const { return started && finished && exitCode == 0; }
    QString describe() const
    {
        return QStringLiteral("exit %1%2; stderr: %3")
            .arg(exitCode)
            .arg(finished ? QString() : QStringLiteral(" (timed out)"))
            .arg(QString::fromUtf8(err.right(2000)));
    }
};

inline ProcessResult runProcess(const QString& program, const QStringList& args, int timeoutMs = 600000)
{
    QProcess p;
    p.start(program, args);
    ProcessResult r;
    r.started = p.waitForStarted(30000);
    if (!r.started)
        return r;
    p.closeWriteChannel();
    r.finished = p.waitForFinished(timeoutMs);
    if (!r.finished) {
        p.kill();
        p.waitForFinished();
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

// The reference engine's tool `name` (llama-quantize, llama-perplexity, ...). Quality figures use
// the AVX2-only build where it has the tool (see ../shared/peer/README.md: the AMX variant of the
// full build computes Q4_0 batches wrongly).
inline std::filesystem::path peerTool(const char* name, bool preferAvx2 = false)
{
    if (preferAvx2) {
        const auto avx2 = sharedDir() / "peer/llama.cpp-b4748-avx2" / name;
        if (std::filesystem::exists(avx2))
            return avx2;
    }
    return sharedDir() / "peer/llama.cpp-b4748" / name;
}

inline QString sourceFile(const char* relative)
{
    return QStringLiteral(TENFOLD_SOURCE_DIR "/") + QString::fromUtf8(relative);
}

// Debian's Python, not whatever python3 comes first on PATH: the oracles use Debian's packages.
inline QString systemPython() { return QStringLiteral("/usr/bin/python3"); }

} // namespace tenfold::test

#define TENFOLD_REQUIRE_PEER(pathExpr)                                                              \
    do {                                                                                           \
        if (!std::filesystem::exists(pathExpr))                                                    \
            QSKIP(qPrintable(QStringLiteral("reference engine tool missing: %1 (see ../shared/peer)") \
                                 .arg(QString::fromStdString((pathExpr).string()))));              \
    } while (0)
