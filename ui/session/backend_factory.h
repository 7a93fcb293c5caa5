#pragma once
// Chooses and creates the compute backend for a load: Vulkan when asked (or, on Auto, when the
// app registered a Vulkan backend and a device is present), otherwise the CPU. Accelerators come
// from the engine's BackendRegistry, which app/ fills: the UI never links a GPU library itself.
#include "session/engine_types.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <memory>
#include <vector>

namespace tenfold {
class Backend;
class BackendRegistry;
}

namespace tenfold::ui {

struct BackendSelection {
    std::unique_ptr<Backend> backend;
    QString deviceTag; // "cpu" or "vulkan:<device name>"
};

// Throws UnsupportedError when Vulkan is demanded but unavailable, DeviceError when it fails.
// A null registry means "CPU only".
BackendSelection createBackend(const BackendRegistry* registry, ComputeBackend choice, int threads);

struct GpuDeviceInfo {
    int index = -1;       // the backend's device index
    QString name;
    uint64_t deviceLocalBytes = 0;  // largest device-local heap
    uint64_t freeBytes = 0;         // 0 when the driver does not report a budget
    bool software = false;          // a CPU implementation of Vulkan (lavapipe/llvmpipe)
};

// True when the registry holds a Vulkan backend (the app was built and started with one).
bool vulkanAvailable(const BackendRegistry* registry);
// Empty without a Vulkan backend or devices; never throws. Software drivers (lavapipe) run slower
// than the CPU backend, so they are listed only on request: when the user picks Vulkan
// explicitly, or to explain why Automatic chose the CPU. Slow (creates a Vulkan instance): call
// it off the GUI thread.
std::vector<GpuDeviceInfo> listGpuDevices(const BackendRegistry* registry, bool includeSoftware = false);

} // namespace tenfold::ui

Q_DECLARE_METATYPE(std::vector<tenfold::ui::GpuDeviceInfo>)
