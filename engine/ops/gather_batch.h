// gather_batch: the first op of a step. Takes batch number (state[0] mod steps per epoch) of the
// order, gathers those samples from the uint8 dataset on the device and normalises them.
//   images: (≥ count·D) uint8   labels: (≥ count) uint8   order: (count) int32
//   state: (1) int32 step counter   x: (B, D) = byte·scale + shift   y: (B) int32, −1 past the end
#pragma once

#include "backend/backend.h"

namespace convscope::ops {

// One workgroup row per sample: Vulkan guarantees 65535 workgroups in Y.
constexpr std::int64_t kMaxBatch = 65535;

struct GatherShape {
    std::int64_t batch = 0, features = 0, count = 0; // B, D, samples in the order
    double scale = 1.0, shift = 0.0;
};

// U8 tensors are read as 32-bit words on Vulkan: plan them with a size rounded up to 4.
inline std::int64_t paddedBytes(std::int64_t n) {
    return (n + 3) / 4 * 4;
}

Status gatherBatch(Backend& be, const GatherShape& s, const Tensor& images, const Tensor& labels,
                   const Tensor& order, const Tensor& state, const Tensor& x, const Tensor& y);

} // namespace convscope::ops
