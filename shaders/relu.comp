#version 450
// relu: forward y = max(x, 0); backward (-DBACKWARD) dx = dy * (y > 0), from the forward output.
// Tensors are flat float arrays of n elements. Each invocation handles 4 elements, WG apart,
// so neighbouring invocations touch neighbouring addresses. The grid may be 2-D when n is large.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

#ifndef BACKWARD
layout(std430, binding = 0) readonly buffer BufX { float x[]; };
layout(std430, binding = 1) writeonly buffer BufY { float y[]; };
#else
layout(std430, binding = 0) readonly buffer BufY { float y[]; };
layout(std430, binding = 1) readonly buffer BufDy { float dy[]; };
layout(std430, binding = 2) writeonly buffer BufDx { float dx[]; };
#endif

layout(push_constant) uniform Push {
    uint n, groupsX;
} p;

void main() {
    const uint wg = gl_WorkGroupSize.x;
    const uint group = gl_WorkGroupID.y * p.groupsX + gl_WorkGroupID.x;
    const uint base = group * wg * 4u + gl_LocalInvocationID.x;
    for (uint r = 0u; r < 4u; ++r) {
        const uint i = base + r * wg;
        if (i >= p.n)
            return;
#ifndef BACKWARD
        y[i] = max(x[i], 0.0);
#else
        dx[i] = y[i] > 0.0 ? dy[i] : 0.0;
#endif
    }
}
