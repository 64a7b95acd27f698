// sgd: one optimizer step over a flat parameter block, the rule of PyTorch's torch.optim.SGD:
//   g' = g + wd·p;   v ← μ·v + g';   p ← p − lr·(μ > 0 ? v : g')
//   params, grads, velocity: (n)    hyper: (3) host-placed [lr, μ, wd], read at run time
#pragma once

#include "backend/backend.h"

namespace convscope::ops {

Status sgdUpdate(Backend& be, const Tensor& params, const Tensor& grads, const Tensor& velocity,
                 const Tensor& hyper);

} // namespace convscope::ops
