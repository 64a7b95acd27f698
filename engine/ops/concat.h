// concat: joins tensors along the channel axis (Inception-style branches), and splits the
// gradient back into per-input slices.
//   inputs[i]: (N, C_i, H, W)   y, dy: (N, Σ C_i, H, W)
#pragma once

#include "backend/backend.h"
#include <vector>

namespace convscope::ops {

struct ConcatShape {
    std::int64_t batch = 1, spatial = 1; // N, H·W
    std::vector<std::int64_t> channels;  // C_i of each input
    std::int64_t total() const;          // Σ C_i
};

Status concatForward(Backend& be, const ConcatShape& s, const std::vector<Tensor>& inputs,
                     const Tensor& y);
Status concatBackward(Backend& be, const ConcatShape& s, const Tensor& dy,
                      const std::vector<Tensor>& dinputs);

} // namespace convscope::ops
