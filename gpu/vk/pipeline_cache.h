#pragma once
// Compute pipelines built from the embedded SPIR-V (gpu/shaders/*.comp, compiled at build time),
// keyed by shader variant and specialization constants. Every pipeline shares one layout: up to
// kMaxBindings storage buffers and 128 bytes of push constants. The driver's pipeline cache is
// kept on disk in $XDG_CACHE_HOME/tenfold (or ~/.cache/tenfold) so later runs skip compilation.
#include <vulkan/vulkan.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tenfold::vk {

class Device;

constexpr uint32_t kMaxBindings = 6;
constexpr uint32_t kPushConstantBytes = 128;

class PipelineCache {
public:
    explicit PipelineCache(Device& device);
    ~PipelineCache(); // saves the cache file

    // Throws DeviceError for an unknown shader name (a build problem) or a driver failure.
    VkPipeline get(const std::string& shader, const std::vector<uint32_t>& specConstants);
    VkPipelineLayout layout() const { return layout_; }
    VkDescriptorSetLayout setLayout() const { return setLayout_; }
    void save() const;
    // Bytes the driver's cache holds now (what save() would write). Some drivers (lavapipe) keep
    // no pipelines in it, only the header.
    size_t dataSize() const;
    // Bytes of the cache file handed to the driver at construction: 0 when there was no file or
    // its header was not this device's (another driver, device or version).
    size_t loadedBytes() const { return loaded_; }
    const std::filesystem::path& cacheFile() const { return file_; }

private:
    Device& device_;
    VkDescriptorSetLayout setLayout_ = VK_NULL_HANDLE;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    VkPipelineCache cache_ = VK_NULL_HANDLE;
    std::map<std::string, VkPipeline> pipelines_;
    std::filesystem::path file_;
    size_t loaded_ = 0;
    std::mutex mutex_;
};

} // namespace tenfold::vk
