// linear: shape rule, the strided-GEMM dispatches (shaders/linear.comp) and the Eigen reference.
#include "ops/linear.h"
#include "ops/op_support.h"

#include <Eigen/Core>
#include <cmath>

namespace convscope::ops {

namespace {

// Mirrors the push constants of shaders/linear.comp.
struct LinearPush {
    std::uint32_t M, N, K, sam, sak, sbk, sbn, flags;
};
static_assert(sizeof(LinearPush) <= 128);
enum : std::uint32_t { kBias = 1, kRelu = 2, kAccumulate = 4, kRowSums = 8 };

// Register block per invocation and local size; the workgroup covers (8*TN) x (8*TM) of C.
constexpr std::uint32_t kLocal = 8; // 8x8 invocations; the register tile comes from vk::Tuning

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Row = Eigen::Matrix<T, 1, Eigen::Dynamic>;

Status gemm(Backend& be, const LinearPush& push, const Tensor& a, const Tensor& b, const Tensor& c,
            const Tensor& d) {
    const vk::Tile t = be.asVulkan()->tuning().linear;
    return be.asVulkan()->dispatch(
        vk::Kernel::Linear, {a, b, c, d}, push,
        {ceilDiv(push.N, kLocal * t.tn), ceilDiv(push.M, kLocal * t.tm), 1},
        {kLocal, kLocal, 1, t.tm, t.tn});
}

Status checkShape(const LinearShape& s, const char* op) {
    if (s.batch <= 0 || s.in <= 0 || s.out <= 0)
        return Status::error("batch, in and out must be positive (got " + std::to_string(s.batch) +
                                 ", " + std::to_string(s.in) + ", " + std::to_string(s.out) + ")",
                             op);
    return {};
}

} // namespace

Status linearForward(Backend& be, const LinearShape& s, const Tensor& x, const Tensor& w,
                     const Tensor& b, const Tensor& y, bool relu) {
    const char* op = "linear forward";
    CS_TRY(checkShape(s, op));
    CS_TRY(expect(x, s.batch * s.in, DType::Real, "x", op));
    CS_TRY(expect(w, s.out * s.in, DType::Real, "W", op));
    CS_TRY(expect(b, s.out, DType::Real, "b", op));
    CS_TRY(expect(y, s.batch * s.out, DType::Real, "y", op));
    if (be.asVulkan()) {
        // C = y (N x O), A = x (N x I), B[k,n] = W[n,k].
        LinearPush p{std::uint32_t(s.batch),
                     std::uint32_t(s.out),
                     std::uint32_t(s.in),
                     std::uint32_t(s.in),
                     1,
                     1,
                     std::uint32_t(s.in),
                     kBias | (relu ? kRelu : 0u)};
        return gemm(be, p, x, w, y, b);
    }
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        Eigen::Map<const Mat<T>> X(c.real(x), s.batch, s.in), W(c.real(w), s.out, s.in);
        Eigen::Map<Mat<T>> Y(c.real(y), s.batch, s.out);
        Eigen::Map<const Row<T>> B(c.real(b), s.out);
        Y.noalias() = X * W.transpose();
        Y.rowwise() += B;
        if (relu)
            Y = Y.unaryExpr([](T v) { return v > 0 || std::isnan(v) ? v : T(0); }); // NaN stays
    });
}

Status linearBackwardData(Backend& be, const LinearShape& s, const Tensor& dy, const Tensor& w,
                          const Tensor& dx, bool accumulate) {
    const char* op = "linear backward (input)";
    CS_TRY(checkShape(s, op));
    CS_TRY(expect(dy, s.batch * s.out, DType::Real, "dy", op));
    CS_TRY(expect(w, s.out * s.in, DType::Real, "W", op));
    CS_TRY(expect(dx, s.batch * s.in, DType::Real, "dx", op));
    if (be.asVulkan()) {
        // C = dx (N x I), A = dy (N x O), B = W (O x I).
        LinearPush p{std::uint32_t(s.batch),
                     std::uint32_t(s.in),
                     std::uint32_t(s.out),
                     std::uint32_t(s.out),
                     1,
                     std::uint32_t(s.in),
                     1,
                     accumulate ? kAccumulate : 0u};
        // Binding 3 is unused without bias flags; W stands in so every binding is valid.
        return gemm(be, p, dy, w, dx, w);
    }
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        Eigen::Map<const Mat<T>> DY(c.real(dy), s.batch, s.out), W(c.real(w), s.out, s.in);
        Eigen::Map<Mat<T>> DX(c.real(dx), s.batch, s.in);
        if (accumulate)
            DX.noalias() += DY * W;
        else
            DX.noalias() = DY * W;
    });
}

Status linearBackwardWeight(Backend& be, const LinearShape& s, const Tensor& dy, const Tensor& x,
                            const Tensor& dw, const Tensor& db) {
    const char* op = "linear backward (weights)";
    CS_TRY(checkShape(s, op));
    CS_TRY(expect(dy, s.batch * s.out, DType::Real, "dy", op));
    CS_TRY(expect(x, s.batch * s.in, DType::Real, "x", op));
    CS_TRY(expect(dw, s.out * s.in, DType::Real, "dW", op));
    CS_TRY(expect(db, s.out, DType::Real, "db", op));
    if (be.asVulkan()) {
        // C = dW (O x I), A[m,k] = dy[k,m], B = x (N x I); the row sums of A are db.
        LinearPush p{std::uint32_t(s.out),
                     std::uint32_t(s.in),
                     std::uint32_t(s.batch),
                     1,
                     std::uint32_t(s.out),
                     std::uint32_t(s.in),
                     1,
                     kRowSums};
        return gemm(be, p, dy, x, dw, db);
    }
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        Eigen::Map<const Mat<T>> DY(c.real(dy), s.batch, s.out), X(c.real(x), s.batch, s.in);
        Eigen::Map<Mat<T>> DW(c.real(dw), s.out, s.in);
        Eigen::Map<Row<T>> DB(c.real(db), s.out);
        DW.noalias() = DY.transpose() * X;
        DB = DY.colwise().sum();
    });
}

} // namespace convscope::ops
