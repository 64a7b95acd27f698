// im2col and its adjoint col2im for one image and group of a convolution (both CPU paths:
// engine/ops/conv2d.cpp's Eigen GEMMs and engine/cpu/conv.cpp's kernels).
#pragma once

#include "ops/conv2d.h"

#include <algorithm>
#include <utility>

namespace convscope::cpu {

using ops::Conv2dShape;

// Output columns q whose input column q·stride − pad + t·dil lies inside [0, W): [lo, hi).
inline std::pair<std::int64_t, std::int64_t> validColumns(const Conv2dShape& s, std::int64_t t) {
    const std::int64_t off = t * s.dilationW - s.padLeft, Q = s.outW();
    // q·stride + off ≥ 0  and  q·stride + off < W
    std::int64_t lo = off >= 0 ? 0 : (-off + s.strideW - 1) / s.strideW;
    std::int64_t hi = s.width - off <= 0 ? 0 : (s.width - off + s.strideW - 1) / s.strideW;
    lo = std::min(lo, Q);
    hi = std::clamp(hi, lo, Q);
    return {lo, hi};
}

// col (Cg·R·S, P·Q) of image n, group g, its rows `ld` floats apart (P·Q when 0). Each row's valid
// columns are computed once, so the inner loop is a plain (strided) copy without branches.
template <class T>
void im2col(const Conv2dShape& s, const T* x, std::int64_t n, std::int64_t g, T* col,
            std::int64_t ld = 0) {
    const std::int64_t Cg = s.inChannels / s.groups, P = s.outH(), Q = s.outW();
    if (ld == 0)
        ld = P * Q;
    for (std::int64_t c = 0; c < Cg; ++c) {
        const T* img = x + ((n * s.inChannels + g * Cg + c) * s.height) * s.width;
        for (std::int64_t r = 0; r < s.kernelH; ++r)
            for (std::int64_t t = 0; t < s.kernelW; ++t, col += ld) {
                const auto [lo, hi] = validColumns(s, t);
                const std::int64_t off = t * s.dilationW - s.padLeft;
                for (std::int64_t p = 0; p < P; ++p) {
                    T* out = col + p * Q;
                    const std::int64_t ih = p * s.strideH - s.padTop + r * s.dilationH;
                    if (ih < 0 || ih >= s.height) {
                        std::fill(out, out + Q, T(0));
                        continue;
                    }
                    const T* in = img + ih * s.width + off;
                    std::fill(out, out + lo, T(0));
                    if (s.strideW == 1)
                        std::copy(in + lo, in + hi, out + lo);
                    else
                        for (std::int64_t q = lo; q < hi; ++q)
                            out[q] = in[q * s.strideW];
                    std::fill(out + hi, out + Q, T(0));
                }
            }
    }
}

// The adjoint of im2col: adds col (rows `ld` floats apart, P·Q when 0) back into dx of image
// n, group g.
template <class T>
void col2im(const Conv2dShape& s, const T* col, std::int64_t n, std::int64_t g, T* dx,
            std::int64_t ld = 0) {
    const std::int64_t Cg = s.inChannels / s.groups, P = s.outH(), Q = s.outW();
    if (ld == 0)
        ld = P * Q;
    for (std::int64_t c = 0; c < Cg; ++c) {
        T* img = dx + ((n * s.inChannels + g * Cg + c) * s.height) * s.width;
        for (std::int64_t r = 0; r < s.kernelH; ++r)
            for (std::int64_t t = 0; t < s.kernelW; ++t, col += ld) {
                const auto [lo, hi] = validColumns(s, t);
                const std::int64_t off = t * s.dilationW - s.padLeft;
                for (std::int64_t p = 0; p < P; ++p) {
                    const std::int64_t ih = p * s.strideH - s.padTop + r * s.dilationH;
                    if (ih < 0 || ih >= s.height)
                        continue;
                    T* out = img + ih * s.width + off;
                    const T* in = col + p * Q;
                    if (s.strideW == 1)
                        for (std::int64_t q = lo; q < hi; ++q)
                            out[q] += in[q];
                    else
                        for (std::int64_t q = lo; q < hi; ++q)
                            out[q * s.strideW] += in[q];
                }
            }
    }
}

} // namespace convscope::cpu
