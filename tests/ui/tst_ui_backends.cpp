// Backend choice through the engine's BackendRegistry: the UI sees exactly the accelerators app/
// registered, and nothing when none were.
#include "accelerators.h"
#include "core/error.h"
#include "runtime/backend.h"
#include "runtime/backend_registry.h"
#include "session/backend_factory.h"

#include <QtTest>

using namespace tenfold;
using namespace tenfold::ui;

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
};

QTEST_MAIN(TestUiBackends)
#include "tst_ui_backends.moc"
