#include "vk/sequence.h"

#include "core/error.h"
#include "vk/device.h"
#include "vk/pipeline_cache.h"
#include "vk/vk_check.h"

#include <algorithm>
#include <cstring>

namespace tenfold::vk {
namespace {
constexpr uint32_t kSetsPerPool = 256;
constexpr uint32_t kMaxQueries = 8192;
} // namespace

Sequence::Sequence(Device& device, bool profile) : device_(device), profile_(profile && device.info().timestamps)
{
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = device.commandPool();
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    check(vkAllocateCommandBuffers(device.handle(), &ai, &cb_), "vkAllocateCommandBuffers");
    if (profile_) {
        queryCapacity_ = kMaxQueries;
        VkQueryPoolCreateInfo qci{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
        qci.queryType = VK_QUERY_TYPE_TIMESTAMP;
        qci.queryCount = queryCapacity_;
        check(vkCreateQueryPool(device.handle(), &qci, nullptr, &queries_), "vkCreateQueryPool");
    }
}

Sequence::~Sequence()
{
    // After a fence timeout the GPU may still be running this command buffer: freeing it or its
    // descriptor pools would be a use-after-free on the device. The device is unusable by then;
    // leave them to its teardown.
    if (device_.submissionPending())
        return;
    VkDevice d = device_.handle();
    for (VkDescriptorPool p : pools_)
        vkDestroyDescriptorPool(d, p, nullptr);
    if (queries_)
        vkDestroyQueryPool(d, queries_, nullptr);
    vkFreeCommandBuffers(d, device_.commandPool(), 1, &cb_);
}

VkDescriptorSet Sequence::allocateSet()
{
    if (pools_.empty() || setsInLastPool_ == kSetsPerPool) {
        VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerPool * kMaxBindings};
        VkDescriptorPoolCreateInfo pci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
        pci.maxSets = kSetsPerPool;
        pci.poolSizeCount = 1;
        pci.pPoolSizes = &size;
        VkDescriptorPool pool = VK_NULL_HANDLE;
        check(vkCreateDescriptorPool(device_.handle(), &pci, nullptr, &pool), "vkCreateDescriptorPool");
        pools_.push_back(pool);
        setsInLastPool_ = 0;
    }
    VkDescriptorSetLayout layout = device_.pipelines().setLayout();
    VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    ai.descriptorPool = pools_.back();
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &layout;
    VkDescriptorSet set = VK_NULL_HANDLE;
    check(vkAllocateDescriptorSets(device_.handle(), &ai, &set), "vkAllocateDescriptorSets");
    ++setsInLastPool_;
    return set;
}

void Sequence::begin()
{
    check(vkResetCommandBuffer(cb_, 0), "vkResetCommandBuffer");
    for (VkDescriptorPool p : pools_)
        vkDestroyDescriptorPool(device_.handle(), p, nullptr);
    pools_.clear();
    ops_.clear();
    timedOps_ = 0;
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    check(vkBeginCommandBuffer(cb_, &bi), "vkBeginCommandBuffer");
    if (profile_) {
        vkCmdResetQueryPool(cb_, queries_, 0, queryCapacity_);
        vkCmdWriteTimestamp(cb_, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries_, 0);
    }
    recording_ = true;
    pendingWrites_ = false;
}

void Sequence::dispatch(const std::string& op, int layer, VkPipeline pipeline,
                        std::initializer_list<const Buffer*> bindings, const void* push, size_t pushBytes,
                        uint32_t gx, uint32_t gy, uint32_t gz)
{
    if (!recording_)
        throw InvalidArgument("Vulkan: dispatch outside begin()/end()");
    if (bindings.size() == 0 || bindings.size() > kMaxBindings || pushBytes > kPushConstantBytes)
        throw InvalidArgument("Vulkan: dispatch of " + op + " has too many bindings or push constants");
    if (gx == 0 || gy == 0 || gz == 0)
        return;
    VkDescriptorSet set = allocateSet();
    VkDescriptorBufferInfo infos[kMaxBindings];
    VkWriteDescriptorSet writes[kMaxBindings];
    uint32_t i = 0;
    const Buffer* first = *bindings.begin();
    for (uint32_t b = 0; b < kMaxBindings; ++b) {
        // Bindings the shader does not declare still get a valid buffer, so the set is complete.
        const Buffer* buf = b < bindings.size() ? bindings.begin()[b] : first;
        infos[b] = {buf->handle(), 0, VK_WHOLE_SIZE};
        writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
        writes[i].dstSet = set;
        writes[i].dstBinding = b;
        writes[i].descriptorCount = 1;
        writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[i].pBufferInfo = &infos[b];
        ++i;
    }
    vkUpdateDescriptorSets(device_.handle(), i, writes, 0, nullptr);
    VkPipelineLayout layout = device_.pipelines().layout();
    vkCmdBindPipeline(cb_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
    vkCmdBindDescriptorSets(cb_, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, nullptr);
    if (pushBytes)
        vkCmdPushConstants(cb_, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, uint32_t(pushBytes), push);
    vkCmdDispatch(cb_, gx, gy, gz);
    pendingWrites_ = true;
    ops_.push_back({op, layer});
    if (profile_) {
        barrier();
        if (timedOps_ + 1 < queryCapacity_) {
            ++timedOps_;
            vkCmdWriteTimestamp(cb_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, timedOps_);
        }
    }
}

void Sequence::barrier()
{
    if (!pendingWrites_)
        return;
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
    vkCmdPipelineBarrier(cb_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb,
                         0, nullptr, 0, nullptr);
    pendingWrites_ = false;
}

void Sequence::copy(const Buffer& src, VkDeviceSize srcOffset, const Buffer& dst, VkDeviceSize dstOffset,
                    VkDeviceSize bytes)
{
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
    vkCmdPipelineBarrier(cb_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                         nullptr, 0, nullptr);
    VkBufferCopy region{srcOffset, dstOffset, bytes};
    vkCmdCopyBuffer(cb_, src.handle(), dst.handle(), 1, &region);
}

void Sequence::end()
{
    // Host reads of read-back buffers after the fence need transfer/shader writes made available.
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    vkCmdPipelineBarrier(cb_, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
    check(vkEndCommandBuffer(cb_), "vkEndCommandBuffer");
    recording_ = false;
}

void Sequence::submit()
{
    if (recording_)
        throw InvalidArgument("Vulkan: submit() before end()");
    device_.submitAndWait(cb_);
}

std::vector<OpTiming> Sequence::timings() const
{
    std::vector<OpTiming> out;
    if (!profile_ || timedOps_ == 0)
        return out;
    std::vector<uint64_t> ticks(timedOps_ + 1);
    VkResult r = vkGetQueryPoolResults(device_.handle(), queries_, 0, timedOps_ + 1, ticks.size() * sizeof(uint64_t),
                                       ticks.data(), sizeof(uint64_t), VK_QUERY_RESULT_64_BIT);
    if (r != VK_SUCCESS)
        return out;
    const double period = device_.timestampPeriodNs();
    for (uint32_t i = 0; i < timedOps_; ++i) {
        uint64_t dt = ticks[i + 1] >= ticks[i] ? ticks[i + 1] - ticks[i] : 0;
        out.push_back({ops_[i].op, ops_[i].layer, double(dt) * period / 1000.0});
    }
    return out;
}

} // namespace tenfold::vk
