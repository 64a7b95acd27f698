#version 450
// pool2d: max and average pooling over (kH,kW) windows with stride and symmetric padding.
//   x, dx: (N,C,H,W)   y, dy: (N,C,P,Q)   argmax: (N,C,P,Q) int, index h·W+w in its plane
//   window (p,q) covers h = p·strideH − padH + i, w = q·strideW − padW + j, 0 ≤ i < kH, 0 ≤ j < kW
// Variants (one invocation per output element forward, per input element backward; the
// backward passes gather from the windows that cover an input, so overlapping windows need no
// atomics):
//   MAX_FORWARD    y = max over the window (NaN wins, first maximum on ties), argmax
//   MAX_BACKWARD   dx[h,w] = Σ dy over windows whose argmax is (h,w)
//   AVG_FORWARD    y = Σ window / (kH·kW)   (padding counts as zeros, PyTorch's default)
//   AVG_BACKWARD   dx[h,w] = Σ dy / (kH·kW) over windows covering (h,w)
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(push_constant) uniform Push {
    uint planes, H, W, P, Q, kH, kW, strideH, strideW, padH, padW, groupsX;
}
p;

#if defined(MAX_FORWARD) || defined(AVG_FORWARD)
layout(std430, binding = 0) readonly buffer BufX {
    float x[];
};
layout(std430, binding = 1) writeonly buffer BufY {
    float y[];
};
#ifdef MAX_FORWARD
layout(std430, binding = 2) writeonly buffer BufArg {
    int argmax[];
};
#endif
#else
layout(std430, binding = 0) readonly buffer BufDy {
    float dy[];
};
layout(std430, binding = 1) writeonly buffer BufDx {
    float dx[];
};
#ifdef MAX_BACKWARD
layout(std430, binding = 2) readonly buffer BufArg {
    int argmax[];
};
#endif
#endif

uint flatIndex() {
    return (gl_WorkGroupID.y * p.groupsX + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
           gl_LocalInvocationID.x;
}

void main() {
    const uint idx = flatIndex();
#if defined(MAX_FORWARD) || defined(AVG_FORWARD)
    const uint PQ = p.P * p.Q;
    if (idx >= p.planes * PQ)
        return;
    const uint plane = idx / PQ, pq = idx % PQ;
    const int h0 = int((pq / p.Q) * p.strideH) - int(p.padH);
    const int w0 = int((pq % p.Q) * p.strideW) - int(p.padW);
    const uint base = plane * p.H * p.W;
#ifdef MAX_FORWARD
    float best = 0.0;
    int arg = -1;
#else
    float sum = 0.0;
#endif
    for (uint i = 0u; i < p.kH; ++i) {
        const int h = h0 + int(i);
        if (uint(h) >= p.H)
            continue;
        for (uint j = 0u; j < p.kW; ++j) {
            const int w = w0 + int(j);
            if (uint(w) >= p.W)
                continue;
            const float v = x[base + uint(h) * p.W + uint(w)];
#ifdef MAX_FORWARD
            // As PyTorch: a NaN always wins (so the last NaN), ties keep the first maximum.
            if (arg < 0 || v > best || isnan(v)) {
                best = v;
                arg = h * int(p.W) + w;
            }
#else
            sum += v;
#endif
        }
    }
#ifdef MAX_FORWARD
    y[idx] = best;
    argmax[idx] = arg;
#else
    y[idx] = sum / float(p.kH * p.kW);
#endif
#else
    const uint HW = p.H * p.W;
    if (idx >= p.planes * HW)
        return;
    const uint plane = idx / HW, hw = idx % HW;
    const int h = int(hw / p.W) + int(p.padH), w = int(hw % p.W) + int(p.padW);
    // Windows (pp, qq) with pp·stride ≤ h < pp·stride + k.
    const int pLo = max(0, (h - int(p.kH) + int(p.strideH)) / int(p.strideH));
    const int pHi = min(int(p.P) - 1, h / int(p.strideH));
    const int qLo = max(0, (w - int(p.kW) + int(p.strideW)) / int(p.strideW));
    const int qHi = min(int(p.Q) - 1, w / int(p.strideW));
    float sum = 0.0;
    for (int pp = pLo; pp <= pHi; ++pp)
        for (int qq = qLo; qq <= qHi; ++qq) {
            const uint o = plane * p.P * p.Q + uint(pp) * p.Q + uint(qq);
#ifdef MAX_BACKWARD
            if (argmax[o] == int(hw))
                sum += dy[o];
#else
            sum += dy[o];
#endif
        }
#ifdef MAX_BACKWARD
    dx[idx] = sum;
#else
    dx[idx] = sum / float(p.kH * p.kW);
#endif
#endif
}
