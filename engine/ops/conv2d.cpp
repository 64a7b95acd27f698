// conv2d: shape rule, the implicit-GEMM dispatches (shaders/conv2d.comp) and the CPU paths: in
// float our own kernels (engine/cpu/conv.h); in double (the oracle) and for grouped
// convolutions im2col + Eigen GEMM per image, images spread over OpenMP threads.
#include "ops/conv2d.h"
#include "cpu/conv.h"
#include "cpu/im2col.h"
#include "ops/op_support.h"

#include <Eigen/Core>
#include <cmath>
#include <omp.h>

namespace convscope::ops {

namespace {

// Mirrors the push constants of shaders/conv2d.comp.
struct Conv2dPush {
    std::uint32_t N, C, H, W, K, R, S, P, Q;
    std::uint32_t strideH, strideW, padT, padL, dilH, dilW, groups, flags;
};
static_assert(sizeof(Conv2dPush) <= 128);
enum : std::uint32_t { kBias = 1, kRelu = 2, kAccumulate = 4, kBiasGrad = 8 };

// 64 invocations side by side along the columns (x), TM x TN outputs each.
constexpr std::uint32_t kLocal = 64;

using cpu::col2im;
using cpu::im2col;
using vk::Tile; // register tiles: vk::Tuning, chosen per device (engine/vk/tuning.h)

Conv2dPush push(const Conv2dShape& s, std::uint32_t flags) {
    auto u = [](std::int64_t v) { return std::uint32_t(v); };
    return {u(s.batch),
            u(s.inChannels),
            u(s.height),
            u(s.width),
            u(s.outChannels),
            u(s.kernelH),
            u(s.kernelW),
            u(s.outH()),
            u(s.outW()),
            u(s.strideH),
            u(s.strideW),
            u(s.padTop),
            u(s.padLeft),
            u(s.dilationH),
            u(s.dilationW),
            u(s.groups),
            flags};
}

// ReLU that lets NaN through (cwiseMax would hide it, depending on vectorisation).
template <class T>
T reluKeepNan(T v) {
    return v > 0 || std::isnan(v) ? v : T(0);
}

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// The same memory seen column-major is the transpose: y (Kg x PQ) row-major is (PQ x Kg) here.
// The GEMMs below are written in that orientation, so their long side (PQ or CRS) is the row
// count Eigen's kernels block over, and the short channel count is the column count.
template <class T>
using MatT = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

// Forward and backward-data: `rows` x `cols` outputs per group, a register tile per invocation,
// 64 invocations side by side along the columns.
Status dispatchGemm(VulkanBackend& vk, vk::Kernel kernel, std::initializer_list<Tensor> bindings,
                    const Conv2dPush& p, std::int64_t cols, std::int64_t rows, std::int64_t groups,
                    const char* op) {
    const Tile t = vk.tuning().conv;
    if (ceilDiv(cols, kLocal * t.tn) > 65535)
        return Status::error("the batch is too large for one dispatch (" + std::to_string(cols) +
                                 " output columns)",
                             op, "Use a smaller batch size");
    return vk.dispatch(kernel, bindings, p,
                       {ceilDiv(cols, kLocal * t.tn), ceilDiv(rows, t.tm), std::uint32_t(groups)},
                       {kLocal, 1, 1, t.tm, t.tn});
}

Status checkTensors(const Conv2dShape& s, const Tensor& x, const Tensor& w, const Tensor& y,
                    const char* xName, const char* yName, const char* op) {
    CS_TRY(checkConv2d(s).within(op));
    CS_TRY(expect(x, s.inputElements(), DType::Real, xName, op));
    CS_TRY(expect(w, s.weightElements(), DType::Real, "w", op));
    return expect(y, s.outputElements(), DType::Real, yName, op);
}

} // namespace

Conv2dShape& Conv2dShape::samePadding() {
    const std::int64_t th = dilationH * (kernelH - 1), tw = dilationW * (kernelW - 1);
    padTop = th / 2;
    padBottom = th - padTop;
    padLeft = tw / 2;
    padRight = tw - padLeft;
    return *this;
}

Conv2dShape& Conv2dShape::validPadding() {
    padTop = padBottom = padLeft = padRight = 0;
    return *this;
}

Status checkConv2d(const Conv2dShape& s) {
    auto str = [](std::int64_t a, std::int64_t b) {
        return std::to_string(a) + "x" + std::to_string(b);
    };
    if (s.batch <= 0 || s.inChannels <= 0 || s.height <= 0 || s.width <= 0 || s.outChannels <= 0 ||
        s.kernelH <= 0 || s.kernelW <= 0)
        return Status::error("sizes must be positive");
    if (s.strideH <= 0 || s.strideW <= 0 || s.dilationH <= 0 || s.dilationW <= 0)
        return Status::error("stride and dilation must be at least 1");
    if (s.padTop < 0 || s.padBottom < 0 || s.padLeft < 0 || s.padRight < 0)
        return Status::error("padding cannot be negative");
    if (s.groups <= 0 || s.inChannels % s.groups || s.outChannels % s.groups)
        return Status::error(std::to_string(s.inChannels) + " input and " +
                                 std::to_string(s.outChannels) +
                                 " output channels must both be divisible by " +
                                 std::to_string(s.groups) + " groups",
                             "", "Choose groups that divide both channel counts");
    const std::int64_t effH = s.dilationH * (s.kernelH - 1) + 1;
    const std::int64_t effW = s.dilationW * (s.kernelW - 1) + 1;
    const std::int64_t inH = s.height + s.padTop + s.padBottom;
    const std::int64_t inW = s.width + s.padLeft + s.padRight;
    if (effH > inH || effW > inW)
        return Status::error(
            "kernel " + str(s.kernelH, s.kernelW) +
                (s.dilationH > 1 || s.dilationW > 1 ? " (dilated " + str(effH, effW) + ")" : "") +
                " larger than its " + (inH != s.height || inW != s.width ? "padded " : "") +
                str(inH, inW) + " input",
            "", "Use a smaller kernel, more padding, or remove a pooling layer before it");
    // The products checked without overflowing (a NetSpec may ask for anything).
    auto under2to31 = [](std::initializer_list<std::int64_t> extents) {
        std::int64_t n = 1;
        for (std::int64_t e : extents)
            if (__builtin_mul_overflow(n, e, &n) || n >= (std::int64_t(1) << 31))
                return false;
        return true;
    };
    if (!under2to31({s.batch, s.inChannels, s.height, s.width}) ||
        !under2to31({s.batch, s.outChannels, s.outH(), s.outW()}))
        return Status::error("tensor too large (over 2^31 elements)", "", "Reduce the batch size");
    return {};
}

Status conv2dForward(Backend& be, const Conv2dShape& s, const Tensor& x, const Tensor& w,
                     const Tensor& b, const Tensor& y, bool relu) {
    const char* op = "conv2d forward";
    CS_TRY(checkTensors(s, x, w, y, "x", "y", op));
    CS_TRY(expect(b, s.outChannels, DType::Real, "b", op));
    if (auto* vk = be.asVulkan())
        return dispatchGemm(*vk, vk::Kernel::Conv2dForward, {x, w, b, y},
                            push(s, kBias | (relu ? kRelu : 0u)), s.batch * s.outH() * s.outW(),
                            s.outChannels / s.groups, s.groups, op);
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const std::int64_t G = s.groups, Kg = s.outChannels / G, Cg = s.inChannels / G;
        const std::int64_t CRS = Cg * s.kernelH * s.kernelW, PQ = s.outH() * s.outW();
        const T *xs = c.real(x), *ws = c.real(w), *bs = c.real(b);
        T* ys = c.real(y);
        if constexpr (std::is_same_v<T, float>)
            if (cpu::convHandles(s))
                return cpu::convForward(s, xs, ws, bs, ys, relu);
#pragma omp parallel
        {
            std::vector<T> col(static_cast<std::size_t>(CRS * PQ));
#pragma omp for
            for (std::int64_t n = 0; n < s.batch; ++n)
                for (std::int64_t g = 0; g < G; ++g) {
                    im2col(s, xs, n, g, col.data());
                    // yᵀ (PQ x Kg) = colᵀ (PQ x CRS) · Wᵀ (CRS x Kg)
                    Eigen::Map<const MatT<T>> colT(col.data(), PQ, CRS),
                        wT(ws + g * Kg * CRS, CRS, Kg);
                    Eigen::Map<MatT<T>> yT(ys + (n * s.outChannels + g * Kg) * PQ, PQ, Kg);
                    yT.noalias() = colT * wT;
                    for (std::int64_t k = 0; k < Kg; ++k) {
                        yT.col(k).array() += bs[g * Kg + k];
                        if (relu)
                            yT.col(k) = yT.col(k).unaryExpr([](T v) { return reluKeepNan(v); });
                    }
                }
        }
    });
}

Status conv2dBackwardData(Backend& be, const Conv2dShape& s, const Tensor& dy, const Tensor& w,
                          const Tensor& dx, bool accumulate) {
    const char* op = "conv2d backward (input)";
    CS_TRY(checkTensors(s, dx, w, dy, "dx", "dy", op));
    if (auto* vk = be.asVulkan())
        return dispatchGemm(*vk, vk::Kernel::Conv2dBackwardData, {dy, w, dx},
                            push(s, accumulate ? kAccumulate : 0u), s.batch * s.height * s.width,
                            s.inChannels / s.groups, s.groups, op);
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const std::int64_t G = s.groups, Kg = s.outChannels / G, Cg = s.inChannels / G;
        const std::int64_t CRS = Cg * s.kernelH * s.kernelW, PQ = s.outH() * s.outW();
        const T *dys = c.real(dy), *ws = c.real(w);
        T* dxs = c.real(dx);
        if constexpr (std::is_same_v<T, float>)
            if (cpu::convHandles(s))
                return cpu::convBackwardData(s, dys, ws, dxs, accumulate);
        const std::int64_t imageSize = s.inChannels * s.height * s.width;
#pragma omp parallel
        {
            std::vector<T> col(static_cast<std::size_t>(CRS * PQ));
#pragma omp for
            for (std::int64_t n = 0; n < s.batch; ++n) {
                if (!accumulate)
                    std::fill(dxs + n * imageSize, dxs + (n + 1) * imageSize, T(0));
                for (std::int64_t g = 0; g < G; ++g) {
                    // colᵀ (PQ x CRS) = dyᵀ (PQ x Kg) · W (Kg x CRS)
                    Eigen::Map<const MatT<T>> wT(ws + g * Kg * CRS, CRS, Kg);
                    Eigen::Map<const MatT<T>> dyT(dys + (n * s.outChannels + g * Kg) * PQ, PQ, Kg);
                    Eigen::Map<MatT<T>> colT(col.data(), PQ, CRS);
                    colT.noalias() = dyT * wT.transpose();
                    col2im(s, col.data(), n, g, dxs);
                }
            }
        }
    });
}

Status conv2dBackwardWeight(Backend& be, const Conv2dShape& s, const Tensor& dy, const Tensor& x,
                            const Tensor& dw, const Tensor& db) {
    const char* op = "conv2d backward (weights)";
    CS_TRY(checkTensors(s, x, dw, dy, "x", "dy", op));
    CS_TRY(expect(db, s.outChannels, DType::Real, "db", op));
    if (auto* vk = be.asVulkan()) {
        const std::int64_t crs = (s.inChannels / s.groups) * s.kernelH * s.kernelW;
        const Tile tile = vk->tuning().convWeight;
        return vk->dispatch(vk::Kernel::Conv2dBackwardWeight, {dy, x, dw, db}, push(s, kBiasGrad),
                            {ceilDiv(crs, tile.tn), ceilDiv(s.outChannels / s.groups, tile.tm),
                             std::uint32_t(s.groups)},
                            {kLocal, 1, 1, tile.tm, tile.tn});
    }
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const std::int64_t G = s.groups, Kg = s.outChannels / G, Cg = s.inChannels / G;
        const std::int64_t CRS = Cg * s.kernelH * s.kernelW, PQ = s.outH() * s.outW();
        const T *dys = c.real(dy), *xs = c.real(x);
        T *dws = c.real(dw), *dbs = c.real(db);
        if constexpr (std::is_same_v<T, float>)
            if (cpu::convHandles(s))
                return cpu::convBackwardWeight(s, dys, xs, dws, dbs);
        const int threads = omp_get_max_threads();
        // Each thread sums its images into its own copy; the copies are added at the end.
        std::vector<std::vector<T>> partW(static_cast<std::size_t>(threads)),
            partB(static_cast<std::size_t>(threads));
#pragma omp parallel
        {
            const int t = omp_get_thread_num();
            auto& pw = partW[std::size_t(t)];
            auto& pb = partB[std::size_t(t)];
            pw.assign(std::size_t(s.outChannels * CRS), T(0));
            pb.assign(std::size_t(s.outChannels), T(0));
            std::vector<T> col(static_cast<std::size_t>(CRS * PQ));
#pragma omp for
            for (std::int64_t n = 0; n < s.batch; ++n)
                for (std::int64_t g = 0; g < G; ++g) {
                    im2col(s, xs, n, g, col.data());
                    // dWᵀ (CRS x Kg) += col (CRS x PQ) · dyᵀ (PQ x Kg)
                    Eigen::Map<const MatT<T>> dyT(dys + (n * s.outChannels + g * Kg) * PQ, PQ, Kg);
                    Eigen::Map<const Mat<T>> X(col.data(), CRS, PQ);
                    Eigen::Map<MatT<T>> dwT(pw.data() + g * Kg * CRS, CRS, Kg);
                    dwT.noalias() += X * dyT;
                    Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>> DB(pb.data() + g * Kg, Kg);
                    DB += dyT.colwise().sum().transpose();
                }
        }
        std::fill(dws, dws + s.outChannels * CRS, T(0));
        std::fill(dbs, dbs + s.outChannels, T(0));
        for (int t = 0; t < threads; ++t) {
            if (partW[std::size_t(t)].empty())
                continue;
            for (std::int64_t i = 0; i < s.outChannels * CRS; ++i)
                dws[i] += partW[std::size_t(t)][std::size_t(i)];
            for (std::int64_t i = 0; i < s.outChannels; ++i)
                dbs[i] += partB[std::size_t(t)][std::size_t(i)];
        }
    });
}

} // namespace convscope::ops
