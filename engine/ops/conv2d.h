// conv2d: 2-D convolution (cross-correlation, as PyTorch) with stride, per-side padding,
// dilation, groups (depthwise included) and bias, and its backward passes.
//   x: (N, C, H, W)   w: (K, C/G, R, S)   b: (K)   y: (N, K, P, Q)
//   P = ⌊(H + padTop + padBottom − dilH·(R−1) − 1) / strideH⌋ + 1   (Q likewise)
#pragma once

#include "backend/backend.h"

namespace convscope::ops {

struct Conv2dShape {
    std::int64_t batch = 1, inChannels = 1, height = 1, width = 1;
    std::int64_t outChannels = 1, kernelH = 1, kernelW = 1;
    std::int64_t strideH = 1, strideW = 1;
    std::int64_t padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
    std::int64_t dilationH = 1, dilationW = 1;
    std::int64_t groups = 1;

    std::int64_t outH() const {
        return (height + padTop + padBottom - dilationH * (kernelH - 1) - 1) / strideH + 1;
    }
    std::int64_t outW() const {
        return (width + padLeft + padRight - dilationW * (kernelW - 1) - 1) / strideW + 1;
    }
    // PyTorch's padding="same" (stride 1): total dilation·(k−1), the odd pixel at the bottom/right.
    Conv2dShape& samePadding();
    // padding="valid": none.
    Conv2dShape& validPadding();
    std::int64_t inputElements() const { return batch * inChannels * height * width; }
    std::int64_t weightElements() const {
        return outChannels * (inChannels / groups) * kernelH * kernelW;
    }
    std::int64_t outputElements() const { return batch * outChannels * outH() * outW(); }
};

// Checks a shape and names what is wrong ("kernel 5x5 larger than its padded 3x3 input").
Status checkConv2d(const Conv2dShape& s);

// y = w ⋆ x + b, then max(y, 0) when `relu`.
Status conv2dForward(Backend& be, const Conv2dShape& s, const Tensor& x, const Tensor& w,
                     const Tensor& b, const Tensor& y, bool relu = false);
// dx = the transposed convolution of dy with w; added to dx when `accumulate`.
Status conv2dBackwardData(Backend& be, const Conv2dShape& s, const Tensor& dy, const Tensor& w,
                          const Tensor& dx, bool accumulate = false);
// dw = Σₙ dy ⋆ x and db = Σ_{n,p,q} dy.
Status conv2dBackwardWeight(Backend& be, const Conv2dShape& s, const Tensor& dy, const Tensor& x,
                            const Tensor& dw, const Tensor& db);

} // namespace convscope::ops
