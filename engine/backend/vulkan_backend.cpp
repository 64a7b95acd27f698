// VulkanBackend: recording, hazard-tracked barriers, replay with fences, staging transfers.
#include "backend/vulkan_backend.h"
#include "vk/check.h"
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

namespace convscope {

namespace {
std::atomic<bool> g_devicesLost{false};
#define CS_DEVICE_LOST_HOOK(call)                                                                  \
    if (g_devicesLost.load())                                                                      \
        return vk::failure(call, VK_ERROR_DEVICE_LOST, __FILE__, __LINE__);
} // namespace

Result<std::unique_ptr<VulkanBackend>> VulkanBackend::create(const BackendOptions& o) {
    std::unique_ptr<VulkanBackend> be(new VulkanBackend);
    vk::ContextOptions co;
    co.device = o.device;
    co.validation = o.validation || vk::validationRequestedByEnvironment();
    CS_TRY_ASSIGN(be->m_ctx, vk::Context::create(co));
    CS_TRY_ASSIGN(be->m_kernels, vk::KernelCache::create(*be->m_ctx));
    be->m_allowMapping = o.allowMapping;
    // CONVSCOPE_TUNING overrides "auto" (bench/gpu.sh times both profiles on one device).
    std::string tuning = o.tuning;
    if (const char* env = std::getenv("CONVSCOPE_TUNING"); env && *env && tuning == "auto")
        tuning = env;
    if (tuning != "auto" && tuning != "cpu" && tuning != "gpu")
        return Status::error("unknown tuning profile '" + tuning + "'", "BackendOptions",
                             "Use auto, cpu or gpu (BackendOptions::tuning or CONVSCOPE_TUNING)");
    be->m_tuning = vk::Tuning::forDevice(*be->m_ctx, tuning);
    VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pi.queueFamilyIndex = be->m_ctx->queueFamily();
    VK_CHECK(vkCreateCommandPool(be->m_ctx->device(), &pi, nullptr, &be->m_pool));
    return be;
}

VulkanBackend::~VulkanBackend() {
    if (!m_ctx)
        return;
    VkDevice d = m_ctx->device();
    vkDeviceWaitIdle(d);
    releaseAll();
    for (auto& f : m_inFlight)
        vkDestroyFence(d, f.fence, nullptr);
    for (VkFence f : m_freeFences)
        vkDestroyFence(d, f, nullptr);
    if (m_pool)
        vkDestroyCommandPool(d, m_pool, nullptr);
    m_kernels.reset();
}

void VulkanBackend::releaseAll() {
    VkDevice d = m_ctx->device();
    vkDeviceWaitIdle(d);
    abortProgram();
    for (auto& p : m_programs) {
        for (VkDescriptorPool pool : p.pools)
            vkDestroyDescriptorPool(d, pool, nullptr);
        if (p.cb)
            vkFreeCommandBuffers(d, m_pool, 1, &p.cb);
    }
    m_programs.clear();
    m_device.reset();
    m_host.reset();
}

std::string VulkanBackend::description() const {
    const auto& i = m_ctx->info();
    return "Vulkan on " + i.name + " (" + i.typeName() + "), " + m_tuning.profile + " tiles" +
           (m_ctx->validationEnabled() ? ", validation on" : "");
}

std::uint64_t VulkanBackend::alignment() const {
    return std::max<std::uint64_t>(64, m_ctx->properties().limits.minStorageBufferOffsetAlignment);
}

Backend::MemoryBudget VulkanBackend::memoryBudget() const {
    const VkPhysicalDevice phys = m_ctx->physicalDevice();
    std::uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(phys, nullptr, &n, nullptr);
    std::vector<VkExtensionProperties> extensions(n);
    vkEnumerateDeviceExtensionProperties(phys, nullptr, &n, extensions.data());
    const bool hasBudget =
        std::any_of(extensions.begin(), extensions.end(), [](const VkExtensionProperties& e) {
            return std::strcmp(e.extensionName, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME) == 0;
        });
    VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    VkPhysicalDeviceMemoryProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
    if (hasBudget) {
        props.pNext = &budget;
        vkGetPhysicalDeviceMemoryProperties2(phys, &props);
    }
    const VkPhysicalDeviceMemoryProperties& mp = m_ctx->memoryProperties();
    auto heapOf = [&](VkMemoryPropertyFlags want) -> int {
        for (std::uint32_t t = 0; t < mp.memoryTypeCount; ++t)
            if ((mp.memoryTypes[t].propertyFlags & want) == want)
                return int(mp.memoryTypes[t].heapIndex);
        return -1;
    };
    auto available = [&](int heap) -> std::uint64_t {
        if (heap < 0)
            return 0;
        if (!hasBudget)
            return mp.memoryHeaps[heap].size;
        return budget.heapBudget[heap] > budget.heapUsage[heap]
                   ? budget.heapBudget[heap] - budget.heapUsage[heap]
                   : 0;
    };
    const int device = heapOf(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    const int host =
        heapOf(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    MemoryBudget b;
    b.device = available(device);
    b.host = available(host);
    b.shared = device == host;
    b.where = "the " + std::string(hasBudget ? "memory budget" : "memory heap") + " of " +
              m_ctx->info().name;
    return b;
}

Status VulkanBackend::allocateArenas(std::uint64_t deviceBytes, std::uint64_t hostBytes) {
    CS_TRY_ASSIGN(m_device,
                  vk::Arena::create(*m_ctx, deviceBytes, vk::Arena::Kind::Device, m_allowMapping));
    CS_TRY_ASSIGN(m_host, vk::Arena::create(*m_ctx, hostBytes, vk::Arena::Kind::Host));
    return {};
}

std::byte* VulkanBackend::hostPointer(const Tensor& t) const {
    assert(t.placement == Placement::Host);
    return m_host->mapped() + t.offset;
}

// --- transfers

Result<VkCommandBuffer> VulkanBackend::beginOneShot() {
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = m_pool;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    VkCommandBuffer cb;
    VK_CHECK(vkAllocateCommandBuffers(m_ctx->device(), &ai, &cb));
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    VK_CHECK(vkBeginCommandBuffer(cb, &bi));
    return cb;
}

Status VulkanBackend::endOneShot(VkCommandBuffer cb) {
    auto submitAndWait = [&]() -> Status {
        VK_CHECK(vkEndCommandBuffer(cb));
        VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
        si.commandBufferCount = 1;
        si.pCommandBuffers = &cb;
        VK_CHECK(vkQueueSubmit(m_ctx->queue(), 1, &si, VK_NULL_HANDLE));
        VK_CHECK(vkQueueWaitIdle(m_ctx->queue()));
        return {};
    };
    Status s = submitAndWait();
    vkFreeCommandBuffers(m_ctx->device(), m_pool, 1, &cb);
    return s;
}

Status VulkanBackend::copyThroughStaging(const Tensor& t, void* host, std::size_t bytes,
                                         std::size_t offset, bool upload) {
    CS_TRY_ASSIGN(auto staging, vk::Arena::create(*m_ctx, bytes, vk::Arena::Kind::Host));
    if (upload)
        std::memcpy(staging->mapped(), host, bytes);
    CS_TRY_ASSIGN(VkCommandBuffer cb, beginOneShot());
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
    VkBufferCopy region{};
    region.size = bytes;
    if (upload) {
        region.dstOffset = t.offset + offset;
        vkCmdCopyBuffer(cb, staging->buffer(), arenaOf(t).buffer(), 1, &region);
    } else {
        region.srcOffset = t.offset + offset;
        vkCmdCopyBuffer(cb, arenaOf(t).buffer(), staging->buffer(), 1, &region);
        mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
        mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
        vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                             &mb, 0, nullptr, 0, nullptr);
    }
    CS_TRY(endOneShot(cb));
    if (!upload)
        std::memcpy(host, staging->mapped(), bytes);
    return {};
}

Status VulkanBackend::copyIn(const Tensor& t, const void* src, std::size_t bytes,
                             std::size_t offset) {
    CS_DEVICE_LOST_HOOK("vkMapMemory");
    CS_TRY(finish());
    if (std::byte* m = arenaOf(t).mapped()) {
        std::memcpy(m + t.offset + offset, src, bytes);
        return {};
    }
    return copyThroughStaging(t, const_cast<void*>(src), bytes, offset, true);
}

Status VulkanBackend::copyOut(const Tensor& t, void* dst, std::size_t bytes, std::size_t offset) {
    CS_DEVICE_LOST_HOOK("vkMapMemory");
    CS_TRY(finish());
    if (std::byte* m = arenaOf(t).mapped()) {
        std::memcpy(dst, m + t.offset + offset, bytes);
        return {};
    }
    return copyThroughStaging(t, dst, bytes, offset, false);
}

// --- programs

Status VulkanBackend::beginProgram() {
    if (m_recording)
        return Status::error("beginProgram() while already recording", "VulkanBackend");
    if (!allocated())
        return Status::error("beginProgram() before allocate()", "VulkanBackend");
    m_current = Program{};
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = m_pool;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    VK_CHECK(vkAllocateCommandBuffers(m_ctx->device(), &ai, &m_current.cb));
    m_recording = true; // from here on abortProgram() frees what was made
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    // The same program is submitted several times back to back (one step after another).
    bi.flags = VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT;
    VK_CHECK(vkBeginCommandBuffer(m_current.cb, &bi));
    // Replays follow earlier submits and transfers on the same queue: make their writes visible.
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
    vkCmdPipelineBarrier(m_current.cb,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
    m_pendingWrites.clear();
    m_pendingReads.clear();
    return {};
}

Result<ProgramId> VulkanBackend::endProgram() {
    if (!m_recording)
        return Status::error("endProgram() without beginProgram()", "VulkanBackend");
    // Results are read by the host (metric ring) and by later transfers.
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT;
    vkCmdPipelineBarrier(m_current.cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                         nullptr, 0, nullptr);
    if (VkResult r = vkEndCommandBuffer(m_current.cb); r != VK_SUCCESS) {
        abortProgram();
        return vk::failure("vkEndCommandBuffer", r, __FILE__, __LINE__);
    }
    m_programs.push_back(std::move(m_current));
    m_current = Program{};
    m_recording = false;
    return ProgramId(m_programs.size() - 1);
}

void VulkanBackend::abortProgram() {
    VkDevice d = m_ctx->device();
    for (VkDescriptorPool pool : m_current.pools)
        vkDestroyDescriptorPool(d, pool, nullptr);
    if (m_current.cb)
        vkFreeCommandBuffers(d, m_pool, 1, &m_current.cb);
    m_current = Program{};
    m_recording = false;
}

Result<VkDescriptorSet> VulkanBackend::allocateSet(VkDescriptorSetLayout layout) {
    constexpr std::uint32_t kSets = 64, kDescriptors = 64 * 8;
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!m_current.pools.empty()) {
            VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
            ai.descriptorPool = m_current.pools.back();
            ai.descriptorSetCount = 1;
            ai.pSetLayouts = &layout;
            VkDescriptorSet set;
            VkResult r = vkAllocateDescriptorSets(m_ctx->device(), &ai, &set);
            if (r == VK_SUCCESS)
                return set;
            if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
                return vk::failure("vkAllocateDescriptorSets", r, __FILE__, __LINE__);
        }
        VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kDescriptors};
        VkDescriptorPoolCreateInfo pi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
        pi.maxSets = kSets;
        pi.poolSizeCount = 1;
        pi.pPoolSizes = &size;
        VkDescriptorPool pool;
        VK_CHECK(vkCreateDescriptorPool(m_ctx->device(), &pi, nullptr, &pool));
        m_current.pools.push_back(pool);
    }
    return Status::error("descriptor set allocation failed twice", "VulkanBackend");
}

Status VulkanBackend::dispatchRaw(vk::Kernel k, std::initializer_list<Tensor> bindings,
                                  const void* push, std::uint32_t pushBytes,
                                  std::array<std::uint32_t, 3> groups,
                                  std::initializer_list<std::uint32_t> spec) {
    const vk::KernelInfo& info = vk::kernelInfo(k);
    if (!m_recording)
        return Status::error("dispatch outside beginProgram()/endProgram()", info.name);
    if (bindings.size() != info.bindings || pushBytes != info.pushBytes)
        return Status::error("binding count or push-constant size differs from the kernel table",
                             info.name);
    const auto& limits = m_ctx->properties().limits;
    for (int d = 0; d < 3; ++d)
        if (groups[d] == 0 || groups[d] > limits.maxComputeWorkGroupCount[d])
            return Status::error("workgroup count " + std::to_string(groups[d]) +
                                     " out of range in dimension " + std::to_string(d),
                                 info.name);
    CS_TRY_ASSIGN(vk::Pipeline p, m_kernels->get(k, std::span(spec.begin(), spec.size())));
    CS_TRY_ASSIGN(VkDescriptorSet set, allocateSet(p.setLayout));

    std::vector<VkDescriptorBufferInfo> infos;
    std::vector<VkWriteDescriptorSet> writes;
    std::vector<Range> reads, writesR;
    infos.reserve(bindings.size());
    std::uint32_t i = 0;
    for (const Tensor& t : bindings) {
        if (!t.valid())
            return Status::error("binding " + std::to_string(i) + " is an empty tensor", info.name);
        if (t.bytes > limits.maxStorageBufferRange)
            return Status::error("tensor of " + std::to_string(t.bytes >> 20) +
                                     " MiB exceeds the device's storage-buffer range",
                                 info.name, "Reduce the batch size or the dataset");
        infos.push_back({arenaOf(t).buffer(), t.offset, t.bytes});
        VkWriteDescriptorSet w{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
        w.dstSet = set;
        w.dstBinding = i;
        w.descriptorCount = 1;
        w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        w.pBufferInfo = &infos.back();
        writes.push_back(w);
        Range r{int(t.placement), t.offset, t.offset + t.bytes};
        ((info.writeMask >> i) & 1 ? writesR : reads).push_back(r);
        ++i;
    }
    vkUpdateDescriptorSets(m_ctx->device(), std::uint32_t(writes.size()), writes.data(), 0,
                           nullptr);

    // A barrier is needed when this dispatch reads or writes what an earlier one (since the last
    // barrier) wrote, or writes what an earlier one reads.
    auto hits = [](const std::vector<Range>& a, const std::vector<Range>& b) {
        for (const auto& x : a)
            for (const auto& y : b)
                if (x.overlaps(y))
                    return true;
        return false;
    };
    if (hits(reads, m_pendingWrites) || hits(writesR, m_pendingWrites) ||
        hits(writesR, m_pendingReads)) {
        VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT;
        mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
        vkCmdPipelineBarrier(m_current.cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                             VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0, nullptr, 0,
                             nullptr);
        m_pendingWrites.clear();
        m_pendingReads.clear();
        ++m_current.barriers;
    }
    m_pendingReads.insert(m_pendingReads.end(), reads.begin(), reads.end());
    m_pendingWrites.insert(m_pendingWrites.end(), writesR.begin(), writesR.end());

    vkCmdBindPipeline(m_current.cb, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline);
    vkCmdBindDescriptorSets(m_current.cb, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, 1, &set, 0,
                            nullptr);
    if (pushBytes)
        vkCmdPushConstants(m_current.cb, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, pushBytes, push);
    vkCmdDispatch(m_current.cb, groups[0], groups[1], groups[2]);
    ++m_current.dispatches;
    return {};
}

void VulkanBackend::loseDevicesForTesting(bool lost) {
    g_devicesLost = lost;
}

Result<Ticket> VulkanBackend::submit(ProgramId program, std::uint32_t repeat) {
    CS_DEVICE_LOST_HOOK("vkQueueSubmit");
    if (program >= m_programs.size() || repeat == 0)
        return Status::error("submit of an unknown program", "VulkanBackend");
    VkFence fence;
    if (!m_freeFences.empty()) {
        fence = m_freeFences.back();
        m_freeFences.pop_back();
        VK_CHECK(vkResetFences(m_ctx->device(), 1, &fence));
    } else {
        VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        VK_CHECK(vkCreateFence(m_ctx->device(), &fi, nullptr, &fence));
    }
    std::vector<VkCommandBuffer> cbs(repeat, m_programs[program].cb);
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = repeat;
    si.pCommandBuffers = cbs.data();
    VkResult r = vkQueueSubmit(m_ctx->queue(), 1, &si, fence);
    if (r != VK_SUCCESS) {
        m_freeFences.push_back(fence);
        return vk::failure("vkQueueSubmit", r, __FILE__, __LINE__);
    }
    m_inFlight.push_back({++m_lastTicket, fence});
    return m_lastTicket;
}

Status VulkanBackend::wait(Ticket ticket) {
    while (!m_inFlight.empty() && m_inFlight.front().ticket <= ticket) {
        InFlight f = m_inFlight.front();
        VkResult r = vkWaitForFences(m_ctx->device(), 1, &f.fence, VK_TRUE, UINT64_MAX);
        if (r != VK_SUCCESS)
            return vk::failure("vkWaitForFences", r, __FILE__, __LINE__);
        m_inFlight.pop_front();
        m_freeFences.push_back(f.fence);
        CS_DEVICE_LOST_HOOK("vkWaitForFences");
    }
    return {};
}

} // namespace convscope
