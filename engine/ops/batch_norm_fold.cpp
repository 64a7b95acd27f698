// batch_norm_fold: elementwise over the weights (shaders/batch_norm_fold.comp) and the CPU loop.
#include "ops/batch_norm_fold.h"
#include "ops/op_support.h"

#include <cmath>

namespace convscope::ops {

namespace {
struct FoldPush {
    std::uint32_t C, K, groupsX;
    float eps;
};
static_assert(sizeof(FoldPush) <= 128);
} // namespace

Status batchNormFold(Backend& be, const BatchNormFoldShape& s, const Tensor& w, const Tensor& b,
                     const BatchNormParams& p, const Tensor& wOut, const Tensor& bOut) {
    const char* op = "batch_norm fold";
    if (s.channels <= 0 || s.perChannel <= 0)
        return Status::error("sizes must be positive", op);
    if (!(s.eps > 0))
        return Status::error("ε must be positive", op);
    const std::int64_t C = s.channels, K = s.perChannel;
    CS_TRY(expect(w, C * K, DType::Real, "w", op));
    CS_TRY(expect(wOut, C * K, DType::Real, "w'", op));
    const std::pair<const Tensor*, const char*> perChannel[] = {{&b, "b"},
                                                                {&p.gamma, "gamma"},
                                                                {&p.beta, "beta"},
                                                                {&p.runningMean, "running mean"},
                                                                {&p.runningVar, "running var"},
                                                                {&bOut, "b'"}};
    for (auto [t, name] : perChannel)
        CS_TRY(expect(*t, C, DType::Real, name, op));
    if (auto* vk = be.asVulkan()) {
        FlatGrid g = elementwiseGrid(C * K);
        return vk->dispatch(vk::Kernel::BatchNormFold,
                            {w, b, p.gamma, p.beta, p.runningMean, p.runningVar, wOut, bOut},
                            FoldPush{std::uint32_t(C), std::uint32_t(K), g.groupsX, float(s.eps)},
                            g.groups);
    }
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const T *ws = c.real(w), *bs = c.real(b), *g = c.real(p.gamma), *be_ = c.real(p.beta);
        const T *rm = c.real(p.runningMean), *rv = c.real(p.runningVar);
        T *wo = c.real(wOut), *bo = c.real(bOut);
        const T eps = T(s.eps);
        for (std::int64_t ch = 0; ch < C; ++ch) {
            const T k = g[ch] / std::sqrt(rv[ch] + eps);
            for (std::int64_t i = 0; i < K; ++i)
                wo[ch * K + i] = ws[ch * K + i] * k;
            bo[ch] = (bs[ch] - rm[ch]) * k + be_[ch];
        }
    });
}

} // namespace convscope::ops
