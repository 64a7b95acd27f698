// cpu::gemm's kernels for SSE (4 floats, 16 registers, no FMA): tiles of 6 x 8, 6 x 4 where B is
// narrow. Compiled with this ISA's flags (engine/CMakeLists.txt); used only where the CPU has it.
#define CS_LANES 4
#define CS_MR 6
#define CS_GEMM_NAME gemmSse
#include "cpu/gemm_impl.h"
