// pool2d: max and average pooling (and global average pooling) with their backward passes.
//   x, dx: (N, C, H, W)   y, dy: (N, C, P, Q)   argmax: (N, C, P, Q) int32, h·W + w in the plane
//   P = ⌊(H + 2·padH − kH) / strideH⌋ + 1 (Q likewise); padding ≤ half the kernel, as PyTorch.
// Max pooling routes the gradient to the argmax (a NaN wins, so the last NaN; ties keep the
// first maximum, as PyTorch); average
// pooling divides by kH·kW, counting padding as zeros (PyTorch's count_include_pad=True).
#pragma once

#include "backend/backend.h"

namespace convscope::ops {

struct Pool2dShape {
    std::int64_t batch = 1, channels = 1, height = 1, width = 1;
    std::int64_t kernelH = 2, kernelW = 2, strideH = 2, strideW = 2, padH = 0, padW = 0;

    std::int64_t outH() const { return (height + 2 * padH - kernelH) / strideH + 1; }
    std::int64_t outW() const { return (width + 2 * padW - kernelW) / strideW + 1; }
    std::int64_t inputElements() const { return batch * channels * height * width; }
    std::int64_t outputElements() const { return batch * channels * outH() * outW(); }
    // Global average pooling: one window the size of the image, output (N, C, 1, 1).
    static Pool2dShape global(std::int64_t batch, std::int64_t channels, std::int64_t height,
                              std::int64_t width);
};

Status checkPool2d(const Pool2dShape& s);

Status maxPool2dForward(Backend& be, const Pool2dShape& s, const Tensor& x, const Tensor& y,
                        const Tensor& argmax);
Status maxPool2dBackward(Backend& be, const Pool2dShape& s, const Tensor& dy, const Tensor& argmax,
                         const Tensor& dx);
Status avgPool2dForward(Backend& be, const Pool2dShape& s, const Tensor& x, const Tensor& y);
Status avgPool2dBackward(Backend& be, const Pool2dShape& s, const Tensor& dy, const Tensor& dx);

} // namespace convscope::ops
