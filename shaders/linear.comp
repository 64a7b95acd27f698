#version 450
// linear: a register-blocked GEMM with strided operands; forward and both backward passes of the
// linear op are this kernel with different strides (see engine/ops/linear.cpp).
//   C[m,n] = sum_k A[m*sam + k*sak] * B[k*sbk + n*sbn]      C: (M,N) row-major
// flags: 1 add bias D[n] | 2 ReLU | 4 accumulate into C | 8 also write D[m] = sum_k A[m,k]
// Each invocation owns a TM x TN block of C (TM, TN and the local size are specialization
// constants); no shared memory, so no barriers.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const uint TM = 4;
layout(constant_id = 4) const uint TN = 4;

layout(std430, binding = 0) readonly buffer BufA {
    float a[];
};
layout(std430, binding = 1) readonly buffer BufB {
    float b[];
};
layout(std430, binding = 2) buffer BufC {
    float c[];
};
layout(std430, binding = 3) buffer BufD {
    float d[];
}; // bias (flag 1) or bias gradient (flag 8)

layout(push_constant) uniform Push {
    uint M, N, K, sam, sak, sbk, sbn, flags;
}
p;

void main() {
    const uint n0 = gl_GlobalInvocationID.x * TN;
    const uint m0 = gl_GlobalInvocationID.y * TM;
    if (n0 >= p.N || m0 >= p.M)
        return;
    const bool rowSums = (p.flags & 8u) != 0u && gl_GlobalInvocationID.x == 0u;

    // Rows and columns past the edge are clamped to a valid one; their results are not stored.
    uint rowA[TM];
    uint colB[TN];
    for (uint i = 0u; i < TM; ++i)
        rowA[i] = min(m0 + i, p.M - 1u) * p.sam;
    for (uint j = 0u; j < TN; ++j)
        colB[j] = min(n0 + j, p.N - 1u) * p.sbn;

    float acc[TM][TN];
    float sums[TM];
    for (uint i = 0u; i < TM; ++i) {
        sums[i] = 0.0;
        for (uint j = 0u; j < TN; ++j)
            acc[i][j] = 0.0;
    }
    for (uint k = 0u; k < p.K; ++k) {
        float av[TM];
        float bv[TN];
        for (uint i = 0u; i < TM; ++i)
            av[i] = a[rowA[i] + k * p.sak];
        for (uint j = 0u; j < TN; ++j)
            bv[j] = b[k * p.sbk + colB[j]];
        for (uint i = 0u; i < TM; ++i)
            for (uint j = 0u; j < TN; ++j)
                acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        if (rowSums)
            for (uint i = 0u; i < TM; ++i)
                sums[i] += av[i];
    }

    for (uint i = 0u; i < TM; ++i) {
        const uint m = m0 + i;
        if (m >= p.M)
            break;
        for (uint j = 0u; j < TN; ++j) {
            const uint n = n0 + j;
            if (n >= p.N)
                break;
            float v = acc[i][j];
            if ((p.flags & 1u) != 0u)
                v += d[n];
            if ((p.flags & 2u) != 0u)
                v = v > 0.0 || isnan(v) ? v : 0.0; // ReLU; NaN propagates
            if ((p.flags & 4u) != 0u)
                v += c[m * p.N + n];
            c[m * p.N + n] = v;
        }
        if (rowSums)
            d[m] = (p.flags & 4u) != 0u ? d[m] + sums[i] : sums[i];
    }
}
