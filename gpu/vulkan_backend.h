#pragma once
// The Vulkan compute backend: weights uploaded once in their quantized GGUF block layout, the
// whole forward pass of a batch recorded into one command buffer and submitted once.
// Device choice: deviceIndex >= 0 picks that device (listVulkanDevices() order); -1 reads the
// TENFOLD_VK_DEVICE environment variable, else prefers discrete > integrated > virtual > CPU.
#include "runtime/backend.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tenfold {

struct VulkanMemoryHeap {
    uint64_t bytes = 0;
    bool deviceLocal = false;
    // VK_EXT_memory_budget's budget minus usage (all processes) when the device was listed;
    // 0 when the extension is absent (then only `bytes`, the heap's total, is known).
    uint64_t freeBytes = 0;
};

struct VulkanDeviceInfo {
    int index = -1;
    std::string name;              // "NVIDIA H100 80GB HBM3", "llvmpipe (LLVM 15...)"
    std::string type;              // "discrete GPU", "integrated GPU", "virtual GPU", "CPU", "other"
    std::string apiVersion;        // "1.3.230"
    std::vector<VulkanMemoryHeap> heaps;
    uint32_t subgroupSize = 0;
    bool subgroupArithmetic = false; // subgroupAdd/Max usable in compute shaders
    bool fp16 = false;               // shaderFloat16
    bool int8 = false;               // shaderInt8
    bool cooperativeMatrix = false;  // VK_KHR_cooperative_matrix or VK_NV_cooperative_matrix
    bool memoryBudget = false;       // VK_EXT_memory_budget
    // freeBytes of the largest device-local heap (what a model must fit in); 0 without
    // VK_EXT_memory_budget.
    uint64_t deviceLocalFreeBytes = 0;
    bool timestamps = false;         // compute queue writes timestamps
    bool usable = false;             // Vulkan >= 1.1 and a compute queue
    std::string unusableReason;
};

// Every physical device the Vulkan loader reports; empty when no loader/driver is present
// (never throws for "no Vulkan").
std::vector<VulkanDeviceInfo> listVulkanDevices();

// Throws DeviceError when no usable device exists or the index is out of range.
std::unique_ptr<Backend> createVulkanBackend(int deviceIndex = -1);

} // namespace tenfold
