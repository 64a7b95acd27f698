// pool2d: dispatches (shaders/pool2d.comp; backward passes gather over covering windows) and
// the CPU loops, which scatter into dx image by image.
#include "ops/pool2d.h"
#include "ops/op_support.h"

#include <cmath>

namespace convscope::ops {

namespace {

// Mirrors the push constants of shaders/pool2d.comp.
struct PoolPush {
    std::uint32_t planes, H, W, P, Q, kH, kW, strideH, strideW, padH, padW, groupsX;
};
static_assert(sizeof(PoolPush) <= 128);
constexpr std::uint32_t kLocal = 64;

Status dispatchPool(Backend& be, vk::Kernel k, const Pool2dShape& s, std::int64_t invocations,
                    std::initializer_list<Tensor> bindings) {
    FlatGrid g = flatGrid(invocations, kLocal);
    auto u = [](std::int64_t v) { return std::uint32_t(v); };
    PoolPush p{u(s.batch * s.channels),
               u(s.height),
               u(s.width),
               u(s.outH()),
               u(s.outW()),
               u(s.kernelH),
               u(s.kernelW),
               u(s.strideH),
               u(s.strideW),
               u(s.padH),
               u(s.padW),
               g.groupsX};
    return be.asVulkan()->dispatch(k, bindings, p, g.groups, {kLocal, 1, 1});
}

Status checkTensors(const Pool2dShape& s, const Tensor& in, const Tensor& out, const char* inName,
                    const char* outName, const char* op) {
    CS_TRY(checkPool2d(s).within(op));
    CS_TRY(expect(in, s.inputElements(), DType::Real, inName, op));
    return expect(out, s.outputElements(), DType::Real, outName, op);
}

} // namespace

Pool2dShape Pool2dShape::global(std::int64_t batch, std::int64_t channels, std::int64_t height,
                                std::int64_t width) {
    return {batch, channels, height, width, height, width, 1, 1, 0, 0};
}

Status checkPool2d(const Pool2dShape& s) {
    auto str = [](std::int64_t a, std::int64_t b) {
        return std::to_string(a) + "x" + std::to_string(b);
    };
    if (s.batch <= 0 || s.channels <= 0 || s.height <= 0 || s.width <= 0 || s.kernelH <= 0 ||
        s.kernelW <= 0 || s.strideH <= 0 || s.strideW <= 0)
        return Status::error("sizes, kernel and stride must be positive");
    if (s.padH < 0 || s.padW < 0 || 2 * s.padH > s.kernelH || 2 * s.padW > s.kernelW)
        return Status::error("padding " + str(s.padH, s.padW) + " must be at most half the " +
                             str(s.kernelH, s.kernelW) + " kernel");
    if (s.kernelH > s.height + 2 * s.padH || s.kernelW > s.width + 2 * s.padW)
        return Status::error("pooling window " + str(s.kernelH, s.kernelW) + " larger than its " +
                                 str(s.height + 2 * s.padH, s.width + 2 * s.padW) + " input",
                             "", "Remove a pooling layer or use a smaller window");
    return {};
}

Status maxPool2dForward(Backend& be, const Pool2dShape& s, const Tensor& x, const Tensor& y,
                        const Tensor& argmax) {
    const char* op = "max_pool2d forward";
    CS_TRY(checkTensors(s, x, y, "x", "y", op));
    CS_TRY(expect(argmax, s.outputElements(), DType::I32, "argmax", op));
    if (be.asVulkan())
        return dispatchPool(be, vk::Kernel::MaxPool2dForward, s, s.outputElements(),
                            {x, y, argmax});
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T* xs = c.real(x);
        T* ys = c.real(y);
        std::int32_t* arg = c.i32(argmax);
        const std::int64_t P = s.outH(), Q = s.outW(), planes = s.batch * s.channels;
        // The common 2×2, stride 2, unpadded window (LeNet-5, VGG) without the general loop's
        // bounds checks: a third of a LeNet-5 forward pass before. Same choices: the first
        // maximum, a NaN wins.
        if (s.kernelH == 2 && s.kernelW == 2 && s.strideH == 2 && s.strideW == 2 && s.padH == 0 &&
            s.padW == 0) {
            const std::int64_t W = s.width;
#pragma omp parallel for if (planes * P * Q > (1 << 14))
            for (std::int64_t pl = 0; pl < planes; ++pl) {
                const T* img = xs + pl * s.height * W;
                T* out = ys + pl * P * Q;
                std::int32_t* outArg = arg + pl * P * Q;
                for (std::int64_t p = 0; p < P; ++p) {
                    const T* r0 = img + 2 * p * W;
                    const T* r1 = r0 + W;
                    const auto rowStart = std::int32_t(2 * p * W);
                    // Branch-free selects, vectorised (blends): random data made the branchy
                    // loop mispredict half its comparisons.
#pragma omp simd
                    for (std::int64_t q = 0; q < Q; ++q) {
                        const std::int64_t w = 2 * q;
                        const T a = r0[w], b = r0[w + 1], c = r1[w], d = r1[w + 1];
                        const bool tb = b > a || b != b;
                        T m = tb ? b : a;
                        std::int32_t k = tb ? 1 : 0;
                        const bool tc = c > m || c != c;
                        m = tc ? c : m;
                        k = tc ? std::int32_t(W) : k;
                        const bool td = d > m || d != d;
                        m = td ? d : m;
                        k = td ? std::int32_t(W + 1) : k;
                        out[p * Q + q] = m;
                        outArg[p * Q + q] = rowStart + std::int32_t(w) + k;
                    }
                }
            }
            return;
        }
#pragma omp parallel for if (planes * P * Q > (1 << 14))
        for (std::int64_t pl = 0; pl < planes; ++pl) {
            const T* img = xs + pl * s.height * s.width;
            for (std::int64_t p = 0; p < P; ++p)
                for (std::int64_t q = 0; q < Q; ++q) {
                    T best = 0;
                    std::int32_t at = -1;
                    for (std::int64_t i = 0; i < s.kernelH; ++i) {
                        const std::int64_t h = p * s.strideH - s.padH + i;
                        if (h < 0 || h >= s.height)
                            continue;
                        for (std::int64_t j = 0; j < s.kernelW; ++j) {
                            const std::int64_t w = q * s.strideW - s.padW + j;
                            if (w < 0 || w >= s.width)
                                continue;
                            const T v = img[h * s.width + w];
                            if (at < 0 || v > best || std::isnan(v)) {
                                best = v;
                                at = std::int32_t(h * s.width + w);
                            }
                        }
                    }
                    ys[(pl * P + p) * Q + q] = best;
                    arg[(pl * P + p) * Q + q] = at;
                }
        }
    });
}

Status maxPool2dBackward(Backend& be, const Pool2dShape& s, const Tensor& dy, const Tensor& argmax,
                         const Tensor& dx) {
    const char* op = "max_pool2d backward";
    CS_TRY(checkTensors(s, dx, dy, "dx", "dy", op));
    CS_TRY(expect(argmax, s.outputElements(), DType::I32, "argmax", op));
    if (be.asVulkan())
        return dispatchPool(be, vk::Kernel::MaxPool2dBackward, s, s.inputElements(),
                            {dy, dx, argmax});
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T* dys = c.real(dy);
        const std::int32_t* arg = c.i32(argmax);
        T* dxs = c.real(dx);
        const std::int64_t PQ = s.outH() * s.outW(), HW = s.height * s.width;
        const std::int64_t planes = s.batch * s.channels;
#pragma omp parallel for if (planes * PQ > (1 << 14))
        for (std::int64_t pl = 0; pl < planes; ++pl) {
            T* plane = dxs + pl * HW; // zeroed here, in parallel, not in one serial pass
            std::fill(plane, plane + HW, T(0));
            for (std::int64_t o = 0; o < PQ; ++o)
                if (arg[pl * PQ + o] >= 0)
                    plane[arg[pl * PQ + o]] += dys[pl * PQ + o];
        }
    });
}

Status avgPool2dForward(Backend& be, const Pool2dShape& s, const Tensor& x, const Tensor& y) {
    const char* op = "avg_pool2d forward";
    CS_TRY(checkTensors(s, x, y, "x", "y", op));
    if (be.asVulkan())
        return dispatchPool(be, vk::Kernel::AvgPool2dForward, s, s.outputElements(), {x, y});
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T* xs = c.real(x);
        T* ys = c.real(y);
        const std::int64_t P = s.outH(), Q = s.outW(), planes = s.batch * s.channels;
        const T scale = T(1) / T(s.kernelH * s.kernelW);
#pragma omp parallel for if (planes * P * Q > (1 << 14))
        for (std::int64_t pl = 0; pl < planes; ++pl) {
            const T* img = xs + pl * s.height * s.width;
            for (std::int64_t p = 0; p < P; ++p)
                for (std::int64_t q = 0; q < Q; ++q) {
                    T sum = 0;
                    for (std::int64_t i = 0; i < s.kernelH; ++i) {
                        const std::int64_t h = p * s.strideH - s.padH + i;
                        for (std::int64_t j = 0; j < s.kernelW && h >= 0 && h < s.height; ++j) {
                            const std::int64_t w = q * s.strideW - s.padW + j;
                            if (w >= 0 && w < s.width)
                                sum += img[h * s.width + w];
                        }
                    }
                    ys[(pl * P + p) * Q + q] = sum * scale;
                }
        }
    });
}

Status avgPool2dBackward(Backend& be, const Pool2dShape& s, const Tensor& dy, const Tensor& dx) {
    const char* op = "avg_pool2d backward";
    CS_TRY(checkTensors(s, dx, dy, "dx", "dy", op));
    if (be.asVulkan())
        return dispatchPool(be, vk::Kernel::AvgPool2dBackward, s, s.inputElements(), {dy, dx});
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T* dys = c.real(dy);
        T* dxs = c.real(dx);
        const std::int64_t P = s.outH(), Q = s.outW(), planes = s.batch * s.channels;
        const std::int64_t HW = s.height * s.width;
        const T scale = T(1) / T(s.kernelH * s.kernelW);
#pragma omp parallel for if (planes * P * Q > (1 << 14))
        for (std::int64_t pl = 0; pl < planes; ++pl) {
            std::fill(dxs + pl * HW, dxs + (pl + 1) * HW, T(0));
            for (std::int64_t p = 0; p < P; ++p)
                for (std::int64_t q = 0; q < Q; ++q) {
                    const T g = dys[(pl * P + p) * Q + q] * scale;
                    for (std::int64_t i = 0; i < s.kernelH; ++i) {
                        const std::int64_t h = p * s.strideH - s.padH + i;
                        for (std::int64_t j = 0; j < s.kernelW && h >= 0 && h < s.height; ++j) {
                            const std::int64_t w = q * s.strideW - s.padW + j;
                            if (w >= 0 && w < s.width)
                                dxs[pl * HW + h * s.width + w] += g;
                        }
                    }
                }
        }
    });
}

} // namespace convscope::ops
