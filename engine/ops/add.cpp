// add: elementwise dispatch (shaders/add.comp) and the CPU loop.
#include "ops/add.h"
#include "ops/op_support.h"

namespace convscope::ops {

namespace {
struct AddPush {
    std::uint32_t n, groupsX;
};
static_assert(sizeof(AddPush) <= 128);
} // namespace

Status add(Backend& be, const Tensor& a, const Tensor& b, const Tensor& y) {
    const char* op = "add";
    const std::int64_t n = a.numel();
    CS_TRY(expect(a, n, DType::Real, "a", op));
    CS_TRY(expect(b, n, DType::Real, "b", op));
    CS_TRY(expect(y, n, DType::Real, "y", op));
    if (auto* vk = be.asVulkan()) {
        FlatGrid g = elementwiseGrid(n);
        return vk->dispatch(vk::Kernel::Add, {a, b, y}, AddPush{std::uint32_t(n), g.groupsX},
                            g.groups);
    }
    return enqueueCpu(be, [=](auto& c) {
        const auto* as = c.real(a);
        const auto* bs = c.real(b);
        auto* ys = c.real(y);
#pragma omp parallel for simd if (n > (1 << 16))
        for (std::int64_t i = 0; i < n; ++i)
            ys[i] = as[i] + bs[i];
    });
}

} // namespace convscope::ops
