// flatten: (N, C, H, W) → (N, C·H·W). NCHW is contiguous, so it moves no data: the result is a
// view of the same memory, and its backward pass is the same view of the gradient.
#pragma once

#include "core/tensor.h"

namespace convscope::ops {

inline Tensor flatten(const Tensor& t) {
    Tensor f = t;
    if (t.shape.rank >= 2)
        f.shape = {t.shape[0], t.numel() / t.shape[0]};
    return f;
}

} // namespace convscope::ops
