#include "vk/device.h"

#include "core/error.h"
#include "vk/memory.h"
#include "vk/pipeline_cache.h"
#include "vk/vk_check.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tenfold::vk {
namespace {

bool hasExtension(const std::vector<VkExtensionProperties>& exts, const char* name)
{
    return std::any_of(exts.begin(), exts.end(),
                       [&](const VkExtensionProperties& e) { return std::strcmp(e.extensionName, name) == 0; });
}

std::vector<VkExtensionProperties> deviceExtensions(VkPhysicalDevice pd)
{
    uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
    std::vector<VkExtensionProperties> exts(n);
    vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, exts.data());
    return exts;
}

int computeQueueFamily(VkPhysicalDevice pd, bool* timestamps)
{
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
    std::vector<VkQueueFamilyProperties> fams(n);
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fams.data());
    // Prefer a compute-only family (async compute on discrete GPUs), else any with compute.
    int best = -1;
    for (uint32_t i = 0; i < n; ++i) {
        if (!(fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT))
            continue;
        if (best < 0 || !(fams[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
            best = int(i);
    }
    if (timestamps)
        *timestamps = best >= 0 && fams[size_t(best)].timestampValidBits > 0;
    return best;
}

int typeRank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

const char* typeName(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
    }
}

VKAPI_ATTR VkBool32 VKAPI_CALL debugCallback(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                             VkDebugUtilsMessageTypeFlagsEXT,
                                             const VkDebugUtilsMessengerCallbackDataEXT* data, void*)
{
    if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)
        std::fprintf(stderr, "[vulkan validation] %s\n", data->pMessage);
    return VK_FALSE;
}

} // namespace

std::shared_ptr<Instance> Instance::create()
{
    std::shared_ptr<Instance> inst(new Instance());
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "tenfold";
    app.pEngineName = "tenfold";
    app.apiVersion = VK_API_VERSION_1_2;

    uint32_t nExt = 0;
    if (vkEnumerateInstanceExtensionProperties(nullptr, &nExt, nullptr) != VK_SUCCESS)
        throw DeviceError("Vulkan: no Vulkan loader or driver found");
    std::vector<VkExtensionProperties> exts(nExt);
    vkEnumerateInstanceExtensionProperties(nullptr, &nExt, exts.data());
    std::vector<const char*> enabled;
    VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    if (hasExtension(exts, "VK_KHR_portability_enumeration")) {
        enabled.push_back("VK_KHR_portability_enumeration");
        ci.flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
    std::vector<const char*> layers;
#ifndef NDEBUG
    // Debug builds validate every call when the Khronos layer is installed.
    uint32_t nLayers = 0;
    vkEnumerateInstanceLayerProperties(&nLayers, nullptr);
    std::vector<VkLayerProperties> props(nLayers);
    vkEnumerateInstanceLayerProperties(&nLayers, props.data());
    bool validation = std::any_of(props.begin(), props.end(), [](const VkLayerProperties& l) {
        return std::strcmp(l.layerName, "VK_LAYER_KHRONOS_validation") == 0;
    });
    if (validation && hasExtension(exts, VK_EXT_DEBUG_UTILS_EXTENSION_NAME)) {
        layers.push_back("VK_LAYER_KHRONOS_validation");
        enabled.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    }
#endif
    ci.pApplicationInfo = &app;
    ci.enabledExtensionCount = uint32_t(enabled.size());
    ci.ppEnabledExtensionNames = enabled.data();
    ci.enabledLayerCount = uint32_t(layers.size());
    ci.ppEnabledLayerNames = layers.data();
    VkResult r = vkCreateInstance(&ci, nullptr, &inst->instance_);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED)
        throw DeviceError("Vulkan: no Vulkan driver found (vkCreateInstance: " + std::string(resultName(r)) + ")");
    check(r, "vkCreateInstance");
    if (!layers.empty()) {
        auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(inst->instance_, "vkCreateDebugUtilsMessengerEXT"));
        if (create) {
            VkDebugUtilsMessengerCreateInfoEXT mci{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
            mci.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
            mci.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT;
            mci.pfnUserCallback = debugCallback;
            create(inst->instance_, &mci, nullptr, &inst->messenger_);
        }
    }
    return inst;
}

Instance::~Instance()
{
    if (messenger_) {
        auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
        if (destroy)
            destroy(instance_, messenger_, nullptr);
    }
    if (instance_)
        vkDestroyInstance(instance_, nullptr);
}

std::vector<VkPhysicalDevice> Instance::physicalDevices() const
{
    uint32_t n = 0;
    check(vkEnumeratePhysicalDevices(instance_, &n, nullptr), "vkEnumeratePhysicalDevices");
    std::vector<VkPhysicalDevice> pds(n);
    check(vkEnumeratePhysicalDevices(instance_, &n, pds.data()), "vkEnumeratePhysicalDevices");
    pds.resize(n);
    return pds;
}

VulkanDeviceInfo Instance::describe(VkPhysicalDevice pd, int index) const
{
    VulkanDeviceInfo info;
    info.index = index;
    VkPhysicalDeviceProperties props{};
    vkGetPhysicalDeviceProperties(pd, &props);
    info.name = props.deviceName;
    info.type = typeName(props.deviceType);
    info.apiVersion = std::to_string(VK_API_VERSION_MAJOR(props.apiVersion)) + "." +
                      std::to_string(VK_API_VERSION_MINOR(props.apiVersion)) + "." +
                      std::to_string(VK_API_VERSION_PATCH(props.apiVersion));
    VkPhysicalDeviceMemoryProperties mem{};
    vkGetPhysicalDeviceMemoryProperties(pd, &mem);
    for (uint32_t i = 0; i < mem.memoryHeapCount; ++i)
        info.heaps.push_back({mem.memoryHeaps[i].size, (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0});

    auto exts = deviceExtensions(pd);
    info.memoryBudget = hasExtension(exts, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    if (info.memoryBudget && props.apiVersion >= VK_API_VERSION_1_1) {
        VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
        VkPhysicalDeviceMemoryProperties2 mem2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
        mem2.pNext = &budget;
        vkGetPhysicalDeviceMemoryProperties2(pd, &mem2);
        uint64_t largestLocal = 0;
        for (size_t i = 0; i < info.heaps.size() && i < VK_MAX_MEMORY_HEAPS; ++i) {
            VulkanMemoryHeap& h = info.heaps[i];
            // Usage counts every process on the GPU, so it can exceed our budget share.
            h.freeBytes = budget.heapBudget[i] > budget.heapUsage[i] ? budget.heapBudget[i] - budget.heapUsage[i] : 0;
            if (h.deviceLocal && h.bytes > largestLocal) {
                largestLocal = h.bytes;
                info.deviceLocalFreeBytes = h.freeBytes;
            }
        }
    }
    info.cooperativeMatrix = hasExtension(exts, "VK_KHR_cooperative_matrix") || hasExtension(exts, "VK_NV_cooperative_matrix");
    const bool v11 = props.apiVersion >= VK_API_VERSION_1_1;
    if (v11) {
        VkPhysicalDeviceSubgroupProperties sg{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
        VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
        p2.pNext = &sg;
        vkGetPhysicalDeviceProperties2(pd, &p2);
        info.subgroupSize = sg.subgroupSize;
        info.subgroupArithmetic = (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                                  (sg.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
                                  (sg.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT);
        if (props.apiVersion >= VK_API_VERSION_1_2) {
            VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
            VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
            f2.pNext = &f12;
            vkGetPhysicalDeviceFeatures2(pd, &f2);
            info.fp16 = f12.shaderFloat16;
            info.int8 = f12.shaderInt8;
        }
    }
    bool timestamps = false;
    int family = computeQueueFamily(pd, &timestamps);
    info.timestamps = timestamps && props.limits.timestampPeriod > 0;
    if (!v11)
        info.unusableReason = "Vulkan " + info.apiVersion + " is older than the required 1.1";
    else if (family < 0)
        info.unusableReason = "no compute queue";
    info.usable = info.unusableReason.empty();
    return info;
}

Device::Device(int index)
{
    instance_ = Instance::create();
    auto pds = instance_->physicalDevices();
    if (pds.empty())
        throw DeviceError("Vulkan: no Vulkan device found (the loader reports none; install a GPU driver, "
                          "or Mesa's lavapipe for a CPU fallback)");
    if (index < 0) {
        if (const char* env = std::getenv("TENFOLD_VK_DEVICE"); env && *env) {
            char* end = nullptr;
            long v = std::strtol(env, &end, 10);
            if (end == env || *end != '\0')
                throw InvalidArgument(std::string("TENFOLD_VK_DEVICE must be a device index, got '") + env + "'");
            index = int(v);
        }
    }
    std::vector<VulkanDeviceInfo> infos;
    for (size_t i = 0; i < pds.size(); ++i)
        infos.push_back(instance_->describe(pds[i], int(i)));
    if (index >= 0) {
        if (size_t(index) >= pds.size())
            throw DeviceError("Vulkan: device index " + std::to_string(index) + " out of range (" +
                              std::to_string(pds.size()) + " devices)");
        if (!infos[size_t(index)].usable)
            throw DeviceError("Vulkan: device " + std::to_string(index) + " (" + infos[size_t(index)].name +
                              ") is not usable: " + infos[size_t(index)].unusableReason);
    } else {
        int bestRank = -1;
        for (size_t i = 0; i < pds.size(); ++i) {
            if (!infos[i].usable)
                continue;
            VkPhysicalDeviceProperties p{};
            vkGetPhysicalDeviceProperties(pds[i], &p);
            if (typeRank(p.deviceType) > bestRank) {
                bestRank = typeRank(p.deviceType);
                index = int(i);
            }
        }
        if (index < 0)
            throw DeviceError("Vulkan: no usable device (" + infos[0].name + ": " + infos[0].unusableReason + ")");
    }
    physical_ = pds[size_t(index)];
    info_ = infos[size_t(index)];
    vkGetPhysicalDeviceProperties(physical_, &props_);
    vkGetPhysicalDeviceMemoryProperties(physical_, &memProps_);
    queueFamily_ = uint32_t(computeQueueFamily(physical_, nullptr));

    float priority = 1.0f;
    VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qci.queueFamilyIndex = queueFamily_;
    qci.queueCount = 1;
    qci.pQueuePriorities = &priority;
    std::vector<const char*> exts;
    if (info_.memoryBudget)
        exts.push_back(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    dci.enabledExtensionCount = uint32_t(exts.size());
    dci.ppEnabledExtensionNames = exts.data();
    check(vkCreateDevice(physical_, &dci, nullptr, &device_), "vkCreateDevice");
    vkGetDeviceQueue(device_, queueFamily_, 0, &queue_);

    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pci.queueFamilyIndex = queueFamily_;
    check(vkCreateCommandPool(device_, &pci, nullptr, &pool_), "vkCreateCommandPool");
    VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    check(vkCreateFence(device_, &fci, nullptr, &fence_), "vkCreateFence");

    double seconds = 120.0;
    if (const char* env = std::getenv("TENFOLD_VK_TIMEOUT_S"); env && std::atof(env) > 0)
        seconds = std::min(std::atof(env), 1e7); // keeps the nanosecond count inside int64
    timeout_ = std::chrono::nanoseconds(int64_t(seconds * 1e9));

    allocator_ = std::make_unique<MemoryAllocator>(*this);
    pipelines_ = std::make_unique<PipelineCache>(*this);
}

Device::~Device()
{
    // No vkDeviceWaitIdle: it has no timeout, and on a hung device it would freeze the app's
    // shutdown. Submissions are synchronous, so at most the last one (whose fence timed out) can
    // still be running; give it a short bounded grace so a merely slow device is not torn down
    // mid-work. A device that reported VK_ERROR_DEVICE_LOST returns from the wait at once.
    if (device_ && inFlight_) {
        const auto grace = std::min<std::chrono::nanoseconds>(timeout_, std::chrono::seconds(2));
        vkWaitForFences(device_, 1, &fence_, VK_TRUE, uint64_t(grace.count()));
    }
    pipelines_.reset();
    allocator_.reset();
    if (fence_)
        vkDestroyFence(device_, fence_, nullptr);
    if (pool_)
        vkDestroyCommandPool(device_, pool_, nullptr);
    if (device_)
        vkDestroyDevice(device_, nullptr);
}

void Device::submitAndWait(VkCommandBuffer cb)
{
    std::lock_guard lock(submitMutex_);
    if (lost_)
        throw DeviceError("Vulkan: " + info_.name + " was lost or hung earlier; create a new backend");
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cb;
    check(vkResetFences(device_, 1, &fence_), "vkResetFences");
    if (VkResult sr = vkQueueSubmit(queue_, 1, &si, fence_); sr != VK_SUCCESS) {
        lost_ = sr == VK_ERROR_DEVICE_LOST;
        check(sr, "vkQueueSubmit");
    }
    inFlight_ = true;
    VkResult r = vkWaitForFences(device_, 1, &fence_, VK_TRUE, uint64_t(timeout_.count()));
    if (r != VK_SUCCESS)
        lost_ = true;
    else
        inFlight_ = false;
    if (r == VK_TIMEOUT) {
        // The device is considered unusable after a timeout: waiting further could hang the caller.
        throw DeviceError("Vulkan: the GPU did not finish a submission within " +
                          std::to_string(timeout_.count() / 1000000000) +
                          " s (hung or far too slow; set TENFOLD_VK_TIMEOUT_S to wait longer)");
    }
    check(r, "vkWaitForFences");
}

VkCommandBuffer Device::beginOneShot()
{
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = pool_;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    VkCommandBuffer cb = VK_NULL_HANDLE;
    check(vkAllocateCommandBuffers(device_, &ai, &cb), "vkAllocateCommandBuffers");
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(cb, &bi), "vkBeginCommandBuffer");
    return cb;
}

void Device::endOneShotAndWait(VkCommandBuffer cb)
{
    struct Free {
        Device& d; VkCommandBuffer c;
        ~Free()
        {
            // A command buffer the GPU may still be executing (fence timeout) must not be freed;
            // it goes with the pool when the device is destroyed.
            if (!d.submissionPending())
                vkFreeCommandBuffers(d.device_, d.pool_, 1, &c);
        }
    } guard{*this, cb};
    check(vkEndCommandBuffer(cb), "vkEndCommandBuffer");
    submitAndWait(cb);
}

} // namespace tenfold::vk
