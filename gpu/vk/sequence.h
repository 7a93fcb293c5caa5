#pragma once
// A recorded command buffer of compute dispatches, copies and barriers, submitted as a whole and
// re-submittable as long as the buffers it names live. With profiling, a timestamp follows every
// dispatch (and each dispatch is fenced off by a barrier so the times do not overlap).
#include "runtime/backend.h"
#include "vk/buffer.h"

#include <vulkan/vulkan.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace tenfold::vk {

class Device;

class Sequence {
public:
    Sequence(Device& device, bool profile);
    ~Sequence();
    Sequence(const Sequence&) = delete;
    Sequence& operator=(const Sequence&) = delete;

    void begin(); // discards what was recorded before
    // bindings[i] -> binding i of the shader; push is copied into the command buffer.
    void dispatch(const std::string& op, int layer, VkPipeline pipeline,
                  std::initializer_list<const Buffer*> bindings, const void* push, size_t pushBytes,
                  uint32_t groupsX, uint32_t groupsY = 1, uint32_t groupsZ = 1);
    template <class P>
    void dispatch(const std::string& op, int layer, VkPipeline pipeline,
                  std::initializer_list<const Buffer*> bindings, const P& push, uint32_t gx,
                  uint32_t gy = 1, uint32_t gz = 1)
    {
        dispatch(op, layer, pipeline, bindings, &push, sizeof(P), gx, gy, gz);
    }
    // Makes earlier shader writes visible to later shaders (compute -> compute).
    void barrier();
    // Copies after a barrier from shader writes; the host sees the result after submit().
    void copy(const Buffer& src, VkDeviceSize srcOffset, const Buffer& dst, VkDeviceSize dstOffset,
              VkDeviceSize bytes);
    void end();
    void submit(); // submit and wait (DeviceError on loss/timeout)

    size_t dispatchCount() const { return ops_.size(); }
    bool profiling() const { return profile_; }
    std::vector<OpTiming> timings() const; // of the last submit(); empty without profiling

private:
    VkDescriptorSet allocateSet();

    Device& device_;
    bool profile_;
    VkCommandBuffer cb_ = VK_NULL_HANDLE;
    std::vector<VkDescriptorPool> pools_;
    uint32_t setsInLastPool_ = 0;
    VkQueryPool queries_ = VK_NULL_HANDLE;
    uint32_t queryCapacity_ = 0;
    struct OpRecord {
        std::string op;
        int layer;
    };
    std::vector<OpRecord> ops_;
    uint32_t timedOps_ = 0;
    bool recording_ = false;
    bool pendingWrites_ = false;
};

} // namespace tenfold::vk
