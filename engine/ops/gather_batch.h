// gather_batch: the first op of a step. Takes batch number (state[0] mod steps per epoch) of the
// order, gathers those samples from the uint8 dataset on the device and normalises them.
//   images: (≥ count·D) uint8   labels: (≥ count) uint8   order: (count) int32
//   state: (1) int32 step counter   x: (B, D) = byte·scale + shift   y: (B) int32, −1 past the end
// Optional augmentation for training batches (CIFAR-style): a random crop of the image padded
// with cropPad pixels of value 0 on each side (0·scale + shift after normalisation, as
// torchvision's RandomCrop(padding) then Normalize) and a horizontal flip with probability 1/2.
// Both are drawn from augmentHash(seed, state[0], batch row), which the shader computes too, so
// the Vulkan and CPU backends produce bit-identical batches and every step draws new crops.
#pragma once

#include "backend/backend.h"
#include "core/random.h"
#include <algorithm>

namespace convscope::ops {

// One workgroup row per sample: Vulkan guarantees 65535 workgroups in Y.
constexpr std::int64_t kMaxBatch = 65535;

struct GatherShape {
    std::int64_t batch = 0, features = 0, count = 0; // B, D, samples in the order
    double scale = 1.0, shift = 0.0;
    // Augmentation; the defaults mean none. The image layout is needed only when augmenting and
    // must then satisfy channels·height·width = features (CHW samples).
    std::int64_t channels = 0, height = 0, width = 0;
    int cropPad = 0;    // > 0: random crop, offsets dy, dx ∈ [−cropPad, cropPad] per sample
    bool hflip = false; // random horizontal flip, probability 1/2 per sample
    std::uint32_t seed = 0;
    bool augments() const { return cropPad > 0 || hflip; }
};

// byte·scale + shift in float, rounded after the product and again after the sum (never a fused
// multiply-add, which the compiler would otherwise pick on FMA hosts), as the shader's `precise`
// arithmetic: both backends produce the same bits.
inline float normaliseByte(std::uint32_t v, float scale, float shift) {
    volatile float product = float(v) * scale;
    return product + shift;
}

// The augmentation hash of batch row `row` at device step `step`; shaders/gather_batch.comp
// computes the same.
constexpr std::uint32_t augmentHash(std::uint32_t seed, std::uint32_t step, std::uint32_t row) {
    return lowbias32(lowbias32(seed ^ lowbias32(step + 0x9e3779b9u)) ^ (row * 0x85ebca6bu));
}

// What one sample gets: output pixel (c, r, col) is source pixel
// (c, r + dy, (flip ? width − 1 − col : col) + dx), or the pad value outside the image.
struct Augmentation {
    int dy = 0, dx = 0;
    bool flip = false;
};
constexpr Augmentation augmentationFor(const GatherShape& s, std::uint32_t step,
                                       std::uint32_t row) {
    const std::uint32_t h = augmentHash(s.seed, step, row);
    const auto span = std::uint32_t(2 * std::max(s.cropPad, 0) + 1);
    Augmentation a;
    if (s.cropPad > 0) {
        a.dy = int(h % span) - s.cropPad;
        a.dx = int(lowbias32(h + 1u) % span) - s.cropPad;
    }
    a.flip = s.hflip && (lowbias32(h + 2u) & 1u) != 0;
    return a;
}

// U8 tensors are read as 32-bit words on Vulkan: plan them with a size rounded up to 4.
inline std::int64_t paddedBytes(std::int64_t n) {
    return (n + 3) / 4 * 4;
}

Status gatherBatch(Backend& be, const GatherShape& s, const Tensor& images, const Tensor& labels,
                   const Tensor& order, const Tensor& state, const Tensor& x, const Tensor& y);

} // namespace convscope::ops
