// relu: elementwise dispatches (shaders/relu.comp) and the CPU loops.
#include "ops/relu.h"
#include "ops/op_support.h"

namespace convscope::ops {

namespace {
struct ReluPush {
    std::uint32_t n, groupsX;
};
static_assert(sizeof(ReluPush) <= 128);
} // namespace

Status reluForward(Backend& be, const Tensor& x, const Tensor& y) {
    const std::int64_t n = x.numel();
    CS_TRY(expect(x, n, DType::Real, "x", "relu forward"));
    CS_TRY(expect(y, n, DType::Real, "y", "relu forward"));
    if (auto* vk = be.asVulkan()) {
        FlatGrid g = flatGrid(n, kElementwiseLocal * kElementwisePerInvocation);
        return vk->dispatch(vk::Kernel::ReluForward, {x, y}, ReluPush{std::uint32_t(n), g.groupsX},
                            g.groups);
    }
    return enqueueCpu(be, [=](auto& c) {
        const auto* xs = c.real(x);
        auto* ys = c.real(y);
#pragma omp parallel for simd if (n > (1 << 16))
        for (std::int64_t i = 0; i < n; ++i)
            ys[i] = xs[i] > 0 ? xs[i] : 0;
    });
}

Status reluBackward(Backend& be, const Tensor& y, const Tensor& dy, const Tensor& dx) {
    const std::int64_t n = y.numel();
    CS_TRY(expect(y, n, DType::Real, "y", "relu backward"));
    CS_TRY(expect(dy, n, DType::Real, "dy", "relu backward"));
    CS_TRY(expect(dx, n, DType::Real, "dx", "relu backward"));
    if (auto* vk = be.asVulkan()) {
        FlatGrid g = flatGrid(n, kElementwiseLocal * kElementwisePerInvocation);
        return vk->dispatch(vk::Kernel::ReluBackward, {y, dy, dx},
                            ReluPush{std::uint32_t(n), g.groupsX}, g.groups);
    }
    return enqueueCpu(be, [=](auto& c) {
        const auto* ys = c.real(y);
        const auto* dys = c.real(dy);
        auto* dxs = c.real(dx);
#pragma omp parallel for simd if (n > (1 << 16))
        for (std::int64_t i = 0; i < n; ++i)
            dxs[i] = ys[i] > 0 ? dys[i] : 0;
    });
}

} // namespace convscope::ops
