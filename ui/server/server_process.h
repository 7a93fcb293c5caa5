#pragma once
// tenfold-server as a child process of the desktop app (or, with ServerOptions::mpiRanks > 1, an
// Open MPI job of tenfold-worker serve under mpirun): builds its command line, hands it the API
// keys through a private temporary file (never on the command line, where `ps` would show them),
// recognises its "listening" line, and stops it with SIGTERM, then SIGKILL if it does not exit in
// time. Every call returns at once; progress arrives as signals.
#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QUrl>

#include <memory>
#include <mutex>

namespace tenfold::ui {

struct ServerOptions {
    QString modelPath;
    QString host = QStringLiteral("127.0.0.1");
    int port = 0;          // 0: the server picks a free port
    QStringList apiKeys;   // empty: no authentication (loopback only)
    int parallel = 0;      // 0: the server's default
    int contextSize = 0;   // 0: the server's default (the model's training context)
    int threads = 0;       // 0: the server's default
    QString device;        // "", "cpu" or "vulkan"; "" leaves the choice to the server
    QString dataDir;       // where the server writes its usage ledger; "" for none given
    bool profile = false;  // --profile: every op timed, shown live on the Profiler page
    // An Open MPI job instead of one process: `mpirun -np mpiRanks tenfold-worker serve ...`
    // (docs/DISTRIBUTED.md). 1: one tenfold-server process.
    int mpiRanks = 1;
    bool mpiPipeline = false; // split the layers over the ranks; else whole-model replicas
    QString mpiHostFile;      // Open MPI host file; "": every rank on this computer
};

class ServerProcess : public QObject {
    Q_OBJECT
public:
    enum class State { Stopped, Starting, Listening, Stopping, Failed };
    Q_ENUM(State)

    // How long a stop waits after SIGTERM before it kills the server.
    static constexpr int kStopTimeoutMs = 5000;
    // The line tenfold-server prints once it accepts connections.
    static constexpr const char* kListeningPrefix = "Tenfold server listening on ";

    explicit ServerProcess(QObject* parent = nullptr);
    // Stops a running server (the app is quitting): SIGTERM, then SIGKILL after a short wait.
    ~ServerProcess() override;

    // tenfold-server in `appDir` (the running executable's folder), then in the build tree's
    // app/server folder (when running from a build), then on PATH; empty when none is found.
    // Touches the disk: not for the GUI thread.
    static QString findServerProgram(const QString& appDir);
    // The binary start() runs; empty: findServerProgram(), looked up off the GUI thread.
    QString program() const { return program_; }
    void setProgram(const QString& path) { program_ = path; }

    // tenfold-worker (the MPI front end and ranks) and mpirun, looked up like the server.
    static QString findWorkerProgram(const QString& appDir);
    static QString findMpirun();
    void setWorkerProgram(const QString& path) { workerProgram_ = path; }

    static QStringList buildArguments(const ServerOptions& options, const QString& keyFile);
    // mpirun's command line for options.mpiRanks > 1: the job's layout, then `worker serve` and
    // the server's own arguments (without --device: every rank computes on its CPU).
    static QStringList buildMpiArguments(const ServerOptions& options, const QString& worker, const QString& keyFile);
    static bool isLoopbackHost(const QString& host);
    // 32 random bytes from the system's CSPRNG, hex-encoded, with a "tf-" prefix.
    static QString generateApiKey();

    // Finds the binary and writes the key file (both off the GUI thread), then starts the
    // process. Ignored while a server runs.
    void start(const ServerOptions& options);
    // SIGTERM now, SIGKILL after kStopTimeoutMs.
    void stop();

    State state() const { return state_; }
    bool isRunning() const { return state_ == State::Starting || state_ == State::Listening || state_ == State::Stopping; }
    // The address the server printed, e.g. http://127.0.0.1:39211 (empty until listening).
    QUrl url() const { return url_; }
    // Why the last run failed: the server's error output, or why it could not be started.
    QString errorMessage() const { return error_; }
    qint64 processId() const { return process_ ? process_->processId() : 0; }
    // The command line of the last launch, and the options of the last start().
    QStringList arguments() const { return arguments_; }
    const ServerOptions& options() const { return options_; }

    // A key file written on a background thread whose launch has not run yet; shared with that
    // thread so that the file is removed even when this object is destroyed first.
    struct PendingKeyFile {
        std::mutex mutex;
        bool abandoned = false;
        QString path;
    };

signals:
    void stateChanged(tenfold::ui::ServerProcess::State state);
    void listening(const QUrl& url);
    void failed(const QString& message);
    // The key file was written with owner-only permissions; it is removed again once the server
    // has read it (listening), or when it stops.
    void keyFileWritten(const QString& path);

private:
    void setState(State s);
    void launch(const QString& keyFile);
    void onStdout();
    void onStderr();
    void onFinished(int exitCode, QProcess::ExitStatus status);
    void onError(QProcess::ProcessError error);
    void fail(const QString& message);
    void removeKeyFile();
    QString stderrSummary() const;

    QString program_;
    QString workerProgram_;
    QString resolvedProgram_; // what the last start ran
    QString resolvedWorker_;  // an MPI job's tenfold-worker
    QProcess* process_ = nullptr;
    QTimer killTimer_;
    State state_ = State::Stopped;
    ServerOptions options_;
    QStringList arguments_;
    QString keyFile_;
    QByteArray stdoutBuffer_;
    QByteArray stderrText_;
    QUrl url_;
    QString error_;
    bool stopRequested_ = false;
    std::shared_ptr<PendingKeyFile> pendingKeyFile_ = std::make_shared<PendingKeyFile>();
    quint64 launchGeneration_ = 0; // drops a key file written for a start that was stopped since
};

} // namespace tenfold::ui
