#pragma once
// Everything the pages share, in one place and owned by one object (no global singletons): the
// data directory, preferences, the SQLite store and the engine host. Pages get a reference.
#include "session/backend_factory.h"

#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace tenfold {
class Store;
}

namespace tenfold::ui {

class AppSettings;
class ModelHost;

class AppContext : public QObject {
    Q_OBJECT
public:
    // Throws tenfold::IoError when the data directory or database cannot be created or opened.
    explicit AppContext(const QString& dataDir, QObject* parent = nullptr);
    ~AppContext() override;

    const QString& dataDir() const { return dataDir_; }
    AppSettings& settings() { return *settings_; }
    Store& store() { return *store_; }
    ModelHost& host() { return *host_; }

    // Runs a store operation; on failure (disk full, unwritable folder) reports it through
    // storageError and returns false, so callers keep their in-memory state instead of losing it.
    bool tryStore(const std::function<void()>& operation, const QString& what);

    // The Vulkan devices, listed once per run: listing creates a Vulkan instance, far too slow
    // (and driver-dependent) to repeat on every memory estimate. Same filter as listGpuDevices().
    std::vector<GpuDeviceInfo> gpuDevices(bool includeSoftware = false);

    // Asks the chat page to open a new conversation with this model (used by --model).
    void requestNewChatWithModel(const QString& path) { emit newChatWithModelRequested(path); }

signals:
    void storageError(const QString& message);
    // A store operation succeeded after one had failed (the error banner can go).
    void storageRecovered();
    void modelLibraryChanged();
    void newChatWithModelRequested(const QString& path);
    void navigateRequested(const QString& pageId);

private:
    QString dataDir_;
    AppSettings* settings_ = nullptr;
    std::unique_ptr<Store> store_;
    ModelHost* host_ = nullptr;
    std::optional<std::vector<GpuDeviceInfo>> gpuDevices_;
    bool storageFailed_ = false;
};

} // namespace tenfold::ui
