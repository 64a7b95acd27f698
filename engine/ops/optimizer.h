// optimizer: one update step over a flat parameter block with PyTorch's rules (SGD, momentum,
// Nesterov, RMSProp, Adam, AdamW, L2 weight decay), and global-norm gradient clipping.
//   params, grads, state1, state2: (n)   hyper: (kHyperSize) host-placed, see hyperValues()
//   step: (1) int32, steps done (Adam's t = step + 1)   norm: (2) = [‖g‖, clipping factor]
//   partials: (kNormPartials) scratch for the two-pass norm
#pragma once

#include "backend/backend.h"
#include <array>
#include <string>

namespace convscope::ops {

enum class OptimizerKind : std::uint32_t { Sgd, Momentum, Nesterov, RmsProp, Adam, AdamW };

struct OptimizerConfig {
    OptimizerKind kind = OptimizerKind::Momentum;
    double lr = 0.05;
    double momentum = 0.9; // μ, momentum and Nesterov
    double weightDecay = 0.0;
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8; // Adam, AdamW (eps also RMSProp)
    double alpha = 0.99;                           // RMSProp smoothing
    double clipNorm = 0.0;                         // global-norm clipping; 0 = off

    std::string name() const;
    // "sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"; false if unknown.
    static bool parseKind(const std::string& name, OptimizerKind& kind);
    Status check() const;
};

constexpr std::int64_t kHyperSize = 9;     // [lr, μ, wd, β1, β2, ε, α, clip on, max norm]
constexpr std::int64_t kNormPartials = 64; // workgroups of the first norm pass
std::array<double, kHyperSize> hyperValues(const OptimizerConfig& c);

// norm = [‖grads‖₂, min(1, maxNorm / (‖grads‖₂ + 1e-6))], PyTorch's clip_grad_norm_ factor.
Status gradNorm(Backend& be, const Tensor& grads, const Tensor& partials, const Tensor& norm,
                const Tensor& hyper);
// Updates params (and the optimizer state) from grads; scales grads by norm[1] when hyper says
// clipping is on.
Status optimizerUpdate(Backend& be, OptimizerKind kind, const Tensor& params, const Tensor& grads,
                       const Tensor& state1, const Tensor& state2, const Tensor& hyper,
                       const Tensor& step, const Tensor& norm);

} // namespace convscope::ops
