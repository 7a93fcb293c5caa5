#include "vulkan_backend.h"

#include "core/error.h"
#include "model/model.h"
#include "vk/device.h"
#include "vk/memory.h"
#include "vulkan_batched_context.h"
#include "vulkan_context.h"

#include <map>
#include <mutex>

namespace tenfold {
namespace {

class VulkanBackend : public Backend {
public:
    explicit VulkanBackend(int deviceIndex) : device_(std::make_shared<vk::Device>(deviceIndex)) {}

    std::string name() const override
    {
        return "Vulkan: " + device_->info().name + " (" + device_->info().type + ")";
    }

    std::unique_ptr<InferenceContext> createContext(std::shared_ptr<const Model> model,
                                                    const ContextParams& params) override
    {
        if (!model)
            throw InvalidArgument("createContext: no model");
        auto weights = residentWeights(model);
        return std::make_unique<VulkanInferenceContext>(device_, std::move(model), std::move(weights), params);
    }

    std::unique_ptr<BatchedContext> createBatchedContext(std::shared_ptr<const Model> model,
                                                         const BatchedParams& params) override
    {
        if (!model)
            throw InvalidArgument("createBatchedContext: no model");
        auto weights = residentWeights(model);
        return std::make_unique<VulkanBatchedContext>(device_, std::move(model), std::move(weights), params);
    }

    uint64_t memoryInUse() const override { return device_->allocator().bytesReserved(); }

    std::vector<DeviceHeapUse> memoryHeaps() const override
    {
        const VkPhysicalDeviceMemoryProperties& mp = device_->memoryProperties();
        VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
        if (device_->hasMemoryBudget()) {
            VkPhysicalDeviceMemoryProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
            p2.pNext = &budget;
            vkGetPhysicalDeviceMemoryProperties2(device_->physical(), &p2);
        }
        std::vector<DeviceHeapUse> heaps(mp.memoryHeapCount);
        for (uint32_t h = 0; h < mp.memoryHeapCount; ++h) {
            DeviceHeapUse& u = heaps[h];
            u.sizeBytes = mp.memoryHeaps[h].size;
            u.deviceLocal = (mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
            u.driverReported = device_->hasMemoryBudget();
            u.budgetBytes = u.driverReported ? budget.heapBudget[h] : u.sizeBytes;
            u.usedBytes = u.driverReported ? budget.heapUsage[h] : device_->allocator().bytesReservedOnHeap(h);
        }
        return heaps;
    }

private:
    // The model's weights on the device, uploaded on first use and shared by its contexts.
    std::shared_ptr<vk::GpuModel> residentWeights(const std::shared_ptr<const Model>& model)
    {
        std::lock_guard lock(mutex_);
        // Drop weights of models that no longer exist (their address may be reused).
        for (auto it = resident_.begin(); it != resident_.end();)
            it = it->second.model.expired() ? resident_.erase(it) : std::next(it);
        auto it = resident_.find(model.get());
        if (it != resident_.end())
            return it->second.weights;
        auto weights = std::make_shared<vk::GpuModel>(*device_, *model);
        resident_[model.get()] = {model, weights};
        return weights;
    }

    struct Resident {
        std::weak_ptr<const Model> model;
        std::shared_ptr<vk::GpuModel> weights;
    };
    std::shared_ptr<vk::Device> device_;
    std::map<const Model*, Resident> resident_;
    std::mutex mutex_;
};

} // namespace

std::vector<VulkanDeviceInfo> listVulkanDevices()
{
    std::vector<VulkanDeviceInfo> out;
    try {
        auto instance = vk::Instance::create();
        auto pds = instance->physicalDevices();
        for (size_t i = 0; i < pds.size(); ++i)
            out.push_back(instance->describe(pds[i], int(i)));
    } catch (const DeviceError&) {
        // No loader or driver: there are simply no devices to list.
    }
    return out;
}

std::unique_ptr<Backend> createVulkanBackend(int deviceIndex)
{
    return std::make_unique<VulkanBackend>(deviceIndex);
}

} // namespace tenfold
