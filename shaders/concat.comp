#version 450
// concat: joins tensors along channels (Inception-style branches). One dispatch per input:
//   FORWARD   y[n, offset + c, i] = x[n, c, i]      x: (N, Cx, HW)   y: (N, Cy, HW)
//   BACKWARD  dx[n, c, i] = dy[n, offset + c, i]
// One invocation per element of x; the grid may be 2-D when there are many.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) readonly buffer BufIn {
    float src[];
};
layout(std430, binding = 1) writeonly buffer BufOut {
    float dst[];
};

layout(push_constant) uniform Push {
    uint N, Cx, Cy, HW, offset, groupsX;
}
p;

void main() {
    const uint idx = (gl_WorkGroupID.y * p.groupsX + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
                     gl_LocalInvocationID.x;
    if (idx >= p.N * p.Cx * p.HW)
        return;
    const uint n = idx / (p.Cx * p.HW), rest = idx % (p.Cx * p.HW);
    const uint wide = n * p.Cy * p.HW + p.offset * p.HW + rest;
#ifndef BACKWARD
    dst[wide] = src[idx];
#else
    dst[idx] = src[wide];
#endif
}
