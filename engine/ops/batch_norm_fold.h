// batch_norm_fold: batch norm in evaluation folded into the convolution (or linear layer) that
// feeds it, for forward passes that read only the logits (a loss-landscape point, test-set
// accuracy). With s_c = γ_c/√(runningVar_c + ε):
//   w'[c, :] = s_c·w[c, :],   b'[c] = s_c·(b[c] − runningMean_c) + β_c,
// so conv(x; w', b') = BN_eval(conv(x; w, b)) up to rounding, and one pass over the activations
// (the batch norm's) disappears. No backward: a backward pass needs the unfolded layers.
//   w, w': (C, K) with K the weights per output channel   b, b', γ, β, mean, var: (C)
#pragma once

#include "ops/batch_norm.h"

namespace convscope::ops {

struct BatchNormFoldShape {
    std::int64_t channels = 1, perChannel = 1; // C, K
    double eps = 1e-5;
};

Status batchNormFold(Backend& be, const BatchNormFoldShape& s, const Tensor& w, const Tensor& b,
                     const BatchNormParams& p, const Tensor& wOut, const Tensor& bOut);

} // namespace convscope::ops
