#version 450
// optimizer: one update step over a flat block of parameters, PyTorch's rules (torch.optim):
//   g ← clip·g, then unless AdamW: g ← g + wd·p
//   kind 0 SGD         p ← p − lr·g
//   kind 1 momentum    b ← μ·b + g;  p ← p − lr·b
//   kind 2 Nesterov    b ← μ·b + g;  p ← p − lr·(g + μ·b)
//   kind 3 RMSProp     v ← α·v + (1−α)·g²;  p ← p − lr·g / (√v + ε)
//   kind 4 Adam        m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//                      p ← p − lr·(m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)
//   kind 5 AdamW       p ← p·(1 − lr·wd), then Adam without the L2 term
// hyper (host-visible, read at run time, so a new learning rate needs no re-recording):
//   [lr, μ, wd, β1, β2, ε, α, clip on (1/0)]      step[0]: steps done, so t = step[0] + 1
// norm[1]: the clipping factor min(1, maxNorm / (‖g‖ + 1e-6)) from grad_norm (read if clip on).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) buffer BufP {
    float param[];
};
layout(std430, binding = 1) readonly buffer BufG {
    float grad[];
};
layout(std430, binding = 2) buffer BufS1 {
    float state1[];
}; // b, v (RMSProp) or m (Adam)
layout(std430, binding = 3) buffer BufS2 {
    float state2[];
}; // v (Adam)
layout(std430, binding = 4) readonly buffer BufH {
    float hyper[];
};
layout(std430, binding = 5) readonly buffer BufStep {
    uint step[];
};
layout(std430, binding = 6) readonly buffer BufNorm {
    float norm[];
};

layout(push_constant) uniform Push {
    uint n, groupsX, kind;
}
p;

void main() {
    const uint wg = gl_WorkGroupSize.x;
    const uint base =
        (gl_WorkGroupID.y * p.groupsX + gl_WorkGroupID.x) * wg * 4u + gl_LocalInvocationID.x;
    const float lr = hyper[0], mu = hyper[1], wd = hyper[2], b1 = hyper[3], b2 = hyper[4];
    const float eps = hyper[5], alpha = hyper[6];
    const float clip = hyper[7] != 0.0 ? norm[1] : 1.0;
    const float t = float(step[0] + 1u);
    for (uint r = 0u; r < 4u; ++r) {
        const uint i = base + r * wg;
        if (i >= p.n)
            return;
        float w = param[i];
        float g = clip * grad[i];
        if (p.kind == 5u)
            w *= 1.0 - lr * wd;
        else
            g += wd * w;
        if (p.kind == 0u) {
            w -= lr * g;
        } else if (p.kind <= 2u) {
            const float b = mu * state1[i] + g;
            state1[i] = b;
            w -= lr * (p.kind == 2u ? g + mu * b : b);
        } else if (p.kind == 3u) {
            const float v = alpha * state1[i] + (1.0 - alpha) * g * g;
            state1[i] = v;
            w -= lr * g / (sqrt(v) + eps);
        } else {
            const float m = b1 * state1[i] + (1.0 - b1) * g;
            const float v = b2 * state2[i] + (1.0 - b2) * g * g;
            state1[i] = m;
            state2[i] = v;
            const float mHat = m / (1.0 - pow(b1, t)), vHat = v / (1.0 - pow(b2, t));
            w -= lr * mHat / (sqrt(vHat) + eps);
        }
        param[i] = w;
    }
}
