#version 450
// add: y = a + b elementwise (the residual join; its backward passes dy to both inputs, and the
// two gradients meeting at a block's input are summed with this same op). y may be a or b.
// Flat arrays of n elements; 4 per invocation, WG apart; the grid may be 2-D when n is large.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) readonly buffer BufA {
    float a[];
};
layout(std430, binding = 1) readonly buffer BufB {
    float b[];
};
layout(std430, binding = 2) writeonly buffer BufY {
    float y[];
};

layout(push_constant) uniform Push {
    uint n, groupsX;
}
p;

void main() {
    const uint wg = gl_WorkGroupSize.x;
    const uint base =
        (gl_WorkGroupID.y * p.groupsX + gl_WorkGroupID.x) * wg * 4u + gl_LocalInvocationID.x;
    for (uint r = 0u; r < 4u; ++r) {
        const uint i = base + r * wg;
        if (i >= p.n)
            return;
        y[i] = a[i] + b[i];
    }
}
