// Rng: a seeded generator whose streams are identical on every platform and standard library
// (std::normal_distribution and std::shuffle are not), so runs are reproducible everywhere.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

namespace convscope {

// lowbias32 (C. Wellons): the 32-bit integer hash the shaders use too (mix32 there), for
// per-element randomness that both backends compute identically (dropout masks, crops).
constexpr std::uint32_t lowbias32(std::uint32_t v) {
    v ^= v >> 16;
    v *= 0x7feb352du;
    v ^= v >> 15;
    v *= 0x846ca68bu;
    v ^= v >> 16;
    return v;
}

class Rng {
public:
    explicit Rng(std::uint64_t seed) : m_state(seed ^ 0x9e3779b97f4a7c15ull) { next(); }
    // splitmix64
    std::uint64_t next() {
        std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1).
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }
    // Uniform integer in [0, n).
    std::uint64_t below(std::uint64_t n) { return std::uint64_t(uniform() * double(n)); }
    // Standard normal (Box–Muller).
    double normal() {
        double u1 = uniform(), u2 = uniform();
        if (u1 < 1e-300)
            u1 = 1e-300;
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }
    // Fisher–Yates permutation of 0..n-1.
    std::vector<std::int32_t> permutation(std::int64_t n) {
        std::vector<std::int32_t> p(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i)
            p[std::size_t(i)] = std::int32_t(i);
        for (std::int64_t i = n - 1; i > 0; --i)
            std::swap(p[std::size_t(i)], p[std::size_t(below(std::uint64_t(i + 1)))]);
        return p;
    }

private:
    std::uint64_t m_state;
};

} // namespace convscope
