#pragma once
// Chooses and creates the compute backend for a load: Vulkan when asked (or, on Auto, when this
// build has it and a device is present), otherwise the CPU.
#include "session/engine_types.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <memory>
#include <vector>

namespace tenfold {
class Backend;
}

namespace tenfold::ui {

struct BackendSelection {
    std::unique_ptr<Backend> backend;
    QString deviceTag; // "cpu" or "vulkan:<device name>"
};

// Throws UnsupportedError when Vulkan is demanded but unavailable, DeviceError when it fails.
BackendSelection createBackend(ComputeBackend choice, int threads);

struct GpuDeviceInfo {
    int index = -1;       // for createVulkanBackend
    QString name;
    uint64_t deviceLocalBytes = 0;  // largest device-local heap
    uint64_t freeBytes = 0;         // 0 when the driver does not report a budget
    bool software = false;          // a CPU implementation of Vulkan (lavapipe/llvmpipe)
};

bool vulkanCompiledIn();
// Empty without Vulkan support or devices; never throws. Software drivers (lavapipe) run slower
// than the CPU backend, so they are listed only on request: when the user picks Vulkan
// explicitly, or to explain why Automatic chose the CPU.
std::vector<GpuDeviceInfo> listGpuDevices(bool includeSoftware = false);

} // namespace tenfold::ui
