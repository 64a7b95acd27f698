// gather_batch: dispatch (shaders/gather_batch.comp) and the CPU loop.
#include "ops/gather_batch.h"
#include "ops/op_support.h"

#include <array>

namespace convscope::ops {

namespace {
struct GatherPush {
    std::uint32_t B, D, count;
    float scale, shift;
    std::uint32_t H, W, cropPad, hflip, seed; // cropPad = hflip = 0: no augmentation
};
static_assert(sizeof(GatherPush) <= 128);
} // namespace

Status gatherBatch(Backend& be, const GatherShape& s, const Tensor& images, const Tensor& labels,
                   const Tensor& order, const Tensor& state, const Tensor& x, const Tensor& y) {
    const char* op = "gather batch";
    if (s.batch <= 0 || s.features <= 0 || s.count <= 0)
        return Status::error("batch, features and sample count must be positive", op);
    if (s.batch > kMaxBatch)
        return Status::error("batch of " + std::to_string(s.batch) + " is above the limit of " +
                                 std::to_string(kMaxBatch),
                             op, "Use a smaller batch size");
    if (images.dtype != DType::U8 || images.numel() < s.count * s.features ||
        images.numel() % 4 != 0)
        return Status::error("images must be uint8 with count x features bytes (padded to 4)", op);
    if (labels.dtype != DType::U8 || labels.numel() < s.count || labels.numel() % 4 != 0)
        return Status::error("labels must be uint8 with count bytes (padded to 4)", op);
    if (s.cropPad < 0)
        return Status::error(
            "crop padding must not be negative (got " + std::to_string(s.cropPad) + ")", op);
    if (s.augments()) {
        if (s.channels <= 0 || s.height <= 0 || s.width <= 0 ||
            s.channels * s.height * s.width != s.features)
            return Status::error("augmentation needs the image layout: channels x height x width "
                                 "(" +
                                     std::to_string(s.channels) + " x " + std::to_string(s.height) +
                                     " x " + std::to_string(s.width) + ") must equal the " +
                                     std::to_string(s.features) + " features",
                                 op, "Set GatherShape::channels, height and width");
        if (s.cropPad > std::max(s.height, s.width))
            return Status::error("crop padding " + std::to_string(s.cropPad) +
                                     " is larger than the image (" + std::to_string(s.height) +
                                     " x " + std::to_string(s.width) + ")",
                                 op, "Use a padding of a few pixels, e.g. 4 for 32 x 32 images");
    }
    CS_TRY(expect(order, s.count, DType::I32, "order", op));
    CS_TRY(expect(state, 1, DType::I32, "state", op));
    CS_TRY(expect(x, s.batch * s.features, DType::Real, "x", op));
    CS_TRY(expect(y, s.batch, DType::I32, "y", op));
    if (auto* vk = be.asVulkan()) {
        const bool aug = s.augments();
        GatherPush p{std::uint32_t(s.batch),
                     std::uint32_t(s.features),
                     std::uint32_t(s.count),
                     float(s.scale),
                     float(s.shift),
                     aug ? std::uint32_t(s.height) : 1u,
                     aug ? std::uint32_t(s.width) : 1u,
                     aug ? std::uint32_t(s.cropPad) : 0u,
                     aug && s.hflip ? 1u : 0u,
                     s.seed};
        return vk->dispatch(vk::Kernel::GatherBatch, {images, labels, order, state, x, y}, p,
                            {ceilDiv(s.features, 64), std::uint32_t(s.batch), 1});
    }
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        const std::uint8_t* img = c.u8(images);
        const std::uint8_t* lab = c.u8(labels);
        const std::int32_t* ord = c.i32(order);
        const auto step = std::uint32_t(c.i32(state)[0]);
        T* xs = c.real(x);
        // The 256 possible values, each computed as the shader computes it.
        std::array<T, 256> lut;
        for (std::uint32_t v = 0; v < 256; ++v)
            lut[v] = T(normaliseByte(v, float(s.scale), float(s.shift)));
        std::int32_t* ys = c.i32(y);
        const std::int64_t steps = (s.count + s.batch - 1) / s.batch;
        const std::int64_t first = std::int64_t(step % steps) * s.batch;
        for (std::int64_t b = 0; b < s.batch; ++b) {
            const std::int64_t slot = first + b;
            T* row = xs + b * s.features;
            if (slot >= s.count) {
                std::fill(row, row + s.features, T(0));
                ys[b] = -1;
                continue;
            }
            const std::uint8_t* src = img + std::int64_t(ord[slot]) * s.features;
            if (!s.augments()) {
                for (std::int64_t i = 0; i < s.features; ++i)
                    row[i] = lut[src[i]];
            } else {
                const Augmentation a = augmentationFor(s, step, std::uint32_t(b));
                const std::int64_t H = s.height, W = s.width;
                for (std::int64_t ch = 0; ch < s.channels; ++ch)
                    for (std::int64_t r = 0; r < H; ++r)
                        for (std::int64_t col = 0; col < W; ++col) {
                            const std::int64_t sr = r + a.dy;
                            const std::int64_t sc = (a.flip ? W - 1 - col : col) + a.dx;
                            const bool inside = sr >= 0 && sr < H && sc >= 0 && sc < W;
                            row[(ch * H + r) * W + col] =
                                lut[inside ? src[(ch * H + sr) * W + sc] : 0];
                        }
            }
            ys[b] = lab[ord[slot]];
        }
    });
}

} // namespace convscope::ops
