// cpu::gemm's kernels for AVX2 + FMA (8 floats, 16 registers): tiles of 6 x 16, 6 x 8 where B is
// narrow. Compiled with this ISA's flags (engine/CMakeLists.txt); used only where the CPU has it.
#define CS_LANES 8
#define CS_MR 6
#define CS_GEMM_NAME gemmAvx2
#include "cpu/gemm_impl.h"
