#pragma once
// The Models page's way to the model hub (engine/hub): search and repository listings on
// background threads, and the download queue (its own threads, its rows in tenfold.db, files in
// <data dir>/models). Results and queue events arrive as signals on the GUI thread. The endpoint
// and token come from HF_ENDPOINT / HF_TOKEN / the keyring, as for tenfold-cli.
#include <QObject>
#include <QString>
#include <QThreadPool>
#include <QVector>

#include <functional>
#include <memory>

namespace tenfold {
class Store;
namespace hub {
class DownloadQueue;
}
}

namespace tenfold::ui {

struct HubModelInfo {
    QString id;
    qint64 downloads = 0;
    qint64 likes = 0;
    QString lastModified;        // "2024-05-02"
    bool gated = false;
};

enum class HubFit { Fits, Tight, WontFit, Unknown };

// One downloadable GGUF model of a repository (a single file or a split set).
struct HubFileChoice {
    QString repo;
    QString revision = QStringLiteral("main");
    QString quant;               // "Q4_K_M", or empty when the name says none
    QString name;                // the file (a split set's first part)
    quint64 bytes = 0;
    int parts = 1;
    bool complete = true;
    HubFit fit = HubFit::Unknown; // the library's estimate for the weights at the default context
};

struct HubDownloadInfo {
    qint64 id = 0;
    QString repo;
    QString file;
    QString destination;
    QString state;               // queued, running, paused, done, failed, removed
    QString error;
    QString setKey;
    quint64 bytesDone = 0;
    quint64 bytesTotal = 0;
    double bytesPerSecond = 0;
    double secondsLeft = -1;
};

class HubService : public QObject {
    Q_OBJECT
public:
    // Nothing touches the disk or the network here; the queue opens on a worker thread.
    HubService(const QString& dataDir, int contextSize, QObject* parent = nullptr);
    ~HubService() override;

    QString modelsDir() const { return modelsDir_; }
    QString endpoint() const;

    void search(const QString& query);
    void listFiles(const QString& repo);
    void download(const HubFileChoice& choice);
    void pause(qint64 id);
    void resume(qint64 id);
    void remove(qint64 id);
    // Emits downloadsListed with every row (what an earlier run left too).
    void refreshDownloads();

signals:
    void searchFinished(const QString& query, const QVector<tenfold::ui::HubModelInfo>& models);
    void listingFinished(const QString& repo, const QVector<tenfold::ui::HubFileChoice>& choices);
    void requestFailed(const QString& what, const QString& message);
    void downloadsListed(const QVector<tenfold::ui::HubDownloadInfo>& downloads);
    void downloadChanged(const tenfold::ui::HubDownloadInfo& download);
    // A single file, or every part of a split set, is verified and in place.
    void modelDownloaded(const QString& path);

private:
    // Runs `job` on the queue's one worker thread (in order); an engine error becomes requestFailed.
    void onQueueThread(const QString& what, std::function<void()> job);
    void onQueueThread(const QString& what, bool needsQueue, std::function<void()> job);

    QString dataDir_;
    QString modelsDir_;
    int contextSize_;
    QThreadPool queueThread_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<hub::DownloadQueue> queue_;
};

} // namespace tenfold::ui
