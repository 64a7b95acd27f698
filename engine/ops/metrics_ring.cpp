// metrics_ring: single-invocation dispatch (shaders/metrics_ring.comp) and the CPU copy.
#include "ops/metrics_ring.h"
#include "ops/op_support.h"

namespace convscope::ops {

namespace {
struct RingPush {
    std::uint32_t slots;
};
static_assert(sizeof(RingPush) <= 128);
} // namespace

Status metricsRing(Backend& be, const Tensor& metrics, const Tensor& state, const Tensor& ring) {
    const char* op = "metrics ring";
    CS_TRY(expect(metrics, 3, DType::Real, "metrics", op));
    CS_TRY(expect(state, 1, DType::I32, "state", op));
    if (ring.dtype != DType::Real || ring.shape.rank != 2 || ring.shape[1] != 4 ||
        ring.placement != Placement::Host)
        return Status::error("ring must be a host-placed (slots, 4) tensor", op);
    const auto slots = std::uint32_t(ring.shape[0]);
    if (auto* vk = be.asVulkan())
        return vk->dispatch(vk::Kernel::MetricsRing, {metrics, state, ring}, RingPush{slots},
                            {1, 1, 1});
    return enqueueCpu(be, [=](auto& c) {
        using T = ScalarOf<decltype(c)>;
        auto& counter = c.i32(state)[0];
        const auto step = std::uint32_t(counter);
        T* slot = c.real(ring) + (step % slots) * 4;
        const T* m = c.real(metrics);
        slot[0] = m[0];
        slot[1] = m[1];
        slot[2] = m[2];
        slot[3] = T(float(step));
        counter = std::int32_t(step + 1);
    });
}

} // namespace convscope::ops
