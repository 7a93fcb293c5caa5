#include "session/backend_factory.h"

#include "core/error.h"
#include "runtime/backend.h"
#include "runtime/cpu_backend.h"

#include <algorithm>

#if defined(TENFOLD_HAVE_VULKAN)
#include "vulkan_backend.h"
#endif

namespace tenfold::ui {

bool vulkanCompiledIn()
{
#if defined(TENFOLD_HAVE_VULKAN)
    return true;
#else
    return false;
#endif
}

std::vector<GpuDeviceInfo> listGpuDevices(bool includeSoftware)
{
    std::vector<GpuDeviceInfo> out;
#if defined(TENFOLD_HAVE_VULKAN)
    try {
        for (const auto& d : listVulkanDevices()) {
            const bool software = d.type == "CPU";
            if (!d.usable || (software && !includeSoftware))
                continue;
            GpuDeviceInfo info;
            info.software = software;
            info.index = d.index;
            info.name = QString::fromStdString(d.name);
            for (const auto& heap : d.heaps)
                if (heap.deviceLocal && heap.bytes > info.deviceLocalBytes)
                    info.deviceLocalBytes = heap.bytes;
            info.freeBytes = d.deviceLocalFreeBytes; // 0 without VK_EXT_memory_budget
            out.push_back(info);
        }
    } catch (const std::exception&) {
        out.clear(); // no loader or driver: the app runs on the CPU
    }
#endif
    return out;
}

BackendSelection createBackend(ComputeBackend choice, int threads)
{
    BackendSelection out;
#if defined(TENFOLD_HAVE_VULKAN)
    if (choice != ComputeBackend::Cpu) {
        // Automatic never picks a software driver; an explicit Vulkan choice may, after any GPU.
        auto devices = listGpuDevices(choice == ComputeBackend::Vulkan);
        std::stable_partition(devices.begin(), devices.end(),
                              [](const GpuDeviceInfo& d) { return !d.software; });
        if (!devices.empty()) {
            try {
                out.backend = createVulkanBackend(devices.front().index);
                out.deviceTag = QStringLiteral("vulkan:") + devices.front().name;
                return out;
            } catch (const std::exception&) {
                if (choice == ComputeBackend::Vulkan)
                    throw;
            }
        } else if (choice == ComputeBackend::Vulkan) {
            throw UnsupportedError("Vulkan was selected in Settings, but no Vulkan device was found");
        }
    }
#else
    if (choice == ComputeBackend::Vulkan)
        throw UnsupportedError("Vulkan was selected in Settings, but this build has no Vulkan backend");
#endif
    out.backend = createCpuBackend(threads);
    out.deviceTag = QStringLiteral("cpu");
    return out;
}

} // namespace tenfold::ui
