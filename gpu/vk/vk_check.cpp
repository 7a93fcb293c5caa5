#include "vk/vk_check.h"

#include "core/error.h"

#include <string>

namespace tenfold::vk {

const char* resultName(VkResult r)
{
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    case VK_ERROR_INVALID_SHADER_NV: return "VK_ERROR_INVALID_SHADER_NV";
    default: return "VkResult(other)";
    }
}

static const char* explain(VkResult r)
{
    switch (r) {
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
        return "the GPU has no memory left; use a smaller model, a shorter context or a smaller quant";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "the system ran out of memory";
    case VK_ERROR_DEVICE_LOST:
        return "the GPU stopped responding (driver reset, hang or hardware fault); restart the backend";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "no Vulkan 1.1+ driver is installed for this device";
    case VK_ERROR_INITIALIZATION_FAILED: return "the Vulkan driver could not be initialised";
    case VK_ERROR_FEATURE_NOT_PRESENT:
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "the device lacks a required feature";
    default: return "unexpected Vulkan error";
    }
}

void check(VkResult r, const char* what)
{
    if (r == VK_SUCCESS)
        return;
    throw DeviceError(std::string("Vulkan: ") + what + " failed: " + resultName(r) + " (" + explain(r) + ")");
}

} // namespace tenfold::vk
