// The registry table of compute kernels and pipeline creation from it.
#include "vk/kernels.h"
#include "vk/check.h"

#include "convscope_spirv.h"
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace convscope::vk {

namespace {

// name, SPIR-V, bindings, written bindings, push-constant bytes, default local size.
// The push sizes are checked against each op's C++ struct when it dispatches.
const KernelInfo kKernels[] = {
    {"linear", &spirv::linear, 4, 0b1100, 32, {8, 8, 1}},
    {"activation_forward", &spirv::activation_forward, 2, 0b10, 16, {64, 1, 1}},
    {"activation_backward", &spirv::activation_backward, 3, 0b100, 16, {64, 1, 1}},
    {"softmax_cross_entropy", &spirv::softmax_cross_entropy, 4, 0b1100, 8, {64, 1, 1}},
    {"optimizer", &spirv::optimizer, 7, 0b0001101, 12, {64, 1, 1}},
    {"grad_norm_partial", &spirv::grad_norm_partial, 2, 0b10, 4, {64, 1, 1}},
    {"grad_norm_final", &spirv::grad_norm_final, 3, 0b010, 4, {64, 1, 1}},
    {"gather_batch", &spirv::gather_batch, 6, 0b110000, 40, {64, 1, 1}},
    {"metrics_ring", &spirv::metrics_ring, 3, 0b110, 4, {1, 1, 1}},
    {"conv2d_forward", &spirv::conv2d_forward, 4, 0b1000, 68, {64, 1, 1}},
    {"conv2d_backward_data", &spirv::conv2d_backward_data, 3, 0b100, 68, {64, 1, 1}},
    {"conv2d_backward_weight", &spirv::conv2d_backward_weight, 4, 0b1100, 68, {64, 1, 1}},
    {"max_pool2d_forward", &spirv::max_pool2d_forward, 3, 0b110, 48, {64, 1, 1}},
    {"max_pool2d_backward", &spirv::max_pool2d_backward, 3, 0b010, 48, {64, 1, 1}},
    {"avg_pool2d_forward", &spirv::avg_pool2d_forward, 2, 0b10, 48, {64, 1, 1}},
    {"avg_pool2d_backward", &spirv::avg_pool2d_backward, 2, 0b10, 48, {64, 1, 1}},
    {"batch_norm_forward", &spirv::batch_norm_forward, 8, 0b11111000, 24, {64, 1, 1}},
    {"batch_norm_backward", &spirv::batch_norm_backward, 8, 0b11100000, 24, {64, 1, 1}},
    {"add", &spirv::add, 3, 0b100, 8, {64, 1, 1}},
    {"dropout", &spirv::dropout, 3, 0b010, 20, {64, 1, 1}},
    {"concat_forward", &spirv::concat_forward, 2, 0b10, 24, {64, 1, 1}},
    {"concat_backward", &spirv::concat_backward, 2, 0b10, 24, {64, 1, 1}},
    {"layer_norm_forward", &spirv::layer_norm_forward, 6, 0b111000, 12, {64, 1, 1}},
    {"layer_norm_backward_data", &spirv::layer_norm_backward_data, 6, 0b100000, 12, {64, 1, 1}},
    {"layer_norm_backward_affine", &spirv::layer_norm_backward_affine, 6, 0b110000, 12, {64, 1, 1}},
    {"axpy", &spirv::axpy, 5, 0b10000, 8, {64, 1, 1}},
    {"batch_norm_fold", &spirv::batch_norm_fold, 8, 0b11000000, 16, {64, 1, 1}},
};
static_assert(std::size(kKernels) == std::size_t(Kernel::Count), "one table row per Kernel");

} // namespace

const KernelInfo& kernelInfo(Kernel k) {
    return kKernels[std::size_t(k)];
}

std::string KernelCache::cacheFilePath(const Context& ctx) {
    namespace fs = std::filesystem;
    fs::path dir;
    if (const char* d = std::getenv("CONVSCOPE_CACHE_DIR"); d && *d)
        dir = d;
    else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
        dir = fs::path(x) / "convscope";
    else if (const char* h = std::getenv("HOME"); h && *h)
        dir = fs::path(h) / ".cache" / "convscope";
    else
        dir = fs::temp_directory_path() / "convscope";
    const auto& p = ctx.properties();
    char name[128];
    std::snprintf(name, sizeof name, "pipelines-%04x-%04x-%02x%02x%02x%02x.bin", p.vendorID,
                  p.deviceID, p.pipelineCacheUUID[0], p.pipelineCacheUUID[1],
                  p.pipelineCacheUUID[2], p.pipelineCacheUUID[3]);
    return (dir / name).string();
}

Result<std::unique_ptr<KernelCache>> KernelCache::create(Context& ctx) {
    std::unique_ptr<KernelCache> kc(new KernelCache(ctx));
    std::vector<char> data;
    std::ifstream in(cacheFilePath(ctx), std::ios::binary);
    if (in)
        data.assign(std::istreambuf_iterator<char>(in), {});
    // The driver checks the header (vendor, device, cache UUID) and ignores a foreign blob, but a
    // truncated file is dropped here before it gets that far.
    if (data.size() < 32)
        data.clear();
    VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
    ci.initialDataSize = data.size();
    ci.pInitialData = data.empty() ? nullptr : data.data();
    if (vkCreatePipelineCache(ctx.device(), &ci, nullptr, &kc->m_cache) != VK_SUCCESS) {
        ci.initialDataSize = 0;
        ci.pInitialData = nullptr;
        VK_CHECK(vkCreatePipelineCache(ctx.device(), &ci, nullptr, &kc->m_cache));
    }
    return kc;
}

Status KernelCache::save() const {
    namespace fs = std::filesystem;
    std::size_t size = 0;
    VK_CHECK(vkGetPipelineCacheData(m_ctx.device(), m_cache, &size, nullptr));
    std::vector<char> data(size);
    VK_CHECK(vkGetPipelineCacheData(m_ctx.device(), m_cache, &size, data.data()));
    fs::path path = cacheFilePath(m_ctx);
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    fs::path tmp = path;
    tmp += ".tmp." + std::to_string(::getpid()); // concurrent processes share the cache folder
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(data.data(), std::streamsize(size));
        if (!out)
            return Status::error(
                "Cannot write the pipeline cache", tmp.string(),
                "Check the permissions of the cache folder or set CONVSCOPE_CACHE_DIR");
    }
    fs::rename(tmp, path, ec);
    if (ec)
        return Status::error("Cannot replace the pipeline cache: " + ec.message(), path.string());
    return {};
}

Result<Pipeline> KernelCache::layoutFor(Kernel k) {
    Pipeline& l = m_layouts[std::size_t(k)];
    if (l.layout)
        return l;
    const KernelInfo& info = kernelInfo(k);
    std::vector<VkDescriptorSetLayoutBinding> b(info.bindings);
    for (std::uint32_t i = 0; i < info.bindings; ++i)
        b[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    VkDescriptorSetLayoutCreateInfo di{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    di.bindingCount = info.bindings;
    di.pBindings = b.data();
    VK_CHECK(vkCreateDescriptorSetLayout(m_ctx.device(), &di, nullptr, &l.setLayout));
    VkPushConstantRange pc{VK_SHADER_STAGE_COMPUTE_BIT, 0, info.pushBytes};
    VkPipelineLayoutCreateInfo li{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    li.setLayoutCount = 1;
    li.pSetLayouts = &l.setLayout;
    li.pushConstantRangeCount = info.pushBytes ? 1 : 0;
    li.pPushConstantRanges = &pc;
    VK_CHECK(vkCreatePipelineLayout(m_ctx.device(), &li, nullptr, &l.layout));
    return l;
}

Result<Pipeline> KernelCache::get(Kernel k, std::span<const std::uint32_t> spec) {
    const KernelInfo& info = kernelInfo(k);
    std::vector<std::uint32_t> values(info.localSize.begin(), info.localSize.end());
    for (std::size_t i = 0; i < spec.size(); ++i) {
        if (i >= values.size())
            values.push_back(spec[i]);
        else
            values[i] = spec[i];
    }
    CS_TRY_ASSIGN(Pipeline p, layoutFor(k));
    auto key = std::make_pair(k, values);
    if (auto it = m_pipelines.find(key); it != m_pipelines.end()) {
        p.pipeline = it->second;
        return p;
    }
    const std::span<const std::uint32_t> words = *info.spirv;
    VkShaderModuleCreateInfo si{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    si.codeSize = words.size_bytes();
    si.pCode = words.data();
    VkShaderModule module = VK_NULL_HANDLE;
    VK_CHECK(vkCreateShaderModule(m_ctx.device(), &si, nullptr, &module));

    std::vector<VkSpecializationMapEntry> entries(values.size());
    for (std::uint32_t i = 0; i < values.size(); ++i)
        entries[i] = {i, i * std::uint32_t(sizeof(std::uint32_t)), sizeof(std::uint32_t)};
    VkSpecializationInfo sp{std::uint32_t(entries.size()), entries.data(),
                            values.size() * sizeof(std::uint32_t), values.data()};
    VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    ci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
    ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    ci.stage.module = module;
    ci.stage.pName = "main";
    ci.stage.pSpecializationInfo = &sp;
    ci.layout = p.layout;
    VkResult r = vkCreateComputePipelines(m_ctx.device(), m_cache, 1, &ci, nullptr, &p.pipeline);
    vkDestroyShaderModule(m_ctx.device(), module, nullptr);
    if (r != VK_SUCCESS)
        return failure(info.name, r, __FILE__, __LINE__);
    m_pipelines.emplace(std::move(key), p.pipeline);
    return p;
}

KernelCache::~KernelCache() {
    if (m_cache) {
        if (Status s = save(); !s.ok())
            std::fprintf(stderr, "convscope: %s\n", s.message().c_str());
    }
    for (auto& [key, pipeline] : m_pipelines)
        vkDestroyPipeline(m_ctx.device(), pipeline, nullptr);
    for (auto& l : m_layouts) {
        if (l.layout)
            vkDestroyPipelineLayout(m_ctx.device(), l.layout, nullptr);
        if (l.setLayout)
            vkDestroyDescriptorSetLayout(m_ctx.device(), l.setLayout, nullptr);
    }
    if (m_cache)
        vkDestroyPipelineCache(m_ctx.device(), m_cache, nullptr);
}

} // namespace convscope::vk
