// Gabor fits of first-layer filters: a 9-parameter Gabor per filter by Levenberg–Marquardt, its
// R², the same fit on the filter's shuffled pixels (a null R²), and the "Gabor-like" rule.
//
// The model, on pixel coordinates centred on the kernel (x = col − (kw−1)/2, y = row − (kh−1)/2):
//   g(x, y) = A·exp(−(x′² + γ²·y′²)/(2σ²))·cos(ω·x′ + φ) + c,
//   x′ = (x−x0)·cosθ + (y−y0)·sinθ,   y′ = −(x−x0)·sinθ + (y−y0)·cosθ.
// θ is measured from the x axis (along the columns, to the right) with y pointing DOWN the rows,
// so θ grows clockwise on screen and is the direction of the wave vector (perpendicular to the
// stripes): θ = 0 gives vertical stripes, θ = π/2 horizontal ones. λ = 2π/ω is the wavelength
// in pixels, σ the envelope's width along the wave vector and σ/γ across it.
// θ and θ + π describe the same wave with φ → −φ; the fits report the representative with
// θ in [0, π), φ in (−π, π] and A ≥ 0 (a negative amplitude is φ + π).
#pragma once

#include "core/status.h"
#include <cstdint>
#include <span>
#include <vector>

namespace convscope::analysis {

struct GaborParams {
    double amplitude = 0;              // A ≥ 0
    double offset = 0;                 // c
    double x0 = 0, y0 = 0;             // the envelope's centre, pixels from the kernel's centre
    double sigma = 1;                  // σ, pixels, in [0.5, max(kh, kw)]
    double gamma = 1;                  // γ, the envelope's aspect ratio, in [0.25, 4]
    double theta = 0;                  // θ, radians, in [0, π)
    double omega = 1.5707963267948966; // ω, radians per pixel, in [0.05, π] (Nyquist)
    double phase = 0;                  // φ, radians, in (−π, π]
    // λ = 2π/ω, pixels.
    double wavelength() const;
};

struct GaborFit {
    GaborParams p;
    double r2 = 0;     // 1 − SS_res/SS_tot (SS_tot about the fitted map's mean); 0 for a constant
    double nullR2 = 0; // the mean R² of the same fit on the map's pixels shuffled
    // ‖w − channel mean broadcast‖ / ‖w‖: 0 for a grey (or one-channel, or all-zero) filter.
    double colourContrast = 0;
    // The model's values in the input's layout (channels × kh × kw, row-major); every channel
    // holds the same map, the fit of the channel mean.
    std::vector<double> fitted;
};

struct GaborOptions {
    int shuffles = 3;       // shuffled copies for the null R² (0: nullR2 = 0)
    std::uint64_t seed = 1; // with the filter's index, seeds the shuffles
    // Levenberg–Marquardt iterations of the two best starts, the 6 that every start runs
    // (14 starts: the DFT peak twice, 4 orientations × 3 wavelengths) included.
    int maxIterations = 60;
};

// The rule: R² ≥ kGaborMinR2 and R² − nullR² ≥ kGaborMinGain.
constexpr double kGaborMinR2 = 0.7;
constexpr double kGaborMinGain = 0.3;
bool gaborLike(const GaborFit& fit);
// One sentence for the UI: "Gabor-like: R² ≥ 0.7 and at least 0.3 above …".
const char* gaborRuleText();

// Fits one filter of channels × kh × kw values (row-major, channel-major); a multi-channel
// filter is fitted by its channel mean. `index` (the filter's number in its layer) seeds the
// shuffles with options.seed, so every filter gets its own, reproducible shuffles.
// Never throws. A NaN or infinite value gives r2 = nullR2 = 0, default (finite) parameters and a
// zero `fitted`; a constant filter gives r2 = nullR2 = 0, A = 0, c = its value. Sizes that do not
// match (channels, kh or kw < 1, or filter.size() ≠ channels·kh·kw) give a default fit with an
// empty `fitted`.
GaborFit fitGabor(std::span<const double> filter, int channels, int kh, int kw,
                  const GaborOptions& options = {}, std::uint64_t index = 0);

// Every filter of a conv weight (out, in, kh, kw), row-major floats as stored; fit i has index i.
// About 2 ms per 7×7 filter with three shuffles on one core; pure, so filters may be fitted on
// several threads.
Result<std::vector<GaborFit>> fitGaborFilters(std::span<const float> weights, int out, int in,
                                              int kh, int kw, const GaborOptions& options = {});

// The model's values on a kh × kw kernel (row-major); empty for kh or kw < 1.
std::vector<double> gaborKernel(const GaborParams& p, int kh, int kw);

// 1 − SS_res/SS_tot, SS_tot about data's mean. 0 for constant data, sizes that differ, an empty
// span or values that are not finite. 1 for a perfect model; negative for one worse than the mean.
double rSquared(std::span<const double> data, std::span<const double> model);

// A layer at a glance.
struct GaborSummary {
    int filters = 0, gaborLikeCount = 0;
    double fractionGaborLike = 0; // gaborLikeCount / filters (0 for none)
    double medianR2 = 0, medianNullR2 = 0;
};
GaborSummary summarizeGabor(std::span<const GaborFit> fits);

} // namespace convscope::analysis
