#pragma once
// Device memory: a few large VkDeviceMemory blocks per memory type, carved into buffers
// (drivers limit the number of allocations and each one is slow). Checks the heap budget
// (VK_EXT_memory_budget when present) before asking the driver, so running out is a clear
// DeviceError rather than a driver failure later.
#include <vulkan/vulkan.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace tenfold::vk {

class Device;

// How the allocator maps host-visible memory. The driver's vkMapMemory by default; a test
// installs its own (MemoryAllocator::setMapper) to make maps fail and check the failure path.
class MemoryMapper {
public:
    virtual ~MemoryMapper() = default;
    virtual VkResult map(VkDevice device, VkDeviceMemory memory, void** host) = 0;
};

struct Allocation {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkDeviceSize offset = 0;
    VkDeviceSize size = 0;
    uint8_t* mapped = nullptr; // host pointer to this allocation when its memory type is host-visible
    int block = -1;
};

class MemoryAllocator {
public:
    explicit MemoryAllocator(Device& device);
    ~MemoryAllocator();

    // hostAccess: the CPU must map it (staging, uniforms, read-back). Otherwise device-local is
    // preferred, and the result may still be mapped (unified memory, CPU drivers, resizable BAR).
    Allocation allocate(const VkMemoryRequirements& req, bool hostAccess);
    void release(const Allocation& a);

    uint64_t bytesReserved() const; // VkDeviceMemory obtained from the driver
    uint64_t bytesReservedOnHeap(uint32_t heap) const;
    uint64_t bytesUsed() const;     // handed out to buffers
    // Live VkDeviceMemory objects obtained from the driver (drivers cap the count at
    // maxMemoryAllocationCount, which is why buffers share blocks).
    uint64_t deviceMemoryObjects() const;

    // Maps new host-visible blocks through `mapper` from now on; nullptr restores vkMapMemory.
    void setMapper(std::shared_ptr<MemoryMapper> mapper);

private:
    struct Block {
        VkDeviceMemory memory = VK_NULL_HANDLE;
        VkDeviceSize size = 0;
        uint32_t type = 0;
        uint8_t* mapped = nullptr;
        bool dedicated = false;
        std::map<VkDeviceSize, VkDeviceSize> freeRanges; // offset -> size
    };
    uint32_t pickType(uint32_t allowedBits, bool hostAccess) const;
    void checkBudget(uint32_t heap, VkDeviceSize bytes) const;
    int newBlock(uint32_t type, VkDeviceSize bytes, bool dedicated);
    bool carve(Block& b, VkDeviceSize size, VkDeviceSize align, VkDeviceSize* offset);

    Device& device_;
    std::vector<std::unique_ptr<Block>> blocks_;
    std::vector<uint64_t> heapReserved_;
    VkDeviceSize blockSize_ = 0;
    uint64_t used_ = 0;
    uint64_t memoryObjects_ = 0;
    std::shared_ptr<MemoryMapper> mapper_; // null: vkMapMemory
    mutable std::mutex mutex_;
};

} // namespace tenfold::vk
