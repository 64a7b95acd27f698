// Hessian extremes: power iteration and its shifted variant on Hessian-vector products.
#include "analysis/hessian.h"

#include "core/random.h"
#include <cmath>

namespace convscope::analysis {

namespace {
void normalise(std::vector<double>& v) {
    const double n = norm2(v);
    for (double& x : v)
        x /= n;
}

// The dominant eigenvalue of A = H − shift·I (power iteration from `v`).
Result<double> power(const HessianVectorProduct& hvp, std::vector<double> v, double shift,
                     const HessianOptions& o, int& products, bool& converged, Progress* progress,
                     int progressBase, int progressTotal) {
    normalise(v);
    double lambda = 0;
    for (int it = 0; it < o.maxIterations; ++it) {
        if (cancelled(progress))
            return Progress::cancelledStatus("Hessian");
        CS_TRY_ASSIGN(std::vector<double> w, hvp(v));
        ++products;
        for (std::size_t i = 0; i < w.size(); ++i)
            w[i] -= shift * v[i];
        const double next = dot(v, w); // Rayleigh quotient of the unit vector v
        const double wn = norm2(w);
        if (!std::isfinite(next) || !std::isfinite(wn))
            return Status::error("a Hessian-vector product is not finite", "Hessian",
                                 "The loss is NaN or infinite near these weights");
        if (progress)
            progress->report(progressBase + it + 1, progressTotal, "Hessian");
        if (wn == 0)
            return 0.0; // H − shift·I vanishes on v
        const bool done = it > 0 && std::abs(next - lambda) <= o.tolerance * std::abs(next);
        lambda = next;
        if (done)
            return lambda;
        for (std::size_t i = 0; i < w.size(); ++i)
            v[i] = w[i] / wn;
    }
    converged = false;
    return lambda;
}
} // namespace

Result<HessianResult> hessianExtremes(const HessianVectorProduct& hvp, std::int64_t n,
                                      const HessianOptions& o, Progress* progress) {
    if (n <= 0)
        return Status::error("no parameters", "Hessian");
    if (o.maxIterations <= 0 || !(o.tolerance > 0))
        return Status::error("the iterations and the tolerance must be positive", "Hessian");
    Rng rng(o.seed);
    std::vector<double> v(static_cast<std::size_t>(n));
    for (double& x : v)
        x = rng.normal();
    HessianResult r;
    r.tolerance = o.tolerance;
    const int total = o.maxIterations * (o.bothEnds ? 2 : 1);
    CS_TRY_ASSIGN(const double first,
                  power(hvp, v, 0, o, r.iterations, r.converged, progress, 0, total));
    double other = first;
    if (o.bothEnds) {
        for (double& x : v)
            x = rng.normal();
        CS_TRY_ASSIGN(const double mu, power(hvp, v, first, o, r.iterations, r.converged, progress,
                                             o.maxIterations, total));
        other = mu + first;
    }
    r.lambdaMax = std::max(first, other);
    r.lambdaMin = std::min(first, other);
    if (progress)
        progress->report(total, total, "Hessian");
    return r;
}

HessianVectorProduct finiteDifferenceHvp(LossLandscape& land, double h) {
    return [&land, h](std::span<const double> v) -> Result<std::vector<double>> {
        CS_TRY(land.setDirections(v, {}));
        CS_TRY_ASSIGN(auto plus, land.gradient(h, 0));
        CS_TRY_ASSIGN(auto minus, land.gradient(-h, 0));
        for (std::size_t i = 0; i < plus.size(); ++i)
            plus[i] = (plus[i] - minus[i]) / (2 * h);
        return plus;
    };
}

Result<HessianResult> hessianAt(LossLandscape& land, const HessianOptions& options,
                                Progress* progress) {
    HessianOptions o = options;
    if (o.h <= 0)
        o.h = land.backend().kind() == BackendKind::CpuDouble ? 1e-4 : 1e-2;
    CS_TRY_ASSIGN(HessianResult r, hessianExtremes(finiteDifferenceHvp(land, o.h),
                                                   land.parameterCount(), o, progress));
    r.h = o.h;
    r.images = land.images();
    return r;
}

} // namespace convscope::analysis
