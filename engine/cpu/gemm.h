// cpu::gemm — the single-precision matrix product under the CPU backend's convolutions, written
// for this project: register-blocked micro-kernels (an MR x NR tile of C in vector registers,
// one broadcast of A and NR/lanes loads of B per step of the sum) compiled once per vector ISA
// (AVX-512, AVX2 + FMA, SSE, scalar; engine/cpu/gemm_<isa>.cpp) and chosen at run time.
//
// The operands are addressed in place, so a convolution hands over its weights, an im2col
// buffer or a gradient without packing them first:
//   A(i, k) = a[i·aRow + k·aK]      (any two strides: rows of W, columns of W, rows of im2col)
//             a[aOff[i] + k·aK]     (rows anywhere: shifted views of an image)
//   B(k, j) = b[k·ldb + j]          (j contiguous: the vector side)
//             b[bOff[k] + j]        (rows anywhere: shifted views of an image)
//   C(i, j) = c[i·ldc + j]          (=, or += with `accumulate`; then + bias[i]; then ReLU)
#pragma once

#include <cstddef>
#include <cstdint>

namespace convscope::cpu {

enum class Isa { Scalar, Sse, Avx2, Avx512 };

const char* isaName(Isa isa);
// Whether this CPU runs `isa` (scalar and SSE always, on x86-64).
bool isaSupported(Isa isa);
// The ISA the kernels use: the widest this CPU supports, or CONVSCOPE_CPU_ISA=scalar|sse|avx2|
// avx512 if that names a narrower one (a wider one than the CPU has is ignored).
Isa activeIsa();
// Tests: run every supported ISA in one process. Returns false (and changes nothing) when the
// CPU lacks it.
bool setActiveIsa(Isa isa);

// B's rows may be read up to N rounded up to this many floats when `bPadded` (the caller has
// put zeros there); otherwise the last column block is copied into a padded panel first.
constexpr std::int64_t kPadFloats = 64;
inline std::int64_t paddedColumns(std::int64_t n) {
    return (n + kPadFloats - 1) / kPadFloats * kPadFloats;
}

struct Gemm {
    std::int64_t M = 0, N = 0, K = 0;
    const float* a = nullptr;
    std::int64_t aRow = 0, aK = 1;
    bool aPacked = false;               // `a` is packA's output (aRow, aK unused)
    const std::int64_t* aOff = nullptr; // row i of A at a + aOff[i] (instead of i·aRow)
    const float* b = nullptr;
    std::int64_t ldb = 0;
    const std::int64_t* bOff = nullptr; // row k of B at b + bOff[k] (instead of k·ldb)
    bool bPadded = false;
    float* c = nullptr;
    std::int64_t ldc = 0;
    bool accumulate = false;
    const float* bias = nullptr; // per row of C, or none
    bool relu = false;           // max(·, 0) after the bias; NaN stays NaN
};

// Rows of C per tile with the active ISA (8 for AVX-512, 6 for AVX2 and SSE, 4 scalar).
int tileRows();
// Packs A (M x K, the strides as in Gemm) into panels of tileRows() rows, the rows of one step
// of the sum side by side, zeros past M: packedSize(M, K) floats. Worth it for an A that many
// GEMMs share (a layer's weights): the kernel then reads one stream.
std::size_t packedSize(std::int64_t M, std::int64_t K);
void packA(std::int64_t M, std::int64_t K, const float* a, std::int64_t aRow, std::int64_t aK,
           float* out);

// C = A·B (see above) on the calling thread with the active ISA's kernels.
void gemm(const Gemm& g);

// A per-thread buffer of at least `floats` floats, kept between calls (no allocation once warm).
// Slots 0 to 5; 2 is gemm's own (edge panels), the others engine/cpu/conv.cpp's.
float* scratch(int slot, std::size_t floats);

} // namespace convscope::cpu
