// optimizer: update and norm dispatches (shaders/optimizer.comp, shaders/grad_norm.comp) and the
// CPU loops with the same formulas.
#include "ops/optimizer.h"
#include "ops/op_support.h"

#include <cmath>

namespace convscope::ops {

namespace {
struct UpdatePush {
    std::uint32_t n, groupsX, kind;
};
struct NormPush {
    std::uint32_t n;
};
static_assert(sizeof(UpdatePush) <= 128 && sizeof(NormPush) <= 128);
constexpr std::uint32_t kNormLocal = 64;

const char* const kNames[] = {"sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"};
} // namespace

std::string OptimizerConfig::name() const {
    return std::size_t(kind) < std::size(kNames) ? kNames[std::size_t(kind)] : "unknown optimizer";
}

bool OptimizerConfig::parseKind(const std::string& name, OptimizerKind& kind) {
    for (std::size_t i = 0; i < std::size(kNames); ++i)
        if (name == kNames[i]) {
            kind = OptimizerKind(i);
            return true;
        }
    return false;
}

Status OptimizerConfig::check() const {
    auto bad = [](double v, double lo, double hi) { return !(v >= lo && v <= hi); };
    if (std::size_t(kind) >= std::size(kNames))
        return Status::error("unknown optimizer kind " + std::to_string(std::size_t(kind)),
                             "optimizer");
    if (!(lr > 0) || !std::isfinite(lr))
        return Status::error("learning rate must be a positive number", name());
    if (bad(momentum, 0, 0.999999) || bad(beta1, 0, 0.999999) || bad(beta2, 0, 0.999999) ||
        bad(alpha, 0, 0.999999))
        return Status::error("momentum, β1, β2 and α must lie in [0, 1)", name());
    if (!(eps > 0) || bad(weightDecay, 0, 1e6) || bad(clipNorm, 0, 1e30))
        return Status::error("ε must be positive; weight decay and clip norm not negative", name());
    return {};
}

std::array<double, kHyperSize> hyperValues(const OptimizerConfig& c) {
    return {c.lr,      c.momentum, c.weightDecay, c.beta1,
            c.beta2,   c.eps,      c.alpha,       c.clipNorm > 0 ? 1.0 : 0.0,
            c.clipNorm};
}

Status gradNorm(Backend& be, const Tensor& grads, const Tensor& partials, const Tensor& norm,
                const Tensor& hyper) {
    const char* op = "gradient norm";
    const std::int64_t n = grads.numel();
    CS_TRY(expect(grads, n, DType::Real, "grads", op));
    CS_TRY(expect(partials, kNormPartials, DType::Real, "partials", op));
    CS_TRY(expect(norm, 2, DType::Real, "norm", op));
    CS_TRY(expect(hyper, kHyperSize, DType::Real, "hyper", op));
    if (auto* vk = be.asVulkan()) {
        CS_TRY(vk->dispatch(vk::Kernel::GradNormPartial, {grads, partials},
                            NormPush{std::uint32_t(n)}, {std::uint32_t(kNormPartials), 1, 1},
                            {kNormLocal, 1, 1}));
        return vk->dispatch(vk::Kernel::GradNormFinal, {partials, norm, hyper},
                            NormPush{std::uint32_t(kNormPartials)}, {1, 1, 1}, {kNormLocal, 1, 1});
    }
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T* g = c.real(grads);
        T sum = 0;
#pragma omp parallel for reduction(+ : sum) if (n > (1 << 16))
        for (std::int64_t i = 0; i < n; ++i)
            sum += g[i] * g[i];
        T* out = c.real(norm);
        out[0] = std::sqrt(sum);
        out[1] = std::min(T(1), c.real(hyper)[8] / (out[0] + T(1e-6)));
    });
}

Status optimizerUpdate(Backend& be, OptimizerKind kind, const Tensor& params, const Tensor& grads,
                       const Tensor& state1, const Tensor& state2, const Tensor& hyper,
                       const Tensor& step, const Tensor& norm) {
    const char* op = "optimizer";
    if (std::uint32_t(kind) > std::uint32_t(OptimizerKind::AdamW))
        return Status::error("unknown optimizer kind", op);
    const std::int64_t n = params.numel();
    CS_TRY(expect(params, n, DType::Real, "params", op));
    CS_TRY(expect(grads, n, DType::Real, "grads", op));
    CS_TRY(expect(state1, n, DType::Real, "state1", op));
    CS_TRY(expect(state2, n, DType::Real, "state2", op));
    CS_TRY(expect(hyper, kHyperSize, DType::Real, "hyper", op));
    CS_TRY(expect(step, 1, DType::I32, "step", op));
    CS_TRY(expect(norm, 2, DType::Real, "norm", op));
    if (auto* vk = be.asVulkan()) {
        FlatGrid g = elementwiseGrid(n);
        return vk->dispatch(vk::Kernel::Optimizer,
                            {params, grads, state1, state2, hyper, step, norm},
                            UpdatePush{std::uint32_t(n), g.groupsX, std::uint32_t(kind)}, g.groups);
    }
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        T* p = c.real(params);
        const T* gr = c.real(grads);
        T* s1 = c.real(state1);
        T* s2 = c.real(state2);
        const T* h = c.real(hyper);
        const T lr = h[0], mu = h[1], wd = h[2], b1 = h[3], b2 = h[4], eps = h[5], alpha = h[6];
        const T clip = h[7] != T(0) ? c.real(norm)[1] : T(1);
        const T t = T(std::uint32_t(c.i32(step)[0]) + 1u);
        const T c1 = T(1) - std::pow(b1, t), c2 = T(1) - std::pow(b2, t);
#pragma omp parallel for if (n > (1 << 16))
        for (std::int64_t i = 0; i < n; ++i) {
            T w = p[i];
            T g = clip * gr[i];
            if (kind == OptimizerKind::AdamW)
                w *= T(1) - lr * wd;
            else
                g += wd * w;
            switch (kind) {
            case OptimizerKind::Sgd:
                w -= lr * g;
                break;
            case OptimizerKind::Momentum:
            case OptimizerKind::Nesterov: {
                const T b = mu * s1[i] + g;
                s1[i] = b;
                w -= lr * (kind == OptimizerKind::Nesterov ? g + mu * b : b);
                break;
            }
            case OptimizerKind::RmsProp: {
                const T v = alpha * s1[i] + (T(1) - alpha) * g * g;
                s1[i] = v;
                w -= lr * g / (std::sqrt(v) + eps);
                break;
            }
            case OptimizerKind::Adam:
            case OptimizerKind::AdamW: {
                const T m = b1 * s1[i] + (T(1) - b1) * g;
                const T v = b2 * s2[i] + (T(1) - b2) * g * g;
                s1[i] = m;
                s2[i] = v;
                w -= lr * (m / c1) / (std::sqrt(v / c2) + eps);
                break;
            }
            }
            p[i] = w;
        }
    });
}

} // namespace convscope::ops
