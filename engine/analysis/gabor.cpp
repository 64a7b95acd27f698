// Gabor fits: starts from the DFT peak and a grid of orientations and frequencies, a
// Levenberg–Marquardt of our own (analytic Jacobian, 9×9 normal equations), shuffled nulls.
#include "analysis/gabor.h"

#include "core/random.h"
#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

namespace convscope::analysis {

namespace {

constexpr double kPi = std::numbers::pi;
using Vec9 = Eigen::Matrix<double, 9, 1>;
using Mat9 = Eigen::Matrix<double, 9, 9>;
enum Index { kA, kC, kX0, kY0, kSigma, kGamma, kTheta, kOmega, kPhase };

constexpr double kSigmaMin = 0.5, kGammaMin = 0.25, kGammaMax = 4, kOmegaMin = 0.05;
// Every start runs this many iterations; the best two continue to options.maxIterations.
constexpr int kProbeIterations = 6;
constexpr int kContinued = 2;

GaborParams fromVec(const Vec9& v) {
    GaborParams p;
    p.amplitude = v[kA];
    p.offset = v[kC];
    p.x0 = v[kX0];
    p.y0 = v[kY0];
    p.sigma = v[kSigma];
    p.gamma = v[kGamma];
    p.theta = v[kTheta];
    p.omega = v[kOmega];
    p.phase = v[kPhase];
    return p;
}

// φ into (−π, π].
double wrapPhase(double phi) {
    return phi - 2 * kPi * std::ceil((phi - kPi) / (2 * kPi));
}

// The kernel's pixels and the parameters' bounds.
struct Grid {
    int kh = 0, kw = 0;
    std::vector<double> x, y;
    double xMax = 0, yMax = 0, sigmaMax = 1, size = 1; // size: (kh + kw)/2

    Grid(int h, int w) : kh(h), kw(w) {
        xMax = (kw - 1) / 2.0;
        yMax = (kh - 1) / 2.0;
        sigmaMax = std::max({kh, kw, 1});
        size = (kh + kw) / 2.0;
        x.reserve(std::size_t(kh) * std::size_t(kw));
        y.reserve(x.capacity());
        for (int r = 0; r < kh; ++r)
            for (int c = 0; c < kw; ++c) {
                x.push_back(c - xMax);
                y.push_back(r - yMax);
            }
    }
    std::size_t n() const { return x.size(); }

    // Into the bounds, and into the canonical representative of equivalent parameters.
    void project(Vec9& p) const {
        p[kSigma] = std::clamp(std::abs(p[kSigma]), kSigmaMin, std::max(sigmaMax, kSigmaMin));
        p[kGamma] = std::clamp(std::abs(p[kGamma]), kGammaMin, kGammaMax);
        if (p[kOmega] < 0) { // cos(−ωx′ + φ) = cos(ωx′ − φ)
            p[kOmega] = -p[kOmega];
            p[kPhase] = -p[kPhase];
        }
        p[kOmega] = std::clamp(p[kOmega], kOmegaMin, kPi);
        // θ + π: x′ → −x′, y′ → −y′, and cos(−ωx′ + φ) = cos(ωx′ − φ).
        const double turns = std::floor(p[kTheta] / kPi);
        p[kTheta] -= turns * kPi;
        bool flip = std::fmod(std::abs(turns), 2.0) == 1.0;
        if (p[kTheta] >= kPi) { // rounding at the edge: π is 0 with φ → −φ
            p[kTheta] = 0;
            flip = !flip;
        } else if (p[kTheta] < 0) {
            p[kTheta] = 0;
        }
        if (flip)
            p[kPhase] = -p[kPhase];
        if (p[kA] < 0) {
            p[kA] = -p[kA];
            p[kPhase] += kPi;
        }
        p[kPhase] = wrapPhase(p[kPhase]);
        p[kX0] = std::clamp(p[kX0], -xMax, xMax);
        p[kY0] = std::clamp(p[kY0], -yMax, yMax);
    }
};

// Σr² (r = model − data) at p; normal() also forms JᵀJ and Jᵀr (the analytic Jacobian).
// The transcendentals are the cost: the envelope's exponentials are evaluated as one vectorised
// array, and the carrier's cos/sin once per row, then by rotation along the row (the phase is
// linear in the column).
class Problem {
public:
    Problem(const Grid& g, std::span<const double> data)
        : m_g(g), m_z(data.data(), Eigen::Index(data.size())), m_xp(m_z.size()), m_yp(m_z.size()),
          m_E(m_z.size()), m_C(m_z.size()), m_S(m_z.size()), m_AEC(m_z.size()), m_AES(m_z.size()),
          m_dxp(m_z.size()), m_dyp(m_z.size()), m_r(m_z.size()), m_J(m_z.size(), 9) {}

    double cost(const Vec9& p) {
        evaluate(p);
        return ((p[kA] * m_E * m_C + p[kC]) - m_z).square().sum();
    }

    double normal(const Vec9& p, Mat9& JtJ, Vec9& Jtr) {
        evaluate(p);
        const double A = p[kA], sigma = p[kSigma], gamma = p[kGamma], omega = p[kOmega];
        const double ct = std::cos(p[kTheta]), st = std::sin(p[kTheta]);
        const double is2 = 1 / (sigma * sigma), g2 = gamma * gamma;
        const Eigen::ArrayXd& xp = m_xp;
        const Eigen::ArrayXd& yp = m_yp;
        Eigen::ArrayXd& AEC = m_AEC;
        Eigen::ArrayXd& AES = m_AES;
        Eigen::ArrayXd& dxp = m_dxp; // ∂g/∂x′
        Eigen::ArrayXd& dyp = m_dyp; // ∂g/∂y′
        AEC = A * m_E * m_C;
        AES = A * m_E * m_S;
        dxp = -is2 * xp * AEC - omega * AES;
        dyp = -(g2 * is2) * yp * AEC;
        m_J.col(kA) = m_E * m_C;
        m_J.col(kC).setOnes();
        m_J.col(kX0) = -ct * dxp + st * dyp;
        m_J.col(kY0) = -st * dxp - ct * dyp;
        m_J.col(kSigma) = (is2 / sigma) * (xp.square() + g2 * yp.square()) * AEC;
        m_J.col(kGamma) = (-gamma * is2) * yp.square() * AEC;
        m_J.col(kTheta) = dxp * yp - dyp * xp;
        m_J.col(kOmega) = -xp * AES;
        m_J.col(kPhase) = -AES;
        m_r = (AEC + p[kC]) - m_z;
        for (int i = 0; i < 9; ++i) {
            for (int j = 0; j <= i; ++j)
                JtJ(i, j) = JtJ(j, i) = m_J.col(i).dot(m_J.col(j));
            Jtr[i] = m_J.col(i).dot(m_r.matrix());
        }
        return m_r.square().sum();
    }

    const Grid& grid() const { return m_g; }

private:
    // x′, y′, the envelope E and the carrier's cos C and sin S at every pixel.
    void evaluate(const Vec9& p) {
        const double ct = std::cos(p[kTheta]), st = std::sin(p[kTheta]);
        const double omega = p[kOmega];
        const auto n = m_z.size();
        for (Eigen::Index i = 0; i < n; ++i) {
            const double xr = m_g.x[std::size_t(i)] - p[kX0];
            const double yr = m_g.y[std::size_t(i)] - p[kY0];
            m_xp[i] = xr * ct + yr * st;
            m_yp[i] = -xr * st + yr * ct;
        }
        const double half = 0.5 / (p[kSigma] * p[kSigma]), g2 = p[kGamma] * p[kGamma];
        m_E = (-half * (m_xp.square() + g2 * m_yp.square())).exp();
        // One column further the phase grows by ω·cosθ, one row further by ω·sinθ.
        const double cu = std::cos(omega * ct), su = std::sin(omega * ct);
        const double cv = std::cos(omega * st), sv = std::sin(omega * st);
        double rc = std::cos(omega * m_xp[0] + p[kPhase]);
        double rs = std::sin(omega * m_xp[0] + p[kPhase]);
        for (int r = 0; r < m_g.kh; ++r) {
            const Eigen::Index i0 = Eigen::Index(r) * m_g.kw;
            double c = rc, s = rs;
            const double rn = rc * cv - rs * sv;
            rs = rs * cv + rc * sv;
            rc = rn;
            for (int j = 0; j < m_g.kw; ++j) {
                m_C[i0 + j] = c;
                m_S[i0 + j] = s;
                const double cn = c * cu - s * su;
                s = s * cu + c * su;
                c = cn;
            }
        }
    }

    const Grid& m_g;
    Eigen::Map<const Eigen::ArrayXd> m_z;
    Eigen::ArrayXd m_xp, m_yp, m_E, m_C, m_S, m_AEC, m_AES, m_dxp, m_dyp, m_r;
    Eigen::Matrix<double, Eigen::Dynamic, 9> m_J;
};

struct Run {
    Vec9 p;
    double cost = 0, mu = 1e-3, nu = 2;
    bool done = false;
};

// Up to `iterations` Levenberg–Marquardt steps, each projected into the bounds: Marquardt's
// diagonal scaling, μ adapted by the gain ratio ρ (Nielsen: × max(1/3, 1 − (2ρ − 1)³) on
// success, × 2, 4, 8, … on failure).
void iterate(Problem& pr, Run& run, int iterations) {
    Mat9 JtJ, H;
    Vec9 g;
    const double tiny = 1e-12 * double(pr.grid().n());
    for (int it = 0; it < iterations && !run.done; ++it) {
        run.cost = pr.normal(run.p, JtJ, g);
        const double maxDiag = JtJ.diagonal().maxCoeff();
        bool accepted = false;
        while (!accepted && !run.done) {
            H = JtJ;
            Vec9 D;
            for (int i = 0; i < 9; ++i)
                D[i] = JtJ(i, i) + 1e-9 * maxDiag + 1e-15;
            H.diagonal() += run.mu * D;
            const Eigen::LLT<Mat9> llt(H);
            const Vec9 d = llt.solve(-g);
            Vec9 q = run.p + d;
            if (llt.info() == Eigen::Success && d.allFinite()) {
                pr.grid().project(q);
                const double c = pr.cost(q);
                if (c < run.cost) {
                    accepted = true;
                    const double gain = run.cost - c;
                    // Predicted decrease of the linear model: dᵀ(μDd − g).
                    const double predicted = d.dot(run.mu * D.cwiseProduct(d) - g);
                    const double rho = predicted > 0 ? gain / predicted : 0;
                    const double t = 2 * rho - 1;
                    run.mu = std::max(run.mu * std::max(1.0 / 3, 1 - t * t * t), 1e-12);
                    run.nu = 2;
                    run.p = q;
                    run.cost = c;
                    if (gain <= 1e-10 * c + tiny)
                        run.done = true;
                    continue;
                }
            }
            run.mu *= run.nu;
            run.nu *= 2;
            if (run.mu > 1e10)
                run.done = true;
        }
    }
}

// A start: θ, ω, the centre and σ given (γ = 1); A, φ and c by linear least squares.
Vec9 start(const Grid& g, std::span<const double> z, double theta, double omega, double x0,
           double y0, double sigma) {
    Vec9 p;
    p << 0, 0, x0, y0, sigma, 1, theta, omega, 0;
    g.project(p);
    const double ct = std::cos(p[kTheta]), st = std::sin(p[kTheta]);
    const double is2 = 0.5 / (p[kSigma] * p[kSigma]);
    Eigen::Matrix3d M = Eigen::Matrix3d::Zero();
    Eigen::Vector3d b = Eigen::Vector3d::Zero();
    for (std::size_t i = 0; i < g.n(); ++i) {
        const double xr = g.x[i] - p[kX0], yr = g.y[i] - p[kY0];
        const double xp = xr * ct + yr * st, yp = -xr * st + yr * ct;
        const double E = std::exp(-(xp * xp + yp * yp) * is2);
        const Eigen::Vector3d f(E * std::cos(p[kOmega] * xp), E * std::sin(p[kOmega] * xp), 1);
        M += f * f.transpose();
        b += z[i] * f;
    }
    M.diagonal().array() += 1e-9 * M.diagonal().maxCoeff() + 1e-15;
    const Eigen::Vector3d s = M.ldlt().solve(b);
    if (s.allFinite()) { // A cos(ωx′ + φ) = A cosφ·cos(ωx′) − A sinφ·sin(ωx′)
        p[kA] = std::hypot(s[0], s[1]);
        p[kPhase] = std::atan2(-s[1], s[0]);
        p[kC] = s[2];
    }
    g.project(p);
    return p;
}

// The strongest frequency of z (its DTFT on a 16 × 16 or finer grid, the half plane v ≥ 0,
// without the DC term): {θ, ω}.
std::array<double, 2> dftPeak(const Grid& g, std::span<const double> z) {
    const int N = std::max(16, 2 * int(g.sigmaMax));
    const int nu = N, nv = N / 2 + 1; // u = 2π(m − N/2)/N, v = 2πn/N
    // G(u, row) = Σ_col z·e^{−iux}
    std::vector<double> gr(std::size_t(nu * g.kh)), gi(gr.size());
    for (int m = 0; m < nu; ++m) {
        const double u = 2 * kPi * (m - N / 2) / N;
        for (int r = 0; r < g.kh; ++r) {
            double sr = 0, si = 0;
            for (int c = 0; c < g.kw; ++c) {
                const std::size_t i = std::size_t(r * g.kw + c);
                sr += z[i] * std::cos(u * g.x[i]);
                si -= z[i] * std::sin(u * g.x[i]);
            }
            gr[std::size_t(m * g.kh + r)] = sr;
            gi[std::size_t(m * g.kh + r)] = si;
        }
    }
    double best = -1, theta = 0, omega = kPi / 2;
    for (int n = 0; n < nv; ++n) {
        const double v = 2 * kPi * n / N;
        for (int m = 0; m < nu; ++m) {
            const double u = 2 * kPi * (m - N / 2) / N;
            if (n == 0 && u <= 0)
                continue;
            double fr = 0, fi = 0;
            for (int r = 0; r < g.kh; ++r) {
                const double y = r - g.yMax, cv = std::cos(v * y), sv = -std::sin(v * y);
                const double a = gr[std::size_t(m * g.kh + r)], b = gi[std::size_t(m * g.kh + r)];
                fr += a * cv - b * sv;
                fi += a * sv + b * cv;
            }
            const double power = fr * fr + fi * fi;
            if (power > best) {
                best = power;
                theta = std::atan2(v, u);
                omega = std::hypot(u, v);
            }
        }
    }
    return {theta, omega};
}

// The best fit of the standardised map z: parameters in z's units and Σr².
struct MapFit {
    Vec9 p;
    double cost = 0;
};
MapFit fitMap(const Grid& g, std::span<const double> z, int maxIterations) {
    Problem pr(g, z);
    std::vector<Run> runs;
    auto add = [&](const Vec9& p) {
        Run r;
        r.p = p;
        r.cost = pr.cost(p);
        runs.push_back(r);
    };
    // The DFT peak, with the envelope at the energy's centroid and at the centre.
    const auto [theta, omega] = dftPeak(g, z);
    double e = 0, ex = 0, ey = 0;
    for (std::size_t i = 0; i < g.n(); ++i) {
        e += z[i] * z[i];
        ex += z[i] * z[i] * g.x[i];
        ey += z[i] * z[i] * g.y[i];
    }
    const double cx = e > 0 ? ex / e : 0, cy = e > 0 ? ey / e : 0;
    add(start(g, z, theta, omega, cx, cy, 0.3 * g.size));
    add(start(g, z, theta, omega, 0, 0, 0.5 * g.size));
    // 4 orientations × 3 wavelengths.
    const double k = g.size;
    for (double lambda : {std::max(2.5, 0.35 * k), 0.7 * k, 1.4 * k})
        for (int t = 0; t < 4; ++t)
            add(start(g, z, t * kPi / 4, 2 * kPi / lambda, 0, 0, 0.35 * k));

    const int probe = std::min(kProbeIterations, std::max(maxIterations, 1));
    for (Run& r : runs)
        iterate(pr, r, probe);
    std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.cost < b.cost; });
    const std::size_t keep = std::min<std::size_t>(kContinued, runs.size());
    for (std::size_t i = 0; i < keep; ++i)
        iterate(pr, runs[i], maxIterations - probe);
    const auto best = std::min_element(runs.begin(), runs.begin() + std::ptrdiff_t(keep),
                                       [](const Run& a, const Run& b) { return a.cost < b.cost; });
    return {best->p, best->cost};
}

// R² of a fit of the standardised map z (Σz² = n, mean 0).
double r2Of(double cost, std::size_t n) {
    const double r2 = 1 - cost / double(n);
    return std::isfinite(r2) ? std::max(r2, 0.0) : 0.0;
}

} // namespace

double GaborParams::wavelength() const {
    return 2 * kPi / omega;
}

bool gaborLike(const GaborFit& fit) {
    return fit.r2 >= kGaborMinR2 && fit.r2 - fit.nullR2 >= kGaborMinGain;
}

const char* gaborRuleText() {
    return "Gabor-like: R² ≥ 0.7 and at least 0.3 above the same fit on its shuffled pixels";
}

std::vector<double> gaborKernel(const GaborParams& p, int kh, int kw) {
    std::vector<double> out;
    if (kh < 1 || kw < 1)
        return out;
    out.reserve(std::size_t(kh) * std::size_t(kw));
    const double ct = std::cos(p.theta), st = std::sin(p.theta);
    for (int r = 0; r < kh; ++r)
        for (int c = 0; c < kw; ++c) {
            const double xr = c - (kw - 1) / 2.0 - p.x0, yr = r - (kh - 1) / 2.0 - p.y0;
            const double xp = xr * ct + yr * st, yp = -xr * st + yr * ct;
            out.push_back(
                p.amplitude *
                    std::exp(-(xp * xp + p.gamma * p.gamma * yp * yp) / (2 * p.sigma * p.sigma)) *
                    std::cos(p.omega * xp + p.phase) +
                p.offset);
        }
    return out;
}

double rSquared(std::span<const double> data, std::span<const double> model) {
    if (data.empty() || data.size() != model.size())
        return 0;
    double mean = 0, scale = 0;
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (!std::isfinite(data[i]) || !std::isfinite(model[i]))
            return 0;
        mean += data[i] / double(data.size());
        scale = std::max(scale, std::abs(data[i]));
    }
    double tot = 0, res = 0;
    for (std::size_t i = 0; i < data.size(); ++i) {
        tot += (data[i] - mean) * (data[i] - mean);
        res += (data[i] - model[i]) * (data[i] - model[i]);
    }
    // Constant up to rounding (the mean of equal values need not be exactly their value).
    const double eps = 1e-12 * scale;
    if (!(tot > double(data.size()) * eps * eps) || !std::isfinite(tot) || !std::isfinite(res))
        return 0;
    return 1 - res / tot;
}

GaborFit fitGabor(std::span<const double> filter, int channels, int kh, int kw,
                  const GaborOptions& options, std::uint64_t index) {
    GaborFit fit;
    if (channels < 1 || kh < 1 || kw < 1 ||
        filter.size() != std::size_t(channels) * std::size_t(kh) * std::size_t(kw))
        return fit;
    const std::size_t n = std::size_t(kh) * std::size_t(kw);
    const auto degenerate = [&] {
        fit = GaborFit{};
        fit.fitted.assign(filter.size(), 0.0);
        return fit;
    };
    for (double v : filter)
        if (!std::isfinite(v))
            return degenerate();

    // The channel mean, and how much colour the filter has beyond it.
    std::vector<double> map(n, 0.0);
    for (int ch = 0; ch < channels; ++ch)
        for (std::size_t i = 0; i < n; ++i)
            map[i] += filter[std::size_t(ch) * n + i] / channels;
    if (channels > 1) {
        double scale = 0;
        for (double v : filter)
            scale = std::max(scale, std::abs(v));
        double w2 = 0, d2 = 0;
        if (scale > 0)
            for (int ch = 0; ch < channels; ++ch)
                for (std::size_t i = 0; i < n; ++i) {
                    const double v = filter[std::size_t(ch) * n + i] / scale;
                    w2 += v * v;
                    d2 += (v - map[i] / scale) * (v - map[i] / scale);
                }
        fit.colourContrast = w2 > 0 ? std::sqrt(d2 / w2) : 0.0;
    }

    // Standardised: mean 0, Σz² = n (R² = 1 − Σr²/n). Constant maps are not fitted.
    double mean = 0, spread = 0, scale = 0;
    for (double v : map) {
        mean += v / double(n);
        scale = std::max(scale, std::abs(v));
    }
    for (double v : map)
        spread = std::max(spread, std::abs(v - mean));
    if (!std::isfinite(mean) || !std::isfinite(spread))
        return degenerate();
    if (!(spread > 1e-12 * scale)) { // constant up to rounding
        fit.p.offset = mean;
        fit.fitted.assign(filter.size(), mean);
        return fit;
    }
    double ss = 0;
    std::vector<double> z(n);
    for (std::size_t i = 0; i < n; ++i) {
        z[i] = (map[i] - mean) / spread;
        ss += z[i] * z[i];
    }
    const double sd = std::sqrt(ss / double(n));
    for (double& v : z)
        v /= sd;

    const Grid grid(kh, kw);
    const int iterations = std::max(options.maxIterations, 1);
    const MapFit best = fitMap(grid, z, iterations);
    fit.r2 = r2Of(best.cost, n);
    Vec9 p = best.p;
    const double unit = spread * sd; // z = (map − mean)/unit
    p[kA] *= unit;
    p[kC] = p[kC] * unit + mean;
    if (!p.allFinite())
        return degenerate();
    fit.p = fromVec(p);
    const std::vector<double> model = gaborKernel(fit.p, kh, kw);
    fit.fitted.resize(filter.size());
    for (int ch = 0; ch < channels; ++ch)
        std::copy(model.begin(), model.end(), fit.fitted.begin() + std::ptrdiff_t(ch * n));

    // The null: the same fit on z's pixels shuffled (mean and Σz² unchanged).
    if (options.shuffles > 0) {
        Rng seeder(options.seed);
        Rng rng(seeder.next() + 0xd1b54a32d192ed03ull * (index + 1));
        std::vector<double> shuffled(n);
        double sum = 0;
        for (int s = 0; s < options.shuffles; ++s) {
            const std::vector<std::int32_t> perm = rng.permutation(std::int64_t(n));
            for (std::size_t i = 0; i < n; ++i)
                shuffled[i] = z[std::size_t(perm[i])];
            sum += r2Of(fitMap(grid, shuffled, iterations).cost, n);
        }
        fit.nullR2 = sum / options.shuffles;
    }
    return fit;
}

Result<std::vector<GaborFit>> fitGaborFilters(std::span<const float> weights, int out, int in,
                                              int kh, int kw, const GaborOptions& options) {
    const char* where = "Gabor fit";
    if (out < 1 || in < 1 || kh < 1 || kw < 1)
        return Status::error("the weight's shape (" + std::to_string(out) + ", " +
                                 std::to_string(in) + ", " + std::to_string(kh) + ", " +
                                 std::to_string(kw) + ") has a dimension below 1",
                             where, "pass a conv weight (out, in, kh, kw)");
    const std::size_t per = std::size_t(in) * std::size_t(kh) * std::size_t(kw);
    if (weights.size() != std::size_t(out) * per)
        return Status::error(std::to_string(weights.size()) + " values for a weight of shape (" +
                                 std::to_string(out) + ", " + std::to_string(in) + ", " +
                                 std::to_string(kh) + ", " + std::to_string(kw) + ")",
                             where, "pass a conv weight (out, in, kh, kw), row-major");
    std::vector<GaborFit> fits;
    fits.reserve(std::size_t(out));
    std::vector<double> filter(per);
    for (int o = 0; o < out; ++o) {
        for (std::size_t i = 0; i < per; ++i)
            filter[i] = weights[std::size_t(o) * per + i];
        fits.push_back(fitGabor(filter, in, kh, kw, options, std::uint64_t(o)));
    }
    return fits;
}

GaborSummary summarizeGabor(std::span<const GaborFit> fits) {
    GaborSummary s;
    s.filters = int(fits.size());
    if (fits.empty())
        return s;
    std::vector<double> r2, null;
    for (const GaborFit& f : fits) {
        s.gaborLikeCount += gaborLike(f) ? 1 : 0;
        r2.push_back(f.r2);
        null.push_back(f.nullR2);
    }
    auto median = [](std::vector<double>& v) {
        std::sort(v.begin(), v.end());
        const std::size_t h = v.size() / 2;
        return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
    };
    s.fractionGaborLike = double(s.gaborLikeCount) / double(s.filters);
    s.medianR2 = median(r2);
    s.medianNullR2 = median(null);
    return s;
}

} // namespace convscope::analysis
