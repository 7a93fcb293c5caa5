#pragma once
// Everything the pages share, in one place and owned by one object (no global singletons): the
// data directory, preferences, the store (on its own thread), the engine host and the
// accelerator backends the app registered. Pages get a reference.
#include "core/store_worker.h"
#include "session/backend_factory.h"
#include "session/engine_types.h"

#include <QObject>
#include <QString>

#include <memory>
#include <optional>
#include <vector>

namespace tenfold {
class BackendRegistry;
class Store;
}

namespace tenfold::ui {

class AppSettings;
class ModelHost;

class AppContext : public QObject {
    Q_OBJECT
public:
    // Throws tenfold::IoError when the data directory or database cannot be created or opened.
    // `backends` holds the accelerators app/ registered; null means CPU only.
    explicit AppContext(const QString& dataDir, std::shared_ptr<const BackendRegistry> backends = nullptr,
                        QObject* parent = nullptr);
    ~AppContext() override;

    const QString& dataDir() const { return dataDir_; }
    AppSettings& settings() { return *settings_; }
    // Every store call of the app goes through here (see StoreWorker).
    StoreWorker& storeWorker() { return *storeWorker_; }
    ModelHost& host() { return *host_; }
    const std::shared_ptr<const BackendRegistry>& backends() const { return backends_; }

    // The Vulkan devices, listed once per run on a background thread: listing creates a Vulkan
    // instance, far too slow (and driver-dependent) for the GUI thread or for every memory
    // estimate. Empty until gpuDevicesReady(); same filter as listGpuDevices().
    std::vector<GpuDeviceInfo> gpuDevices(bool includeSoftware = false) const;
    bool gpuDevicesKnown() const { return gpuDevices_.has_value(); }

    // Asks the chat page to open a new conversation with this model (used by --model).
    void requestNewChatWithModel(const QString& path) { emit newChatWithModelRequested(path); }

signals:
    void storageError(const QString& message);
    // A store operation succeeded after one had failed (the error banner can go).
    void storageRecovered();
    void gpuDevicesReady();
    void modelLibraryChanged();
    void newChatWithModelRequested(const QString& path);
    void navigateRequested(const QString& pageId);
    // A tenfold-server the Server page runs with --profile: each poll's sample, for the Profiler.
    void serverProfileSampled(const tenfold::ui::ProfileSample& sample);

private:
    QString dataDir_;
    std::shared_ptr<const BackendRegistry> backends_;
    AppSettings* settings_ = nullptr;
    StoreWorker* storeWorker_ = nullptr;
    ModelHost* host_ = nullptr;
    std::optional<std::vector<GpuDeviceInfo>> gpuDevices_;
};

} // namespace tenfold::ui
