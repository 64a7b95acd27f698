// metrics_ring: the last op of a step. Copies [loss, accuracy, valid] into slot (step mod slots)
// of a host-visible ring with the step number, then advances the step counter, so the host can
// read finished steps while later ones run.
//   metrics: (3)   state: (1) int32   ring: (slots, 4) host-placed = [loss, accuracy, valid, step]
#pragma once

#include "backend/backend.h"

namespace convscope::ops {

Status metricsRing(Backend& be, const Tensor& metrics, const Tensor& state, const Tensor& ring);

} // namespace convscope::ops
