// batch_norm: batch normalisation per channel over (N, H, W) (BatchNorm2d; with HW = 1 it is
// BatchNorm1d), in training mode (batch statistics, running statistics updated with momentum)
// or evaluation mode (running statistics), with learnable γ, β.
//   x, y, dy, dx: (N, C, H·W)   γ, β, runningMean, runningVar, mean, invstd, dγ, dβ: (C)
//   y = γ·(x − μ)/√(σ² + ε) + β;  running ← (1 − m)·running + m·batch (unbiased variance)
#pragma once

#include "backend/backend.h"

namespace convscope::ops {

struct BatchNormShape {
    std::int64_t batch = 1, channels = 1, spatial = 1; // N, C, H·W
    double eps = 1e-5, momentum = 0.1;                 // PyTorch's defaults
    std::int64_t elements() const { return batch * channels * spatial; }
};

struct BatchNormParams {
    Tensor gamma, beta, runningMean, runningVar; // (C)
    Tensor mean, invstd;                         // (C) saved by the training forward pass
};

// training: batch statistics (saved in mean/invstd) and running-statistics update.
Status batchNormForward(Backend& be, const BatchNormShape& s, bool training, const Tensor& x,
                        const BatchNormParams& p, const Tensor& y);
// Gradients of a forward pass in the same mode. Training: through the batch statistics saved in
// mean/invstd, dx = γ·invstd/M·(M·dy − dβ − x̂·dγ). Evaluation: the running statistics are
// constants, so dx = γ·dy/√(running var + ε); in both, x̂ = (x − μ)·invstd, dβ = Σ dy and
// dγ = Σ dy·x̂ (PyTorch's eval-mode autograd).
Status batchNormBackward(Backend& be, const BatchNormShape& s, bool training, const Tensor& dy,
                         const Tensor& x, const BatchNormParams& p, const Tensor& dx,
                         const Tensor& dgamma, const Tensor& dbeta);

} // namespace convscope::ops
