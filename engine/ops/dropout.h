// dropout (inverted): in training y = x·keep/(1 − rate), keep ~ Bernoulli(1 − rate) per element,
// drawn from a hash of (seed, device step counter, element): reproducible from the seed, new at
// every step, identical on both backends, and recomputed (not stored) by the backward pass.
// In evaluation dropout is the identity: the model skips the op.
//   x, y, dy, dx: any shape, same element count   step: (1) int32, the device step counter
#pragma once

#include "backend/backend.h"

namespace convscope::ops {

struct Dropout {
    double rate = 0.5; // probability of dropping an element, in [0, 1)
    // With the step counter this fixes every mask: give each dropout layer of a network its own
    // seed, or layers of the same size drop the same elements.
    std::uint32_t seed = 1;
};

Status dropoutForward(Backend& be, const Dropout& d, const Tensor& x, const Tensor& step,
                      const Tensor& y);
Status dropoutBackward(Backend& be, const Dropout& d, const Tensor& dy, const Tensor& step,
                       const Tensor& dx);

} // namespace convscope::ops
