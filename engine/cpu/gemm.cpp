// cpu::gemm's dispatch: the widest ISA this CPU runs (or CONVSCOPE_CPU_ISA's narrower choice),
// and the per-thread scratch buffers the convolutions and the edge panels reuse.
#include "cpu/gemm.h"
#include "cpu/gemm_dispatch.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace convscope::cpu {

namespace {

Isa widestSupported() {
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx512f"))
        return Isa::Avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return Isa::Avx2;
    return Isa::Sse;
#else
    return Isa::Scalar;
#endif
}

Isa initialIsa() {
    Isa isa = widestSupported();
    if (const char* env = std::getenv("CONVSCOPE_CPU_ISA"))
        for (Isa want : {Isa::Scalar, Isa::Sse, Isa::Avx2, Isa::Avx512})
            if (std::strcmp(env, isaName(want)) == 0 && isaSupported(want))
                isa = want;
    return isa;
}

std::atomic<Isa>& active() {
    static std::atomic<Isa> isa{initialIsa()};
    return isa;
}

} // namespace

const char* isaName(Isa isa) {
    switch (isa) {
    case Isa::Scalar:
        return "scalar";
    case Isa::Sse:
        return "sse";
    case Isa::Avx2:
        return "avx2";
    case Isa::Avx512:
        return "avx512";
    }
    return "?";
}

bool isaSupported(Isa isa) {
    return int(isa) <= int(widestSupported());
}

Isa activeIsa() {
    return active().load(std::memory_order_relaxed);
}

bool setActiveIsa(Isa isa) {
    if (!isaSupported(isa))
        return false;
    active().store(isa, std::memory_order_relaxed);
    return true;
}

void gemm(const Gemm& g) {
    switch (activeIsa()) {
    case Isa::Avx512:
        return detail::gemmAvx512(g);
    case Isa::Avx2:
        return detail::gemmAvx2(g);
    case Isa::Sse:
        return detail::gemmSse(g);
    case Isa::Scalar:
        return detail::gemmScalar(g);
    }
}

int tileRows() {
    switch (activeIsa()) {
    case Isa::Avx512:
        return 8;
    case Isa::Avx2:
    case Isa::Sse:
        return 6;
    case Isa::Scalar:
        return 4;
    }
    return 4;
}

std::size_t packedSize(std::int64_t M, std::int64_t K) {
    const std::int64_t mr = tileRows();
    return std::size_t((M + mr - 1) / mr * mr * K);
}

void packA(std::int64_t M, std::int64_t K, const float* a, std::int64_t aRow, std::int64_t aK,
           float* out) {
    const std::int64_t mr = tileRows();
    for (std::int64_t i0 = 0; i0 < M; i0 += mr, out += mr * K)
        for (std::int64_t k = 0; k < K; ++k)
            for (std::int64_t i = 0; i < mr; ++i)
                out[k * mr + i] = i0 + i < M ? a[(i0 + i) * aRow + k * aK] : 0.f;
}

float* scratch(int slot, std::size_t floats) {
    thread_local std::vector<float> buffers[6];
    auto& b = buffers[slot];
    if (b.size() < floats)
        b.resize(floats);
    return b.data();
}

} // namespace convscope::cpu
