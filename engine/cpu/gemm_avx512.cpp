// cpu::gemm's kernels for AVX-512 (16 floats, 32 registers): tiles of 8 rows x 32 columns, 8 x 16
// where B is narrow. Compiled with this ISA's flags (engine/CMakeLists.txt); used only where the
// CPU has it.
#define CS_LANES 16
#define CS_MR 8
#define CS_GEMM_NAME gemmAvx512
#include "cpu/gemm_impl.h"
