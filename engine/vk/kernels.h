// The kernel registry: one table row per compute kernel, and the cache of compute pipelines built
// from it (one per kernel + specialization constants; the VkPipelineCache is kept on disk).
#pragma once

#include "core/status.h"
#include "vk/context.h"
#include <array>
#include <map>
#include <memory>
#include <span>
#include <vector>

namespace convscope::vk {

enum class Kernel : std::uint32_t {
    Linear,
    ActivationForward,
    ActivationBackward,
    SoftmaxCrossEntropy,
    Optimizer,
    GradNormPartial,
    GradNormFinal,
    GatherBatch,
    MetricsRing,
    Conv2dForward,
    Conv2dBackwardData,
    Conv2dBackwardWeight,
    MaxPool2dForward,
    MaxPool2dBackward,
    AvgPool2dForward,
    AvgPool2dBackward,
    BatchNormForward,
    BatchNormBackward,
    Add,
    Dropout,
    ConcatForward,
    ConcatBackward,
    LayerNormForward,
    LayerNormBackwardData,
    LayerNormBackwardAffine,
    Axpy,
    BatchNormFold,
    Count
};

struct KernelInfo {
    const char* name;
    const std::span<const std::uint32_t>* spirv; // embedded SPIR-V words
    std::uint32_t bindings;                      // storage buffers 0..bindings-1 in set 0
    std::uint32_t writeMask;                     // bit i set: binding i may be written
    std::uint32_t pushBytes;                     // size of the push-constant struct
    std::array<std::uint32_t, 3> localSize;      // default; specialization constants 0, 1, 2
};

const KernelInfo& kernelInfo(Kernel k);

struct Pipeline {
    VkPipeline pipeline = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkDescriptorSetLayout setLayout = VK_NULL_HANDLE;
};

class KernelCache {
public:
    static Result<std::unique_ptr<KernelCache>> create(Context& ctx);
    ~KernelCache(); // saves the pipeline cache
    KernelCache(const KernelCache&) = delete;
    KernelCache& operator=(const KernelCache&) = delete;

    // `spec` holds specialization constants from id 0 on; ids 0..2 are the local size and
    // default to the table's value when `spec` is shorter.
    Result<Pipeline> get(Kernel k, std::span<const std::uint32_t> spec = {});
    std::size_t pipelineCount() const { return m_pipelines.size(); }

    // Where the VkPipelineCache of this device is kept ($CONVSCOPE_CACHE_DIR, else
    // $XDG_CACHE_HOME/convscope, else ~/.cache/convscope).
    static std::string cacheFilePath(const Context& ctx);
    Status save() const;

private:
    explicit KernelCache(Context& ctx) : m_ctx(ctx) {}
    Result<Pipeline> layoutFor(Kernel k);

    Context& m_ctx;
    VkPipelineCache m_cache = VK_NULL_HANDLE;
    std::array<Pipeline, std::size_t(Kernel::Count)> m_layouts{};
    std::map<std::pair<Kernel, std::vector<std::uint32_t>>, VkPipeline> m_pipelines;
};

} // namespace convscope::vk
