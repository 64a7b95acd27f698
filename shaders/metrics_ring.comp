#version 450
// metrics_ring: the last kernel of a step. Copies [loss, accuracy, valid] into slot
// (step % slots) of a host-visible ring, tags it with the step number and advances the counter.
//   metrics: [3] float   state[0]: step counter   ring: (slots, 4) float
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) readonly buffer BufMetrics {
    float metrics[];
};
layout(std430, binding = 1) buffer BufState {
    uint state[];
};
layout(std430, binding = 2) writeonly buffer BufRing {
    float ring[];
};

layout(push_constant) uniform Push {
    uint slots;
}
p;

void main() {
    const uint step = state[0];
    const uint s = (step % p.slots) * 4u;
    ring[s + 0u] = metrics[0];
    ring[s + 1u] = metrics[1];
    ring[s + 2u] = metrics[2];
    ring[s + 3u] = float(step);
    state[0] = step + 1u;
}
