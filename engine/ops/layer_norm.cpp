// layer_norm: per-sample workgroups plus a per-feature reduction on Vulkan
// (shaders/layer_norm.comp); the CPU loops use the same two-pass statistics.
#include "ops/layer_norm.h"
#include "ops/op_support.h"

#include <cmath>

namespace convscope::ops {

namespace {
struct LayerNormPush {
    std::uint32_t N, D;
    float eps;
};
static_assert(sizeof(LayerNormPush) <= 128);
constexpr std::uint32_t kLocal = 64;

Status checkShape(const LayerNormShape& s, const char* op) {
    if (s.batch <= 0 || s.features <= 0 || !(s.eps > 0))
        return Status::error("sizes and ε must be positive", op);
    if (s.batch > 65535)
        return Status::error("batch above 65535", op, "Use a smaller batch size");
    return {};
}
} // namespace

Status layerNormForward(Backend& be, const LayerNormShape& s, const Tensor& x, const Tensor& gamma,
                        const Tensor& beta, const Tensor& mean, const Tensor& invstd,
                        const Tensor& y) {
    const char* op = "layer_norm forward";
    CS_TRY(checkShape(s, op));
    CS_TRY(expect(x, s.elements(), DType::Real, "x", op));
    CS_TRY(expect(y, s.elements(), DType::Real, "y", op));
    CS_TRY(expect(gamma, s.features, DType::Real, "gamma", op));
    CS_TRY(expect(beta, s.features, DType::Real, "beta", op));
    CS_TRY(expect(mean, s.batch, DType::Real, "mean", op));
    CS_TRY(expect(invstd, s.batch, DType::Real, "invstd", op));
    const LayerNormPush push{std::uint32_t(s.batch), std::uint32_t(s.features), float(s.eps)};
    if (auto* vk = be.asVulkan())
        return vk->dispatch(vk::Kernel::LayerNormForward, {x, gamma, beta, mean, invstd, y}, push,
                            {std::uint32_t(s.batch), 1, 1}, {kLocal, 1, 1});
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T *xs = c.real(x), *g = c.real(gamma), *b = c.real(beta);
        T *ys = c.real(y), *mu = c.real(mean), *inv = c.real(invstd);
        const std::int64_t D = s.features;
#pragma omp parallel for if (s.elements() > (1 << 15))
        for (std::int64_t n = 0; n < s.batch; ++n) {
            const T* row = xs + n * D;
            T sum = 0, sq = 0;
            // simd reductions: without them GCC keeps float sums scalar (no reassociation).
#pragma omp simd reduction(+ : sum)
            for (std::int64_t d = 0; d < D; ++d)
                sum += row[d];
            const T m = sum / T(D);
#pragma omp simd reduction(+ : sq)
            for (std::int64_t d = 0; d < D; ++d)
                sq += (row[d] - m) * (row[d] - m);
            const T is = T(1) / std::sqrt(sq / T(D) + T(s.eps));
            mu[n] = m;
            inv[n] = is;
            for (std::int64_t d = 0; d < D; ++d)
                ys[n * D + d] = g[d] * (row[d] - m) * is + b[d];
        }
    });
}

Status layerNormBackward(Backend& be, const LayerNormShape& s, const Tensor& dy, const Tensor& x,
                         const Tensor& gamma, const Tensor& mean, const Tensor& invstd,
                         const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta) {
    const char* op = "layer_norm backward";
    CS_TRY(checkShape(s, op));
    for (auto [t, name] : {std::pair{&dy, "dy"}, {&x, "x"}, {&dx, "dx"}})
        CS_TRY(expect(*t, s.elements(), DType::Real, name, op));
    for (auto [t, name] : {std::pair{&gamma, "gamma"}, {&dgamma, "dgamma"}, {&dbeta, "dbeta"}})
        CS_TRY(expect(*t, s.features, DType::Real, name, op));
    CS_TRY(expect(mean, s.batch, DType::Real, "mean", op));
    CS_TRY(expect(invstd, s.batch, DType::Real, "invstd", op));
    const LayerNormPush push{std::uint32_t(s.batch), std::uint32_t(s.features), float(s.eps)};
    if (auto* vk = be.asVulkan()) {
        // dγ, dβ first: they read dy, which the data pass may overwrite (dx may be dy).
        FlatGrid g = flatGrid(s.features, kLocal);
        CS_TRY(vk->dispatch(vk::Kernel::LayerNormBackwardAffine,
                            {dy, x, mean, invstd, dgamma, dbeta}, push, g.groups, {kLocal, 1, 1}));
        return vk->dispatch(vk::Kernel::LayerNormBackwardData, {dy, x, gamma, mean, invstd, dx},
                            push, {std::uint32_t(s.batch), 1, 1}, {kLocal, 1, 1});
    }
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T *dys = c.real(dy), *xs = c.real(x), *g = c.real(gamma);
        const T *mu = c.real(mean), *inv = c.real(invstd);
        T *dxs = c.real(dx), *dg = c.real(dgamma), *db = c.real(dbeta);
        const std::int64_t D = s.features;
        // dγ, dβ first: they read dy, which the data loop may overwrite (dx may be dy).
#pragma omp parallel for if (s.elements() > (1 << 15))
        for (std::int64_t d = 0; d < D; ++d) {
            T sg = 0, sb = 0;
            for (std::int64_t n = 0; n < s.batch; ++n) {
                sg += dys[n * D + d] * (xs[n * D + d] - mu[n]) * inv[n];
                sb += dys[n * D + d];
            }
            dg[d] = sg;
            db[d] = sb;
        }
#pragma omp parallel for if (s.elements() > (1 << 15))
        for (std::int64_t n = 0; n < s.batch; ++n) {
            T s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2)
            for (std::int64_t d = 0; d < D; ++d) {
                const T gd = dys[n * D + d] * g[d];
                s1 += gd;
                s2 += gd * (xs[n * D + d] - mu[n]) * inv[n];
            }
            for (std::int64_t d = 0; d < D; ++d) {
                const T gd = dys[n * D + d] * g[d];
                const T xh = (xs[n * D + d] - mu[n]) * inv[n];
                dxs[n * D + d] = inv[n] / T(D) * (T(D) * gd - s1 - xh * s2);
            }
        }
    });
}

} // namespace convscope::ops
