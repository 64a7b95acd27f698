#version 450
// gather_batch: the first kernel of a step. Picks the batch's samples from the uint8 dataset that
// lives on the device, normalises them and writes the labels; the batch number comes from a
// device-side step counter, so the host writes nothing per step.
//   images: count x D bytes (read as uint words)   labels: count bytes   order: (count) int
//   state[0]: step counter    x: (B,D) float = byte * scale + shift    y: (B) int, -1 past the end
// Augmentation (cropPad > 0 or hflip = 1; samples are C x H x W): random crop of the image padded
// with zero bytes and horizontal flip, drawn from augmentHash(seed, state[0], b) exactly as
// ops::augmentationFor in engine/ops/gather_batch.h does for the CPU backend.
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
    uint H, W, cropPad, hflip, seed;
}
p;

uint byteAt(uint i) {
    return (images[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu;
}

// lowbias32 (C. Wellons).
uint mix32(uint v) {
    v ^= v >> 16u;
    v *= 0x7feb352du;
    v ^= v >> 15u;
    v *= 0x846ca68bu;
    v ^= v >> 16u;
    return v;
}

// Index of the byte that element i of an augmented sample comes from, or -1 for padding.
int augmentedSource(uint i, uint b) {
    const uint h = mix32(mix32(p.seed ^ mix32(state[0] + 0x9e3779b9u)) ^ (b * 0x85ebca6bu));
    const uint span = 2u * p.cropPad + 1u;
    const int pad = int(p.cropPad);
    const int dy = p.cropPad > 0u ? int(h % span) - pad : 0;
    const int dx = p.cropPad > 0u ? int(mix32(h + 1u) % span) - pad : 0;
    const bool flip = p.hflip != 0u && (mix32(h + 2u) & 1u) != 0u;
    const uint plane = p.H * p.W;
    const uint c = i / plane, rem = i % plane;
    const int H = int(p.H), W = int(p.W);
    const int r = int(rem / p.W), col = int(rem % p.W);
    const int sr = r + dy;
    const int sc = (flip ? W - 1 - col : col) + dx;
    if (sr < 0 || sr >= H || sc < 0 || sc >= W)
        return -1;
    return int(c * plane) + sr * W + sc;
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
    // precise: no fused multiply-add, the product and the sum each rounded, as on the CPU
    // (ops::normaliseByte), so both backends produce the same bits.
    precise float v = 0.0;
    if (inside) {
        const int src = (p.cropPad == 0u && p.hflip == 0u) ? int(i) : augmentedSource(i, b);
        const uint byteValue = src < 0 ? 0u : byteAt(item * p.D + uint(src));
        v = float(byteValue) * p.scale + p.shift;
    }
    x[b * p.D + i] = v;
    if (i == 0u)
        y[b] = inside ? int((labels[item >> 2u] >> ((item & 3u) * 8u)) & 0xffu) : -1;
}
