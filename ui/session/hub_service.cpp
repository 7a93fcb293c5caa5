#include "session/hub_service.h"

#include "core/error.h"
#include "hub/download_queue.h"
#include "hub/gguf_choices.h"
#include "session/model_facts.h"
#include "store/store.h"

#include <QDir>
#include <QMetaObject>
#include <QPointer>
#include <QThread>

namespace tenfold::ui {

namespace {

HubDownloadInfo infoOf(const HubDownload& d, const hub::DownloadProgress& p = {})
{
    HubDownloadInfo i;
    i.id = d.id;
    i.repo = QString::fromStdString(d.repo);
    i.file = QString::fromStdString(d.filePath);
    i.destination = QString::fromStdString(d.destination);
    i.state = QString::fromStdString(d.state);
    i.error = QString::fromStdString(d.error);
    i.setKey = QString::fromStdString(d.setKey);
    i.bytesTotal = quint64(d.size);
    i.bytesDone = p.bytesTotal ? p.bytesDone : quint64(d.bytesDone);
    i.bytesPerSecond = p.bytesPerSecond;
    i.secondsLeft = p.secondsLeft;
    return i;
}

// Runs `work` on a new thread; `done` gets its result (or the engine's message) on the GUI thread
// if `receiver` still exists.
template <typename Result>
void inBackground(QObject* receiver, std::function<Result()> work, std::function<void(Result)> done,
                  std::function<void(QString)> failed)
{
    QPointer<QObject> guard(receiver);
    QThread* thread = QThread::create([=] {
        std::shared_ptr<Result> result;
        QString error;
        try {
            result = std::make_shared<Result>(work());
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
        }
        QMetaObject::invokeMethod(receiver, [=] {
            if (!guard)
                return;
            if (result)
                done(std::move(*result));
            else
                failed(error);
        }, Qt::QueuedConnection);
    });
    QObject::connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

} // namespace

HubService::HubService(const QString& dataDir, int contextSize, QObject* parent)
    : QObject(parent), dataDir_(dataDir), modelsDir_(QDir(dataDir).filePath(QStringLiteral("models"))),
      contextSize_(contextSize)
{
    queueThread_.setMaxThreadCount(1);
    const std::string dbFile = QDir(dataDir).filePath(QString::fromUtf8(Store::kFileName)).toStdString();
    const std::string models = modelsDir_.toStdString();
    onQueueThread(tr("the download queue"), false, [this, dbFile, models] {
        // A connection of its own to tenfold.db (WAL: the store thread's connection is not held up).
        store_ = std::make_unique<Store>(Store::openFile(dbFile));
        queue_ = std::make_unique<hub::DownloadQueue>(*store_, hub::HubConfig::fromEnvironment(), models, 2);
        queue_->setListener([this](const hub::QueueEvent& e) {
            const HubDownloadInfo info = infoOf(e.download, e.progress);
            QString finished;
            if (e.download.state == "done") {
                // A split set counts as downloaded once its last part is.
                bool all = true;
                std::string first;
                if (!e.download.setKey.empty()) {
                    for (const HubDownload& d : store_->hubDownloads())
                        if (d.setKey == e.download.setKey) {
                            all = all && d.state == "done";
                            if (first.empty())
                                first = d.destination;
                        }
                }
                if (all)
                    finished = QString::fromStdString(first.empty() ? e.download.destination : first);
            }
            QMetaObject::invokeMethod(this, [this, info, finished] {
                emit downloadChanged(info);
                if (!finished.isEmpty())
                    emit modelDownloaded(finished);
            }, Qt::QueuedConnection);
        });
        queue_->start();
    });
}

HubService::~HubService()
{
    queueThread_.waitForDone();
    // Running downloads stop here and stay queued in the database for the next start.
    queue_.reset();
    store_.reset();
}

QString HubService::endpoint() const
{
    const QByteArray e = qgetenv("HF_ENDPOINT");
    return e.isEmpty() ? QStringLiteral("https://huggingface.co") : QString::fromUtf8(e);
}

void HubService::onQueueThread(const QString& what, std::function<void()> job)
{
    onQueueThread(what, true, std::move(job));
}

void HubService::onQueueThread(const QString& what, bool needsQueue, std::function<void()> job)
{
    QPointer<HubService> guard(this);
    queueThread_.start([this, guard, what, needsQueue, job = std::move(job)] {
        try {
            if (needsQueue && !queue_)
                throw Error("the download queue could not be opened");
            job();
        } catch (const std::exception& e) {
            const QString message = QString::fromStdString(e.what());
            QMetaObject::invokeMethod(this, [this, guard, what, message] {
                if (guard)
                    emit requestFailed(what, message);
            }, Qt::QueuedConnection);
        }
    });
}

void HubService::search(const QString& query)
{
    const std::string q = query.trimmed().toStdString();
    inBackground<QVector<HubModelInfo>>(
        this,
        [q] {
            const hub::HubClient client(hub::HubConfig::fromEnvironment());
            QVector<HubModelInfo> out;
            for (const hub::ModelSummary& m : client.search(q, 50)) {
                HubModelInfo i;
                i.id = QString::fromStdString(m.id);
                i.downloads = m.downloads;
                i.likes = m.likes;
                i.lastModified = QString::fromStdString(m.lastModified.substr(0, 10));
                i.gated = m.gated;
                out.push_back(i);
            }
            return out;
        },
        [this, query](QVector<HubModelInfo> models) { emit searchFinished(query, models); },
        [this, query](QString message) { emit requestFailed(tr("Search for “%1”").arg(query), message); });
}

void HubService::listFiles(const QString& repo)
{
    const std::string r = repo.toStdString();
    const int ctx = contextSize_;
    inBackground<QVector<HubFileChoice>>(
        this,
        [r, ctx] {
            const hub::HubClient client(hub::HubConfig::fromEnvironment());
            const uint64_t available = availableSystemMemory();
            QVector<HubFileChoice> out;
            for (const hub::GgufChoice& c : hub::ggufChoices(client.listFiles(r, "main"))) {
                HubFileChoice f;
                f.repo = QString::fromStdString(r);
                f.quant = QString::fromStdString(c.quant);
                f.name = QString::fromStdString(c.name);
                f.bytes = c.totalBytes;
                f.parts = int(c.files.size());
                f.complete = c.complete;
                // The library's estimate from what is known before downloading: the weights
                // (the file size); the KV cache is added once the file's header can be read.
                ModelFacts facts;
                facts.weightBytes = c.totalBytes;
                facts.fileSize = int64_t(c.totalBytes);
                switch (estimateMemory(facts, ctx > 0 ? ctx : 1, available).fit) {
                case MemoryFit::Fits: f.fit = HubFit::Fits; break;
                case MemoryFit::Tight: f.fit = HubFit::Tight; break;
                case MemoryFit::WontFit: f.fit = HubFit::WontFit; break;
                case MemoryFit::Unknown: f.fit = HubFit::Unknown; break;
                }
                out.push_back(f);
            }
            return out;
        },
        [this, repo](QVector<HubFileChoice> choices) { emit listingFinished(repo, choices); },
        [this, repo](QString message) { emit requestFailed(tr("Files of %1").arg(repo), message); });
}

void HubService::download(const HubFileChoice& choice)
{
    const std::string repo = choice.repo.toStdString();
    const std::string revision = choice.revision.toStdString();
    const std::string name = choice.name.toStdString();
    onQueueThread(tr("Download of %1").arg(choice.name), [this, repo, revision, name] {
        // The listing is read again here so the queue gets the hub's current sizes and SHA-256.
        const hub::HubClient client(hub::HubConfig::fromEnvironment());
        const auto found = hub::findChoice(hub::ggufChoices(client.listFiles(repo, revision)), "", name);
        if (!found)
            throw Error(repo + " no longer has " + name);
        queue_->enqueue(repo, revision, *found);
    });
}

void HubService::pause(qint64 id)
{
    onQueueThread(tr("Pause"), [this, id] { queue_->pause(id); });
}

void HubService::resume(qint64 id)
{
    onQueueThread(tr("Resume"), [this, id] { queue_->resume(id); });
}

void HubService::remove(qint64 id)
{
    onQueueThread(tr("Remove"), [this, id] {
        queue_->remove(id);
        HubDownloadInfo gone;
        gone.id = id;
        gone.state = QStringLiteral("removed");
        QMetaObject::invokeMethod(this, [this, gone] { emit downloadChanged(gone); }, Qt::QueuedConnection);
    });
}

void HubService::refreshDownloads()
{
    onQueueThread(tr("the download queue"), [this] {
        QVector<HubDownloadInfo> all;
        for (const HubDownload& d : queue_->downloads())
            all.push_back(infoOf(d));
        QMetaObject::invokeMethod(this, [this, all] { emit downloadsListed(all); }, Qt::QueuedConnection);
    });
}

} // namespace tenfold::ui
