// axpy: y = x + c[0]·a + c[1]·b elementwise, with the coefficients in a tensor the host writes
// between submits, so a recorded program moves the weights to any point θ* + αδ + βη of a loss
// landscape (or (1 − t)·θ₀ + t·θ₁ = θ₀ + t·(θ₁ − θ₀)) without recording it again. No backward:
// nothing differentiates through it. y may alias x.
//   x, a, b, y: any shape, same element count   c: (≥ 2), usually host-placed
#pragma once

#include "backend/backend.h"

namespace convscope::ops {

Status axpy(Backend& be, const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c,
            const Tensor& y);

} // namespace convscope::ops
