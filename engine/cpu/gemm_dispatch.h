// The per-ISA entry points of cpu::gemm (engine/cpu/gemm_<isa>.cpp), chosen by engine/cpu/gemm.cpp.
#pragma once

#include "cpu/gemm.h"

namespace convscope::cpu::detail {

void gemmScalar(const Gemm& g);
void gemmSse(const Gemm& g);
void gemmAvx2(const Gemm& g);
void gemmAvx512(const Gemm& g);

} // namespace convscope::cpu::detail
