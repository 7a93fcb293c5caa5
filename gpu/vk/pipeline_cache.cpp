#include "vk/pipeline_cache.h"

#include "core/error.h"
#include "shader_table.h"
#include "vk/device.h"
#include "vk/vk_check.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace tenfold::vk {
namespace {

// The header every pipeline cache starts with (Vulkan spec, VkPipelineCacheHeaderVersionOne): a
// file from another driver, device or format version is dropped here rather than handed to a
// driver that might misread it.
bool headerMatches(const std::vector<char>& data, const VkPhysicalDeviceProperties& props)
{
    struct Header {
        uint32_t headerSize, headerVersion, vendorID, deviceID;
        uint8_t uuid[VK_UUID_SIZE];
    } h;
    static_assert(sizeof(Header) == 16 + VK_UUID_SIZE);
    if (data.size() < sizeof(Header))
        return false;
    std::memcpy(&h, data.data(), sizeof(Header));
    return h.headerSize >= sizeof(Header) && h.headerSize <= data.size() &&
           h.headerVersion == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && h.vendorID == props.vendorID &&
           h.deviceID == props.deviceID && std::memcmp(h.uuid, props.pipelineCacheUUID, VK_UUID_SIZE) == 0;
}

std::filesystem::path cacheDir()
{
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        return std::filesystem::path(xdg) / "tenfold";
    if (const char* home = std::getenv("HOME"); home && *home)
        return std::filesystem::path(home) / ".cache" / "tenfold";
    return {};
}

} // namespace

PipelineCache::PipelineCache(Device& device) : device_(device)
{
    VkDescriptorSetLayoutBinding bindings[kMaxBindings];
    for (uint32_t i = 0; i < kMaxBindings; ++i)
        bindings[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    VkDescriptorSetLayoutCreateInfo dci{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    dci.bindingCount = kMaxBindings;
    dci.pBindings = bindings;
    check(vkCreateDescriptorSetLayout(device.handle(), &dci, nullptr, &setLayout_), "vkCreateDescriptorSetLayout");
    VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushConstantBytes};
    VkPipelineLayoutCreateInfo lci{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    lci.setLayoutCount = 1;
    lci.pSetLayouts = &setLayout_;
    lci.pushConstantRangeCount = 1;
    lci.pPushConstantRanges = &range;
    check(vkCreatePipelineLayout(device.handle(), &lci, nullptr, &layout_), "vkCreatePipelineLayout");

    // The file name carries the driver's cache UUID, so a driver update starts a fresh file
    // (the driver would reject the stale one anyway).
    const auto& props = device.properties();
    char uuid[2 * VK_UUID_SIZE + 1];
    for (uint32_t i = 0; i < VK_UUID_SIZE; ++i)
        std::snprintf(uuid + 2 * i, 3, "%02x", props.pipelineCacheUUID[i]);
    if (auto dir = cacheDir(); !dir.empty())
        file_ = dir / (std::string("vk-pipelines-") + uuid + ".bin");
    std::vector<char> initial;
    if (!file_.empty()) {
        std::ifstream in(file_, std::ios::binary);
        if (in)
            initial.assign(std::istreambuf_iterator<char>(in), {});
        if (!headerMatches(initial, props))
            initial.clear();
    }
    VkPipelineCacheCreateInfo pci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
    pci.initialDataSize = initial.size();
    pci.pInitialData = initial.empty() ? nullptr : initial.data();
    if (vkCreatePipelineCache(device.handle(), &pci, nullptr, &cache_) == VK_SUCCESS) {
        loaded_ = initial.size();
    } else {
        pci.initialDataSize = 0; // a corrupt file: start empty
        pci.pInitialData = nullptr;
        check(vkCreatePipelineCache(device.handle(), &pci, nullptr, &cache_), "vkCreatePipelineCache");
    }
}

PipelineCache::~PipelineCache()
{
    try {
        save();
    } catch (...) {
        // A read-only home directory must not break shutdown; the cache is only an optimisation.
    }
    for (auto& [key, p] : pipelines_)
        vkDestroyPipeline(device_.handle(), p, nullptr);
    vkDestroyPipelineCache(device_.handle(), cache_, nullptr);
    vkDestroyPipelineLayout(device_.handle(), layout_, nullptr);
    vkDestroyDescriptorSetLayout(device_.handle(), setLayout_, nullptr);
}

size_t PipelineCache::dataSize() const
{
    size_t n = 0;
    if (!cache_ || vkGetPipelineCacheData(device_.handle(), cache_, &n, nullptr) != VK_SUCCESS)
        return 0;
    return n;
}

void PipelineCache::save() const
{
    if (file_.empty() || !cache_)
        return;
    size_t n = 0;
    if (vkGetPipelineCacheData(device_.handle(), cache_, &n, nullptr) != VK_SUCCESS || n == 0)
        return;
    std::vector<char> data(n);
    if (vkGetPipelineCacheData(device_.handle(), cache_, &n, data.data()) != VK_SUCCESS)
        return;
    std::error_code ec;
    std::filesystem::create_directories(file_.parent_path(), ec);
    auto tmp = file_;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            return;
        out.write(data.data(), std::streamsize(n));
        if (!out)
            return;
    }
    std::filesystem::rename(tmp, file_, ec); // atomic: concurrent runs never see half a file
}

VkPipeline PipelineCache::get(const std::string& shader, const std::vector<uint32_t>& spec)
{
    std::string key = shader;
    for (uint32_t v : spec)
        key.append(1, ':').append(std::to_string(v));
    std::lock_guard lock(mutex_);
    if (auto it = pipelines_.find(key); it != pipelines_.end())
        return it->second;
    const EmbeddedShader* blob = findShader(shader);
    if (!blob)
        throw DeviceError("Vulkan: shader '" + shader + "' is not in this build");
    VkShaderModuleCreateInfo mci{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    mci.codeSize = blob->bytes;
    mci.pCode = blob->words;
    VkShaderModule module = VK_NULL_HANDLE;
    check(vkCreateShaderModule(device_.handle(), &mci, nullptr, &module), "vkCreateShaderModule");

    std::vector<VkSpecializationMapEntry> entries(spec.size());
    for (size_t i = 0; i < spec.size(); ++i)
        entries[i] = {uint32_t(i), uint32_t(i * sizeof(uint32_t)), sizeof(uint32_t)};
    VkSpecializationInfo si{uint32_t(entries.size()), entries.data(), spec.size() * sizeof(uint32_t), spec.data()};
    VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    ci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
    ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    ci.stage.module = module;
    ci.stage.pName = "main";
    ci.stage.pSpecializationInfo = spec.empty() ? nullptr : &si;
    ci.layout = layout_;
    VkPipeline pipeline = VK_NULL_HANDLE;
    VkResult r = vkCreateComputePipelines(device_.handle(), cache_, 1, &ci, nullptr, &pipeline);
    vkDestroyShaderModule(device_.handle(), module, nullptr);
    check(r, ("vkCreateComputePipelines(" + shader + ")").c_str());
    pipelines_[key] = pipeline;
    return pipeline;
}

} // namespace tenfold::vk
