#version 450
// conv2d as an implicit GEMM (no im2col buffer), per group g (gl_GlobalInvocationID.z or
// gl_WorkGroupID.z). Layouts (NCHW, as PyTorch):
//   x: (N,C,H,W)   w: (K,C/G,R,S)   b: (K)   y: (N,K,P,Q)
//   ih = p·strideH − padT + r·dilH,  iw = q·strideW − padL + s·dilW  (outside the image: 0)
// Variants:
//   FORWARD          y = w ⋆ x + b (flag 1), ReLU (flag 2). Rows k, columns (n,p,q), sum (c,r,s).
//   BACKWARD_DATA    dx = Σ_k,r,s dy·w  (flag 4: add to dx). Rows c, columns (n,h,w).
//   BACKWARD_WEIGHT  dw, and db (flag 8). A workgroup owns a TM x TN block of (k, (c,r,s)) and its
//                    invocations split the (n,p,q) reduction, summed in shared memory.
// TM x TN outputs per invocation (or per workgroup for BACKWARD_WEIGHT) are specialization
// constants, as is the local size.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const uint TM = 4;
layout(constant_id = 4) const uint TN = 4;

layout(push_constant) uniform Push {
    uint N, C, H, W, K, R, S, P, Q;
    uint strideH, strideW, padT, padL, dilH, dilW, groups, flags;
}
p;

#if defined(FORWARD)
layout(std430, binding = 0) readonly buffer BufX {
    float x[];
};
layout(std430, binding = 1) readonly buffer BufW {
    float w[];
};
layout(std430, binding = 2) readonly buffer BufB {
    float b[];
};
layout(std430, binding = 3) writeonly buffer BufY {
    float y[];
};

void main() {
    const uint g = gl_GlobalInvocationID.z;
    const uint Kg = p.K / p.groups, Cg = p.C / p.groups, PQ = p.P * p.Q, cols = p.N * PQ;
    const uint col0 = gl_GlobalInvocationID.x * TN, m0 = gl_GlobalInvocationID.y * TM;
    if (col0 >= cols || m0 >= Kg)
        return;
    int ih0[TN], iw0[TN];
    uint xbase[TN];
    for (uint j = 0u; j < TN; ++j) {
        const uint col = min(col0 + j, cols - 1u), n = col / PQ, pq = col % PQ;
        ih0[j] = int((pq / p.Q) * p.strideH) - int(p.padT);
        iw0[j] = int((pq % p.Q) * p.strideW) - int(p.padL);
        xbase[j] = (n * p.C + g * Cg) * p.H * p.W;
    }
    uint wbase[TM];
    for (uint i = 0u; i < TM; ++i)
        wbase[i] = (g * Kg + min(m0 + i, Kg - 1u)) * Cg * p.R * p.S;
    float acc[TM][TN];
    for (uint i = 0u; i < TM; ++i)
        for (uint j = 0u; j < TN; ++j)
            acc[i][j] = 0.0;
    for (uint c = 0u; c < Cg; ++c)
        for (uint r = 0u; r < p.R; ++r)
            for (uint s = 0u; s < p.S; ++s) {
                const uint wk = (c * p.R + r) * p.S + s;
                float wv[TM], xv[TN];
                for (uint i = 0u; i < TM; ++i)
                    wv[i] = w[wbase[i] + wk];
                for (uint j = 0u; j < TN; ++j) {
                    const int ih = ih0[j] + int(r * p.dilH), iw = iw0[j] + int(s * p.dilW);
                    const bool inside = uint(ih) < p.H && uint(iw) < p.W;
                    xv[j] = inside ? x[xbase[j] + (c * p.H + uint(ih)) * p.W + uint(iw)] : 0.0;
                }
                for (uint i = 0u; i < TM; ++i)
                    for (uint j = 0u; j < TN; ++j)
                        acc[i][j] = fma(wv[i], xv[j], acc[i][j]);
            }
    for (uint i = 0u; i < TM; ++i) {
        if (m0 + i >= Kg)
            break;
        const uint k = g * Kg + m0 + i;
        for (uint j = 0u; j < TN; ++j) {
            const uint col = col0 + j;
            if (col >= cols)
                break;
            float v = acc[i][j];
            if ((p.flags & 1u) != 0u)
                v += b[k];
            if ((p.flags & 2u) != 0u)
                v = v > 0.0 || isnan(v) ? v : 0.0; // ReLU; NaN propagates
            y[((col / PQ) * p.K + k) * PQ + col % PQ] = v;
        }
    }
}

#elif defined(BACKWARD_DATA)
layout(std430, binding = 0) readonly buffer BufDy {
    float dy[];
};
layout(std430, binding = 1) readonly buffer BufW {
    float w[];
};
layout(std430, binding = 2) buffer BufDx {
    float dx[];
};

void main() {
    const uint g = gl_GlobalInvocationID.z;
    const uint Kg = p.K / p.groups, Cg = p.C / p.groups, PQ = p.P * p.Q, HW = p.H * p.W;
    const uint cols = p.N * HW;
    const uint col0 = gl_GlobalInvocationID.x * TN, m0 = gl_GlobalInvocationID.y * TM;
    if (col0 >= cols || m0 >= Cg)
        return;
    int hp[TN], wq[TN];
    uint ybase[TN];
    for (uint j = 0u; j < TN; ++j) {
        const uint col = min(col0 + j, cols - 1u), n = col / HW, hw = col % HW;
        hp[j] = int(hw / p.W + p.padT);
        wq[j] = int(hw % p.W + p.padL);
        ybase[j] = (n * p.K + g * Kg) * PQ;
    }
    uint cl[TM];
    for (uint i = 0u; i < TM; ++i)
        cl[i] = min(m0 + i, Cg - 1u);
    float acc[TM][TN];
    for (uint i = 0u; i < TM; ++i)
        for (uint j = 0u; j < TN; ++j)
            acc[i][j] = 0.0;
    for (uint r = 0u; r < p.R; ++r)
        for (uint s = 0u; s < p.S; ++s) {
            // Output position (p, q) that reads input (h, w) through tap (r, s), if any.
            uint yoff[TN];
            bool ok[TN];
            for (uint j = 0u; j < TN; ++j) {
                const int ph = hp[j] - int(r * p.dilH), qw = wq[j] - int(s * p.dilW);
                const uint pp = uint(ph) / p.strideH, qq = uint(qw) / p.strideW;
                ok[j] = ph >= 0 && qw >= 0 && uint(ph) % p.strideH == 0u &&
                        uint(qw) % p.strideW == 0u && pp < p.P && qq < p.Q;
                yoff[j] = ok[j] ? ybase[j] + pp * p.Q + qq : 0u;
            }
            for (uint kk = 0u; kk < Kg; ++kk) {
                float wv[TM], dv[TN];
                for (uint i = 0u; i < TM; ++i)
                    wv[i] = w[(((g * Kg + kk) * Cg + cl[i]) * p.R + r) * p.S + s];
                for (uint j = 0u; j < TN; ++j)
                    dv[j] = ok[j] ? dy[yoff[j] + kk * PQ] : 0.0;
                for (uint i = 0u; i < TM; ++i)
                    for (uint j = 0u; j < TN; ++j)
                        acc[i][j] = fma(wv[i], dv[j], acc[i][j]);
            }
        }
    for (uint i = 0u; i < TM; ++i) {
        if (m0 + i >= Cg)
            break;
        const uint c = g * Cg + m0 + i;
        for (uint j = 0u; j < TN; ++j) {
            const uint col = col0 + j;
            if (col >= cols)
                break;
            const uint at = ((col / HW) * p.C + c) * HW + col % HW;
            dx[at] = (p.flags & 4u) != 0u ? dx[at] + acc[i][j] : acc[i][j];
        }
    }
}

#elif defined(BACKWARD_WEIGHT)
layout(std430, binding = 0) readonly buffer BufDy {
    float dy[];
};
layout(std430, binding = 1) readonly buffer BufX {
    float x[];
};
layout(std430, binding = 2) writeonly buffer BufDw {
    float dw[];
};
layout(std430, binding = 3) writeonly buffer BufDb {
    float db[];
};

// Partial sums of every invocation: TM*TN weight entries then TM bias entries.
shared float partial[(TM * TN + TM) * gl_WorkGroupSize.x];

void main() {
    const uint g = gl_WorkGroupID.z, lid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    const uint Kg = p.K / p.groups, Cg = p.C / p.groups, PQ = p.P * p.Q, RS = p.R * p.S;
    const uint crsCount = Cg * RS, total = p.N * PQ;
    const uint col0 = gl_WorkGroupID.x * TN, m0 = gl_WorkGroupID.y * TM;
    const bool biasTile = (p.flags & 8u) != 0u && gl_WorkGroupID.x == 0u;
    uint xc[TN];
    int rOff[TN], sOff[TN];
    for (uint j = 0u; j < TN; ++j) {
        const uint crs = min(col0 + j, crsCount - 1u), c = crs / RS, rs = crs % RS;
        xc[j] = (g * Cg + c) * p.H * p.W;
        rOff[j] = int((rs / p.S) * p.dilH);
        sOff[j] = int((rs % p.S) * p.dilW);
    }
    uint kk[TM];
    for (uint i = 0u; i < TM; ++i)
        kk[i] = g * Kg + min(m0 + i, Kg - 1u);
    float acc[TM][TN];
    float bsum[TM];
    for (uint i = 0u; i < TM; ++i) {
        bsum[i] = 0.0;
        for (uint j = 0u; j < TN; ++j)
            acc[i][j] = 0.0;
    }
    for (uint t = lid; t < total; t += wg) {
        const uint n = t / PQ, pq = t % PQ;
        const int ihb = int((pq / p.Q) * p.strideH) - int(p.padT);
        const int iwb = int((pq % p.Q) * p.strideW) - int(p.padL);
        float dv[TM], xv[TN];
        for (uint i = 0u; i < TM; ++i)
            dv[i] = dy[(n * p.K + kk[i]) * PQ + pq];
        for (uint j = 0u; j < TN; ++j) {
            const int ih = ihb + rOff[j], iw = iwb + sOff[j];
            const bool inside = uint(ih) < p.H && uint(iw) < p.W;
            xv[j] = inside ? x[n * p.C * p.H * p.W + xc[j] + uint(ih) * p.W + uint(iw)] : 0.0;
        }
        for (uint i = 0u; i < TM; ++i) {
            bsum[i] += dv[i];
            for (uint j = 0u; j < TN; ++j)
                acc[i][j] = fma(dv[i], xv[j], acc[i][j]);
        }
    }
    for (uint i = 0u; i < TM; ++i) {
        for (uint j = 0u; j < TN; ++j)
            partial[(i * TN + j) * wg + lid] = acc[i][j];
        partial[(TM * TN + i) * wg + lid] = bsum[i];
    }
    barrier(); // every invocation's partial sums are stored before they are added up
    for (uint e = lid; e < TM * TN + TM; e += wg) {
        float sum = 0.0;
        for (uint t = 0u; t < wg; ++t)
            sum += partial[e * wg + t];
        if (e < TM * TN) {
            const uint i = e / TN, j = e % TN;
            if (m0 + i < Kg && col0 + j < crsCount)
                dw[kk[i] * crsCount + col0 + j] = sum;
        } else if (biasTile && m0 + (e - TM * TN) < Kg) {
            db[kk[e - TM * TN]] = sum;
        }
    }
}
#endif
