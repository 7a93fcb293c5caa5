#include "core/app_context.h"

#include "core/app_settings.h"
#include "core/background.h"
#include "runtime/backend_registry.h"
#include "session/model_host.h"
#include "store/store.h"

#include <QDir>

namespace tenfold::ui {

AppContext::AppContext(const QString& dataDir, std::shared_ptr<const BackendRegistry> backends, QObject* parent)
    : QObject(parent), dataDir_(dataDir), backends_(std::move(backends))
{
    // Opening (and migrating) the database happens here, on the store thread but before the
    // window exists: a folder that cannot be opened is reported by the start-up error box instead
    // of a half-working window.
    const std::string folder = dataDir.toStdString();
    storeWorker_ = new StoreWorker([folder] { return std::make_unique<Store>(folder); }, this);
    connect(storeWorker_, &StoreWorker::storageFailed, this, [this](const QString& what, const QString& reason) {
        emit storageError(what.isEmpty() ? tr("A storage operation failed: %1").arg(reason)
                                         : tr("Could not save %1: %2").arg(what, reason));
    });
    connect(storeWorker_, &StoreWorker::storageRecovered, this, &AppContext::storageRecovered);
    settings_ = new AppSettings(dataDir, this);
    host_ = new ModelHost(backends_, this);
    // Opened on the engine thread; the store above has already migrated the file.
    host_->setResponseCacheFile(QDir(dataDir).filePath(QString::fromLatin1(Store::kFileName)));
    host_->setConversationStateDir(QDir(dataDir).filePath(QStringLiteral("kv-cache")));

    if (vulkanAvailable(backends_.get())) {
        auto registry = backends_;
        runInBackground<std::vector<GpuDeviceInfo>>(
            this, [registry] { return listGpuDevices(registry.get(), true); },
            [this](std::vector<GpuDeviceInfo> devices) {
                gpuDevices_ = std::move(devices);
                emit gpuDevicesReady();
            });
    } else {
        gpuDevices_.emplace();
    }
}

AppContext::~AppContext()
{
    delete host_; // stop the engine thread before the store goes away
    host_ = nullptr;
    delete storeWorker_; // runs what is queued, flushes streamed text
    storeWorker_ = nullptr;
}

std::vector<GpuDeviceInfo> AppContext::gpuDevices(bool includeSoftware) const
{
    std::vector<GpuDeviceInfo> out;
    if (!gpuDevices_)
        return out;
    for (const GpuDeviceInfo& d : *gpuDevices_)
        if (includeSoftware || !d.software)
            out.push_back(d);
    return out;
}

} // namespace tenfold::ui
