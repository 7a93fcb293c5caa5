#include "session/backend_factory.h"

#include "core/error.h"
#include "runtime/backend.h"
#include "runtime/cpu_backend.h"

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

std::vector<GpuDeviceInfo> listGpuDevices()
{
    std::vector<GpuDeviceInfo> out;
#if defined(TENFOLD_HAVE_VULKAN)
    try {
        for (const auto& d : listVulkanDevices()) {
            // A software rasterizer (llvmpipe) is slower than the CPU backend: never offer it.
            if (!d.usable || d.type == "CPU")
                continue;
            GpuDeviceInfo info;
            info.index = d.index;
            info.name = QString::fromStdString(d.name);
            for (const auto& heap : d.heaps)
                if (heap.deviceLocal && heap.bytes > info.deviceLocalBytes)
                    info.deviceLocalBytes = heap.bytes;
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
        const auto devices = listGpuDevices();
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
