// Hessian extremes: power iteration and its shifted variant on Hessian-vector products.
#include "analysis/hessian.h"

#include "core/random.h"
#include <Eigen/Dense>
#include <cmath>

namespace convscope::analysis {

Result<HessianResult> hessianExtremes(const HessianVectorProduct& hvp, std::int64_t n,
                                      const HessianOptions& o, Progress* progress) {
    if (n <= 0)
        return Status::error("no parameters", "Hessian");
    if (o.maxIterations <= 0 || !(o.tolerance > 0))
        return Status::error("the iterations and the tolerance must be positive", "Hessian");
    // Lanczos with full reorthogonalisation: the extreme eigenvalues of the tridiagonal T_j
    // (Ritz values) converge to H's extremes in far fewer products than power iteration, at
    // both ends at once. The Krylov basis is kept: iterations × n doubles.
    const auto N = std::size_t(n);
    const int maxIter = int(std::min<std::int64_t>(o.maxIterations, n));
    Rng rng(o.seed);
    std::vector<std::vector<double>> V;
    V.reserve(std::size_t(maxIter) + 1);
    std::vector<double> v(N);
    for (double& x : v)
        x = rng.normal();
    const double n0 = norm2(v);
    for (double& x : v)
        x /= n0;
    V.push_back(std::move(v));
    std::vector<double> alpha, beta; // T's diagonal and off-diagonal
    HessianResult r;
    r.tolerance = o.tolerance;
    r.converged = false;
    double prevMax = 0, prevMin = 0;
    for (int j = 0; j < maxIter; ++j) {
        if (cancelled(progress))
            return Progress::cancelledStatus("Hessian");
        CS_TRY_ASSIGN(std::vector<double> w, hvp(V[std::size_t(j)]));
        ++r.iterations;
        if (w.size() != N)
            return Status::error("a Hessian-vector product has the wrong size", "Hessian");
        const double a = dot(w, V[std::size_t(j)]);
        if (!std::isfinite(a))
            return Status::error("a Hessian-vector product is not finite", "Hessian",
                                 "The loss is NaN or infinite near these weights");
        alpha.push_back(a);
        // w ⟂ every basis vector (twice is enough: Kahan's rule).
        for (int pass = 0; pass < 2; ++pass)
            for (const auto& q : V) {
                const double c = dot(w, q);
                for (std::size_t i = 0; i < N; ++i)
                    w[i] -= c * q[i];
            }
        const double b = norm2(w);
        // The Ritz values of T_j.
        const auto m = Eigen::Index(alpha.size());
        Eigen::MatrixXd T = Eigen::MatrixXd::Zero(m, m);
        for (Eigen::Index i = 0; i < m; ++i) {
            T(i, i) = alpha[std::size_t(i)];
            if (i + 1 < m)
                T(i, i + 1) = T(i + 1, i) = beta[std::size_t(i)];
        }
        const Eigen::VectorXd ritz =
            Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(T, Eigen::EigenvaluesOnly).eigenvalues();
        r.lambdaMin = ritz(0);
        r.lambdaMax = ritz(m - 1);
        if (progress)
            progress->report(j + 1, maxIter, "Hessian");
        // Converged: both ends moved less than the tolerance, the smallest measured against
        // max(|λ_min|, 1 % of |λ_max|) so that a λ_min near 0 can converge.
        const double scale = std::max(std::abs(r.lambdaMax), 1e-300);
        if (j >= 2 && std::abs(r.lambdaMax - prevMax) <= o.tolerance * scale &&
            std::abs(r.lambdaMin - prevMin) <=
                o.tolerance * std::max(std::abs(r.lambdaMin), 0.01 * scale)) {
            r.converged = true;
            break;
        }
        prevMax = r.lambdaMax;
        prevMin = r.lambdaMin;
        if (b <= 1e-12 * std::max(std::abs(a), 1.0)) { // an invariant subspace: T is exact
            r.converged = true;
            break;
        }
        beta.push_back(b);
        for (double& x : w)
            x /= b;
        V.push_back(std::move(w));
    }
    if (!o.bothEnds)
        r.lambdaMin = std::min(r.lambdaMin, r.lambdaMax);
    if (progress)
        progress->report(maxIter, maxIter, "Hessian");
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
