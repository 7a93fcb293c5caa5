#pragma once
// A Vulkan instance + one logical device with a compute queue: the bottom of the small
// Kompute-style layer (device -> memory/buffers -> pipelines -> recorded sequences).
#include "vulkan_backend.h"

#include <vulkan/vulkan.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tenfold::vk {

class MemoryAllocator;
class PipelineCache;

// Owns VkInstance; shared by every Device made from it.
class Instance {
public:
    // Throws DeviceError when no Vulkan loader/driver is present.
    static std::shared_ptr<Instance> create();
    ~Instance();
    VkInstance handle() const { return instance_; }
    std::vector<VkPhysicalDevice> physicalDevices() const;
    VulkanDeviceInfo describe(VkPhysicalDevice pd, int index) const;

private:
    Instance() = default;
    VkInstance instance_ = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
};

class Device {
public:
    // index -1: TENFOLD_VK_DEVICE or the best-ranked usable device.
    explicit Device(int index);
    ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    VkDevice handle() const { return device_; }
    VkPhysicalDevice physical() const { return physical_; }
    VkQueue queue() const { return queue_; }
    uint32_t queueFamily() const { return queueFamily_; }
    const VulkanDeviceInfo& info() const { return info_; }
    const VkPhysicalDeviceProperties& properties() const { return props_; }
    const VkPhysicalDeviceMemoryProperties& memoryProperties() const { return memProps_; }
    bool hasMemoryBudget() const { return info_.memoryBudget; }
    double timestampPeriodNs() const { return props_.limits.timestampPeriod; }
    uint64_t maxStorageBufferRange() const { return props_.limits.maxStorageBufferRange; }

    MemoryAllocator& allocator() { return *allocator_; }
    PipelineCache& pipelines() { return *pipelines_; }

    // One-shot command buffer for uploads: record(cb) then submit and wait.
    template <class F> void runOnce(F&& record)
    {
        VkCommandBuffer cb = beginOneShot();
        record(cb);
        endOneShotAndWait(cb);
    }
    // Submits cb and waits on a fence; throws DeviceError on device loss or after the timeout
    // (TENFOLD_VK_TIMEOUT_S, default 120 s) instead of hanging.
    void submitAndWait(VkCommandBuffer cb);
    VkCommandPool commandPool() const { return pool_; }
    // True after a fence timeout or VK_ERROR_DEVICE_LOST: every later submit throws at once and
    // the destructor does not wait for the GPU.
    bool isLost() const { return lost_; }
    // The last submission timed out and may still be executing: its command buffer and the
    // resources it uses must not be freed (they are left to device teardown).
    bool submissionPending() const { return inFlight_; }

private:
    VkCommandBuffer beginOneShot();
    void endOneShotAndWait(VkCommandBuffer cb);

    std::shared_ptr<Instance> instance_;
    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    uint32_t queueFamily_ = 0;
    VkCommandPool pool_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    VkPhysicalDeviceProperties props_{};
    VkPhysicalDeviceMemoryProperties memProps_{};
    VulkanDeviceInfo info_;
    std::chrono::nanoseconds timeout_{};
    std::mutex submitMutex_;
    bool lost_ = false; // after a timeout or device loss every later submit fails fast
    bool inFlight_ = false; // a submission was made and its fence not yet seen signalled
    std::unique_ptr<MemoryAllocator> allocator_;
    std::unique_ptr<PipelineCache> pipelines_;
};

} // namespace tenfold::vk
