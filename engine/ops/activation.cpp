// activation: elementwise dispatches (shaders/activation.comp) and the CPU loops, which use the
// same formulas (including the overflow-free sigmoid) so both backends agree at ±50.
#include "ops/activation.h"
#include "core/format.h"
#include "ops/op_support.h"

#include <cmath>
#include <type_traits>

namespace convscope::ops {

namespace {
struct ActivationPush {
    std::uint32_t n, groupsX, kind;
    float slope;
};
static_assert(sizeof(ActivationPush) <= 128);

// The kind is a template parameter, so every loop holds one formula and vectorises.
template <ActivationKind K, class T>
T forward(T slope, T v) {
    if constexpr (K == ActivationKind::Relu)
        return v > 0 || std::isnan(v) ? v : T(0); // NaN propagates, as in PyTorch
    else if constexpr (K == ActivationKind::LeakyRelu)
        return v > 0 || std::isnan(v) ? v : slope * v;
    else if constexpr (K == ActivationKind::Sigmoid)
        return v >= 0 ? T(1) / (T(1) + std::exp(-v)) : std::exp(v) / (T(1) + std::exp(v));
    else
        return std::tanh(v);
}

template <ActivationKind K, class T>
T derivative(T slope, T out) {
    if constexpr (K == ActivationKind::Relu)
        return out > 0 ? T(1) : T(0);
    else if constexpr (K == ActivationKind::LeakyRelu)
        return out > 0 ? T(1) : slope;
    else if constexpr (K == ActivationKind::Sigmoid)
        return out * (T(1) - out);
    else
        return T(1) - out * out;
}

// Calls f with a constant for `kind`, so the compiler sees one kind per loop.
template <class F>
void eachKind(ActivationKind kind, F&& f) {
    using K = ActivationKind;
    switch (kind) {
    case K::Relu:
        return f(std::integral_constant<K, K::Relu>{});
    case K::LeakyRelu:
        return f(std::integral_constant<K, K::LeakyRelu>{});
    case K::Sigmoid:
        return f(std::integral_constant<K, K::Sigmoid>{});
    case K::Tanh:
        return f(std::integral_constant<K, K::Tanh>{});
    }
}

Status check(const Activation& a, const char* op) {
    if (std::uint32_t(a.kind) > std::uint32_t(ActivationKind::Tanh))
        return Status::error("unknown activation kind " + std::to_string(std::uint32_t(a.kind)),
                             op);
    if (a.kind == ActivationKind::LeakyRelu && !(a.slope > 0))
        return Status::error("leaky ReLU slope must be positive (got " + shortNumber(a.slope) + ")",
                             op);
    return {};
}
} // namespace

std::string Activation::name() const {
    switch (kind) {
    case ActivationKind::Relu:
        return "relu";
    case ActivationKind::LeakyRelu:
        return "leaky_relu";
    case ActivationKind::Sigmoid:
        return "sigmoid";
    case ActivationKind::Tanh:
        return "tanh";
    }
    return "?";
}

Status activationForward(Backend& be, const Activation& a, const Tensor& x, const Tensor& y) {
    const std::string op = a.name() + " forward";
    const std::int64_t n = x.numel();
    CS_TRY(check(a, op.c_str()));
    CS_TRY(expect(x, n, DType::Real, "x", op.c_str()));
    CS_TRY(expect(y, n, DType::Real, "y", op.c_str()));
    if (auto* vk = be.asVulkan()) {
        FlatGrid g = elementwiseGrid(n);
        return vk->dispatch(
            vk::Kernel::ActivationForward, {x, y},
            ActivationPush{std::uint32_t(n), g.groupsX, std::uint32_t(a.kind), float(a.slope)},
            g.groups);
    }
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T* xs = c.real(x);
        T* ys = c.real(y);
        const T slope = T(a.slope);
        // One loop per kind (the switch outside), so each one vectorises.
        // Locals, not captures: stores through ys cannot alias them, so the loop vectorises.
        eachKind(a.kind, [xs, ys, n, slope](auto kind) {
#pragma omp parallel for if (n > (1 << 16))
            for (std::int64_t i = 0; i < n; ++i)
                ys[i] = forward<decltype(kind)::value>(slope, xs[i]);
        });
    });
}

Status activationBackward(Backend& be, const Activation& a, const Tensor& y, const Tensor& dy,
                          const Tensor& dx) {
    const std::string op = a.name() + " backward";
    const std::int64_t n = y.numel();
    CS_TRY(check(a, op.c_str()));
    CS_TRY(expect(y, n, DType::Real, "y", op.c_str()));
    CS_TRY(expect(dy, n, DType::Real, "dy", op.c_str()));
    CS_TRY(expect(dx, n, DType::Real, "dx", op.c_str()));
    if (auto* vk = be.asVulkan()) {
        FlatGrid g = elementwiseGrid(n);
        return vk->dispatch(
            vk::Kernel::ActivationBackward, {y, dy, dx},
            ActivationPush{std::uint32_t(n), g.groupsX, std::uint32_t(a.kind), float(a.slope)},
            g.groups);
    }
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T* ys = c.real(y);
        const T* dys = c.real(dy);
        T* dxs = c.real(dx);
        const T slope = T(a.slope);
        eachKind(a.kind, [ys, dys, dxs, n, slope](auto kind) {
#pragma omp parallel for if (n > (1 << 16))
            for (std::int64_t i = 0; i < n; ++i)
                dxs[i] = dys[i] * derivative<decltype(kind)::value>(slope, ys[i]);
        });
    });
}

} // namespace convscope::ops
