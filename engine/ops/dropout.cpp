// dropout: dispatch (shaders/dropout.comp) and the CPU loop with the same hash.
#include "ops/dropout.h"
#include "core/format.h"
#include "core/random.h"
#include "ops/op_support.h"

#include <cmath>

namespace convscope::ops {

namespace {
struct DropoutPush {
    std::uint32_t n, groupsX, seed, threshold;
    float scale;
};
static_assert(sizeof(DropoutPush) <= 128);

std::uint32_t threshold(double rate) {
    return std::uint32_t(std::min(rate * 4294967296.0, 4294967295.0));
}

Status apply(Backend& be, const Dropout& d, const Tensor& in, const Tensor& step, const Tensor& out,
             const char* op) {
    const std::int64_t n = in.numel();
    if (!(d.rate >= 0 && d.rate < 1))
        return Status::error("rate must be in [0, 1) (got " + shortNumber(d.rate) + ")", op);
    CS_TRY(expect(in, n, DType::Real, "input", op));
    CS_TRY(expect(out, n, DType::Real, "output", op));
    CS_TRY(expect(step, 1, DType::I32, "step", op));
    const float scale = float(1.0 / (1.0 - d.rate));
    const std::uint32_t cut = threshold(d.rate);
    if (auto* vk = be.asVulkan()) {
        FlatGrid g = elementwiseGrid(n);
        return vk->dispatch(vk::Kernel::Dropout, {in, out, step},
                            DropoutPush{std::uint32_t(n), g.groupsX, d.seed, cut, scale}, g.groups);
    }
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T* src = c.real(in);
        T* dst = c.real(out);
        const T sc = T(1) / (T(1) - T(d.rate)); // in T: the double oracle stays exact
        const std::uint32_t key =
            lowbias32(d.seed ^ lowbias32(std::uint32_t(c.i32(step)[0]) + 0x9e3779b9u));
#pragma omp parallel for if (n > (1 << 16))
        for (std::int64_t i = 0; i < n; ++i) {
            const bool keep = lowbias32(key ^ (std::uint32_t(i) * 0x85ebca6bu)) >= cut;
            dst[i] = keep ? src[i] * sc : T(0);
        }
    });
}
} // namespace

Status dropoutForward(Backend& be, const Dropout& d, const Tensor& x, const Tensor& step,
                      const Tensor& y) {
    return apply(be, d, x, step, y, "dropout forward");
}

Status dropoutBackward(Backend& be, const Dropout& d, const Tensor& dy, const Tensor& step,
                       const Tensor& dx) {
    return apply(be, d, dy, step, dx, "dropout backward");
}

} // namespace convscope::ops
