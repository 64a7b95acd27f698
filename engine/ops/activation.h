// activation: ReLU, leaky ReLU, sigmoid and tanh, with gradients computed from the output, so
// the backward pass needs only y and works in place (dx may be dy).
//   x, y, dy, dx: any shape, same element count
//   ReLU y = max(x,0) · leaky y = x>0 ? x : a·x (a > 0) · sigmoid y = 1/(1+e^−x) · tanh
#pragma once

#include "backend/backend.h"
#include <string>

namespace convscope::ops {

enum class ActivationKind : std::uint32_t { Relu = 0, LeakyRelu = 1, Sigmoid = 2, Tanh = 3 };

struct Activation {
    ActivationKind kind = ActivationKind::Relu;
    double slope = 0.01; // leaky ReLU only, must be > 0 (the backward pass reads the sign of y)
    std::string name() const;
};

Status activationForward(Backend& be, const Activation& a, const Tensor& x, const Tensor& y);
Status activationBackward(Backend& be, const Activation& a, const Tensor& y, const Tensor& dy,
                          const Tensor& dx);

// The plain ReLU shorthands used by the MLP.
inline Status reluForward(Backend& be, const Tensor& x, const Tensor& y) {
    return activationForward(be, {}, x, y);
}
inline Status reluBackward(Backend& be, const Tensor& y, const Tensor& dy, const Tensor& dx) {
    return activationBackward(be, {}, y, dy, dx);
}

} // namespace convscope::ops
