// Helpers shared by the op files: tensor checks and workgroup grids.
#pragma once

#include "backend/cpu_backend.h"
#include "backend/vulkan_backend.h"
#include <array>
#include <string>

namespace convscope::ops {

// Checks a tensor's element count and type, naming the op and the argument when they are wrong.
inline Status expect(const Tensor& t, std::int64_t numel, DType dtype, const char* arg,
                     const char* op) {
    if (!t.valid())
        return Status::error(std::string(arg) + " is not allocated", op);
    if (t.dtype != dtype)
        return Status::error(std::string(arg) + " has the wrong element type", op);
    if (t.numel() != numel)
        return Status::error(std::string(arg) + " has " + std::to_string(t.numel()) +
                                 " elements, expected " + std::to_string(numel),
                             op);
    return {};
}

inline std::uint32_t ceilDiv(std::int64_t a, std::int64_t b) {
    return std::uint32_t((a + b - 1) / b);
}

// A 1-D problem of n elements, `perGroup` per workgroup, folded into a 2-D grid when it has more
// groups than one dimension allows. The shaders rebuild the flat index from `groupsX`.
struct FlatGrid {
    std::array<std::uint32_t, 3> groups;
    std::uint32_t groupsX;
};
inline FlatGrid flatGrid(std::int64_t n, std::uint32_t perGroup) {
    std::uint32_t total = std::max<std::uint32_t>(1, ceilDiv(n, perGroup));
    std::uint32_t gx = std::min<std::uint32_t>(total, 65535);
    return {{gx, ceilDiv(total, gx), 1}, gx};
}

// Elementwise kernels use 64 invocations x 4 elements per workgroup.
constexpr std::uint32_t kElementwiseLocal = 64, kElementwisePerInvocation = 4;
inline FlatGrid elementwiseGrid(std::int64_t n) {
    return flatGrid(n, kElementwiseLocal * kElementwisePerInvocation);
}

} // namespace convscope::ops
