#version 450
// gather_batch: the first kernel of a step. Picks the batch's samples from the uint8 dataset that
// lives on the device, normalises them and writes the labels; the batch number comes from a
// device-side step counter, so the host writes nothing per step.
//   images: count x D bytes (read as uint words)   labels: count bytes   order: (count) int
//   state[0]: step counter    x: (B,D) float = byte * scale + shift    y: (B) int, -1 past the end
// Invocation (i, b) handles element i of item b.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) readonly buffer BufImages {
    uint images[];
};
layout(std430, binding = 1) readonly buffer BufLabels {
    uint labels[];
};
layout(std430, binding = 2) readonly buffer BufOrder {
    int order[];
};
layout(std430, binding = 3) readonly buffer BufState {
    uint state[];
};
layout(std430, binding = 4) writeonly buffer BufX {
    float x[];
};
layout(std430, binding = 5) writeonly buffer BufY {
    int y[];
};

layout(push_constant) uniform Push {
    uint B, D, count;
    float scale, shift;
    uint pad;
}
p;

uint byteAt(uint i) {
    return (images[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu;
}

void main() {
    const uint i = gl_GlobalInvocationID.x;
    const uint b = gl_GlobalInvocationID.y;
    if (i >= p.D || b >= p.B)
        return;
    const uint steps = (p.count + p.B - 1u) / p.B;
    const uint slot = (state[0] % steps) * p.B + b;
    const bool inside = slot < p.count;
    const uint item = inside ? uint(order[slot]) : 0u;
    x[b * p.D + i] = inside ? float(byteAt(item * p.D + i)) * p.scale + p.shift : 0.0;
    if (i == 0u)
        y[b] = inside ? int((labels[item >> 2u] >> ((item & 3u) * 8u)) & 0xffu) : -1;
}
