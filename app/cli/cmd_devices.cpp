// devices: the Vulkan devices this machine offers, with memory heaps and the features the
// backend looks for. Built only with the Vulkan backend.
#include "cli_common.h"
#include "commands.h"

#if TENFOLD_HAVE_VULKAN
#include "gpu/vulkan_backend.h"

#include <cstdio>

namespace tenfold::cli {

CommandSpec devicesSpec()
{
    return {"devices", "",
            "Lists every Vulkan device the loader reports: index (for --device-index), name, type,\n"
            "API version, memory heaps and compute features. Set VK_ICD_FILENAMES to choose a\n"
            "driver (e.g. lavapipe on a machine without a GPU).",
            {},
            {},
            {}};
}

int runDevices(const ParsedArgs&)
{
    const std::vector<VulkanDeviceInfo> devices = listVulkanDevices();
    if (devices.empty()) {
        std::printf("no Vulkan devices (no loader or no driver installed)\n");
        return 1;
    }
    for (const VulkanDeviceInfo& d : devices) {
        std::printf("[%d] %s (%s, Vulkan %s)%s\n", d.index, d.name.c_str(), d.type.c_str(),
                    d.apiVersion.c_str(),
                    d.usable ? "" : ("  unusable: " + d.unusableReason).c_str());
        for (size_t h = 0; h < d.heaps.size(); ++h)
            std::printf("    heap %zu: %s%s\n", h, formatBytes(d.heaps[h].bytes).c_str(),
                        d.heaps[h].deviceLocal ? " (device-local)" : "");
        std::printf("    subgroup size %u%s%s%s%s%s%s\n", d.subgroupSize,
                    d.subgroupArithmetic ? ", subgroup arithmetic" : "", d.fp16 ? ", fp16" : "",
                    d.int8 ? ", int8" : "", d.cooperativeMatrix ? ", cooperative matrix" : "",
                    d.memoryBudget ? ", memory budget" : "", d.timestamps ? ", timestamps" : "");
    }
    return 0;
}

} // namespace tenfold::cli
#endif
