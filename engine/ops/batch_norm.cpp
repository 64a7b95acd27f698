// batch_norm: one workgroup per channel on Vulkan (shaders/batch_norm.comp); the CPU loops use
// the same two-pass statistics.
#include "ops/batch_norm.h"
#include "ops/op_support.h"

#include <cmath>

namespace convscope::ops {

namespace {
struct BatchNormPush {
    std::uint32_t N, C, HW, flags;
    float eps, momentum;
};
static_assert(sizeof(BatchNormPush) <= 128);
constexpr std::uint32_t kLocal = 64;

Status checkParams(const BatchNormShape& s, const BatchNormParams& p, const char* op) {
    if (s.batch <= 0 || s.channels <= 0 || s.spatial <= 0)
        return Status::error("sizes must be positive", op);
    if (!(s.eps > 0) || !(s.momentum >= 0 && s.momentum <= 1))
        return Status::error("ε must be positive and momentum in [0, 1]", op);
    const std::pair<const Tensor*, const char*> params[] = {{&p.gamma, "gamma"},
                                                            {&p.beta, "beta"},
                                                            {&p.runningMean, "running mean"},
                                                            {&p.runningVar, "running var"},
                                                            {&p.mean, "mean"},
                                                            {&p.invstd, "invstd"}};
    for (auto [t, name] : params)
        CS_TRY(expect(*t, s.channels, DType::Real, name, op));
    return {};
}

BatchNormPush push(const BatchNormShape& s, bool training) {
    return {std::uint32_t(s.batch),
            std::uint32_t(s.channels),
            std::uint32_t(s.spatial),
            training ? 1u : 0u,
            float(s.eps),
            float(s.momentum)};
}
} // namespace

Status batchNormForward(Backend& be, const BatchNormShape& s, bool training, const Tensor& x,
                        const BatchNormParams& p, const Tensor& y) {
    const char* op = "batch_norm forward";
    CS_TRY(checkParams(s, p, op));
    if (training && s.batch * s.spatial < 2)
        return Status::error("training needs more than one value per channel (batch " +
                                 std::to_string(s.batch) + " x " + std::to_string(s.spatial) +
                                 " positions)",
                             op, "Use a batch larger than 1, as PyTorch requires");
    CS_TRY(expect(x, s.elements(), DType::Real, "x", op));
    CS_TRY(expect(y, s.elements(), DType::Real, "y", op));
    if (auto* vk = be.asVulkan())
        return vk->dispatch(vk::Kernel::BatchNormForward,
                            {x, p.gamma, p.beta, p.runningMean, p.runningVar, p.mean, p.invstd, y},
                            push(s, training), {std::uint32_t(s.channels), 1, 1}, {kLocal, 1, 1});
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T* xs = c.real(x);
        T* ys = c.real(y);
        const T *g = c.real(p.gamma), *b = c.real(p.beta);
        T *rm = c.real(p.runningMean), *rv = c.real(p.runningVar);
        T *mean = c.real(p.mean), *inv = c.real(p.invstd);
        const std::int64_t C = s.channels, HW = s.spatial, M = s.batch * HW;
        const T m = T(s.momentum), eps = T(s.eps);
#pragma omp parallel for if (s.elements() > (1 << 15))
        for (std::int64_t ch = 0; ch < C; ++ch) {
            T mu, is;
            if (training) {
                T sum = 0;
                // simd reductions: without them GCC keeps float sums scalar (no reassociation).
                for (std::int64_t n = 0; n < s.batch; ++n) {
                    const T* row = xs + (n * C + ch) * HW;
#pragma omp simd reduction(+ : sum)
                    for (std::int64_t i = 0; i < HW; ++i)
                        sum += row[i];
                }
                mu = sum / T(M);
                T sq = 0;
                for (std::int64_t n = 0; n < s.batch; ++n) {
                    const T* row = xs + (n * C + ch) * HW;
#pragma omp simd reduction(+ : sq)
                    for (std::int64_t i = 0; i < HW; ++i)
                        sq += (row[i] - mu) * (row[i] - mu);
                }
                const T var = sq / T(M);
                is = T(1) / std::sqrt(var + eps);
                mean[ch] = mu;
                inv[ch] = is;
                const T unbiased = M > 1 ? var * T(M) / T(M - 1) : var;
                rm[ch] = (T(1) - m) * rm[ch] + m * mu;
                rv[ch] = (T(1) - m) * rv[ch] + m * unbiased;
            } else {
                mu = rm[ch];
                is = T(1) / std::sqrt(rv[ch] + eps);
            }
            const T scale = g[ch] * is, shift = b[ch] - mu * scale;
            for (std::int64_t n = 0; n < s.batch; ++n)
                for (std::int64_t i = 0; i < HW; ++i)
                    ys[(n * C + ch) * HW + i] = xs[(n * C + ch) * HW + i] * scale + shift;
        }
    });
}

Status batchNormBackward(Backend& be, const BatchNormShape& s, bool training, const Tensor& dy,
                         const Tensor& x, const BatchNormParams& p, const Tensor& dx,
                         const Tensor& dgamma, const Tensor& dbeta) {
    const char* op = "batch_norm backward";
    CS_TRY(checkParams(s, p, op));
    CS_TRY(expect(dy, s.elements(), DType::Real, "dy", op));
    CS_TRY(expect(x, s.elements(), DType::Real, "x", op));
    CS_TRY(expect(dx, s.elements(), DType::Real, "dx", op));
    CS_TRY(expect(dgamma, s.channels, DType::Real, "dgamma", op));
    CS_TRY(expect(dbeta, s.channels, DType::Real, "dbeta", op));
    // Evaluation binds the running statistics where training binds the saved batch statistics;
    // the kernel turns the running variance into invstd.
    const Tensor& mean = training ? p.mean : p.runningMean;
    const Tensor& second = training ? p.invstd : p.runningVar;
    if (auto* vk = be.asVulkan())
        return vk->dispatch(vk::Kernel::BatchNormBackward,
                            {dy, x, p.gamma, mean, second, dx, dgamma, dbeta}, push(s, training),
                            {std::uint32_t(s.channels), 1, 1}, {kLocal, 1, 1});
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T *dys = c.real(dy), *xs = c.real(x), *g = c.real(p.gamma);
        const T *means = c.real(mean), *seconds = c.real(second);
        T *dxs = c.real(dx), *dg = c.real(dgamma), *db = c.real(dbeta);
        const std::int64_t C = s.channels, HW = s.spatial, M = s.batch * HW;
        const T eps = T(s.eps);
#pragma omp parallel for if (s.elements() > (1 << 15))
        for (std::int64_t ch = 0; ch < C; ++ch) {
            T sb = 0, sg = 0;
            const T mu = means[ch],
                    is = training ? seconds[ch] : T(1) / std::sqrt(seconds[ch] + eps);
            for (std::int64_t n = 0; n < s.batch; ++n) {
                const T* g = dys + (n * C + ch) * HW;
                const T* xr = xs + (n * C + ch) * HW;
#pragma omp simd reduction(+ : sb, sg)
                for (std::int64_t i = 0; i < HW; ++i) {
                    sb += g[i];
                    sg += g[i] * (xr[i] - mu) * is;
                }
            }
            db[ch] = sb;
            dg[ch] = sg;
            if (!training) {
                const T k = g[ch] * is;
                for (std::int64_t n = 0; n < s.batch; ++n)
                    for (std::int64_t i = 0; i < HW; ++i)
                        dxs[(n * C + ch) * HW + i] = k * dys[(n * C + ch) * HW + i];
                continue;
            }
            const T k = g[ch] * is / T(M);
            for (std::int64_t n = 0; n < s.batch; ++n)
                for (std::int64_t i = 0; i < HW; ++i) {
                    const std::int64_t at = (n * C + ch) * HW + i;
                    const T xh = (xs[at] - mu) * is;
                    dxs[at] = k * (T(M) * dys[at] - sb - xh * sg);
                }
        }
    });
}

} // namespace convscope::ops
