#version 450
// grad_norm: the global L2 norm of a flat gradient block and the clipping factor, in two passes
// (no float atomics needed):
//   PARTIAL  workgroup w writes partial[w] = Σ g² over its chunk (grid-stride loop)
//   FINAL    one workgroup: norm[0] = √(Σ partial), norm[1] = min(1, maxNorm / (norm[0] + 1e-6))
// maxNorm is hyper[8]. The workgroup size must be a power of two.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

#ifdef PARTIAL
layout(std430, binding = 0) readonly buffer BufG {
    float grad[];
};
layout(std430, binding = 1) writeonly buffer BufPartial {
    float partial[];
};
#else
layout(std430, binding = 0) readonly buffer BufPartial {
    float partial[];
};
layout(std430, binding = 1) writeonly buffer BufNorm {
    float norm[];
};
layout(std430, binding = 2) readonly buffer BufH {
    float hyper[];
};
#endif

layout(push_constant) uniform Push {
    uint n; // gradient elements (PARTIAL) or partial sums (FINAL)
}
p;

shared float red[gl_WorkGroupSize.x];

void main() {
    const uint t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
#ifdef PARTIAL
    const uint stride = gl_NumWorkGroups.x * wg;
    float s0 = 0.0, s1 = 0.0; // two accumulators: independent FMA chains
    uint i = gl_WorkGroupID.x * wg + t;
    for (; i + stride < p.n; i += 2u * stride) {
        s0 = fma(grad[i], grad[i], s0);
        s1 = fma(grad[i + stride], grad[i + stride], s1);
    }
    if (i < p.n)
        s0 = fma(grad[i], grad[i], s0);
    red[t] = s0 + s1;
#else
    float s = 0.0;
    for (uint i = t; i < p.n; i += wg)
        s += partial[i];
    red[t] = s;
#endif
    barrier(); // all partial sums are stored before the tree reads them
    for (uint h = wg / 2u; h > 0u; h >>= 1u) {
        if (t < h)
            red[t] += red[t + h];
        barrier(); // this level is complete before the next reads it
    }
    if (t == 0u) {
#ifdef PARTIAL
        partial[gl_WorkGroupID.x] = red[0];
#else
        const float total = sqrt(red[0]);
        norm[0] = total;
        norm[1] = min(1.0, hyper[8] / (total + 1e-6));
#endif
    }
}
