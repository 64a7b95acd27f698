// layer_norm: normalises each sample over its D = C·H·W features with elementwise γ, β, as
// PyTorch's LayerNorm([C, H, W]); the same in training and evaluation.
//   x, y, dy, dx: (N, D)   γ, β, dγ, dβ: (D)   mean, invstd: (N), saved for the backward pass
// The backward pass may run in place (dx = dy).
#pragma once

#include "backend/backend.h"

namespace convscope::ops {

struct LayerNormShape {
    std::int64_t batch = 1, features = 1; // N, D
    double eps = 1e-5;
    std::int64_t elements() const { return batch * features; }
};

Status layerNormForward(Backend& be, const LayerNormShape& s, const Tensor& x, const Tensor& gamma,
                        const Tensor& beta, const Tensor& mean, const Tensor& invstd,
                        const Tensor& y);
Status layerNormBackward(Backend& be, const LayerNormShape& s, const Tensor& dy, const Tensor& x,
                         const Tensor& gamma, const Tensor& mean, const Tensor& invstd,
                         const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta);

} // namespace convscope::ops
