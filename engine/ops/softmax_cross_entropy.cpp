// softmax_cross_entropy: one-workgroup dispatch (shaders/softmax_cross_entropy.comp) and the CPU
// loop, both using the max-shifted log-sum-exp so ±1000 logits stay finite.
#include "ops/softmax_cross_entropy.h"
#include "ops/op_support.h"

#include <cmath>

namespace convscope::ops {

namespace {
struct SoftmaxPush {
    std::uint32_t M, C;
};
static_assert(sizeof(SoftmaxPush) <= 128);
} // namespace

Status softmaxCrossEntropy(Backend& be, std::int64_t M, std::int64_t C, const Tensor& logits,
                           const Tensor& labels, const Tensor& dlogits, const Tensor& metrics) {
    const char* op = "softmax cross-entropy";
    if (M <= 0 || C < 2)
        return Status::error("needs at least one row and two classes", op);
    CS_TRY(expect(logits, M * C, DType::Real, "logits", op));
    CS_TRY(expect(labels, M, DType::I32, "labels", op));
    CS_TRY(expect(dlogits, M * C, DType::Real, "dlogits", op));
    CS_TRY(expect(metrics, 3, DType::Real, "metrics", op));
    if (auto* vk = be.asVulkan())
        return vk->dispatch(vk::Kernel::SoftmaxCrossEntropy, {logits, labels, dlogits, metrics},
                            SoftmaxPush{std::uint32_t(M), std::uint32_t(C)}, {1, 1, 1});
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T* z = c.real(logits);
        const std::int32_t* y = c.i32(labels);
        T* dz = c.real(dlogits);
        T* out = c.real(metrics);
        std::int64_t valid = 0;
        for (std::int64_t m = 0; m < M; ++m)
            valid += (y[m] >= 0 && y[m] < C);
        const T scale = valid ? T(1) / T(valid) : T(0);
        T loss = 0, correct = 0;
        for (std::int64_t m = 0; m < M; ++m) {
            const T* row = z + m * C;
            T* drow = dz + m * C;
            std::int64_t arg = 0;
            for (std::int64_t k = 1; k < C; ++k)
                if (row[k] > row[arg])
                    arg = k;
            const T zmax = row[arg];
            T se = 0;
            for (std::int64_t k = 0; k < C; ++k)
                se += std::exp(row[k] - zmax);
            if (y[m] < 0 || y[m] >= C) {
                std::fill(drow, drow + C, T(0));
                continue;
            }
            loss += std::log(se) - (row[y[m]] - zmax);
            correct += arg == y[m];
            for (std::int64_t k = 0; k < C; ++k)
                drow[k] = (std::exp(row[k] - zmax) / se - T(k == y[m])) * scale;
        }
        out[0] = loss * scale;
        out[1] = correct * scale;
        out[2] = T(valid);
    });
}

} // namespace convscope::ops
