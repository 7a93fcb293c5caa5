#include "vk/memory.h"

#include "core/error.h"
#include "vk/device.h"
#include "vk/vk_check.h"

#include <algorithm>
#include <utility>

namespace tenfold::vk {
namespace {

constexpr VkDeviceSize kDefaultBlock = 256ull << 20;

// Frees a fresh VkDeviceMemory unless ownership was handed on, so a failure between
// vkAllocateMemory and storing the block (mapping, bookkeeping) does not leak device memory.
struct MemoryGuard {
    VkDevice device;
    VkDeviceMemory memory;
    uint64_t& liveObjects;
    ~MemoryGuard()
    {
        if (memory != VK_NULL_HANDLE) {
            vkFreeMemory(device, memory, nullptr);
            --liveObjects;
        }
    }
    VkDeviceMemory release() { return std::exchange(memory, VK_NULL_HANDLE); }
};

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1u << 19)) >> 20) + " MiB"; }

VkDeviceSize alignUp(VkDeviceSize v, VkDeviceSize a) { return (v + a - 1) / a * a; }

} // namespace

MemoryAllocator::MemoryAllocator(Device& device) : device_(device)
{
    const auto& mp = device_.memoryProperties();
    heapReserved_.assign(mp.memoryHeapCount, 0);
    // Small heaps (integrated GPUs, CPU drivers) get smaller blocks so one block never
    // takes a large share of the heap.
    VkDeviceSize smallestHeap = ~VkDeviceSize(0);
    for (uint32_t i = 0; i < mp.memoryHeapCount; ++i)
        smallestHeap = std::min(smallestHeap, mp.memoryHeaps[i].size);
    blockSize_ = std::min(kDefaultBlock, std::max<VkDeviceSize>(smallestHeap / 16, 16ull << 20));
}

MemoryAllocator::~MemoryAllocator()
{
    for (auto& b : blocks_)
        if (b && b->memory) {
            if (b->mapped)
                vkUnmapMemory(device_.handle(), b->memory);
            vkFreeMemory(device_.handle(), b->memory, nullptr);
        }
}

uint32_t MemoryAllocator::pickType(uint32_t allowedBits, bool hostAccess) const
{
    const auto& mp = device_.memoryProperties();
    int best = -1, bestScore = -1;
    for (uint32_t i = 0; i < mp.memoryTypeCount; ++i) {
        if (!(allowedBits & (1u << i)))
            continue;
        VkMemoryPropertyFlags f = mp.memoryTypes[i].propertyFlags;
        const bool visible = (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
        int score;
        if (hostAccess) {
            if (!visible)
                continue;
            score = 1 + ((f & VK_MEMORY_PROPERTY_HOST_CACHED_BIT) ? 2 : 0);
        } else {
            score = (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) ? 4 : 1;
        }
        if (score > bestScore) {
            bestScore = score;
            best = int(i);
        }
    }
    if (best < 0)
        throw DeviceError(std::string("Vulkan: no suitable memory type for a ") +
                          (hostAccess ? "host-visible" : "device") + " buffer");
    return uint32_t(best);
}

uint64_t MemoryAllocator::bytesReservedOnHeap(uint32_t heap) const
{
    return heap < heapReserved_.size() ? heapReserved_[heap] : 0;
}

void MemoryAllocator::checkBudget(uint32_t heap, VkDeviceSize bytes) const
{
    const auto& mp = device_.memoryProperties();
    uint64_t budget = mp.memoryHeaps[heap].size;
    uint64_t usage = heapReserved_[heap];
    if (device_.hasMemoryBudget()) {
        VkPhysicalDeviceMemoryBudgetPropertiesEXT bp{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
        VkPhysicalDeviceMemoryProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
        p2.pNext = &bp;
        vkGetPhysicalDeviceMemoryProperties2(device_.physical(), &p2);
        budget = bp.heapBudget[heap];
        usage = bp.heapUsage[heap];
    }
    if (usage + bytes > budget)
        throw DeviceError("Vulkan: out of device memory: need " + mib(bytes) + " more on heap " +
                          std::to_string(heap) + ", which has " + mib(usage) + " in use of a " + mib(budget) +
                          " budget");
}

int MemoryAllocator::newBlock(uint32_t type, VkDeviceSize bytes, bool dedicated)
{
    const auto& mp = device_.memoryProperties();
    uint32_t heap = mp.memoryTypes[type].heapIndex;
    checkBudget(heap, bytes);
    VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    ai.allocationSize = bytes;
    ai.memoryTypeIndex = type;
    auto b = std::make_unique<Block>();
    if (blocks_.size() == blocks_.capacity())
        blocks_.reserve(blocks_.size() * 2 + 4); // so storing the block below cannot throw
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult r = vkAllocateMemory(device_.handle(), &ai, nullptr, &memory);
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
        throw DeviceError("Vulkan: out of device memory allocating " + mib(bytes) + " (heap " +
                          std::to_string(heap) + " of " + mib(mp.memoryHeaps[heap].size) + ", " +
                          mib(heapReserved_[heap]) + " already held by tenfold)");
    check(r, "vkAllocateMemory");
    ++memoryObjects_;
    MemoryGuard guard{device_.handle(), memory, memoryObjects_};
    b->memory = memory;
    b->size = bytes;
    b->type = type;
    b->dedicated = dedicated;
    b->freeRanges[0] = bytes;
    if (mp.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
        void* p = nullptr;
        const VkResult mr = mapper_ ? mapper_->map(device_.handle(), b->memory, &p)
                                    : vkMapMemory(device_.handle(), b->memory, 0, VK_WHOLE_SIZE, 0, &p);
        check(mr, "vkMapMemory");
        b->mapped = static_cast<uint8_t*>(p);
    }
    guard.release();
    heapReserved_[heap] += bytes;
    for (size_t i = 0; i < blocks_.size(); ++i)
        if (!blocks_[i]) {
            blocks_[i] = std::move(b);
            return int(i);
        }
    blocks_.push_back(std::move(b));
    return int(blocks_.size() - 1);
}

bool MemoryAllocator::carve(Block& b, VkDeviceSize size, VkDeviceSize align, VkDeviceSize* offset)
{
    for (auto it = b.freeRanges.begin(); it != b.freeRanges.end(); ++it) {
        VkDeviceSize start = alignUp(it->first, align);
        VkDeviceSize end = it->first + it->second;
        if (start + size > end)
            continue;
        VkDeviceSize rangeStart = it->first;
        b.freeRanges.erase(it);
        if (start > rangeStart)
            b.freeRanges[rangeStart] = start - rangeStart;
        if (start + size < end)
            b.freeRanges[start + size] = end - (start + size);
        *offset = start;
        return true;
    }
    return false;
}

Allocation MemoryAllocator::allocate(const VkMemoryRequirements& req, bool hostAccess)
{
    std::lock_guard lock(mutex_);
    const uint32_t type = pickType(req.memoryTypeBits, hostAccess);
    // Alignment of 256 also satisfies minStorageBufferOffsetAlignment on every known device.
    const VkDeviceSize align = std::max<VkDeviceSize>(req.alignment, 256);
    const VkDeviceSize size = alignUp(std::max<VkDeviceSize>(req.size, 1), align);
    Allocation a;
    a.size = size;
    if (size > blockSize_ / 2) {
        a.block = newBlock(type, size, true);
        blocks_[size_t(a.block)]->freeRanges.clear();
    } else {
        for (size_t i = 0; i < blocks_.size() && a.block < 0; ++i) {
            Block* b = blocks_[i].get();
            if (b && !b->dedicated && b->type == type && carve(*b, size, align, &a.offset))
                a.block = int(i);
        }
        if (a.block < 0) {
            a.block = newBlock(type, blockSize_, false);
            carve(*blocks_[size_t(a.block)], size, align, &a.offset);
        }
    }
    Block& b = *blocks_[size_t(a.block)];
    a.memory = b.memory;
    a.mapped = b.mapped ? b.mapped + a.offset : nullptr;
    used_ += size;
    return a;
}

void MemoryAllocator::release(const Allocation& a)
{
    if (a.block < 0)
        return;
    std::lock_guard lock(mutex_);
    used_ -= a.size;
    Block& b = *blocks_[size_t(a.block)];
    if (b.dedicated) {
        if (b.mapped)
            vkUnmapMemory(device_.handle(), b.memory);
        vkFreeMemory(device_.handle(), b.memory, nullptr);
        --memoryObjects_;
        heapReserved_[device_.memoryProperties().memoryTypes[b.type].heapIndex] -= b.size;
        blocks_[size_t(a.block)].reset();
        return;
    }
    // Return the range and merge it with free neighbours.
    auto [it, inserted] = b.freeRanges.emplace(a.offset, a.size);
    if (auto next = std::next(it); next != b.freeRanges.end() && it->first + it->second == next->first) {
        it->second += next->second;
        b.freeRanges.erase(next);
    }
    if (it != b.freeRanges.begin()) {
        auto prev = std::prev(it);
        if (prev->first + prev->second == it->first) {
            prev->second += it->second;
            b.freeRanges.erase(it);
        }
    }
}

uint64_t MemoryAllocator::bytesReserved() const
{
    std::lock_guard lock(mutex_);
    uint64_t total = 0;
    for (uint64_t h : heapReserved_)
        total += h;
    return total;
}

void MemoryAllocator::setMapper(std::shared_ptr<MemoryMapper> mapper)
{
    std::lock_guard lock(mutex_);
    mapper_ = std::move(mapper);
}

uint64_t MemoryAllocator::deviceMemoryObjects() const
{
    std::lock_guard lock(mutex_);
    return memoryObjects_;
}

uint64_t MemoryAllocator::bytesUsed() const
{
    std::lock_guard lock(mutex_);
    return used_;
}

} // namespace tenfold::vk
