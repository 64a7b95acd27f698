#version 450
// layer_norm: normalisation of each sample over its D = C·H·W features, with elementwise γ, β
// (PyTorch's LayerNorm([C, H, W])).
//   x, y, dy, dx: (N, D)   gamma, beta, dgamma, dbeta: (D)   mean, invstd: (N)
// FORWARD (workgroup n): μ, σ² (two passes), invstd = 1/√(σ² + ε), y = γ·(x − μ)·invstd + β
// BACKWARD_DATA (workgroup n): g = dy·γ, x̂ = (x − μ)·invstd,
//   dx = invstd/D · (D·g − Σ g − x̂·Σ g·x̂)
// BACKWARD_AFFINE (invocation d): dγ = Σₙ dy·x̂, dβ = Σₙ dy
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(push_constant) uniform Push {
    uint N, D;
    float eps;
}
p;

#if defined(FORWARD)
layout(std430, binding = 0) readonly buffer BufX {
    float x[];
};
layout(std430, binding = 1) readonly buffer BufG {
    float gamma[];
};
layout(std430, binding = 2) readonly buffer BufB {
    float beta[];
};
layout(std430, binding = 3) writeonly buffer BufMean {
    float mean[];
};
layout(std430, binding = 4) writeonly buffer BufInv {
    float invstd[];
};
layout(std430, binding = 5) writeonly buffer BufY {
    float y[];
};
#elif defined(BACKWARD_DATA)
layout(std430, binding = 0) readonly buffer BufDy {
    float dy[];
};
layout(std430, binding = 1) readonly buffer BufX {
    float x[];
};
layout(std430, binding = 2) readonly buffer BufG {
    float gamma[];
};
layout(std430, binding = 3) readonly buffer BufMean {
    float mean[];
};
layout(std430, binding = 4) readonly buffer BufInv {
    float invstd[];
};
layout(std430, binding = 5) writeonly buffer BufDx {
    float dx[];
};
#else
layout(std430, binding = 0) readonly buffer BufDy {
    float dy[];
};
layout(std430, binding = 1) readonly buffer BufX {
    float x[];
};
layout(std430, binding = 2) readonly buffer BufMean {
    float mean[];
};
layout(std430, binding = 3) readonly buffer BufInv {
    float invstd[];
};
layout(std430, binding = 4) writeonly buffer BufDg {
    float dgamma[];
};
layout(std430, binding = 5) writeonly buffer BufDb {
    float dbeta[];
};
#endif

#if defined(FORWARD) || defined(BACKWARD_DATA)
shared float red[2 * gl_WorkGroupSize.x];

// Sums of (a, b) over the workgroup, returned to every invocation.
vec2 workgroupSum2(float a, float b) {
    const uint t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    red[t] = a;
    red[wg + t] = b;
    barrier(); // all partial sums are stored before the tree reads them
    for (uint h = wg / 2u; h > 0u; h >>= 1u) {
        if (t < h) {
            red[t] += red[t + h];
            red[wg + t] += red[wg + t + h];
        }
        barrier(); // this level is complete before the next reads it
    }
    const vec2 r = vec2(red[0], red[wg]);
    barrier(); // everyone has read the result before red is reused
    return r;
}
#endif

void main() {
#if defined(FORWARD) || defined(BACKWARD_DATA)
    const uint n = gl_WorkGroupID.x, t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    const uint row = n * p.D;
#endif
#if defined(FORWARD)
    float s = 0.0;
    for (uint d = t; d < p.D; d += wg)
        s += x[row + d];
    const float mu = workgroupSum2(s, 0.0).x / float(p.D);
    float q = 0.0;
    for (uint d = t; d < p.D; d += wg) {
        const float v = x[row + d] - mu;
        q += v * v;
    }
    const float inv = inversesqrt(workgroupSum2(q, 0.0).x / float(p.D) + p.eps);
    if (t == 0u) {
        mean[n] = mu;
        invstd[n] = inv;
    }
    for (uint d = t; d < p.D; d += wg)
        y[row + d] = gamma[d] * (x[row + d] - mu) * inv + beta[d];
#elif defined(BACKWARD_DATA)
    const float mu = mean[n], inv = invstd[n];
    float s1 = 0.0, s2 = 0.0;
    for (uint d = t; d < p.D; d += wg) {
        const float g = dy[row + d] * gamma[d];
        s1 += g;
        s2 += g * (x[row + d] - mu) * inv;
    }
    const vec2 sums = workgroupSum2(s1, s2);
    const float k = inv / float(p.D);
    for (uint d = t; d < p.D; d += wg) {
        const float g = dy[row + d] * gamma[d];
        const float xh = (x[row + d] - mu) * inv;
        dx[row + d] = k * (float(p.D) * g - sums.x - xh * sums.y);
    }
#else
    const uint d =
        gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (d >= p.D)
        return;
    float sg = 0.0, sb = 0.0;
    for (uint n = 0u; n < p.N; ++n) {
        const float g = dy[n * p.D + d];
        sg += g * (x[n * p.D + d] - mean[n]) * invstd[n];
        sb += g;
    }
    dgamma[d] = sg;
    dbeta[d] = sb;
#endif
}
