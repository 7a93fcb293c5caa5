#pragma once
// Runs a real tenfold-server for a test: starts it with --port 0, reads the one line it prints
// once ready ("Tenfold server listening on http://HOST:PORT") and stops it with SIGTERM.
#include <QByteArray>
#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QString>
#include <QStringList>

#include <csignal>
#include <sys/prctl.h>
#include <memory>

namespace tenfold::test {

class ServerProcess {
public:
    ~ServerProcess()
    {
        if (process_ && process_->state() != QProcess::NotRunning) {
            process_->kill();
            process_->waitForFinished(10000);
        }
    }

    // False (with error()) when the server did not come up within timeoutMs.
    bool start(const QString& program, const QStringList& args, int timeoutMs = 120000)
    {
        process_ = std::make_unique<QProcess>();
        // A test that dies (a crash, a watchdog) must not leave a server behind.
        process_->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
        process_->start(program, args);
        if (!process_->waitForStarted(30000)) {
            error_ = QStringLiteral("cannot start %1").arg(program);
            return false;
        }
        static const QRegularExpression ready(QStringLiteral("^Tenfold server listening on (http://(.+):(\\d+))\\n"));
        QByteArray out;
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            if (process_->state() == QProcess::NotRunning)
                break;
            process_->waitForReadyRead(200);
            out += process_->readAllStandardOutput();
            const auto m = ready.match(QString::fromUtf8(out));
            if (m.hasMatch()) {
                baseUrl_ = m.captured(1);
                host_ = m.captured(2);
                port_ = m.captured(3).toInt();
                startupOutput_ = out;
                return true;
            }
        }
        error_ = QStringLiteral("tenfold-server did not report that it listens (exit %1); stdout: %2 stderr: %3")
                     .arg(process_->exitCode())
                     .arg(QString::fromUtf8(out))
                     .arg(QString::fromUtf8(process_->readAllStandardError()));
        return false;
    }

    // SIGTERM, then waits; the exit code, or -1 for a crash or a timeout.
    int stop(int timeoutMs = 30000)
    {
        if (!process_ || process_->state() == QProcess::NotRunning)
            return process_ ? process_->exitCode() : -1;
        ::kill(pid_t(process_->processId()), SIGTERM);
        if (!process_->waitForFinished(timeoutMs))
            return -1;
        return process_->exitStatus() == QProcess::NormalExit ? process_->exitCode() : -1;
    }

    QString error() const { return error_; }
    QString baseUrl() const { return baseUrl_; }
    QString host() const { return host_; }
    int port() const { return port_; }
    QByteArray startupOutput() const { return startupOutput_; }
    QByteArray stderrText() const { return process_ ? process_->readAllStandardError() : QByteArray(); }
    bool running() const { return process_ && process_->state() == QProcess::Running; }

private:
    std::unique_ptr<QProcess> process_;
    QString error_, baseUrl_, host_;
    QByteArray startupOutput_;
    int port_ = 0;
};

} // namespace tenfold::test
