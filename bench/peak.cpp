// convscope-bench-peak: this machine's fp32 peak, the ceiling every CPU convolution is measured
// against (bench/peak.sh, bench/ops.sh). A register-resident loop of independent multiply-adds
// (12 chains, enough to cover an FMA's latency on every x86 core since Haswell) per instruction
// set the processor has, chosen at run time with __builtin_cpu_supports: AVX-512F (16 lanes,
// FMA), AVX2 + FMA (8 lanes), SSE2 (4 lanes, multiply then add: SSE has no FMA) and scalar (1
// lane, multiply then add). Each set runs on one thread and on every core (std::thread), median
// of `runs`; GFLOP/s = 2 · multiply-adds per second.
//
// Usage: convscope-bench-peak [--runs N] [--threads T] [--seconds S] [--best]
//   --best prints only "isa lanes single-core all-core" (GFLOP/s, medians) of the widest set.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <immintrin.h>

namespace {

constexpr int kChains = 12;

// Twelve independent chains a = a·b + c, unrolled by hand so each stays in a register; the loop
// body runs them twice (24 multiply-adds per branch).
#define REP12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
// An empty asm that the compiler must assume reads and changes a chain: no folding, no hoisting.
#define KEEP(i) asm volatile("" : "+x"(a##i));

__attribute__((target("avx512f"), noinline)) float loopAvx512(std::int64_t iters) {
    const __m512 b = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
#define DECL(i) __m512 a##i = _mm512_set1_ps(1.0f + float(i) * 1e-3f);
    REP12(DECL)
#undef DECL
    for (std::int64_t n = 0; n < iters; ++n) {
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, b, c);
        REP12(STEP) REP12(STEP) REP12(KEEP)
#undef STEP
    }
    __m512 s = _mm512_setzero_ps();
#define SUM(i) s = _mm512_add_ps(s, a##i);
    REP12(SUM)
#undef SUM
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"), noinline)) float loopAvx2(std::int64_t iters) {
    const __m256 b = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
#define DECL(i) __m256 a##i = _mm256_set1_ps(1.0f + float(i) * 1e-3f);
    REP12(DECL)
#undef DECL
    for (std::int64_t n = 0; n < iters; ++n) {
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, b, c);
        REP12(STEP) REP12(STEP) REP12(KEEP)
#undef STEP
    }
    __m256 s = _mm256_setzero_ps();
#define SUM(i) s = _mm256_add_ps(s, a##i);
    REP12(SUM)
#undef SUM
    alignas(32) float out[8];
    _mm256_store_ps(out, s);
    float t = 0;
    for (float v : out)
        t += v;
    return t;
}

// Baseline x86-64 (SSE2, no FMA), so the compiler cannot fuse the multiply and the add even in a
// -march=native build; GCC's vector extensions (the intrinsics cannot be inlined into a function
// with fewer target features than the translation unit).
typedef float V4 __attribute__((vector_size(16)));

__attribute__((target("arch=x86-64"), noinline)) float loopSse(std::int64_t iters) {
    const V4 b = {0.9999999f, 0.9999999f, 0.9999999f, 0.9999999f}, c = {1e-7f, 1e-7f, 1e-7f, 1e-7f};
#define DECL(i) V4 a##i = b + float(i) * 1e-3f;
    REP12(DECL)
#undef DECL
    for (std::int64_t n = 0; n < iters; ++n) {
#define STEP(i) a##i = a##i * b + c;
        REP12(STEP) REP12(STEP) REP12(KEEP)
#undef STEP
    }
    V4 s = {0, 0, 0, 0};
#define SUM(i) s += a##i;
    REP12(SUM)
#undef SUM
    return s[0] + s[1] + s[2] + s[3];
}

// One lane; the empty asm keeps each chain a scalar in its own register (no SLP vectorising).
__attribute__((target("arch=x86-64"), noinline)) float loopScalar(std::int64_t iters) {
    const float b = 0.9999999f, c = 1e-7f;
#define DECL(i) float a##i = 1.0f + float(i) * 1e-3f;
    REP12(DECL)
#undef DECL
    for (std::int64_t n = 0; n < iters; ++n) {
#define STEP(i) a##i = a##i * b + c;
        REP12(STEP) REP12(KEEP) REP12(STEP) REP12(KEEP)
#undef STEP
    }
    float s = 0;
#define SUM(i) s += a##i;
    REP12(SUM)
#undef SUM
    return s;
}

struct Isa {
    const char* name;
    int lanes;
    bool present;
    float (*loop)(std::int64_t);
};

std::vector<Isa> isas() {
    __builtin_cpu_init();
    return {
        {"avx512f", 16, bool(__builtin_cpu_supports("avx512f")), loopAvx512},
        {"avx2+fma", 8, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), loopAvx2},
        {"sse2", 4, bool(__builtin_cpu_supports("sse2")), loopSse},
        {"scalar", 1, true, loopScalar},
    };
}

double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::atomic<float> g_sink{0};

// GFLOP/s of `threads` threads each running `iters` iterations, timed from the moment all have
// started (a spin barrier) until the last one ends.
double gflops(const Isa& isa, int threads, std::int64_t iters) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<double> ends(std::size_t(threads), 0);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            ready.fetch_add(1);
            while (!go.load(std::memory_order_acquire)) {
            }
            g_sink.store(isa.loop(iters), std::memory_order_relaxed);
            ends[std::size_t(t)] = now();
        });
    while (ready.load() < threads) {
    }
    const double t0 = now();
    go.store(true, std::memory_order_release);
    for (auto& th : pool)
        th.join();
    const double secs = *std::max_element(ends.begin(), ends.end()) - t0;
    const double flops = 2.0 * kChains * 2 * double(iters) * isa.lanes * threads;
    return flops / secs / 1e9;
}

struct Stats {
    double median, lo, hi;
};

Stats measure(const Isa& isa, int threads, int runs, double seconds) {
    // Calibrate on one thread so that one run takes about `seconds`.
    std::int64_t iters = 1 << 16;
    for (;;) {
        const double t0 = now();
        g_sink.store(isa.loop(iters));
        const double dt = now() - t0;
        if (dt > 0.02) {
            iters = std::max<std::int64_t>(1, std::int64_t(double(iters) * seconds / dt));
            break;
        }
        iters *= 4;
    }
    std::vector<double> v;
    for (int r = 0; r < runs; ++r)
        v.push_back(gflops(isa, threads, iters));
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], v.front(), v.back()};
}

} // namespace

int main(int argc, char** argv) {
    int runs = 7;
    int threads = int(std::max(1u, std::thread::hardware_concurrency()));
    double seconds = 0.15;
    bool best = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = std::max(1, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = std::max(1, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = std::max(0.01, std::atof(argv[++i]));
        else if (!std::strcmp(argv[i], "--best"))
            best = true;
        else {
            std::fprintf(stderr, "usage: convscope-bench-peak [--runs N] [--threads T] "
                                 "[--seconds S] [--best]\n");
            return 2;
        }
    }
    const auto all = isas();
    if (best) {
        for (const Isa& isa : all)
            if (isa.present) {
                const Stats one = measure(isa, 1, runs, seconds);
                const Stats many = measure(isa, threads, runs, seconds);
                std::printf("%s %d %.1f %.1f\n", isa.name, isa.lanes, one.median, many.median);
                return 0;
            }
        return 1;
    }
    std::printf("fp32 peak: %d independent multiply-add chains per thread, median (range) of %d "
                "runs of ~%.2f s; %d threads = all cores\n",
                kChains, runs, seconds, threads);
    std::printf("%-10s %5s %-9s %28s %28s\n", "isa", "lanes", "op", "1 thread GFLOP/s",
                (std::to_string(threads) + " threads GFLOP/s").c_str());
    bool widest = true;
    for (const Isa& isa : all) {
        if (!isa.present) {
            std::printf("%-10s %5d %-9s %28s %28s\n", isa.name, isa.lanes, "-", "not present",
                        "not present");
            continue;
        }
        const Stats one = measure(isa, 1, runs, seconds);
        const Stats many = measure(isa, threads, runs, seconds);
        char a[64], b[64];
        std::snprintf(a, sizeof a, "%.1f (%.1f-%.1f)", one.median, one.lo, one.hi);
        std::snprintf(b, sizeof b, "%.1f (%.1f-%.1f)", many.median, many.lo, many.hi);
        std::printf("%-10s %5d %-9s %28s %28s%s\n", isa.name, isa.lanes,
                    isa.lanes >= 8 ? "fma" : "mul+add", a, b, widest ? "  <- peak" : "");
        widest = false;
    }
    return 0;
}
