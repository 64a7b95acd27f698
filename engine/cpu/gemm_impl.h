// The micro-kernels of cpu::gemm, included once per ISA by engine/cpu/gemm_<isa>.cpp, each of
// which defines, before including it:
//   CS_LANES        floats per vector register (16, 8, 4 or 1)
//   CS_MR           rows of C per tile (tiles are one vector wide when B has at most CS_LANES
//                   columns, else two)
//   CS_GEMM_NAME    the function's name (declared in gemm_dispatch.h)
// and compiles it with that ISA's flags and -ffp-contract=fast (so a·b + c is one FMA). Only
// internal-linkage code and C headers here: nothing this file instantiates may be shared with
// (and chosen by the linker for) a translation unit built for another ISA.
#include "cpu/gemm.h"
#include "cpu/gemm_dispatch.h"

#include <cstring>

namespace convscope::cpu::detail {

namespace {

#if CS_LANES == 1
using V = float;
#else
typedef float V __attribute__((vector_size(CS_LANES * sizeof(float))));
#endif
constexpr int L = CS_LANES;

inline V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof(V));
    return v;
}
inline void store(float* p, V v) {
    std::memcpy(p, &v, sizeof(V));
}
// x − 0 is x for every x (−0 included), so this folds to a plain broadcast; x + 0 would not.
inline V splat(float x) {
    return x - V{};
}

// The sum of one MR x (NV·L) tile: acc = Σₖ A(rows, k)·B(k, cols). `ap` holds each row's
// pointer (rows past A's end repeat its last row: their sums are dropped), or with `packed` the
// MR values of step k are side by side at ap[0] + k·MR. B's row k starts at b + bOff[k] when
// `offsets`, else b + k·ldb; NV·L floats of it are read.
template <int MR, int NV, bool packed, bool offsets>
__attribute__((always_inline)) inline void
sum(V (&acc)[MR][NV], std::int64_t kc, const float* const (&ap)[MR], std::int64_t aK,
    const float* b, const std::int64_t* bOff, std::int64_t ldb) {
    const float* a0 = ap[0];
    for (std::int64_t k = 0, ka = 0; k < kc; ++k, ka += aK) {
        const float* bk = offsets ? b + bOff[k] : b + k * ldb;
        V bv[NV];
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j)
            bv[j] = load(bk + j * L);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
            const V ai = splat(packed ? a0[k * MR + i] : ap[i][ka]);
#pragma GCC unroll 4
            for (int j = 0; j < NV; ++j)
                acc[i][j] += ai * bv[j];
        }
    }
}

// C(i, j) (=, or +=) the tile's sums (+ bias, ReLU) for i < mValid, j < nValid.
template <int MR, int NV>
__attribute__((always_inline)) inline void put(const V (&acc)[MR][NV], float* c, std::int64_t ldc,
                                               int mValid, int nValid, const Gemm& g,
                                               const float* bias) {
    const V zero{};
    for (int i = 0; i < mValid; ++i) {
        float* ci = c + i * ldc;
        for (int j = 0; j < NV; ++j) {
            V v = acc[i][j];
            const bool full = (j + 1) * L <= nValid;
            if (g.accumulate) {
                if (full)
                    v += load(ci + j * L);
                else {
                    float part[L] = {};
                    for (int e = 0; e < L && j * L + e < nValid; ++e)
                        part[e] = ci[j * L + e];
                    v += load(part);
                }
            }
            if (bias)
                v += splat(bias[i]);
            if (g.relu)
                v = (v > zero) | (v != v) ? v : zero;
            if (full)
                store(ci + j * L, v);
            else {
                float part[L];
                store(part, v);
                for (int e = 0; e < L && j * L + e < nValid; ++e)
                    ci[j * L + e] = part[e];
            }
        }
    }
}

template <int MR, int NV>
void run(const Gemm& g) {
    constexpr int NR = NV * L;
    for (std::int64_t j0 = 0; j0 < g.N; j0 += NR) {
        const int nValid = int(g.N - j0 < NR ? g.N - j0 : NR);
        const float* bj = g.b + j0;
        std::int64_t ldb = g.ldb;
        const std::int64_t* bOff = g.bOff;
        if (nValid < NR && !g.bPadded) {
            // The last, partial column block: copied into a zero-padded panel of NR columns.
            float* panel = scratch(2, std::size_t(g.K * NR));
            for (std::int64_t k = 0; k < g.K; ++k) {
                const float* row = bOff ? bj + bOff[k] : bj + k * g.ldb;
                std::memcpy(panel + k * NR, row, std::size_t(nValid) * sizeof(float));
                std::memset(panel + k * NR + nValid, 0, std::size_t(NR - nValid) * sizeof(float));
            }
            bj = panel;
            ldb = NR;
            bOff = nullptr;
        }
        for (std::int64_t i0 = 0; i0 < g.M; i0 += MR) {
            const int mValid = int(g.M - i0 < MR ? g.M - i0 : MR);
            const float* ap[MR];
            for (int i = 0; i < MR; ++i) {
                const std::int64_t row = i0 + (i < mValid ? i : mValid - 1);
                ap[i] = g.aPacked ? g.a + i0 * g.K
                        : g.aOff  ? g.a + g.aOff[row]
                                  : g.a + row * g.aRow;
            }
            V acc[MR][NV];
            for (int i = 0; i < MR; ++i)
                for (int j = 0; j < NV; ++j)
                    acc[i][j] = V{};
            if (g.aPacked)
                bOff ? sum<MR, NV, true, true>(acc, g.K, ap, 0, bj, bOff, ldb)
                     : sum<MR, NV, true, false>(acc, g.K, ap, 0, bj, bOff, ldb);
            else
                bOff ? sum<MR, NV, false, true>(acc, g.K, ap, g.aK, bj, bOff, ldb)
                     : sum<MR, NV, false, false>(acc, g.K, ap, g.aK, bj, bOff, ldb);
            put<MR, NV>(acc, g.c + i0 * g.ldc + j0, g.ldc, mValid, nValid, g,
                        g.bias ? g.bias + i0 : nullptr);
        }
    }
}

} // namespace

void CS_GEMM_NAME(const Gemm& g) {
    if (g.M <= 0 || g.N <= 0)
        return;
    if (g.N <= L)
        run<CS_MR, 1>(g);
    else
        run<CS_MR, 2>(g);
}

} // namespace convscope::cpu::detail
