// cpu::gemm's kernels for no vectors at all (the fallback CI also runs): tiles of 4 x 2, 4 x 1
// where B is narrow. Compiled with this ISA's flags (engine/CMakeLists.txt); used only where the
// CPU has it.
#define CS_LANES 1
#define CS_MR 4
#define CS_GEMM_NAME gemmScalar
#include "cpu/gemm_impl.h"
