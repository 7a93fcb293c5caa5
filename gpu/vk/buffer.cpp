#include "vk/buffer.h"

#include "core/error.h"
#include "vk/device.h"
#include "vk/vk_check.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace tenfold::vk {

Buffer::Buffer(Device& device, VkDeviceSize bytes, Kind kind) : device_(&device)
{
    size_ = (std::max<VkDeviceSize>(bytes, 4) + 3) & ~VkDeviceSize(3);
    VkBufferCreateInfo ci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    ci.size = size_;
    ci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    ci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    check(vkCreateBuffer(device.handle(), &ci, nullptr, &buffer_), "vkCreateBuffer");
    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(device.handle(), buffer_, &req);
    try {
        alloc_ = device.allocator().allocate(req, kind == Kind::Host);
        check(vkBindBufferMemory(device.handle(), buffer_, alloc_.memory, alloc_.offset), "vkBindBufferMemory");
    } catch (...) {
        destroy();
        throw;
    }
}

Buffer::~Buffer() { destroy(); }

Buffer::Buffer(Buffer&& o) noexcept { *this = std::move(o); }

Buffer& Buffer::operator=(Buffer&& o) noexcept
{
    if (this != &o) {
        destroy();
        device_ = std::exchange(o.device_, nullptr);
        buffer_ = std::exchange(o.buffer_, VK_NULL_HANDLE);
        size_ = std::exchange(o.size_, 0);
        alloc_ = std::exchange(o.alloc_, Allocation{});
    }
    return *this;
}

void Buffer::destroy()
{
    if (!device_)
        return;
    if (buffer_)
        vkDestroyBuffer(device_->handle(), buffer_, nullptr);
    device_->allocator().release(alloc_);
    buffer_ = VK_NULL_HANDLE;
    alloc_ = Allocation{};
    device_ = nullptr;
}

void Buffer::upload(const void* data, VkDeviceSize bytes, VkDeviceSize offset)
{
    if (offset + bytes > size_)
        throw InvalidArgument("Vulkan: upload of " + std::to_string(bytes) + " bytes at " + std::to_string(offset) +
                              " overruns a " + std::to_string(size_) + "-byte buffer");
    if (alloc_.mapped) {
        std::memcpy(alloc_.mapped + offset, data, bytes);
        return;
    }
    // Staging in chunks keeps host-visible memory small even for multi-GiB weights.
    const VkDeviceSize chunk = std::min<VkDeviceSize>(bytes, 64ull << 20);
    Buffer staging(*device_, chunk, Kind::Host);
    const auto* src = static_cast<const uint8_t*>(data);
    for (VkDeviceSize done = 0; done < bytes; done += chunk) {
        VkDeviceSize n = std::min(chunk, bytes - done);
        std::memcpy(staging.mapped(), src + done, n);
        VkBufferCopy region{0, offset + done, (n + 3) & ~VkDeviceSize(3)};
        region.size = std::min(region.size, staging.size());
        region.size = std::min(region.size, size_ - region.dstOffset);
        device_->runOnce([&](VkCommandBuffer cb) { vkCmdCopyBuffer(cb, staging.handle(), buffer_, 1, &region); });
    }
}

void Buffer::download(void* data, VkDeviceSize bytes, VkDeviceSize offset) const
{
    if (offset + bytes > size_)
        throw InvalidArgument("Vulkan: download overruns the buffer");
    if (alloc_.mapped) {
        std::memcpy(data, alloc_.mapped + offset, bytes);
        return;
    }
    Buffer staging(*device_, bytes, Kind::Host);
    VkBufferCopy region{offset, 0, bytes};
    device_->runOnce([&](VkCommandBuffer cb) { vkCmdCopyBuffer(cb, buffer_, staging.handle(), 1, &region); });
    std::memcpy(data, staging.mapped(), bytes);
}

} // namespace tenfold::vk
