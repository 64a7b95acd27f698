// The CPU backend's single-precision convolutions on cpu::gemm's kernels (engine/cpu/gemm.h):
// im2col into a per-thread buffer whose rows are padded for the kernels (1x1 stride-1 layers
// read the input in place), the bias and ReLU fused into the kernel's stores, backward-data as
// a forward convolution of dy with the flipped, transposed weights where the stride is 1 (else
// Wᵀ·dy and col2im), backward-weight as im2col(x)·dyᵀ summed over each thread's images. Images
// are spread over the OpenMP team; no allocation per call once the buffers are warm. The double
// backend (the oracle) keeps the Eigen path in engine/ops/conv2d.cpp.
#pragma once

#include "ops/conv2d.h"

namespace convscope::cpu {

// Whether the functions below take this shape (groups 1; grouped convolutions use Eigen).
bool convHandles(const ops::Conv2dShape& s);

void convForward(const ops::Conv2dShape& s, const float* x, const float* w, const float* b,
                 float* y, bool relu);
void convBackwardData(const ops::Conv2dShape& s, const float* dy, const float* w, float* dx,
                      bool accumulate);
void convBackwardWeight(const ops::Conv2dShape& s, const float* dy, const float* x, float* dw,
                        float* db);

} // namespace convscope::cpu
