// axpy: elementwise dispatch (shaders/axpy.comp) and the CPU loop.
#include "ops/axpy.h"
#include "ops/op_support.h"

namespace convscope::ops {

namespace {
struct AxpyPush {
    std::uint32_t n, groupsX;
};
static_assert(sizeof(AxpyPush) <= 128);
} // namespace

Status axpy(Backend& be, const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c,
            const Tensor& y) {
    const char* op = "axpy";
    const std::int64_t n = x.numel();
    CS_TRY(expect(x, n, DType::Real, "x", op));
    CS_TRY(expect(a, n, DType::Real, "a", op));
    CS_TRY(expect(b, n, DType::Real, "b", op));
    CS_TRY(expect(y, n, DType::Real, "y", op));
    if (!c.valid() || c.dtype != DType::Real || c.numel() < 2)
        return Status::error("the coefficients c need two real elements", op);
    if (auto* vk = be.asVulkan()) {
        FlatGrid g = elementwiseGrid(n);
        return vk->dispatch(vk::Kernel::Axpy, {x, a, b, c, y},
                            AxpyPush{std::uint32_t(n), g.groupsX}, g.groups);
    }
    return enqueueCpu(be, [=](auto& ctx) {
        const auto* xs = ctx.real(x);
        const auto* as = ctx.real(a);
        const auto* bs = ctx.real(b);
        const auto* cs = ctx.real(c);
        auto* ys = ctx.real(y);
        const auto alpha = cs[0], beta = cs[1];
#pragma omp parallel for simd if (n > (1 << 16))
        for (std::int64_t i = 0; i < n; ++i)
            ys[i] = xs[i] + alpha * as[i] + beta * bs[i];
    });
}

} // namespace convscope::ops
