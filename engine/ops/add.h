// add: y = a + b elementwise, the residual join. Backward passes dy unchanged to both inputs;
// where two gradients meet (a block's input) they are summed with add again. y may alias a or b.
//   a, b, y: any shape, same element count
#pragma once

#include "backend/backend.h"

namespace convscope::ops {

Status add(Backend& be, const Tensor& a, const Tensor& b, const Tensor& y);

} // namespace convscope::ops
