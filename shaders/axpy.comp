#version 450
// axpy: y = x + c[0]·a + c[1]·b elementwise, the coefficients read from a (host-written) buffer
// so one recorded program moves the weights to any point of a loss landscape: θ* + αδ + βη.
// y may be x. Flat arrays of n elements; 4 per invocation, WG apart; the grid may be 2-D.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) readonly buffer BufX {
    float x[];
};
layout(std430, binding = 1) readonly buffer BufA {
    float a[];
};
layout(std430, binding = 2) readonly buffer BufB {
    float b[];
};
layout(std430, binding = 3) readonly buffer BufC {
    float c[];
};
layout(std430, binding = 4) writeonly buffer BufY {
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
    const float alpha = c[0], beta = c[1];
    for (uint r = 0u; r < 4u; ++r) {
        const uint i = base + r * wg;
        if (i >= p.n)
            return;
        y[i] = x[i] + alpha * a[i] + beta * b[i];
    }
}
