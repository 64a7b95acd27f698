#version 450
// dropout (inverted): y = x·keep/(1 − rate), where keep = [hash(seed, step, i) ≥ rate·2³²].
// The mask is a pure function of (seed, device step counter, element), so the backward pass
// (-DBACKWARD: dx = dy·keep/(1 − rate)) recomputes it and each step draws a new, reproducible
// mask. engine/ops/dropout.cpp has the same hash for the CPU backend.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) readonly buffer BufIn {
    float src[];
}; // x, or dy
layout(std430, binding = 1) writeonly buffer BufOut {
    float dst[];
}; // y, or dx
layout(std430, binding = 2) readonly buffer BufStep {
    uint step[];
};

layout(push_constant) uniform Push {
    uint n, groupsX, seed, threshold; // threshold = rate·2³²
    float scale;                      // 1/(1 − rate)
}
p;

// A 32-bit integer hash (lowbias32 by C. Wellons), applied twice to mix three inputs.
uint mix32(uint v) {
    v ^= v >> 16u;
    v *= 0x7feb352du;
    v ^= v >> 15u;
    v *= 0x846ca68bu;
    v ^= v >> 16u;
    return v;
}

void main() {
    const uint wg = gl_WorkGroupSize.x;
    const uint base =
        (gl_WorkGroupID.y * p.groupsX + gl_WorkGroupID.x) * wg * 4u + gl_LocalInvocationID.x;
    const uint key = mix32(p.seed ^ mix32(step[0] + 0x9e3779b9u));
    for (uint r = 0u; r < 4u; ++r) {
        const uint i = base + r * wg;
        if (i >= p.n)
            return;
        const bool keep = mix32(key ^ i * 0x85ebca6bu) >= p.threshold;
        dst[i] = keep ? src[i] * p.scale : 0.0;
    }
}
