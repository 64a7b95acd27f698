// Curvature of a loss landscape at θ* (Li et al. 2018, section 6 and Fig. 7): the Hessian's
// largest and smallest eigenvalues by the Lanczos method (full reorthogonalisation; the extreme
// Ritz values converge at both ends at once, in far fewer products than power iteration, as
// scipy's eigsh that Li et al. used) on Hessian-vector products. A product is the central
// difference of two mean gradients over the landscape's fixed subset in evaluation mode:
//   H·v ≈ (∇L(θ* + h·v) − ∇L(θ* − h·v)) / (2h),   ‖v‖ = 1,
// exact up to O(h²) for a smooth loss and to rounding (≈ ε_float/h) in float.
#pragma once

#include "analysis/landscape.h"

namespace convscope::analysis {

struct HessianOptions {
    int maxIterations = 100; // per eigenvalue
    double tolerance = 1e-3; // stop when |λ_k − λ_{k−1}| ≤ tolerance·|λ_k|
    double h = 0;            // the difference step; 0: 1e-4 in double, 1e-2 in float
    std::uint64_t seed = 7;  // the starting vector
    bool bothEnds = true;    // also the other end of the spectrum
};

struct HessianResult {
    double lambdaMax = 0, lambdaMin = 0; // the largest and the smallest eigenvalue
    int iterations = 0;                  // Hessian-vector products (Lanczos steps)
    bool converged = true;               // both ends reached the tolerance
    double tolerance = 0, h = 0;
    std::int64_t images = 0; // the subset the loss is averaged over
    // |λ_min / λ_max|: Li et al.'s measure of non-convexity (0: convex at θ*).
    double ratio() const { return lambdaMax != 0 ? std::abs(lambdaMin / lambdaMax) : 0; }
};

using HessianVectorProduct = std::function<Result<std::vector<double>>(std::span<const double>)>;

// The Lanczos iteration with any Hessian-vector product on vectors of n elements.
Result<HessianResult> hessianExtremes(const HessianVectorProduct& hvp, std::int64_t n,
                                      const HessianOptions& options, Progress* progress = nullptr);

// The finite-difference product on `land` at θ* (all trainable parameters). It changes the
// landscape's directions: set them again after.
HessianVectorProduct finiteDifferenceHvp(LossLandscape& land, double h);

// hessianExtremes with finiteDifferenceHvp, h chosen by the backend's precision.
Result<HessianResult> hessianAt(LossLandscape& land, const HessianOptions& options,
                                Progress* progress = nullptr);

} // namespace convscope::analysis
