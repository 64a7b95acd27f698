// concat: one slice-copy dispatch per input (shaders/concat.comp) and the CPU copies.
#include "ops/concat.h"
#include "ops/op_support.h"

#include <numeric>

namespace convscope::ops {

namespace {
struct ConcatPush {
    std::uint32_t N, Cx, Cy, HW, offset, groupsX;
};
static_assert(sizeof(ConcatPush) <= 128);

// forward: slice → wide at channel offset; backward: wide at offset → slice.
Status copySlices(Backend& be, const ConcatShape& s, const std::vector<Tensor>& slices,
                  const Tensor& wide, bool forward) {
    const char* op = forward ? "concat forward" : "concat backward";
    if (s.batch <= 0 || s.spatial <= 0 || s.channels.empty() || slices.size() != s.channels.size())
        return Status::error("needs one tensor per input and positive sizes", op);
    CS_TRY(expect(wide, s.batch * s.total() * s.spatial, DType::Real, forward ? "y" : "dy", op));
    std::int64_t offset = 0;
    for (std::size_t i = 0; i < slices.size(); ++i) {
        const std::int64_t C = s.channels[i];
        CS_TRY(expect(slices[i], s.batch * C * s.spatial, DType::Real, "input", op)
                   .within("input " + std::to_string(i)));
        if (auto* vk = be.asVulkan()) {
            FlatGrid g = flatGrid(s.batch * C * s.spatial, 64);
            ConcatPush p{std::uint32_t(s.batch),   std::uint32_t(C),      std::uint32_t(s.total()),
                         std::uint32_t(s.spatial), std::uint32_t(offset), g.groupsX};
            CS_TRY(forward
                       ? vk->dispatch(vk::Kernel::ConcatForward, {slices[i], wide}, p, g.groups)
                       : vk->dispatch(vk::Kernel::ConcatBackward, {wide, slices[i]}, p, g.groups));
        } else {
            const Tensor slice = slices[i];
            CS_TRY(enqueueCpu(be, [=](auto& c) {
                auto* x = c.real(slice);
                auto* y = c.real(wide);
                const std::int64_t block = C * s.spatial, stride = s.total() * s.spatial;
                for (std::int64_t n = 0; n < s.batch; ++n) {
                    auto* w = y + n * stride + offset * s.spatial;
                    auto* part = x + n * block;
                    if (forward)
                        std::copy(part, part + block, w);
                    else
                        std::copy(w, w + block, part);
                }
            }));
        }
        offset += C;
    }
    return {};
}
} // namespace

std::int64_t ConcatShape::total() const {
    return std::accumulate(channels.begin(), channels.end(), std::int64_t(0));
}

Status concatForward(Backend& be, const ConcatShape& s, const std::vector<Tensor>& inputs,
                     const Tensor& y) {
    return copySlices(be, s, inputs, y, true);
}

Status concatBackward(Backend& be, const ConcatShape& s, const Tensor& dy,
                      const std::vector<Tensor>& dinputs) {
    return copySlices(be, s, dinputs, dy, false);
}

} // namespace convscope::ops
