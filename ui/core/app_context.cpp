#include "core/app_context.h"

#include "core/app_settings.h"
#include "session/model_host.h"
#include "store/store.h"

namespace tenfold::ui {

AppContext::AppContext(const QString& dataDir, QObject* parent)
    : QObject(parent), dataDir_(dataDir)
{
    store_ = std::make_unique<Store>(dataDir.toStdString());
    settings_ = new AppSettings(dataDir, this);
    host_ = new ModelHost(this);
}

AppContext::~AppContext()
{
    delete host_; // stop the engine thread before the store goes away
    host_ = nullptr;
    if (store_) {
        try {
            store_->flush();
        } catch (const std::exception&) {
        }
    }
}

bool AppContext::tryStore(const std::function<void()>& operation, const QString& what)
{
    try {
        operation();
        if (storageFailed_) {
            storageFailed_ = false;
            emit storageRecovered();
        }
        return true;
    } catch (const std::exception& e) {
        storageFailed_ = true;
        const QString reason = QString::fromStdString(e.what());
        emit storageError(what.isEmpty() ? tr("A storage operation failed: %1").arg(reason)
                                         : tr("Could not save %1: %2").arg(what, reason));
        return false;
    }
}

std::vector<GpuDeviceInfo> AppContext::gpuDevices(bool includeSoftware)
{
    if (!gpuDevices_)
        gpuDevices_ = listGpuDevices(true);
    std::vector<GpuDeviceInfo> out;
    for (const GpuDeviceInfo& d : *gpuDevices_)
        if (includeSoftware || !d.software)
            out.push_back(d);
    return out;
}

} // namespace tenfold::ui
