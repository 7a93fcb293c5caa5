#pragma once
// A storage buffer sub-allocated from MemoryAllocator. Device buffers are written through a
// staging copy unless their memory happens to be host-visible (then a plain memcpy).
#include "vk/memory.h"

#include <vulkan/vulkan.h>

#include <cstddef>
#include <cstdint>

namespace tenfold::vk {

class Device;

class Buffer {
public:
    enum class Kind { Device, Host };
    Buffer() = default;
    // Sizes are rounded up to 4 bytes: shaders read buffers as 32-bit words.
    Buffer(Device& device, VkDeviceSize bytes, Kind kind);
    ~Buffer();
    Buffer(Buffer&& o) noexcept;
    Buffer& operator=(Buffer&& o) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    VkBuffer handle() const { return buffer_; }
    VkDeviceSize size() const { return size_; }
    bool valid() const { return buffer_ != VK_NULL_HANDLE; }
    uint8_t* mapped() const { return alloc_.mapped; } // null unless host-visible

    void upload(const void* data, VkDeviceSize bytes, VkDeviceSize offset = 0);
    void download(void* data, VkDeviceSize bytes, VkDeviceSize offset = 0) const;

private:
    void destroy();
    Device* device_ = nullptr;
    VkBuffer buffer_ = VK_NULL_HANDLE;
    VkDeviceSize size_ = 0;
    Allocation alloc_;
};

} // namespace tenfold::vk
