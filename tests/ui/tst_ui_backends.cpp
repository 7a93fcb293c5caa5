// Backend choice through the engine's BackendRegistry: the UI sees exactly the accelerators app/
// registered, and nothing when none were.
#include "gui_test_support.h"

#include "accelerators.h"
#include "core/app_context.h"
#include "core/main_window.h"
#include "models/models_page.h"
#include "core/error.h"
#include "runtime/backend.h"
#include "runtime/backend_registry.h"
#include "session/backend_factory.h"

#include <QThread>
#include <QtTest>

#include <atomic>

using namespace tenfold;
using namespace tenfold::ui;

namespace {

// The app's own Vulkan factory (when this build has one), with a record of the threads that
// listed devices through it.
class ThreadRecordingFactory final : public AcceleratorBackendFactory {
public:
    explicit ThreadRecordingFactory(const AcceleratorBackendFactory* real) : real_(real) {}
    std::string kind() const override { return "vulkan"; }
    std::vector<AcceleratorDevice> listDevices() const override
    {
        (QThread::currentThread() == qApp->thread() ? onGuiThread : elsewhere)++;
        return real_ ? real_->listDevices() : std::vector<AcceleratorDevice>{};
    }
    std::unique_ptr<Backend> create(int deviceIndex) const override
    {
        if (!real_)
            throw DeviceError("no Vulkan backend in this build");
        return real_->create(deviceIndex);
    }
    mutable std::atomic<int> onGuiThread{0};
    mutable std::atomic<int> elsewhere{0};

private:
    const AcceleratorBackendFactory* real_;
};

} // namespace

class TestUiBackends : public QObject {
    Q_OBJECT
private slots:
    void withoutARegistryEverythingRunsOnTheCpu()
    {
        QVERIFY(!vulkanAvailable(nullptr));
        QVERIFY(listGpuDevices(nullptr, true).empty());
        BackendSelection auto_ = createBackend(nullptr, ComputeBackend::Auto, 1);
        QCOMPARE(auto_.deviceTag, QStringLiteral("cpu"));
        QVERIFY(auto_.backend);
        QVERIFY_THROWS_EXCEPTION(UnsupportedError, createBackend(nullptr, ComputeBackend::Vulkan, 1));
        // An empty registry is the same as none.
        BackendRegistry empty;
        QVERIFY(!vulkanAvailable(&empty));
        QVERIFY_THROWS_EXCEPTION(UnsupportedError, createBackend(&empty, ComputeBackend::Vulkan, 1));
    }

    void theAppRegistersWhatItWasBuiltWith()
    {
        const auto registry = app::makeBackendRegistry();
#if defined(TENFOLD_TEST_HAVE_VULKAN)
        QVERIFY(vulkanAvailable(registry.get()));
        QCOMPARE(registry->factories().size(), size_t(1));
        // Registering again replaces, never duplicates.
        app::registerAccelerators(*registry);
        QCOMPARE(registry->factories().size(), size_t(1));
        QCOMPARE(registry->find("vulkan")->kind(), std::string("vulkan"));
#else
        QVERIFY(!vulkanAvailable(registry.get()));
#endif
        QVERIFY(registry->find("cuda") == nullptr);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, registry->add(nullptr));
        // The CPU choice never touches an accelerator.
        QCOMPARE(createBackend(registry.get(), ComputeBackend::Cpu, 1).deviceTag, QStringLiteral("cpu"));
        // An explicit Vulkan choice runs on any listed device (Mesa's lavapipe included), and
        // fails loudly when there is none.
        const auto devices = listGpuDevices(registry.get(), true);
        if (!devices.empty())
            QVERIFY(createBackend(registry.get(), ComputeBackend::Vulkan, 1).deviceTag.startsWith(QStringLiteral("vulkan:")));
        else
            QVERIFY_THROWS_EXCEPTION(UnsupportedError, createBackend(registry.get(), ComputeBackend::Vulkan, 1));
    }

    void devicesAreListedOffTheGuiThread()
    {
        // Listing creates a Vulkan instance (hundreds of milliseconds with some drivers): the app
        // does it once, on a background thread, and every page reads the cached answer.
        const auto real = app::makeBackendRegistry();
        auto recorder = std::make_shared<ThreadRecordingFactory>(real->find("vulkan"));
        auto registry = std::make_shared<BackendRegistry>();
        registry->add(recorder);
        QTemporaryDir dir;
        ui::LaunchOptions options;
        options.dataDir = dir.path();
        options.backends = registry;
        ui::Application app(*qApp, options);
        app.window().show();
        for (const char* page : {"settings", "models", "chat"})
            app.window().showPage(QString::fromLatin1(page));
        QVERIFY(test::waitUntil([&] { return app.context().gpuDevicesKnown(); }, 30000));
        QVERIFY(test::waitUntil([&] { return recorder->elsewhere.load() >= 1; }, 5000));
        for (const char* page : {"settings", "models", "chat"})
            app.window().showPage(QString::fromLatin1(page));
        QCOMPARE(recorder->onGuiThread.load(), 0);
        QCOMPARE(recorder->elsewhere.load(), 1); // once per run
    }
};

QTEST_MAIN(TestUiBackends)
#include "tst_ui_backends.moc"
