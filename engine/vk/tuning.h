// Tuning: the register-tile sizes of the GEMM-like kernels (their specialization constants),
// chosen per device. llvmpipe runs every non-uniform load as a per-lane scalar loop, so on a
// CPU device large tiles (more FMAs per load) win (bench/README.md); on a GPU large tiles
// would crush occupancy. The GPU tiles are the first, unmeasured guess (no GPU yet).
// CONVSCOPE_TUNING=cpu|gpu overrides "auto" (VulkanBackend::create); the backend's
// description() names the profile in use ("..., gpu tiles"), and bench/gpu.sh prints it.
#pragma once

#include "vk/context.h"
#include <cstdint>
#include <string>

namespace convscope::vk {

struct Tile {
    std::uint32_t tm, tn; // output rows x columns per invocation (or per workgroup)
};

struct Tuning {
    Tile conv;       // conv2d forward and backward-data, per invocation
    Tile convWeight; // conv2d backward-weight, per workgroup ((tm·tn + tm)·64 floats shared)
    Tile linear;     // linear (all three passes), per invocation
    std::string profile;

    // profile: "cpu" (tuned on lavapipe), "gpu", or "auto" (by the device type).
    static Tuning forDevice(const Context& ctx, const std::string& profile = "auto") {
        const bool cpu = profile == "cpu" || (profile == "auto" && ctx.info().isCpu());
        if (!cpu)
            return {{4, 4}, {4, 4}, {4, 4}, "gpu"};
        // 8x8 backward-weight blocks need 18 KiB of shared memory, past the 16 KiB minimum.
        const bool big = ctx.properties().limits.maxComputeSharedMemorySize >= (8 * 8 + 8) * 64 * 4;
        return {{8, 16}, big ? Tile{8, 8} : Tile{8, 4}, {8, 8}, "cpu"};
    }
};

} // namespace convscope::vk
