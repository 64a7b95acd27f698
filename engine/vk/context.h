// Context: the Vulkan instance, the chosen physical device, its compute queue and the validation
// messenger that counts every message (tests fail on any).
#pragma once

#include "core/status.h"
#include <atomic>
#include <memory>
#include <string>
#include <vector>
#include <vulkan/vulkan.h>

namespace convscope::vk {

struct DeviceInfo {
    std::uint32_t index = 0;
    std::string name;
    VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
    std::uint32_t apiVersion = 0;
    bool isCpu() const { return type == VK_PHYSICAL_DEVICE_TYPE_CPU; }
    bool isGpu() const {
        return type == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU ||
               type == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
    }
    std::string typeName() const;
};

struct ContextOptions {
    // Index or case-insensitive name fragment; empty means $CONVSCOPE_DEVICE, then the best device.
    std::string device;
    // Enable VK_LAYER_KHRONOS_validation; defaults to $CONVSCOPE_VALIDATION=1.
    bool validation = false;
};

// True when $CONVSCOPE_VALIDATION is set to 1.
bool validationRequestedByEnvironment();

class Context {
public:
    static Result<std::unique_ptr<Context>> create(const ContextOptions& options);
    // Lists the Vulkan devices without creating a logical device.
    static Result<std::vector<DeviceInfo>> listDevices();
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    VkInstance instance() const { return m_instance; }
    VkPhysicalDevice physicalDevice() const { return m_physical; }
    VkDevice device() const { return m_device; }
    VkQueue queue() const { return m_queue; }
    std::uint32_t queueFamily() const { return m_queueFamily; }
    const DeviceInfo& info() const { return m_info; }
    const VkPhysicalDeviceProperties& properties() const { return m_props; }
    const VkPhysicalDeviceMemoryProperties& memoryProperties() const { return m_memProps; }
    bool validationEnabled() const { return m_messenger != VK_NULL_HANDLE; }

    // Number of validation messages (warnings and errors) seen so far.
    std::uint64_t validationMessages() const { return m_counter->count.load(); }
    // Sends one message through the debug-utils messenger, to prove the counter works.
    void injectValidationMessageForTesting(const char* text);

    struct Counter {
        std::atomic<std::uint64_t> count{0};
    };

private:
    Context() = default;
    VkInstance m_instance = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT m_messenger = VK_NULL_HANDLE;
    VkPhysicalDevice m_physical = VK_NULL_HANDLE;
    VkDevice m_device = VK_NULL_HANDLE;
    VkQueue m_queue = VK_NULL_HANDLE;
    std::uint32_t m_queueFamily = 0;
    DeviceInfo m_info;
    VkPhysicalDeviceProperties m_props{};
    VkPhysicalDeviceMemoryProperties m_memProps{};
    std::unique_ptr<Counter> m_counter = std::make_unique<Counter>();
};

} // namespace convscope::vk
