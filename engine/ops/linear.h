// linear: y = x·Wᵀ + b (PyTorch's nn.Linear layout) with an optional fused ReLU, and its backward.
//   x: (N, I)   W: (O, I)   b: (O)   y: (N, O)
#pragma once

#include "backend/backend.h"

namespace convscope::ops {

struct LinearShape {
    std::int64_t batch = 0, in = 0, out = 0;
};

// y = x·Wᵀ + b, then max(y, 0) when `relu`.
Status linearForward(Backend& be, const LinearShape& s, const Tensor& x, const Tensor& w,
                     const Tensor& b, const Tensor& y, bool relu = false);
// dx = dy·W, added to dx when `accumulate`.
Status linearBackwardData(Backend& be, const LinearShape& s, const Tensor& dy, const Tensor& w,
                          const Tensor& dx, bool accumulate = false);
// dW = dyᵀ·x and db = Σₙ dy.
Status linearBackwardWeight(Backend& be, const LinearShape& s, const Tensor& dy, const Tensor& x,
                            const Tensor& dw, const Tensor& db);

} // namespace convscope::ops
