#include "session/backend_factory.h"

#include "core/error.h"
#include "runtime/backend.h"
#include "runtime/backend_registry.h"
#include "runtime/cpu_backend.h"

#include <algorithm>

namespace tenfold::ui {

namespace {
constexpr const char* kVulkan = "vulkan";
}

bool vulkanAvailable(const BackendRegistry* registry)
{
    return registry && registry->has(kVulkan);
}

std::vector<GpuDeviceInfo> listGpuDevices(const BackendRegistry* registry, bool includeSoftware)
{
    std::vector<GpuDeviceInfo> out;
    const AcceleratorBackendFactory* vulkan = registry ? registry->find(kVulkan) : nullptr;
    if (!vulkan)
        return out;
    try {
        for (const AcceleratorDevice& d : vulkan->listDevices()) {
            if (d.software && !includeSoftware)
                continue;
            GpuDeviceInfo info;
            info.index = d.index;
            info.name = QString::fromStdString(d.name);
            info.deviceLocalBytes = d.deviceLocalBytes;
            info.freeBytes = d.freeBytes;
            info.software = d.software;
            out.push_back(info);
        }
    } catch (const std::exception&) {
        out.clear(); // no loader or driver: the app runs on the CPU
    }
    return out;
}

BackendSelection createBackend(const BackendRegistry* registry, ComputeBackend choice, int threads)
{
    BackendSelection out;
    const AcceleratorBackendFactory* vulkan = registry ? registry->find(kVulkan) : nullptr;
    if (vulkan && choice != ComputeBackend::Cpu) {
        // Automatic never picks a software driver; an explicit Vulkan choice may, after any GPU.
        auto devices = listGpuDevices(registry, choice == ComputeBackend::Vulkan);
        std::stable_partition(devices.begin(), devices.end(),
                              [](const GpuDeviceInfo& d) { return !d.software; });
        if (!devices.empty()) {
            try {
                out.backend = vulkan->create(devices.front().index);
                out.deviceTag = QStringLiteral("vulkan:") + devices.front().name;
                return out;
            } catch (const std::exception&) {
                if (choice == ComputeBackend::Vulkan)
                    throw;
            }
        } else if (choice == ComputeBackend::Vulkan) {
            throw UnsupportedError("Vulkan was selected in Settings, but no Vulkan device was found");
        }
    } else if (choice == ComputeBackend::Vulkan) {
        throw UnsupportedError("Vulkan was selected in Settings, but this build has no Vulkan backend");
    }
    out.backend = createCpuBackend(threads);
    out.deviceTag = QStringLiteral("cpu");
    return out;
}

} // namespace tenfold::ui
