#version 450
// activation: elementwise nonlinearities and their gradients, computed from the output y
// (so the input may be overwritten in place):
//   kind 0 ReLU        y = max(x, 0)                 dy/dx = [y > 0]
//   kind 1 leaky ReLU  y = x > 0 ? x : slope·x       dy/dx = y > 0 ? 1 : slope   (slope > 0)
//   kind 2 sigmoid     y = 1 / (1 + e^−x)            dy/dx = y (1 − y)
//   kind 3 tanh        y = tanh x                    dy/dx = 1 − y²
// Forward: x → y. Backward (-DBACKWARD): (y, dy) → dx. Flat arrays of n elements; each
// invocation handles 4 elements, WG apart, and the grid may be 2-D when n is large.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

#ifndef BACKWARD
layout(std430, binding = 0) readonly buffer BufX {
    float x[];
};
layout(std430, binding = 1) writeonly buffer BufY {
    float y[];
};
#else
layout(std430, binding = 0) readonly buffer BufY {
    float y[];
};
layout(std430, binding = 1) readonly buffer BufDy {
    float dy[];
};
layout(std430, binding = 2) writeonly buffer BufDx {
    float dx[];
};
#endif

layout(push_constant) uniform Push {
    uint n, groupsX, kind;
    float slope;
}
p;

// tanh that keeps NaN, saturates without inf/inf (tanh(15) is 1 in float) and stays accurate
// near 0, where lavapipe's (e^2x − 1)/(e^2x + 1) loses digits: Taylor series below |x| = 0.25
// (next term < 4e-7 relative).
float tanhAccurate(float v) {
    if (isnan(v))
        return v;
    if (abs(v) < 0.25) {
        const float v2 = v * v;
        return v * (1.0 + v2 * (-1.0 / 3.0 + v2 * (2.0 / 15.0 + v2 * (-17.0 / 315.0))));
    }
    return tanh(clamp(v, -15.0, 15.0));
}

float forward(float v) {
    switch (p.kind) {
    case 0u:
        return v > 0.0 || isnan(v) ? v : 0.0; // NaN propagates, as in PyTorch
    case 1u:
        return v > 0.0 ? v : p.slope * v;
    // Both tails written so that neither exp() overflows: ±100 gives exactly 1 and 0.
    case 2u:
        return v >= 0.0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
    default:
        return tanhAccurate(v);
    }
}

float derivative(float yv) {
    switch (p.kind) {
    case 0u:
        return yv > 0.0 ? 1.0 : 0.0;
    case 1u:
        return yv > 0.0 ? 1.0 : p.slope;
    case 2u:
        return yv * (1.0 - yv);
    default:
        return 1.0 - yv * yv;
    }
}

void main() {
    const uint wg = gl_WorkGroupSize.x;
    const uint base =
        (gl_WorkGroupID.y * p.groupsX + gl_WorkGroupID.x) * wg * 4u + gl_LocalInvocationID.x;
    for (uint r = 0u; r < 4u; ++r) {
        const uint i = base + r * wg;
        if (i >= p.n)
            return;
#ifndef BACKWARD
        y[i] = forward(x[i]);
#else
        dx[i] = dy[i] * derivative(y[i]);
#endif
    }
}
