// The CPU backend's float convolutions on cpu::gemm (see conv.h).
//
// No im2col: every row (c, r, t) of the im2col matrix is a contiguous run of a "view" image, so
// the kernels read B (or A) rows in place through a table of offsets. The view of an image is
// its padded pixels split into stride phases: phase (a, b) of channel c holds padded pixel
// (i·sh + a, j·sw + b) at (i, j), `width` columns to a row. Output (p, q) is computed at column
// p·width + q; tap (r, t) of it is then phase ((r·dh) mod sh, (t·dw) mod sw) at row
// p + ⌊r·dh/sh⌋, column q + ⌊t·dw/sw⌋: the same shift for every output, so the row of the tap
// is the view shifted by a constant. The width − Q extra columns per output row are computed and
// dropped (3x3 on 8x8: 9 columns for 8, the padding shared between neighbours; on 32x32: 33).
// Building the view costs one copy of the input (im2col: R·S copies). Backward-data at stride 1 is
// a forward convolution of dy.
#include "cpu/conv.h"
#include "cpu/gemm.h"
#include "cpu/im2col.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <omp.h>
#include <vector>

namespace convscope::cpu {

namespace {

using ops::Conv2dShape;

// Scratch slots (cpu::scratch): views, Wᵀ flipped (caller), [gemm's], packed weights (caller),
// a GEMM's output or a thread's weight-gradient sum, dyᵀ.
enum Slot { kView = 0, kFlipped = 1, kPacked = 3, kOut = 4, kDyT = 5 };

typedef float F16 __attribute__((vector_size(64)));
typedef float F8 __attribute__((vector_size(32)));
typedef float F4 __attribute__((vector_size(16)));

// Short rows (8 to 33 floats: a feature map's row, a view's padding) moved in whole vectors,
// the tail one by one (loops with a run-time length compiled to scalar code for these rows).
template <class Op>
inline void rowLoop(std::int64_t n, Op op) {
    std::int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        op.template at<F16>(j);
    if (j + 8 <= n)
        op.template at<F8>(j), j += 8;
    if (j + 4 <= n)
        op.template at<F4>(j), j += 4;
    for (; j < n; ++j)
        op.template at<float>(j);
}

struct CopyOp {
    float* d;
    const float* s;
    template <class V>
    void at(std::int64_t j) const {
        std::memcpy(d + j, s + j, sizeof(V));
    }
};

struct AddOp {
    float* d;
    const float* s;
    template <class V>
    void at(std::int64_t j) const {
        V a, b;
        std::memcpy(&a, d + j, sizeof(V));
        std::memcpy(&b, s + j, sizeof(V));
        a += b;
        std::memcpy(d + j, &a, sizeof(V));
    }
};

struct ZeroOp {
    float* d;
    template <class V>
    void at(std::int64_t j) const {
        const V z{};
        std::memcpy(d + j, &z, sizeof(V));
    }
};

inline void copyRow(float* dst, const float* src, std::int64_t n) {
    rowLoop(n, CopyOp{dst, src});
}
inline void addRow(float* dst, const float* src, std::int64_t n) {
    rowLoop(n, AddOp{dst, src});
}
inline void zeroRow(float* dst, std::int64_t n) {
    rowLoop(n, ZeroOp{dst});
}

// f(n) with n a compile-time constant for the row lengths of the presets' feature maps (8 to 32),
// else the run-time n.
template <class F>
inline void withRowLength(std::int64_t n, F f) {
    using std::integral_constant;
    switch (n) {
    case 8:
        return f(integral_constant<std::int64_t, 8>{});
    case 10:
        return f(integral_constant<std::int64_t, 10>{});
    case 14:
        return f(integral_constant<std::int64_t, 14>{});
    case 16:
        return f(integral_constant<std::int64_t, 16>{});
    case 28:
        return f(integral_constant<std::int64_t, 28>{});
    case 32:
        return f(integral_constant<std::int64_t, 32>{});
    default:
        return f(n);
    }
}

// Σ v[i] for i < n, in 16 lanes (then the lanes in a fixed order): a serial float sum waits for
// each add (one per ~4 cycles) and was most of the first layers' weight-gradient time.
inline float sumRow(const float* v, std::int64_t n) {
    F16 acc{};
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        F16 x;
        std::memcpy(&x, v + i, sizeof(F16));
        acc += x;
    }
    float sum = 0;
    for (int l = 0; l < 16; ++l)
        sum += acc[l];
    for (; i < n; ++i)
        sum += v[i];
    return sum;
}

struct Views {
    std::int64_t images, rows, width, pitch, perPhase, perChannel, floats;

    // `images`: how many images sit side by side (a row of the view holds row i of each).
    Views(const Conv2dShape& s, std::int64_t images)
        : images(images), rows(s.outH() + s.dilationH * (s.kernelH - 1) / s.strideH + 1),
          width(sharedWidth(s) ? s.width + std::max(s.padLeft, s.padRight)
                               : s.outW() + s.dilationW * (s.kernelW - 1) / s.strideW),
          pitch(images * width), perPhase(rows * pitch),
          perChannel(s.strideH * s.strideW * perPhase),
          // + a tail: the last tile reads up to one register block past the last view
          floats(s.inChannels * perChannel + kPadFloats) {}

    // At stride 1 the padding columns between two rows (or two images) can be shared: the
    // taps past a row's right end read the zeros that start the next segment. A row is then
    // W + max(padLeft, padRight) wide instead of W + padLeft + padRight (3x3 on 8x8: 9, not 10).
    static bool sharedWidth(const Conv2dShape& s) {
        return s.strideW == 1 && s.padLeft >= 0 && s.padRight >= 0 &&
               s.width + std::max(s.padLeft, s.padRight) >= s.outW();
    }

    // Images side by side so that a GEMM has at least ~256 columns (small feature maps), and
    // the chunks of images share out evenly over the team where they can.
    static std::int64_t imagesFor(const Conv2dShape& s) {
        const Views one(s, 1);
        const std::int64_t cols = one.columns(s);
        const std::int64_t want = std::clamp<std::int64_t>((256 + cols - 1) / cols, 1, s.batch);
        const std::int64_t team = omp_get_max_threads();
        for (std::int64_t g = want; g <= 2 * want && g <= s.batch; ++g)
            if ((s.batch + g - 1) / g % team == 0 && s.batch % g == 0)
                return g;
        return want;
    }

    std::int64_t columns(const Conv2dShape& s) const { return s.outH() * pitch; }
    // Output (image m, p, q) is computed at this column.
    std::int64_t column(std::int64_t m, std::int64_t p) const { return p * pitch + m * width; }

    // Where row (c, r, t) of im2col starts, for every row.
    void offsets(const Conv2dShape& s, std::int64_t* off) const {
        for (std::int64_t c = 0; c < s.inChannels; ++c)
            for (std::int64_t r = 0; r < s.kernelH; ++r)
                for (std::int64_t t = 0; t < s.kernelW; ++t) {
                    const std::int64_t u = r * s.dilationH, v = t * s.dilationW;
                    const std::int64_t phase = (u % s.strideH) * s.strideW + v % s.strideW;
                    *off++ =
                        c * perChannel + phase * perPhase + (u / s.strideH) * pitch + v / s.strideW;
                }
    }

    // The views of `count` ≤ images consecutive images (each C x H x W) at x; the slots of the
    // missing ones are zeros.
    void build(const Conv2dShape& s, const float* x, std::int64_t count, float* out) const {
        const std::int64_t image = s.inChannels * s.height * s.width;
        if (s.strideH == 1 && s.strideW == 1 && s.padLeft >= 0) {
            // One phase; a row is [lo zeros][a row of pixels][zeros]. The common row lengths
            // as constants: the copies are then a vector or two, not a loop.
            const std::int64_t lo = std::min(s.padLeft, width);
            const std::int64_t len = std::clamp(s.width + s.padLeft, lo, width) - lo;
            withRowLength(len, [&](auto n) {
                for (std::int64_t c = 0; c < s.inChannels; ++c)
                    for (std::int64_t i = 0; i < rows; ++i) {
                        const std::int64_t ih = i - s.padTop;
                        const bool inside = ih >= 0 && ih < s.height;
                        const float* in = x + (c * s.height + ih) * s.width;
                        for (std::int64_t m = 0; m < images; ++m, out += width, in += image) {
                            if (m >= count || !inside) {
                                zeroRow(out, width);
                                continue;
                            }
                            zeroRow(out, lo);
                            copyRow(out + lo, in, n);
                            zeroRow(out + lo + n, width - lo - n);
                        }
                    }
            });
            std::fill(out, out + kPadFloats, 0.f);
            return;
        }
        for (std::int64_t c = 0; c < s.inChannels; ++c)
            for (std::int64_t a = 0; a < s.strideH; ++a)
                for (std::int64_t b = 0; b < s.strideW; ++b) {
                    // columns j whose input column j·sw + b − padLeft is inside [0, W)
                    const std::int64_t off = b - s.padLeft;
                    std::int64_t lo = off >= 0 ? 0 : (-off + s.strideW - 1) / s.strideW;
                    std::int64_t hi = (s.width - off + s.strideW - 1) / s.strideW;
                    lo = std::min(lo, width);
                    hi = std::clamp(hi, lo, width);
                    for (std::int64_t i = 0; i < rows; ++i) {
                        const std::int64_t ih = i * s.strideH + a - s.padTop;
                        for (std::int64_t m = 0; m < images; ++m, out += width) {
                            if (m >= count || ih < 0 || ih >= s.height) {
                                zeroRow(out, width);
                                continue;
                            }
                            const float* in = x + m * image + (c * s.height + ih) * s.width + off;
                            zeroRow(out, lo);
                            if (s.strideW == 1) // (a stride down the rows only)
                                copyRow(out + lo, in + lo, hi - lo);
                            else if (s.strideW == 2) // a constant stride: vector permutes
                                for (std::int64_t j = lo; j < hi; ++j)
                                    out[j] = in[j * 2];
                            else
                                for (std::int64_t j = lo; j < hi; ++j)
                                    out[j] = in[j * s.strideW];
                            zeroRow(out + hi, width - hi);
                        }
                    }
                }
        std::fill(out, out + kPadFloats, 0.f);
    }
};

// A per-thread table of offsets, kept between calls.
std::int64_t* offsetTable(std::size_t n) {
    thread_local std::vector<std::int64_t> table;
    if (table.size() < n)
        table.resize(n);
    return table.data();
}

// The shuffles of an 8x8 transpose. __builtin_shufflevector: GCC 12 and clang both have it
// (__builtin_shuffle is GCC's alone, and broke the clang build of bench/fuzz.sh).
inline F8 interleaveLo(F8 a, F8 b) {
    return __builtin_shufflevector(a, b, 0, 8, 1, 9, 4, 12, 5, 13);
}
inline F8 interleaveHi(F8 a, F8 b) {
    return __builtin_shufflevector(a, b, 2, 10, 3, 11, 6, 14, 7, 15);
}
inline F8 pairLo(F8 a, F8 b) {
    return __builtin_shufflevector(a, b, 0, 1, 8, 9, 4, 5, 12, 13);
}
inline F8 pairHi(F8 a, F8 b) {
    return __builtin_shufflevector(a, b, 2, 3, 10, 11, 6, 7, 14, 15);
}
inline F8 halfLo(F8 a, F8 b) {
    return __builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11);
}
inline F8 halfHi(F8 a, F8 b) {
    return __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15);
}

// dst[rowOf[i]·ld + k] = src[k·n + i] for k < K, i < n: 8x8 blocks transposed in registers
// (three rounds of shuffles), the edges one by one.
void transposeInto(const float* src, std::int64_t K, std::int64_t n, float* dst, std::int64_t ld,
                   const std::int64_t* rowOf) {
    std::int64_t k0 = 0;
    for (; k0 + 8 <= K; k0 += 8) {
        std::int64_t i0 = 0;
        for (; i0 + 8 <= n; i0 += 8) {
            F8 r[8];
            for (int j = 0; j < 8; ++j)
                std::memcpy(&r[j], src + (k0 + j) * n + i0, sizeof(F8));
            F8 t[8], u[8];
            for (int j = 0; j < 8; j += 2) {
                t[j] = interleaveLo(r[j], r[j + 1]);
                t[j + 1] = interleaveHi(r[j], r[j + 1]);
            }
            for (int j = 0; j < 8; j += 4) {
                u[j] = pairLo(t[j], t[j + 2]);
                u[j + 1] = pairHi(t[j], t[j + 2]);
                u[j + 2] = pairLo(t[j + 1], t[j + 3]);
                u[j + 3] = pairHi(t[j + 1], t[j + 3]);
            }
            for (int j = 0; j < 4; ++j) {
                const F8 a = halfLo(u[j], u[j + 4]);
                const F8 b = halfHi(u[j], u[j + 4]);
                std::memcpy(dst + rowOf[i0 + j] * ld + k0, &a, sizeof(F8));
                std::memcpy(dst + rowOf[i0 + j + 4] * ld + k0, &b, sizeof(F8));
            }
        }
        for (; i0 < n; ++i0)
            for (std::int64_t k = k0; k < k0 + 8; ++k)
                dst[rowOf[i0] * ld + k] = src[k * n + i0];
    }
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t k = k0; k < K; ++k)
            dst[rowOf[i] * ld + k] = src[k * n + i];
}

std::int64_t outStride(std::int64_t n) {
    return paddedColumns(n) + 16;
}

bool inPlace1x1(const Conv2dShape& s) {
    return s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 && s.strideW == 1 && s.padTop == 0 &&
           s.padBottom == 0 && s.padLeft == 0 && s.padRight == 0;
}

// y (=, or += with `accumulate`) w ⋆ x (+ b, then ReLU): per image, W (K x CRS) times the
// views (CRS x P·width), then the extra columns dropped.
void forward(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y,
             bool relu, bool accumulate) {
    const std::int64_t K = s.outChannels, CRS = s.inChannels * s.kernelH * s.kernelW;
    const std::int64_t P = s.outH(), Q = s.outW(), HW = s.height * s.width;
    float* wp = scratch(kPacked, packedSize(K, CRS)); // the weights, packed once for all images
    packA(K, CRS, w, CRS, 1, wp);
    if (inPlace1x1(s)) {
#pragma omp parallel for schedule(static)
        for (std::int64_t n = 0; n < s.batch; ++n) {
            Gemm g;
            g.M = K, g.N = P * Q, g.K = CRS;
            g.a = wp, g.aPacked = true;
            g.b = x + n * CRS * HW, g.ldb = HW;
            g.c = y + n * K * P * Q, g.ldc = P * Q;
            g.accumulate = accumulate, g.bias = b, g.relu = relu;
            gemm(g);
        }
        return;
    }
    const Views v(s, Views::imagesFor(s));
    std::int64_t* off = offsetTable(std::size_t(CRS));
    v.offsets(s, off);
    const std::int64_t N = v.columns(s), ldc = outStride(N);
    const std::int64_t chunks = (s.batch + v.images - 1) / v.images;
#pragma omp parallel
    {
        float* view = scratch(kView, std::size_t(v.floats));
        float* out = scratch(kOut, std::size_t(K * ldc));
#pragma omp for schedule(static)
        for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
            const std::int64_t n0 = chunk * v.images;
            const std::int64_t count = std::min(v.images, s.batch - n0);
            v.build(s, x + n0 * s.inChannels * HW, count, view);
            Gemm g;
            g.M = K, g.N = N, g.K = CRS;
            g.a = wp, g.aPacked = true;
            g.b = view, g.bOff = off, g.bPadded = true;
            g.c = out, g.ldc = ldc;
            g.bias = b, g.relu = relu;
            gemm(g);
            withRowLength(Q, [&](auto q) {
                for (std::int64_t m = 0; m < count; ++m) {
                    float* yn = y + (n0 + m) * K * P * Q;
                    for (std::int64_t k = 0; k < K; ++k)
                        for (std::int64_t p = 0; p < P; ++p) {
                            const float* src = out + k * ldc + v.column(m, p);
                            float* dst = yn + (k * P + p) * Q;
                            if (accumulate)
                                addRow(dst, src, q);
                            else
                                copyRow(dst, src, q);
                        }
                }
            });
        }
    }
}

} // namespace

bool convHandles(const Conv2dShape& s) {
    return s.groups == 1;
}

void convForward(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y,
                 bool relu) {
    forward(s, x, w, b, y, relu, false);
}

namespace {

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// Backward-data along one axis, for the input pixels of one stride class ρ (ih + pad ≡ ρ mod
// stride): the taps that reach them (every `step`-th from `first`), as a stride-1 convolution of
// dy with those taps flipped, spaced `dil` apart, padded `pad` before; it yields `count` pixels,
// ih = (lo + i)·stride + ρ − pad for i < count. (Used at stride 1, one class; the same sums per
// class at stride 2 measured ~15 % slower here than Wᵀ·dy and col2im, which strides keep.)
struct Axis {
    std::int64_t first = -1, step = 1, taps = 0, dil = 1, pad = 0, lo = 0, count = 0;

    Axis(std::int64_t size, std::int64_t k, std::int64_t stride, std::int64_t dilation,
         std::int64_t padBefore, std::int64_t rho) {
        const std::int64_t g = std::gcd(stride, dilation);
        step = stride / g;
        dil = dilation / g;
        for (std::int64_t r = 0; r < std::min(k, step) && first < 0; ++r)
            if (r * dilation % stride == rho)
                first = r;
        taps = first < 0 ? 0 : (k - 1 - first) / step + 1;
        lo = -floorDiv(rho - padBefore, stride); // ⌈(pad − ρ) / stride⌉
        count = std::max<std::int64_t>(0, floorDiv(size - 1 + padBefore - rho, stride) - lo + 1);
        if (taps > 0)
            pad = (first * dilation - rho) / stride + (taps - 1) * dil - lo;
    }
    // The padding after, for `count` outputs from `in` inputs.
    std::int64_t padAfter(std::int64_t in) const { return count - in - pad + dil * (taps - 1); }
};

} // namespace

void convBackwardData(const Conv2dShape& s, const float* dy, const float* w, float* dx,
                      bool accumulate) {
    // dx[c][ih][iw] = Σ W[k][c][r][t]·dy[k][p][q] over ih = p·sh − padTop + r·dh (and iw
    // likewise).
    const std::int64_t C = s.inChannels, K = s.outChannels, R = s.kernelH, S = s.kernelW;
    const std::int64_t H = s.height, W = s.width;
    if (s.strideH > 1 || s.strideW > 1) {
        // Strided: col = Wᵀ (CRS x K) · dy (K x PQ) per image, added back into dx by col2im.
        const std::int64_t CRS = C * R * S, PQ = s.outH() * s.outW(), ld = outStride(PQ);
        float* wp = scratch(kPacked, packedSize(CRS, K)); // Wᵀ, packed once for all images
        packA(CRS, K, w, 1, CRS, wp);
#pragma omp parallel
        {
            float* col = scratch(kOut, std::size_t(CRS * ld));
#pragma omp for schedule(static)
            for (std::int64_t n = 0; n < s.batch; ++n) {
                Gemm g;
                g.M = CRS, g.N = PQ, g.K = K;
                g.a = wp, g.aPacked = true;
                g.b = dy + n * K * PQ, g.ldb = PQ;
                g.c = col, g.ldc = ld;
                gemm(g);
                if (!accumulate)
                    std::fill(dx + n * C * H * W, dx + (n + 1) * C * H * W, 0.f);
                col2im(s, col, n, 0, dx, ld);
            }
        }
        return;
    }
    // Stride 1: dx = dy ⋆ W', W'[c][k][r][t] = W[k][c][R−1−r][S−1−t] (the taps spaced by the
    // dilation), padded by reach − pad before and after (negative where the padding is wider than
    // the kernel's reach: those pixels of dy are skipped).
    const Axis ah(H, R, 1, s.dilationH, s.padTop, 0), aw(W, S, 1, s.dilationW, s.padLeft, 0);
    Conv2dShape t;
    t.batch = s.batch, t.inChannels = K, t.height = s.outH(), t.width = s.outW();
    t.outChannels = C, t.kernelH = R, t.kernelW = S;
    t.dilationH = s.dilationH, t.dilationW = s.dilationW;
    t.padTop = ah.pad, t.padBottom = ah.padAfter(t.height);
    t.padLeft = aw.pad, t.padRight = aw.padAfter(t.width);
    float* wt = scratch(kFlipped, std::size_t(C * K * R * S));
    for (std::int64_t k = 0; k < K; ++k)
        for (std::int64_t c = 0; c < C; ++c)
            for (std::int64_t r = 0; r < R; ++r)
                for (std::int64_t q = 0; q < S; ++q)
                    wt[((c * K + k) * R + (R - 1 - r)) * S + (S - 1 - q)] =
                        w[((k * C + c) * R + r) * S + q];
    forward(t, dy, wt, nullptr, dx, false, accumulate);
}

void convBackwardWeight(const Conv2dShape& s, const float* dy, const float* x, float* dw,
                        float* db) {
    // dWᵀ (CRS x K) = Σₙ viewsₙ (CRS x P·width) · dyₙᵀ (P·width x K, zero rows at the extra
    // columns), each thread over its images into its own sum; the sums are added (and
    // transposed) at the end.
    const std::int64_t K = s.outChannels, CRS = s.inChannels * s.kernelH * s.kernelW;
    const std::int64_t P = s.outH(), Q = s.outW(), HW = s.height * s.width;
    const std::int64_t ldT = paddedColumns(K);
    const bool direct = inPlace1x1(s);
    const Views v(s, direct ? 1 : Views::imagesFor(s));
    const std::int64_t N = direct ? P * Q : v.columns(s);
    const std::int64_t chunks = (s.batch + v.images - 1) / v.images;
    std::int64_t* off = offsetTable(std::size_t(CRS));
    if (!direct)
        v.offsets(s, off);
    // Where position i = p·Q + q of image m of a group lands among the GEMM's columns.
    thread_local std::vector<std::int64_t> rows;
    rows.resize(std::size_t(v.images * P * Q));
    for (std::int64_t m = 0; m < v.images; ++m)
        for (std::int64_t p = 0; p < P; ++p)
            for (std::int64_t q = 0; q < Q; ++q)
                rows[std::size_t((m * P + p) * Q + q)] = direct ? p * Q + q : v.column(m, p) + q;
    const std::int64_t* rowOf = rows.data();
    thread_local std::vector<float*> sums;
    sums.assign(std::size_t(omp_get_max_threads()), nullptr);
    float** parts = sums.data();
    int team = 1;
#pragma omp parallel
    {
        const int me = omp_get_thread_num();
#pragma omp single
        team = omp_get_num_threads();
        float* part = scratch(kOut, std::size_t(CRS * K + K));
        std::fill(part, part + CRS * K + K, 0.f);
        parts[me] = part;
        float* view = direct ? nullptr : scratch(kView, std::size_t(v.floats));
        float* dyT = scratch(kDyT, std::size_t(N * ldT));
        std::fill(dyT, dyT + N * ldT, 0.f); // the extra columns' rows stay zero
#pragma omp for schedule(static)
        for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
            const std::int64_t n0 = chunk * v.images;
            const std::int64_t count = std::min(v.images, s.batch - n0);
            if (count < v.images) // a short last chunk: the missing images' rows are zero
                std::fill(dyT, dyT + N * ldT, 0.f);
            for (std::int64_t m = 0; m < count; ++m) {
                const float* dyn = dy + (n0 + m) * K * P * Q;
                for (std::int64_t k = 0; k < K; ++k)
                    part[CRS * K + k] += sumRow(dyn + k * P * Q, P * Q);
                // dyᵀ: row i = p·Q + q of image m goes to row rowOf[i] of dyT.
                transposeInto(dyn, K, P * Q, dyT, ldT, rowOf + (direct ? 0 : m * P * Q));
            }
            Gemm g;
            g.M = CRS, g.N = K, g.K = N;
            if (direct) {
                g.a = x + n0 * CRS * HW, g.aRow = HW;
            } else {
                v.build(s, x + n0 * s.inChannels * HW, count, view);
                g.a = view, g.aOff = off;
            }
            g.aK = 1;
            g.b = dyT, g.ldb = ldT, g.bPadded = true;
            g.c = part, g.ldc = K, g.accumulate = true;
            gemm(g);
        }
        // (the implicit barrier of `omp for` has every thread's sum complete)
#pragma omp for schedule(static)
        for (std::int64_t i = 0; i < CRS; ++i)
            for (std::int64_t k = 0; k < K; ++k) {
                float sum = 0;
                for (int t = 0; t < team; ++t)
                    sum += parts[t][i * K + k];
                dw[k * CRS + i] = sum;
            }
#pragma omp single
        for (std::int64_t k = 0; k < K; ++k) {
            float sum = 0;
            for (int t = 0; t < team; ++t)
                sum += parts[t][CRS * K + k];
            db[k] = sum;
        }
    }
}

} // namespace convscope::cpu
