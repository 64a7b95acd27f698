// Arena: one VkBuffer over one VkDeviceMemory allocation; tensors are offsets into it.
#pragma once

#include "core/status.h"
#include "vk/context.h"
#include <memory>

namespace convscope::vk {

class Arena {
public:
    enum class Kind { Device, Host };
    // Device arenas prefer DEVICE_LOCAL memory; host arenas need HOST_VISIBLE|HOST_COHERENT.
    // `allowMapping` false forces the staging path even where device memory is mappable (tests).
    static Result<std::unique_ptr<Arena>> create(Context& ctx, VkDeviceSize bytes, Kind kind,
                                                 bool allowMapping = true);
    ~Arena();
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;

    VkBuffer buffer() const { return m_buffer; }
    VkDeviceSize size() const { return m_size; }
    // Host pointer to the start of the arena, or nullptr when it must be reached through staging.
    std::byte* mapped() const { return m_mapped; }

private:
    Arena(Context& ctx) : m_ctx(ctx) {}
    Context& m_ctx;
    VkBuffer m_buffer = VK_NULL_HANDLE;
    VkDeviceMemory m_memory = VK_NULL_HANDLE;
    VkDeviceSize m_size = 0;
    std::byte* m_mapped = nullptr;
};

} // namespace convscope::vk
