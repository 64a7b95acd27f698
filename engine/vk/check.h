// VK_CHECK: turns a failed Vulkan call into a Status that records the call, the VkResult and
// file:line.
#pragma once

#include "core/status.h"
#include <vulkan/vulkan.h>

namespace convscope::vk {

const char* resultName(VkResult r);
Status failure(const char* expr, VkResult r, const char* file, int line);

} // namespace convscope::vk

#define VK_CHECK(expr)                                                                             \
    do {                                                                                           \
        if (VkResult vk_check_r_ = (expr); vk_check_r_ != VK_SUCCESS)                              \
            return ::convscope::vk::failure(#expr, vk_check_r_, __FILE__, __LINE__);               \
    } while (0)
