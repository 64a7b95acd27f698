#version 450
// batch_norm_fold: w'[c, k] = s_c·w[c, k] and b'[c] = s_c·(b[c] − mean_c) + β_c with
// s_c = γ_c/√(var_c + ε): batch norm in evaluation folded into the layer before it. Flat over the
// C·K weights, 4 per invocation, WG apart; the invocations of the first C elements also write b'.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) readonly buffer BufW {
    float w[];
};
layout(std430, binding = 1) readonly buffer BufB {
    float b[];
};
layout(std430, binding = 2) readonly buffer BufGamma {
    float gamma[];
};
layout(std430, binding = 3) readonly buffer BufBeta {
    float beta[];
};
layout(std430, binding = 4) readonly buffer BufMean {
    float mean[];
};
layout(std430, binding = 5) readonly buffer BufVar {
    float var[];
};
layout(std430, binding = 6) writeonly buffer BufWOut {
    float wOut[];
};
layout(std430, binding = 7) writeonly buffer BufBOut {
    float bOut[];
};

layout(push_constant) uniform Push {
    uint C, K, groupsX;
    float eps;
}
p;

void main() {
    const uint wg = gl_WorkGroupSize.x;
    const uint base =
        (gl_WorkGroupID.y * p.groupsX + gl_WorkGroupID.x) * wg * 4u + gl_LocalInvocationID.x;
    for (uint r = 0u; r < 4u; ++r) {
        const uint i = base + r * wg;
        if (i >= p.C * p.K)
            return;
        const uint c = i / p.K;
        const float s = gamma[c] / sqrt(var[c] + p.eps);
        wOut[i] = w[i] * s;
        if (i < p.C) {
            const float sc = gamma[i] / sqrt(var[i] + p.eps);
            bOut[i] = (b[i] - mean[i]) * sc + beta[i];
        }
    }
}
