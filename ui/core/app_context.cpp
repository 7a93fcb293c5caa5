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
        return true;
    } catch (const std::exception& e) {
        emit storageError(tr("Could not save %1: %2").arg(what, QString::fromStdString(e.what())));
        return false;
    }
}

} // namespace tenfold::ui
