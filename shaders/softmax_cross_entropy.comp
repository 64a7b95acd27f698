#version 450
// softmax_cross_entropy: mean loss, accuracy and the logits' gradient in one workgroup.
//   logits: (M,C) row-major   labels: (M) int, < 0 means "ignore this row" (a padded batch)
//   dlogits: (M,C) = (softmax - onehot) / V      metrics: [mean loss, accuracy, V]
// V = number of rows with a valid label. The workgroup size must be a power of two.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) readonly buffer BufZ {
    float z[];
};
layout(std430, binding = 1) readonly buffer BufL {
    int label[];
};
layout(std430, binding = 2) writeonly buffer BufDz {
    float dz[];
};
layout(std430, binding = 3) writeonly buffer BufMetrics {
    float metrics[];
};

layout(push_constant) uniform Push {
    uint M, C;
}
p;

shared float red[gl_WorkGroupSize.x];

// Sum of v over the workgroup, returned to every invocation.
float workgroupSum(float v) {
    const uint t = gl_LocalInvocationID.x;
    red[t] = v;
    barrier(); // every partial sum is stored before the tree reads it
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
        if (t < s)
            red[t] += red[t + s];
        barrier(); // level s is complete before level s/2 reads it
    }
    const float total = red[0];
    barrier(); // everyone has read red[0] before the next call overwrites it
    return total;
}

bool validLabel(int l) {
    return l >= 0 && uint(l) < p.C;
}

void main() {
    const uint t = gl_LocalInvocationID.x;
    const uint wg = gl_WorkGroupSize.x;
    float count = 0.0;
    for (uint m = t; m < p.M; m += wg)
        count += validLabel(label[m]) ? 1.0 : 0.0;
    const float valid = workgroupSum(count);
    const float scale = valid > 0.0 ? 1.0 / valid : 0.0;

    float lossSum = 0.0;
    float correct = 0.0;
    for (uint m = t; m < p.M; m += wg) {
        const uint row = m * p.C;
        float zmax = z[row];
        uint arg = 0u;
        for (uint c = 1u; c < p.C; ++c)
            if (z[row + c] > zmax) {
                zmax = z[row + c];
                arg = c;
            }
        float se = 0.0;
        for (uint c = 0u; c < p.C; ++c)
            se += exp(z[row + c] - zmax);
        const int l = label[m];
        if (!validLabel(l)) {
            for (uint c = 0u; c < p.C; ++c)
                dz[row + c] = 0.0;
            continue;
        }
        lossSum += log(se) - (z[row + uint(l)] - zmax);
        correct += arg == uint(l) ? 1.0 : 0.0;
        const float inv = 1.0 / se;
        for (uint c = 0u; c < p.C; ++c)
            dz[row + c] = (exp(z[row + c] - zmax) * inv - (c == uint(l) ? 1.0 : 0.0)) * scale;
    }
    const float loss = workgroupSum(lossSum);
    const float hits = workgroupSum(correct);
    if (t == 0u) {
        metrics[0] = loss * scale;
        metrics[1] = hits * scale;
        metrics[2] = valid;
    }
}
