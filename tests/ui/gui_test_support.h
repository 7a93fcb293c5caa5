#pragma once
// Helpers for the GUI suites: a fresh data directory per test, launching the real application
// objects over it, and waiting for asynchronous results without fixed sleeps.
#include "accelerators.h"
#include "common/shared_data.h"
#include "core/app_settings.h"
#include "core/app_context.h"
#include "core/application.h"
#include "store/store.h"

#include <QApplication>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <functional>
#include <memory>

namespace tenfold::test {

inline QString stories260K() { return QString::fromStdString(sharedFile("models/stories260K.gguf").string()); }
inline QString refMain() { return QString::fromStdString(sharedFile("models/tenfold-ref-main-f16.gguf").string()); }

// Writes preferences before the app starts (the app reads them once at start-up).
inline void presetSettings(const QString& dataDir, const std::function<void(ui::AppSettings&)>& edit)
{
    ui::AppSettings settings(dataDir);
    edit(settings);
    settings.sync();
}

inline std::unique_ptr<ui::Application> launch(const QString& dataDir, const QString& model = QString())
{
    ui::LaunchOptions options;
    options.dataDir = dataDir;
    options.modelPath = model;
    // The same accelerators the desktop app registers (Vulkan when this build has it).
    options.backends = app::makeBackendRegistry();
    auto app = std::make_unique<ui::Application>(*qApp, options);
    return app;
}

// Waits until every store job queued so far has run, so the test can read the store directly.
inline Store& storeAfterPendingWrites(ui::Application& app)
{
    app.context().storeWorker().drain();
    return app.context().storeWorker().storeForInspection();
}

// Processes events until `done` holds or the timeout passes.
inline bool waitUntil(const std::function<bool()>& done, int timeoutMs = 30000)
{
    return QTest::qWaitFor(done, timeoutMs);
}

} // namespace tenfold::test
