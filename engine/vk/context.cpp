// Instance creation, device selection (discrete GPU first, lavapipe as the CPU fallback) and the
// validation messenger.
#include "vk/context.h"
#include "vk/check.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace convscope::vk {

const char* resultName(VkResult r) {
    switch (r) {
#define CS_RESULT(x)                                                                               \
    case x:                                                                                        \
        return #x;
        CS_RESULT(VK_SUCCESS)
        CS_RESULT(VK_NOT_READY)
        CS_RESULT(VK_TIMEOUT)
        CS_RESULT(VK_INCOMPLETE)
        CS_RESULT(VK_ERROR_OUT_OF_HOST_MEMORY)
        CS_RESULT(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        CS_RESULT(VK_ERROR_INITIALIZATION_FAILED)
        CS_RESULT(VK_ERROR_DEVICE_LOST)
        CS_RESULT(VK_ERROR_MEMORY_MAP_FAILED)
        CS_RESULT(VK_ERROR_LAYER_NOT_PRESENT)
        CS_RESULT(VK_ERROR_EXTENSION_NOT_PRESENT)
        CS_RESULT(VK_ERROR_FEATURE_NOT_PRESENT)
        CS_RESULT(VK_ERROR_INCOMPATIBLE_DRIVER)
        CS_RESULT(VK_ERROR_TOO_MANY_OBJECTS)
        CS_RESULT(VK_ERROR_OUT_OF_POOL_MEMORY)
        CS_RESULT(VK_ERROR_FRAGMENTED_POOL)
#undef CS_RESULT
    default:
        return "VkResult(other)";
    }
}

Status failure(const char* expr, VkResult r, const char* file, int line) {
    std::string hint;
    switch (r) {
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
    case VK_ERROR_OUT_OF_HOST_MEMORY:
        hint = "Reduce the batch size or the network, or use --backend cpu";
        break;
    case VK_ERROR_DEVICE_LOST:
        hint = "The GPU was lost (a driver reset, a hang or a removed device); the run's last "
               "checkpoint is kept: continue it on the CPU backend (--backend cpu; the window "
               "offers Continue on the CPU)";
        break;
    case VK_ERROR_INCOMPATIBLE_DRIVER:
        hint = "Install a Vulkan driver (mesa-vulkan-drivers gives lavapipe) or use --backend cpu";
        break;
    default:
        break;
    }
    const char* base = std::strrchr(file, '/');
    return Status::error(std::string(expr) + " failed with " + resultName(r),
                         std::string(base ? base + 1 : file) + ":" + std::to_string(line), hint);
}

std::string DeviceInfo::typeName() const {
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return "CPU (software)";
    default:
        return "other";
    }
}

bool validationRequestedByEnvironment() {
    const char* v = std::getenv("CONVSCOPE_VALIDATION");
    return v && std::strcmp(v, "1") == 0;
}

namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

VKAPI_ATTR VkBool32 VKAPI_CALL onMessage(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                         VkDebugUtilsMessageTypeFlagsEXT,
                                         const VkDebugUtilsMessengerCallbackDataEXT* data,
                                         void* user) {
    auto* counter = static_cast<Context::Counter*>(user);
    counter->count.fetch_add(1);
    const char* level =
        (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) ? "error" : "warning";
    std::fprintf(stderr, "[vulkan validation %s] %s\n", level,
                 data && data->pMessage ? data->pMessage : "(no text)");
    return VK_FALSE;
}

bool layerAvailable(const char* name) {
    std::uint32_t n = 0;
    vkEnumerateInstanceLayerProperties(&n, nullptr);
    std::vector<VkLayerProperties> layers(n);
    vkEnumerateInstanceLayerProperties(&n, layers.data());
    return std::any_of(layers.begin(), layers.end(), [&](const VkLayerProperties& l) {
        return std::strcmp(l.layerName, name) == 0;
    });
}

Status noDriver(VkResult r) {
    return Status::error("No Vulkan driver is installed (" + std::string(resultName(r)) + ")",
                         "Vulkan instance",
                         "Install mesa-vulkan-drivers for the lavapipe CPU device or your GPU's "
                         "Vulkan driver, or run with --backend cpu");
}

Status createInstance(bool validation, VkInstance* out) {
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "convscope";
    app.apiVersion = VK_API_VERSION_1_1;
    std::vector<const char*> layers, extensions;
    if (validation) {
        if (!layerAvailable(kValidationLayer))
            return Status::error("Vulkan validation was requested but " +
                                     std::string(kValidationLayer) + " is not installed",
                                 "CONVSCOPE_VALIDATION=1",
                                 "Install the Debian package vulkan-validationlayers");
        layers.push_back(kValidationLayer);
        extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    }
    VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ci.pApplicationInfo = &app;
    ci.enabledLayerCount = std::uint32_t(layers.size());
    ci.ppEnabledLayerNames = layers.data();
    ci.enabledExtensionCount = std::uint32_t(extensions.size());
    ci.ppEnabledExtensionNames = extensions.data();
    VkResult r = vkCreateInstance(&ci, nullptr, out);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED)
        return noDriver(r);
    VK_CHECK(r);
    return {};
}

Result<std::vector<VkPhysicalDevice>> physicalDevices(VkInstance instance) {
    std::uint32_t n = 0;
    VK_CHECK(vkEnumeratePhysicalDevices(instance, &n, nullptr));
    std::vector<VkPhysicalDevice> devs(n);
    VK_CHECK(vkEnumeratePhysicalDevices(instance, &n, devs.data()));
    return devs;
}

DeviceInfo describe(VkPhysicalDevice d, std::uint32_t index) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(d, &p);
    return DeviceInfo{index, p.deviceName, p.deviceType, p.apiVersion};
}

int rank(const DeviceInfo& i) {
    switch (i.type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return 3;
    default:
        return 4;
    }
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

Result<std::uint32_t> choose(const std::vector<DeviceInfo>& infos, const std::string& request) {
    if (infos.empty())
        return Status::error("The Vulkan driver reports no devices", "Vulkan device selection",
                             "Install mesa-vulkan-drivers (lavapipe) or use --backend cpu");
    std::string list;
    for (const auto& i : infos)
        list += (list.empty() ? "" : ", ") + std::to_string(i.index) + ": " + i.name;
    if (!request.empty()) {
        const bool numeric = std::all_of(request.begin(), request.end(),
                                         [](unsigned char c) { return std::isdigit(c) != 0; });
        if (numeric) {
            std::uint64_t idx = 0;
            auto [end, ec] = std::from_chars(request.data(), request.data() + request.size(), idx);
            if (ec == std::errc() && end == request.data() + request.size() && idx < infos.size())
                return std::uint32_t(idx);
        } else {
            for (const auto& i : infos)
                if (lower(i.name).find(lower(request)) != std::string::npos)
                    return i.index;
        }
        return Status::error(
            "No Vulkan device matches '" + request + "'", "device selection",
            "Available devices are " + list +
                "; pass an index or part of a name (CONVSCOPE_DEVICE or --device)");
    }
    auto best = std::min_element(infos.begin(), infos.end(),
                                 [](const auto& a, const auto& b) { return rank(a) < rank(b); });
    return best->index;
}

} // namespace

Result<std::vector<DeviceInfo>> Context::listDevices() {
    VkInstance instance = VK_NULL_HANDLE;
    CS_TRY(createInstance(false, &instance));
    auto devs = physicalDevices(instance);
    std::vector<DeviceInfo> infos;
    if (devs.ok())
        for (std::uint32_t i = 0; i < devs->size(); ++i)
            infos.push_back(describe((*devs)[i], i));
    vkDestroyInstance(instance, nullptr);
    if (!devs.ok())
        return devs.status();
    return infos;
}

Result<std::unique_ptr<Context>> Context::create(const ContextOptions& options) {
    std::unique_ptr<Context> ctx(new Context);
    CS_TRY(createInstance(options.validation, &ctx->m_instance));

    if (options.validation) {
        auto createMessenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(ctx->m_instance, "vkCreateDebugUtilsMessengerEXT"));
        if (!createMessenger)
            return Status::error("vkCreateDebugUtilsMessengerEXT is unavailable", "validation");
        VkDebugUtilsMessengerCreateInfoEXT mi{
            VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
        mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                             VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
        mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
        mi.pfnUserCallback = onMessage;
        mi.pUserData = ctx->m_counter.get();
        VK_CHECK(createMessenger(ctx->m_instance, &mi, nullptr, &ctx->m_messenger));
    }

    CS_TRY_ASSIGN(auto devs, physicalDevices(ctx->m_instance));
    std::vector<DeviceInfo> infos;
    for (std::uint32_t i = 0; i < devs.size(); ++i)
        infos.push_back(describe(devs[i], i));
    std::string request = options.device;
    if (request.empty())
        if (const char* env = std::getenv("CONVSCOPE_DEVICE"))
            request = env;
    CS_TRY_ASSIGN(std::uint32_t chosen, choose(infos, request));
    ctx->m_physical = devs[chosen];
    ctx->m_info = infos[chosen];
    vkGetPhysicalDeviceProperties(ctx->m_physical, &ctx->m_props);
    vkGetPhysicalDeviceMemoryProperties(ctx->m_physical, &ctx->m_memProps);

    std::uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->m_physical, &nq, nullptr);
    std::vector<VkQueueFamilyProperties> families(nq);
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->m_physical, &nq, families.data());
    bool found = false;
    for (std::uint32_t i = 0; i < nq && !found; ++i)
        if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            ctx->m_queueFamily = i;
            found = true;
        }
    if (!found)
        return Status::error("Device '" + ctx->m_info.name + "' has no compute queue",
                             "device selection", "Choose another device with CONVSCOPE_DEVICE");

    float priority = 1.0f;
    VkDeviceQueueCreateInfo qi{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qi.queueFamilyIndex = ctx->m_queueFamily;
    qi.queueCount = 1;
    qi.pQueuePriorities = &priority;
    VkDeviceCreateInfo di{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    di.queueCreateInfoCount = 1;
    di.pQueueCreateInfos = &qi;
    VK_CHECK(vkCreateDevice(ctx->m_physical, &di, nullptr, &ctx->m_device));
    vkGetDeviceQueue(ctx->m_device, ctx->m_queueFamily, 0, &ctx->m_queue);
    return ctx;
}

void Context::injectValidationMessageForTesting(const char* text) {
    auto submit = reinterpret_cast<PFN_vkSubmitDebugUtilsMessageEXT>(
        vkGetInstanceProcAddr(m_instance, "vkSubmitDebugUtilsMessageEXT"));
    if (!submit)
        return;
    VkDebugUtilsMessengerCallbackDataEXT data{
        VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CALLBACK_DATA_EXT};
    data.pMessage = text;
    submit(m_instance, VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
           VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT, &data);
}

Context::~Context() {
    if (m_device) {
        vkDeviceWaitIdle(m_device);
        vkDestroyDevice(m_device, nullptr);
    }
    if (m_messenger) {
        auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(m_instance, "vkDestroyDebugUtilsMessengerEXT"));
        if (destroy)
            destroy(m_instance, m_messenger, nullptr);
    }
    if (m_instance)
        vkDestroyInstance(m_instance, nullptr);
}

} // namespace convscope::vk
