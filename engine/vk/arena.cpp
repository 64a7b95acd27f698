// Arena allocation: memory-type choice and persistent mapping.
#include "vk/arena.h"
#include "vk/check.h"

namespace convscope::vk {

namespace {

int findMemoryType(const VkPhysicalDeviceMemoryProperties& props, std::uint32_t typeBits,
                   VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred) {
    int fallback = -1;
    for (std::uint32_t i = 0; i < props.memoryTypeCount; ++i) {
        if (!(typeBits & (1u << i)))
            continue;
        VkMemoryPropertyFlags f = props.memoryTypes[i].propertyFlags;
        if ((f & required) != required)
            continue;
        if ((f & preferred) == preferred)
            return int(i);
        if (fallback < 0)
            fallback = int(i);
    }
    return fallback;
}

} // namespace

Result<std::unique_ptr<Arena>> Arena::create(Context& ctx, VkDeviceSize bytes, Kind kind,
                                             bool allowMapping) {
    std::unique_ptr<Arena> a(new Arena(ctx));
    a->m_size = bytes;
    VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = bytes;
    bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    VK_CHECK(vkCreateBuffer(ctx.device(), &bi, nullptr, &a->m_buffer));

    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(ctx.device(), a->m_buffer, &req);
    const VkMemoryPropertyFlags hostFlags =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    // Host arenas are read back by the host (metric ring, staging): cached memory reads fast,
    // while write-combined BAR memory is small and slow to read.
    int type = kind == Kind::Host ? findMemoryType(ctx.memoryProperties(), req.memoryTypeBits,
                                                   hostFlags, VK_MEMORY_PROPERTY_HOST_CACHED_BIT)
                                  : findMemoryType(ctx.memoryProperties(), req.memoryTypeBits,
                                                   VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    if (type < 0 && kind == Kind::Device)
        type = findMemoryType(ctx.memoryProperties(), req.memoryTypeBits, 0, 0);
    if (type < 0)
        return Status::error("No suitable Vulkan memory type for a " +
                                 std::string(kind == Kind::Host ? "host" : "device") + " arena",
                             ctx.info().name, "Use --backend cpu");

    VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    ai.allocationSize = req.size;
    ai.memoryTypeIndex = std::uint32_t(type);
    VkResult r = vkAllocateMemory(ctx.device(), &ai, nullptr, &a->m_memory);
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
        return Status::error("Out of memory allocating " + std::to_string(bytes >> 20) +
                                 " MiB for the tensors",
                             ctx.info().name, "Reduce the batch size or the network");
    VK_CHECK(r);
    VK_CHECK(vkBindBufferMemory(ctx.device(), a->m_buffer, a->m_memory, 0));

    VkMemoryPropertyFlags flags = ctx.memoryProperties().memoryTypes[type].propertyFlags;
    bool mappable = (flags & hostFlags) == hostFlags && (allowMapping || kind == Kind::Host);
    if (mappable) {
        void* p = nullptr;
        VK_CHECK(vkMapMemory(ctx.device(), a->m_memory, 0, VK_WHOLE_SIZE, 0, &p));
        a->m_mapped = static_cast<std::byte*>(p);
    }
    return a;
}

Arena::~Arena() {
    if (m_mapped)
        vkUnmapMemory(m_ctx.device(), m_memory);
    if (m_buffer)
        vkDestroyBuffer(m_ctx.device(), m_buffer, nullptr);
    if (m_memory)
        vkFreeMemory(m_ctx.device(), m_memory, nullptr);
}

} // namespace convscope::vk
