#version 450
// batch_norm: batch normalisation over (N, H·W) per channel, one workgroup per channel.
//   x, y, dy, dx: (N, C, HW)   gamma, beta, runningMean, runningVar, mean, invstd, dgamma, dbeta:
//   (C)
// FORWARD, training (flag 1): μ = mean, σ² = biased variance (two passes, for accuracy),
//   invstd = 1/√(σ² + ε), y = γ·(x − μ)·invstd + β; running stats ← (1 − m)·running + m·batch,
//   with the unbiased variance, as PyTorch. Evaluation (flag 0): μ, σ² from the running stats.
// BACKWARD: x̂ = (x − μ)·invstd, dβ = Σ dy, dγ = Σ dy·x̂; training (flag 1): through the batch
//   statistics, dx = γ·invstd/M · (M·dy − dβ − x̂·dγ), M = N·HW. Evaluation (flag 0): the
//   host binds the running mean as `mean` and the running variance as `invstd`, constants of
//   the pass: invstd = 1/√(var + ε), dx = γ·invstd·dy.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(push_constant) uniform Push {
    uint N, C, HW, flags;
    float eps, momentum;
}
p;

#ifdef FORWARD
layout(std430, binding = 0) readonly buffer BufX {
    float x[];
};
layout(std430, binding = 1) readonly buffer BufG {
    float gamma[];
};
layout(std430, binding = 2) readonly buffer BufB {
    float beta[];
};
layout(std430, binding = 3) buffer BufRM {
    float runningMean[];
};
layout(std430, binding = 4) buffer BufRV {
    float runningVar[];
};
layout(std430, binding = 5) buffer BufMean {
    float mean[];
};
layout(std430, binding = 6) buffer BufInv {
    float invstd[];
};
layout(std430, binding = 7) writeonly buffer BufY {
    float y[];
};
#else
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
layout(std430, binding = 6) writeonly buffer BufDg {
    float dgamma[];
};
layout(std430, binding = 7) writeonly buffer BufDb {
    float dbeta[];
};
#endif

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

void main() {
    const uint c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    const uint M = p.N * p.HW;
    // Element i of channel c lives at (i / HW)·C·HW + c·HW + i % HW.
#define AT(i) (((i) / p.HW) * p.C * p.HW + c * p.HW + (i) % p.HW)
#ifdef FORWARD
    float mu, inv;
    if ((p.flags & 1u) != 0u) {
        float s = 0.0;
        for (uint i = t; i < M; i += wg)
            s += x[AT(i)];
        mu = workgroupSum2(s, 0.0).x / float(M);
        float q = 0.0;
        for (uint i = t; i < M; i += wg) {
            const float d = x[AT(i)] - mu;
            q += d * d;
        }
        const float var = workgroupSum2(q, 0.0).x / float(M);
        inv = inversesqrt(var + p.eps);
        if (t == 0u) {
            mean[c] = mu;
            invstd[c] = inv;
            const float unbiased = M > 1u ? var * float(M) / float(M - 1u) : var;
            runningMean[c] = (1.0 - p.momentum) * runningMean[c] + p.momentum * mu;
            runningVar[c] = (1.0 - p.momentum) * runningVar[c] + p.momentum * unbiased;
        }
    } else {
        mu = runningMean[c];
        inv = inversesqrt(runningVar[c] + p.eps);
    }
    const float scale = gamma[c] * inv, shift = beta[c] - mu * scale;
    for (uint i = t; i < M; i += wg)
        y[AT(i)] = x[AT(i)] * scale + shift;
#else
    const bool training = (p.flags & 1u) != 0u;
    const float mu = mean[c], inv = training ? invstd[c] : inversesqrt(invstd[c] + p.eps);
    float sb = 0.0, sg = 0.0;
    for (uint i = t; i < M; i += wg) {
        const float g = dy[AT(i)];
        sb += g;
        sg += g * (x[AT(i)] - mu) * inv;
    }
    const vec2 sums = workgroupSum2(sb, sg); // (dβ, dγ)
    if (t == 0u) {
        dbeta[c] = sums.x;
        dgamma[c] = sums.y;
    }
    if (!training) {
        for (uint i = t; i < M; i += wg)
            dx[AT(i)] = gamma[c] * inv * dy[AT(i)];
        return;
    }
    const float k = gamma[c] * inv / float(M);
    for (uint i = t; i < M; i += wg) {
        const float xh = (x[AT(i)] - mu) * inv;
        dx[AT(i)] = k * (float(M) * dy[AT(i)] - sums.x - xh * sums.y);
    }
#endif
}
