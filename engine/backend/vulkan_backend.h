// VulkanBackend: arenas in device memory, programs recorded once into command buffers and
// replayed, barriers inserted only where one dispatch depends on another.
#pragma once

#include "backend/backend.h"
#include "vk/arena.h"
#include "vk/context.h"
#include "vk/kernels.h"
#include "vk/tuning.h"
#include <array>
#include <deque>
#include <initializer_list>

namespace convscope {

class VulkanBackend final : public Backend {
public:
    static Result<std::unique_ptr<VulkanBackend>> create(const BackendOptions& options);
    // Test hook: from now on every Vulkan backend answers submits, waits and transfers with
    // VK_ERROR_DEVICE_LOST, as after a driver reset (the work already submitted completes, so
    // nothing is left dangling). false: back to normal for backends created afterwards too.
    static void loseDevicesForTesting(bool lost);
    ~VulkanBackend() override;

    BackendKind kind() const override { return BackendKind::Vulkan; }
    std::string description() const override;
    VulkanBackend* asVulkan() override { return this; }
    std::uint64_t alignment() const override;
    // VK_EXT_memory_budget's heap budget minus usage where the device has it, else heap sizes.
    MemoryBudget memoryBudget() const override;

    Status beginProgram() override;
    Result<ProgramId> endProgram() override;
    void abortProgram() override;
    Result<Ticket> submit(ProgramId program, std::uint32_t repeat) override;
    Status wait(Ticket ticket) override;

    // Records one dispatch of kernel `k` with `bindings` as its storage buffers 0..n-1.
    // `spec` overrides specialization constants from id 0 (local size) on.
    template <class Push>
    Status dispatch(vk::Kernel k, std::initializer_list<Tensor> bindings, const Push& push,
                    std::array<std::uint32_t, 3> groups,
                    std::initializer_list<std::uint32_t> spec = {}) {
        static_assert(sizeof(Push) <= 128, "push constants are limited to 128 bytes");
        return dispatchRaw(k, bindings, &push, sizeof(Push), groups, spec);
    }

    vk::Context& context() { return *m_ctx; }
    const vk::Context& context() const { return *m_ctx; }
    vk::KernelCache& kernels() { return *m_kernels; }
    // Register-tile sizes of the GEMM-like kernels for this device (BackendOptions::tuning).
    const vk::Tuning& tuning() const { return m_tuning; }
    std::size_t barriersInProgram(ProgramId p) const { return m_programs.at(p).barriers; }
    std::size_t dispatchesInProgram(ProgramId p) const { return m_programs.at(p).dispatches; }

protected:
    Status allocateArenas(std::uint64_t deviceBytes, std::uint64_t hostBytes) override;
    std::byte* hostPointer(const Tensor& t) const override;
    Status copyIn(const Tensor& t, const void* src, std::size_t bytes, std::size_t offset) override;
    Status copyOut(const Tensor& t, void* dst, std::size_t bytes, std::size_t offset) override;
    void releaseAll() override;

private:
    VulkanBackend() = default;
    Status dispatchRaw(vk::Kernel k, std::initializer_list<Tensor> bindings, const void* push,
                       std::uint32_t pushBytes, std::array<std::uint32_t, 3> groups,
                       std::initializer_list<std::uint32_t> spec);
    Result<VkDescriptorSet> allocateSet(VkDescriptorSetLayout layout);
    Status copyThroughStaging(const Tensor& t, void* host, std::size_t bytes, std::size_t offset,
                              bool upload);
    Result<VkCommandBuffer> beginOneShot();
    Status endOneShot(VkCommandBuffer cb);
    vk::Arena& arenaOf(const Tensor& t) const {
        return t.placement == Placement::Host ? *m_host : *m_device;
    }

    struct Range {
        int arena;
        std::uint64_t begin, end;
        bool overlaps(const Range& o) const {
            return arena == o.arena && begin < o.end && o.begin < end;
        }
    };
    struct Program {
        VkCommandBuffer cb = VK_NULL_HANDLE;
        std::vector<VkDescriptorPool> pools;
        std::size_t dispatches = 0, barriers = 0;
    };

    std::unique_ptr<vk::Context> m_ctx;
    std::unique_ptr<vk::KernelCache> m_kernels;
    std::unique_ptr<vk::Arena> m_device, m_host;
    bool m_allowMapping = true;
    vk::Tuning m_tuning;
    VkCommandPool m_pool = VK_NULL_HANDLE;
    std::vector<Program> m_programs;
    Program m_current;
    std::vector<Range> m_pendingWrites, m_pendingReads; // since the last barrier
    struct InFlight {
        Ticket ticket;
        VkFence fence;
    };
    std::deque<InFlight> m_inFlight;
    std::vector<VkFence> m_freeFences;
};

} // namespace convscope
