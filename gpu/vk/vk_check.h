#pragma once
// Turns Vulkan result codes into tenfold::DeviceError with a message a user can act on.
#include <vulkan/vulkan.h>

namespace tenfold::vk {

const char* resultName(VkResult r);

// Throws DeviceError("Vulkan: <what> failed: <code> (<explanation>)") unless r is VK_SUCCESS.
void check(VkResult r, const char* what);

} // namespace tenfold::vk
