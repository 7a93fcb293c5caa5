#include "server/server_process.h"

#include "core/background.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryFile>



#ifdef Q_OS_LINUX
#include <csignal>
#include <sys/prctl.h>
#endif

namespace tenfold::ui {

namespace {

constexpr int kMaxStderrBytes = 64 * 1024; // the tail of a chatty server's log is enough
constexpr int kShutdownWaitMs = 3000;      // app quit: SIGTERM grace before SIGKILL
constexpr int kErrorLines = 6;             // shown to the user when the server fails

QString serverExecutableName()
{
#ifdef Q_OS_WIN
    return QStringLiteral("tenfold-server.exe");
#else
    return QStringLiteral("tenfold-server");
#endif
}

} // namespace

ServerProcess::ServerProcess(QObject* parent) : QObject(parent)
{
    killTimer_.setSingleShot(true);
    killTimer_.setTimerType(Qt::PreciseTimer); // a coarse timer may fire 5% early: the grace is a promise
    connect(&killTimer_, &QTimer::timeout, this, [this] {
        if (process_ && process_->state() != QProcess::NotRunning)
            process_->kill();
    });
}

ServerProcess::~ServerProcess()
{
    if (process_ && process_->state() != QProcess::NotRunning) {
        // The app is quitting, so there is no event loop left to wait in: give the server a short
        // grace period to finish its ledger writes, then make sure no orphan outlives the app.
        process_->disconnect(this);
        process_->terminate();
        if (!process_->waitForFinished(kShutdownWaitMs)) {
            process_->kill();
            process_->waitForFinished(1000);
        }
    }
    if (!keyFile_.isEmpty())
        QFile::remove(keyFile_);
    std::lock_guard lock(pendingKeyFile_->mutex);
    pendingKeyFile_->abandoned = true;
    if (!pendingKeyFile_->path.isEmpty())
        QFile::remove(pendingKeyFile_->path); // written, but its launch never ran
}

QString ServerProcess::findServerProgram(const QString& appDir)
{
    const QString name = serverExecutableName();
    // Installed side by side; in a build tree the app is app/gui/tenfold and the server
    // app/server/tenfold-server.
    for (const QString& candidate : {QDir(appDir).filePath(name), QDir(appDir).filePath(QStringLiteral("../server/") + name)}) {
        const QFileInfo info(candidate);
        if (info.isFile() && info.isExecutable())
            return info.canonicalFilePath();
    }
    return QStandardPaths::findExecutable(name);
}

QString ServerProcess::findWorkerProgram(const QString& appDir)
{
    const QString name = QStringLiteral("tenfold-worker");
    for (const QString& candidate : {QDir(appDir).filePath(name), QDir(appDir).filePath(QStringLiteral("../worker/") + name)}) {
        const QFileInfo info(candidate);
        if (info.isFile() && info.isExecutable())
            return info.canonicalFilePath();
    }
    return QStandardPaths::findExecutable(name);
}

QString ServerProcess::findMpirun()
{
    QString found = QStandardPaths::findExecutable(QStringLiteral("mpirun"));
    if (found.isEmpty())
        found = QStandardPaths::findExecutable(QStringLiteral("mpiexec"));
    return found;
}

QStringList ServerProcess::buildMpiArguments(const ServerOptions& o, const QString& worker, const QString& keyFile)
{
    QStringList args{QStringLiteral("-np"), QString::number(o.mpiRanks), QStringLiteral("--bind-to"),
                     QStringLiteral("none")};
    if (o.mpiHostFile.isEmpty())
        args << QStringLiteral("--oversubscribe"); // every rank on this computer, however many cores
    else
        args << QStringLiteral("--hostfile") << o.mpiHostFile;
    // Replicas: a lost one leaves the others serving. A pipeline cannot lose a stage (its
    // layers go with it), and mpirun's exit code must then say the job failed.
    if (!o.mpiPipeline)
        args << QStringLiteral("--enable-recovery");
    args << worker << QStringLiteral("serve");
    ServerOptions server = o;
    server.device.clear();
    args << buildArguments(server, keyFile);
    if (o.mpiPipeline)
        args << QStringLiteral("--pipeline");
    return args;
}

QStringList ServerProcess::buildArguments(const ServerOptions& o, const QString& keyFile)
{
    QStringList args{o.modelPath};
    args << QStringLiteral("--host") << o.host << QStringLiteral("--port") << QString::number(o.port);
    if (!keyFile.isEmpty())
        args << QStringLiteral("--api-key-file") << keyFile;
    if (o.parallel > 0)
        args << QStringLiteral("--parallel") << QString::number(o.parallel);
    if (o.contextSize > 0)
        args << QStringLiteral("--ctx") << QString::number(o.contextSize);
    if (o.threads > 0)
        args << QStringLiteral("-t") << QString::number(o.threads);
    if (!o.device.isEmpty())
        args << QStringLiteral("--device") << o.device;
    if (!o.dataDir.isEmpty())
        args << QStringLiteral("--data-dir") << o.dataDir;
    if (o.profile)
        args << QStringLiteral("--profile");
    return args;
}

bool ServerProcess::isLoopbackHost(const QString& host)
{
    const QString h = host.trimmed();
    if (h.compare(QStringLiteral("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(h);
    return !address.isNull() && address.isLoopback();
}

QString ServerProcess::generateApiKey()
{
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32*>(bytes.data()),
                                         reinterpret_cast<quint32*>(bytes.data() + bytes.size()));
    return QStringLiteral("tf-") + QString::fromLatin1(bytes.toHex());
}

void ServerProcess::setState(State s)
{
    if (state_ == s)
        return;
    state_ = s;
    emit stateChanged(s);
}

namespace {

struct Prepared {
    QString program;
    QString worker; // an MPI job: program is mpirun
    QString keyFile;
    QString error; // set when the key file could not be written
};

// Off the GUI thread: finds the binary (a PATH search touches the disk) and writes the keys to a
// file only the user can read.
Prepared prepareLaunch(const QString& program, const QString& worker, bool mpi, const QString& appDir,
                       const QStringList& keys, const std::shared_ptr<ServerProcess::PendingKeyFile>& pending)
{
    Prepared out;
    if (mpi) {
        out.program = ServerProcess::findMpirun();
        out.worker = worker.isEmpty() ? ServerProcess::findWorkerProgram(appDir) : worker;
        if (out.program.isEmpty() || out.worker.isEmpty())
            return out;
    } else {
        out.program = program.isEmpty() ? ServerProcess::findServerProgram(appDir) : program;
    }
    if (out.program.isEmpty() || keys.isEmpty())
        return out;
    QTemporaryFile file(QDir(QDir::tempPath()).filePath(QStringLiteral("tenfold-server-keys-XXXXXX")));
    file.setAutoRemove(false);
    if (!file.open()) {
        out.error = file.errorString();
        return out;
    }
    // QTemporaryFile already creates it 0600 on Unix; stated here so no umask or platform
    // default can widen it before the keys are written.
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    const QByteArray text = keys.join(QLatin1Char('\n')).toUtf8() + '\n';
    if (file.write(text) != text.size() || !file.flush()) {
        out.error = file.errorString();
        file.remove();
        return out;
    }
    out.keyFile = file.fileName();
    // The ServerProcess may have been destroyed meanwhile (the app quit while starting): then
    // nobody would remove the keys but this thread.
    std::lock_guard lock(pending->mutex);
    if (pending->abandoned) {
        file.remove();
        out.keyFile.clear();
    } else {
        pending->path = out.keyFile;
    }
    return out;
}

} // namespace

void ServerProcess::start(const ServerOptions& options)
{
    if (isRunning())
        return;
    options_ = options;
    url_.clear();
    error_.clear();
    stdoutBuffer_.clear();
    stderrText_.clear();
    stopRequested_ = false;
    setState(State::Starting);
    const quint64 generation = ++launchGeneration_;
    runInBackground<Prepared>(
        this,
        [program = program_, worker = workerProgram_, mpi = options.mpiRanks > 1,
         appDir = QCoreApplication::applicationDirPath(), keys = options.apiKeys,
         pending = pendingKeyFile_] { return prepareLaunch(program, worker, mpi, appDir, keys, pending); },
        [this, generation](Prepared prepared) {
            {
                std::lock_guard lock(pendingKeyFile_->mutex);
                pendingKeyFile_->path.clear(); // from here on keyFile_ (or the line below) owns it
            }
            if (generation != launchGeneration_ || state_ != State::Starting) {
                // Stopped before the launch was ready: nothing to start, and the keys must not stay.
                if (!prepared.keyFile.isEmpty())
                    QFile::remove(prepared.keyFile);
                return;
            }
            if (options_.mpiRanks > 1 && prepared.program.isEmpty()) {
                fail(tr("mpirun was not found on the PATH; install Open MPI (Debian: openmpi-bin) to serve over "
                        "several processes."));
                return;
            }
            if (options_.mpiRanks > 1 && prepared.worker.isEmpty()) {
                fail(tr("tenfold-worker was not found next to Tenfold or on the PATH."));
                return;
            }
            if (prepared.program.isEmpty()) {
                fail(tr("tenfold-server was not found next to Tenfold or on the PATH."));
                return;
            }
            if (!prepared.error.isEmpty()) {
                fail(tr("Could not write the API key file: %1").arg(prepared.error));
                return;
            }
            resolvedProgram_ = prepared.program;
            resolvedWorker_ = prepared.worker;
            keyFile_ = prepared.keyFile;
            if (!keyFile_.isEmpty())
                emit keyFileWritten(keyFile_);
            launch(keyFile_);
        });
}

void ServerProcess::launch(const QString& keyFile)
{
    if (process_) {
        process_->disconnect(this);
        process_->deleteLater();
    }
    process_ = new QProcess(this);
    process_->setProgram(resolvedProgram_);
    arguments_ = options_.mpiRanks > 1 ? buildMpiArguments(options_, resolvedWorker_, keyFile)
                                       : buildArguments(options_, keyFile);
    process_->setArguments(arguments_);
#ifdef Q_OS_LINUX
    // Should Tenfold itself die without running its destructors, the kernel stops the server.
    process_->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
#endif
    connect(process_, &QProcess::readyReadStandardOutput, this, &ServerProcess::onStdout);
    connect(process_, &QProcess::readyReadStandardError, this, &ServerProcess::onStderr);
    connect(process_, &QProcess::finished, this, &ServerProcess::onFinished);
    connect(process_, &QProcess::errorOccurred, this, &ServerProcess::onError);
    process_->start(QIODevice::ReadOnly);
}

void ServerProcess::stop()
{
    if (state_ == State::Starting && (!process_ || process_->state() == QProcess::NotRunning)) {
        // Still writing the key file: the pending launch sees the state change and drops it.
        ++launchGeneration_;
        setState(State::Stopped);
        return;
    }
    if (!process_ || process_->state() == QProcess::NotRunning)
        return;
    stopRequested_ = true;
    setState(State::Stopping);
    process_->terminate();
    killTimer_.start(kStopTimeoutMs);
}

void ServerProcess::onStdout()
{
    stdoutBuffer_ += process_->readAllStandardOutput();
    int newline;
    while ((newline = stdoutBuffer_.indexOf('\n')) >= 0) {
        const QString line = QString::fromUtf8(stdoutBuffer_.left(newline)).trimmed();
        stdoutBuffer_.remove(0, newline + 1);
        const QLatin1String prefix(kListeningPrefix);
        if (state_ == State::Starting && line.startsWith(prefix)) {
            const QUrl url(line.mid(prefix.size()).trimmed());
            if (!url.isValid() || url.port() <= 0)
                continue;
            url_ = url;
            removeKeyFile(); // the server has read its keys by the time it listens
            setState(State::Listening);
            emit listening(url_);
        }
    }
    // A server that prints no newline for megabytes is not talking to us; do not grow forever.
    if (stdoutBuffer_.size() > kMaxStderrBytes)
        stdoutBuffer_.clear();
}

void ServerProcess::onStderr()
{
    stderrText_ += process_->readAllStandardError();
    if (stderrText_.size() > kMaxStderrBytes)
        stderrText_ = stderrText_.right(kMaxStderrBytes);
}

QString ServerProcess::stderrSummary() const
{
    QStringList lines;
    for (const QString& line : QString::fromUtf8(stderrText_).split(QLatin1Char('\n')))
        if (!line.trimmed().isEmpty())
            lines << line.trimmed();
    if (lines.size() > kErrorLines)
        lines = lines.mid(lines.size() - kErrorLines);
    return lines.join(QLatin1Char('\n'));
}

void ServerProcess::onFinished(int exitCode, QProcess::ExitStatus status)
{
    killTimer_.stop();
    onStderr();
    removeKeyFile();
    url_.clear();
    if (stopRequested_) {
        setState(State::Stopped);
        return;
    }
    QString message = stderrSummary();
    if (message.isEmpty())
        message = status == QProcess::CrashExit ? tr("tenfold-server crashed.")
                                                : tr("tenfold-server exited with code %1.").arg(exitCode);
    fail(message);
}

void ServerProcess::onError(QProcess::ProcessError error)
{
    if (error != QProcess::FailedToStart)
        return; // crashes and exits arrive through finished()
    removeKeyFile();
    fail(tr("Could not start %1: %2").arg(QDir::toNativeSeparators(resolvedProgram_), process_->errorString()));
}

void ServerProcess::fail(const QString& message)
{
    error_ = message;
    setState(State::Failed);
    emit failed(message);
}

void ServerProcess::removeKeyFile()
{
    if (keyFile_.isEmpty())
        return;
    const QString path = keyFile_;
    keyFile_.clear();
    runInBackground<bool>(this, [path] { return QFile::remove(path); }, [](bool) {});
}

} // namespace tenfold::ui
