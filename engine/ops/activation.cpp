// activation: elementwise dispatches (shaders/activation.comp) and the CPU loops, which use the
// same formulas (including the overflow-free sigmoid) so both backends agree at ±50.
#include "ops/activation.h"
#include "ops/op_support.h"

#include <cmath>

namespace convscope::ops {

namespace {
struct ActivationPush {
    std::uint32_t n, groupsX, kind;
    float slope;
};
static_assert(sizeof(ActivationPush) <= 128);

template <class T>
T forward(ActivationKind k, T slope, T v) {
    switch (k) {
    case ActivationKind::Relu:
        return v > 0 ? v : T(0);
    case ActivationKind::LeakyRelu:
        return v > 0 ? v : slope * v;
    case ActivationKind::Sigmoid:
        return v >= 0 ? T(1) / (T(1) + std::exp(-v)) : std::exp(v) / (T(1) + std::exp(v));
    case ActivationKind::Tanh:
        return std::tanh(v);
    }
    return v;
}

template <class T>
T derivative(ActivationKind k, T slope, T out) {
    switch (k) {
    case ActivationKind::Relu:
        return out > 0 ? T(1) : T(0);
    case ActivationKind::LeakyRelu:
        return out > 0 ? T(1) : slope;
    case ActivationKind::Sigmoid:
        return out * (T(1) - out);
    case ActivationKind::Tanh:
        return T(1) - out * out;
    }
    return T(1);
}

Status check(const Activation& a, const char* op) {
    if (a.kind == ActivationKind::LeakyRelu && !(a.slope > 0))
        return Status::error(
            "leaky ReLU slope must be positive (got " + std::to_string(a.slope) + ")", op);
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
        FlatGrid g = flatGrid(n, kElementwiseLocal * kElementwisePerInvocation);
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
#pragma omp parallel for if (n > (1 << 16))
        for (std::int64_t i = 0; i < n; ++i)
            ys[i] = forward(a.kind, slope, xs[i]);
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
        FlatGrid g = flatGrid(n, kElementwiseLocal * kElementwisePerInvocation);
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
#pragma omp parallel for if (n > (1 << 16))
        for (std::int64_t i = 0; i < n; ++i)
            dxs[i] = dys[i] * derivative(a.kind, slope, ys[i]);
    });
}

} // namespace convscope::ops
