// sgd: elementwise update dispatch (shaders/sgd.comp) and the CPU loop.
#include "ops/sgd.h"
#include "ops/op_support.h"

namespace convscope::ops {

namespace {
struct SgdPush {
    std::uint32_t n, groupsX;
};
static_assert(sizeof(SgdPush) <= 128);
} // namespace

Status sgdUpdate(Backend& be, const Tensor& params, const Tensor& grads, const Tensor& velocity,
                 const Tensor& hyper) {
    const char* op = "sgd";
    const std::int64_t n = params.numel();
    CS_TRY(expect(params, n, DType::Real, "params", op));
    CS_TRY(expect(grads, n, DType::Real, "grads", op));
    CS_TRY(expect(velocity, n, DType::Real, "velocity", op));
    CS_TRY(expect(hyper, 3, DType::Real, "hyper", op));
    if (auto* vk = be.asVulkan()) {
        FlatGrid g = flatGrid(n, kElementwiseLocal * kElementwisePerInvocation);
        return vk->dispatch(vk::Kernel::Sgd, {params, grads, velocity, hyper},
                            SgdPush{std::uint32_t(n), g.groupsX}, g.groups);
    }
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        T* p = c.real(params);
        const T* g = c.real(grads);
        T* v = c.real(velocity);
        const T* h = c.real(hyper);
        const T lr = h[0], mu = h[1], wd = h[2];
#pragma omp parallel for simd if (n > (1 << 16))
        for (std::int64_t i = 0; i < n; ++i) {
            T d = g[i] + wd * p[i];
            if (mu != T(0)) {
                d = mu * v[i] + d;
                v[i] = d;
            }
            p[i] -= lr * d;
        }
    });
}

} // namespace convscope::ops
