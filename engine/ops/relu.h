// relu: y = max(x, 0); backward dx = dy · [y > 0] (from the forward output, so x may be reused).
//   x, y, dy, dx: any shape, same element count
#pragma once

#include "backend/backend.h"

namespace convscope::ops {

Status reluForward(Backend& be, const Tensor& x, const Tensor& y);
Status reluBackward(Backend& be, const Tensor& y, const Tensor& dy, const Tensor& dx);

} // namespace convscope::ops
