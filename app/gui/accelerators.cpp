#include "accelerators.h"

#if defined(TENFOLD_HAVE_VULKAN)
#include "vulkan_backend.h"
#endif

namespace tenfold::app {

namespace {

#if defined(TENFOLD_HAVE_VULKAN)
class VulkanFactory final : public AcceleratorBackendFactory {
public:
    std::string kind() const override { return "vulkan"; }

    std::vector<AcceleratorDevice> listDevices() const override
    {
        std::vector<AcceleratorDevice> out;
        for (const auto& d : listVulkanDevices()) {
            if (!d.usable)
                continue;
            AcceleratorDevice info;
            info.index = d.index;
            info.name = d.name;
            info.software = d.type == "CPU";
            for (const auto& heap : d.heaps)
                if (heap.deviceLocal && heap.bytes > info.deviceLocalBytes)
                    info.deviceLocalBytes = heap.bytes;
            info.freeBytes = d.deviceLocalFreeBytes; // 0 without VK_EXT_memory_budget
            out.push_back(std::move(info));
        }
        return out;
    }

    std::unique_ptr<Backend> create(int deviceIndex) const override { return createVulkanBackend(deviceIndex); }
};
#endif

} // namespace

void registerAccelerators(BackendRegistry& registry)
{
#if defined(TENFOLD_HAVE_VULKAN)
    registry.add(std::make_shared<VulkanFactory>());
#else
    (void)registry;
#endif
}

std::shared_ptr<BackendRegistry> makeBackendRegistry()
{
    auto registry = std::make_shared<BackendRegistry>();
    registerAccelerators(*registry);
    return registry;
}

} // namespace tenfold::app
