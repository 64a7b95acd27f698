// softmax_cross_entropy: mean loss over the valid rows, accuracy, and the logits' gradient.
//   logits: (M, C)   labels: (M) int32, < 0 marks a row to ignore (the padded end of a dataset)
//   dlogits: (M, C) = (softmax(z) - onehot(label)) / V    metrics: (3) = [loss, accuracy, V]
// with loss = (1/V) Σ (log Σ_c exp z_c - z_label), V = number of valid rows.
#pragma once

#include "backend/backend.h"

namespace convscope::ops {

Status softmaxCrossEntropy(Backend& be, std::int64_t rows, std::int64_t classes,
                           const Tensor& logits, const Tensor& labels, const Tensor& dlogits,
                           const Tensor& metrics);

} // namespace convscope::ops
