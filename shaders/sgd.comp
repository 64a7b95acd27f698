#version 450
// sgd: one update over a flat block of parameters, PyTorch's torch.optim.SGD rule:
//   g' = g + wd * p;   v = mu * v + g';   p -= lr * (mu > 0 ? v : g')
// hyper: [lr, mu, wd] lives in host-visible memory, so changing the learning rate never
// re-records the command buffer.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) buffer BufP { float param[]; };
layout(std430, binding = 1) readonly buffer BufG { float grad[]; };
layout(std430, binding = 2) buffer BufV { float velocity[]; };
layout(std430, binding = 3) readonly buffer BufH { float hyper[]; };

layout(push_constant) uniform Push {
    uint n, groupsX;
} p;

void main() {
    const uint wg = gl_WorkGroupSize.x;
    const uint base = (gl_WorkGroupID.y * p.groupsX + gl_WorkGroupID.x) * wg * 4u +
                      gl_LocalInvocationID.x;
    const float lr = hyper[0], mu = hyper[1], wd = hyper[2];
    for (uint r = 0u; r < 4u; ++r) {
        const uint i = base + r * wg;
        if (i >= p.n)
            return;
        float g = grad[i] + wd * param[i];
        if (mu != 0.0) {
            g = mu * velocity[i] + g;
            velocity[i] = g;
        }
        param[i] -= lr * g;
    }
}
