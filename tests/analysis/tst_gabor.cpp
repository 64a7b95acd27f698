// Gabor fits: the model's formula and θ convention, R²'s edge cases, noisy synthetic Gabors
// recovered (θ within 3°, λ within 5 %) on 5×5, 7×7, 11×11 and non-square kernels, random
// filters kept under the Gabor-like rule by their shuffled nulls, constant and non-finite
// filters, colour contrast of RGB filters, whole layers and canonical parameters.
#include "analysis/gabor.h"
#include "core/random.h"

#include <QtTest>
#include <cmath>
#include <numbers>

using namespace convscope;
using namespace convscope::analysis;

namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kDeg = kPi / 180;

// The orientation error in degrees: θ and θ + π are the same stripes (with φ → −φ).
double orientationError(double a, double b) {
    const double d = std::fmod(std::abs(a - b), kPi);
    return std::min(d, kPi - d) / kDeg;
}

std::vector<double> noisy(std::vector<double> v, double std, std::uint64_t seed) {
    Rng rng(seed);
    for (double& x : v)
        x += std * rng.normal();
    return v;
}

GaborParams gabor(double thetaDeg, double lambda, double sigma, double phase = 0.7) {
    GaborParams p;
    p.amplitude = 1;
    p.offset = 0.1;
    p.x0 = 0.3;
    p.y0 = -0.2;
    p.sigma = sigma;
    p.gamma = 0.8;
    p.theta = thetaDeg * kDeg;
    p.omega = 2 * kPi / lambda;
    p.phase = phase;
    return p;
}

double rms(std::span<const double> a, std::span<const double> b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return std::sqrt(s / double(a.size()));
}

bool allFinite(const GaborFit& f) {
    const GaborParams& p = f.p;
    for (double v : {p.amplitude, p.offset, p.x0, p.y0, p.sigma, p.gamma, p.theta, p.omega, p.phase,
                     f.r2, f.nullR2, f.colourContrast})
        if (!std::isfinite(v))
            return false;
    for (double v : f.fitted)
        if (!std::isfinite(v))
            return false;
    return true;
}

QString describe(const GaborFit& f) {
    return QString("R² %1 (null %2), θ %3°, λ %4, σ %5, γ %6, φ %7, A %8, c %9, centre (%10, %11)")
        .arg(f.r2, 0, 'f', 4)
        .arg(f.nullR2, 0, 'f', 3)
        .arg(f.p.theta / kDeg, 0, 'f', 2)
        .arg(f.p.wavelength(), 0, 'f', 3)
        .arg(f.p.sigma, 0, 'f', 3)
        .arg(f.p.gamma, 0, 'f', 3)
        .arg(f.p.phase, 0, 'f', 3)
        .arg(f.p.amplitude, 0, 'f', 3)
        .arg(f.p.offset, 0, 'f', 3)
        .arg(f.p.x0, 0, 'f', 2)
        .arg(f.p.y0, 0, 'f', 2);
}

} // namespace

class TestGabor : public QObject {
    Q_OBJECT

    // Fits `truth` on kh × kw plus 5 % noise (σ = 5 % of A); checks R², θ, λ (within
    // `lambdaTolerance`, a fraction), the fit against the clean kernel and the Gabor-like rule.
    void checkRecovery(const GaborParams& truth, int kh, int kw, std::uint64_t seed,
                       double lambdaTolerance = 0.05, bool checkRule = true) {
        const std::vector<double> clean = gaborKernel(truth, kh, kw);
        const std::vector<double> data = noisy(clean, 0.05 * truth.amplitude, seed);
        const GaborFit f = fitGabor(data, 1, kh, kw, {}, seed);
        const double lambda = 2 * kPi / truth.omega;
        const QString what = QString("%1×%2, θ %3°, λ %4: %5")
                                 .arg(kh)
                                 .arg(kw)
                                 .arg(truth.theta / kDeg)
                                 .arg(lambda)
                                 .arg(describe(f));
        QVERIFY2(f.r2 > 0.95, qPrintable(what));
        QVERIFY2(orientationError(f.p.theta, truth.theta) <= 3, qPrintable(what));
        QVERIFY2(std::abs(f.p.wavelength() / lambda - 1) <= lambdaTolerance, qPrintable(what));
        // The whole model, phase included, is the clean Gabor up to the noise (a wrong phase or
        // θ + π without φ → −φ is off by far more).
        QVERIFY2(rms(f.fitted, clean) < 0.06 * truth.amplitude, qPrintable(what));
        QVERIFY2(!checkRule || gaborLike(f), qPrintable(what));
    }

private slots:
    void kernelIsTheFormula() {
        GaborParams p = gabor(30, 4.5, 1.6);
        const int kh = 5, kw = 7; // non-square: x runs along the 7 columns
        const std::vector<double> k = gaborKernel(p, kh, kw);
        QCOMPARE(int(k.size()), kh * kw);
        for (int r = 0; r < kh; ++r)
            for (int c = 0; c < kw; ++c) {
                const double x = c - 3.0 - p.x0, y = r - 2.0 - p.y0;
                const double xp = x * std::cos(p.theta) + y * std::sin(p.theta);
                const double yp = -x * std::sin(p.theta) + y * std::cos(p.theta);
                const double g = p.amplitude *
                                     std::exp(-(xp * xp + p.gamma * p.gamma * yp * yp) /
                                              (2 * p.sigma * p.sigma)) *
                                     std::cos(p.omega * xp + p.phase) +
                                 p.offset;
                QVERIFY(std::abs(k[std::size_t(r * kw + c)] - g) < 1e-12);
            }
        QVERIFY(std::abs(p.wavelength() - 4.5) < 1e-12);
        // θ and θ + π: the same wave with φ → −φ.
        GaborParams q = p;
        q.theta += kPi;
        q.phase = -p.phase;
        QVERIFY(rms(gaborKernel(q, kh, kw), k) < 1e-12);
        // θ = 0: the wave runs along the columns, so each column is constant (vertical
        // stripes); θ = π/2: along the rows (y down), each row constant.
        GaborParams wide;
        wide.amplitude = 1;
        wide.sigma = 1e6;
        wide.omega = 1;
        const std::vector<double> vertical = gaborKernel(wide, kh, kw);
        for (int r = 1; r < kh; ++r)
            for (int c = 0; c < kw; ++c)
                QVERIFY(std::abs(vertical[std::size_t(r * kw + c)] - vertical[std::size_t(c)]) <
                        1e-9);
        QVERIFY(std::abs(vertical[0] - vertical[1]) > 0.1);
        wide.theta = kPi / 2;
        const std::vector<double> horizontal = gaborKernel(wide, kh, kw);
        for (int r = 0; r < kh; ++r)
            for (int c = 1; c < kw; ++c)
                QVERIFY(std::abs(horizontal[std::size_t(r * kw + c)] -
                                 horizontal[std::size_t(r * kw)]) < 1e-9);
        // y points down: the bottom row's phase is ω·2 ahead of the centre row's.
        QVERIFY(std::abs(horizontal[std::size_t(4 * kw)] - std::cos(2.0)) < 1e-9);
        QVERIFY(gaborKernel(p, 0, 3).empty());
    }

    void rSquaredEdgeCases() {
        const std::vector<double> data{1, 3, 2, 5, 4, 0};
        QCOMPARE(rSquared(data, data), 1.0);
        const std::vector<double> mean(data.size(), 2.5);
        QVERIFY(std::abs(rSquared(data, mean)) < 1e-15);
        QVERIFY(rSquared(data, std::vector<double>(data.size(), 10.0)) < 0);
        QCOMPARE(rSquared(std::vector<double>(6, 0.3), std::vector<double>(6, 0.3)), 0.0);
        QCOMPARE(rSquared(data, std::vector<double>(5, 1.0)), 0.0);
        QCOMPARE(rSquared({}, {}), 0.0);
        std::vector<double> bad = data;
        bad[2] = std::nan("");
        QCOMPARE(rSquared(bad, data), 0.0);
        QCOMPARE(rSquared(data, bad), 0.0);
    }

    void recoversNoisyGabors() {
        std::uint64_t seed = 100;
        // 5×5: λ = 0.7·k. (θ = 0 is below.)
        for (double theta : {30.0, 100.0, 150.0})
            checkRecovery(gabor(theta, 3.5, 1.75), 5, 5, ++seed);
        // 7×7: λ = 0.65·k and 0.8·k (θ = 0 with the longer one is below).
        for (double theta : {0.0, 30.0, 100.0})
            checkRecovery(gabor(theta, 4.5, 2.25), 7, 7, ++seed);
        for (double theta : {30.0, 100.0})
            checkRecovery(gabor(theta, 5.5, 2.75), 7, 7, ++seed);
        // 11×11: λ = 0.7·k and a short one.
        for (double lambda : {7.5, 4.0})
            for (double theta : {0.0, 30.0, 100.0})
                checkRecovery(gabor(theta, lambda, std::max(lambda / 2, 2.75)), 11, 11, ++seed);
        // Phases that put the wave's zero or its trough at the centre.
        checkRecovery(gabor(60, 5, 2.5, kPi / 2), 7, 7, ++seed);
        checkRecovery(gabor(120, 5, 2.5, kPi), 7, 7, ++seed);
        // θ given as θ + π comes back in [0, π); orientations next to the wrap at 0 ≡ π.
        for (double theta : {200.0, 2.0, 178.0})
            checkRecovery(gabor(theta, 5, 2.5), 7, 7, ++seed);
    }

    void gridAlignedKernels() {
        // θ = 0 on 5×5: the wave's profile along x has only five samples for its five
        // parameters (A, x0, σ, ω, φ), so 5 % noise moves λ by more than 5 % in a third of the
        // draws (the fit's R² then beats the true parameters'), and the null of a 5×5 filter
        // (≈ 0.5) leaves the rule little room. θ is still within 3°.
        std::uint64_t seed = 200;
        for (double lambda : {3.5, 4.0})
            checkRecovery(gabor(0, lambda, lambda / 2), 5, 5, ++seed, 0.25, false);
        // 7×7 with λ = 0.8·k: seven samples, λ beyond 5 % in a few per cent of the draws.
        checkRecovery(gabor(0, 5.5, 2.75), 7, 7, ++seed, 0.10);
    }

    void nonSquareKernels() {
        checkRecovery(gabor(30, 4.5, 2.25), 5, 9, 301);
        checkRecovery(gabor(110, 4.5, 2.25), 9, 7, 302);
        checkRecovery(gabor(75, 4.0, 2.0), 7, 5, 303);
    }

    void randomFiltersStayUnderTheRule() {
        Rng rng(7);
        for (int k : {5, 7}) {
            const int count = 50;
            std::vector<float> w(std::size_t(count * k * k));
            for (float& v : w)
                v = float(0.1 * rng.normal());
            auto fits = fitGaborFilters(w, count, 1, k, k);
            QVERIFY2(fits.ok(), fits.status().message().c_str());
            double r2 = 0, null = 0;
            int like = 0;
            for (const GaborFit& f : *fits) {
                r2 += f.r2 / count;
                null += f.nullR2 / count;
                like += gaborLike(f);
            }
            const GaborSummary s = summarizeGabor(*fits);
            qInfo("random %d×%d filters: mean R² %.3f, mean null R² %.3f, median R² %.3f, "
                  "%d of %d Gabor-like",
                  k, k, r2, null, s.medianR2, like, count);
            QCOMPARE(s.gaborLikeCount, like);
            QVERIFY2(like <= 2, "more than 5 % of random filters pass the rule");
            // A shuffled random filter is another random filter: the null matches the fit.
            QVERIFY(std::abs(r2 - null) < 0.08);
            if (k == 5)
                QVERIFY(r2 > 0.35 && r2 < 0.65);
            else
                QVERIFY(r2 > 0.18 && r2 < 0.42);
        }
    }

    void gaborsPassTheRule() {
        QCOMPARE(kGaborMinR2, 0.7);
        QCOMPARE(kGaborMinGain, 0.3);
        const QString rule = QString::fromUtf8(gaborRuleText());
        QVERIFY(rule.contains("0.7") && rule.contains("0.3") && rule.contains("shuffled"));
        GaborFit f;
        f.r2 = 0.75;
        f.nullR2 = 0.45;
        QVERIFY(gaborLike(f));
        f.nullR2 = 0.46;
        QVERIFY(!gaborLike(f));
        f.r2 = 0.69;
        f.nullR2 = 0;
        QVERIFY(!gaborLike(f));

        // A layer of two Gabors and a noise filter.
        Rng rng(3);
        std::vector<float> w;
        for (const GaborParams& p : {gabor(20, 4.5, 2.2), gabor(95, 5.5, 2.5)})
            for (double v : noisy(gaborKernel(p, 7, 7), 0.05, rng.next()))
                w.push_back(float(v));
        for (int i = 0; i < 49; ++i)
            w.push_back(float(rng.normal()));
        auto fits = fitGaborFilters(w, 3, 1, 7, 7);
        QVERIFY(fits.ok());
        QVERIFY2(gaborLike((*fits)[0]), qPrintable(describe((*fits)[0])));
        QVERIFY2(gaborLike((*fits)[1]), qPrintable(describe((*fits)[1])));
        QVERIFY2(!gaborLike((*fits)[2]), qPrintable(describe((*fits)[2])));
        QVERIFY((*fits)[0].nullR2 < 0.6);
        const GaborSummary s = summarizeGabor(*fits);
        QCOMPARE(s.filters, 3);
        QCOMPARE(s.gaborLikeCount, 2);
        QVERIFY(std::abs(s.fractionGaborLike - 2.0 / 3) < 1e-12);
        QCOMPARE(s.medianR2, std::min((*fits)[0].r2, (*fits)[1].r2));
        QVERIFY(s.medianNullR2 > 0 && s.medianNullR2 < 0.6);
        QCOMPARE(summarizeGabor({}).filters, 0);
        QCOMPARE(summarizeGabor({}).medianR2, 0.0);
    }

    void constantAndNonFiniteFilters() {
        const GaborFit c = fitGabor(std::vector<double>(25, 0.3), 1, 5, 5);
        QCOMPARE(c.r2, 0.0);
        QCOMPARE(c.nullR2, 0.0);
        QVERIFY(allFinite(c));
        QCOMPARE(int(c.fitted.size()), 25);
        QVERIFY(std::abs(c.fitted[7] - 0.3) < 1e-15);
        QVERIFY(std::abs(c.p.offset - 0.3) < 1e-15);
        QCOMPARE(c.p.amplitude, 0.0);
        const GaborFit zero = fitGabor(std::vector<double>(27, 0.0), 3, 3, 3);
        QCOMPARE(zero.r2, 0.0);
        QCOMPARE(zero.colourContrast, 0.0);
        QVERIFY(allFinite(zero));

        std::vector<double> w = gaborKernel(gabor(30, 4.5, 2.2), 7, 7);
        for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
            std::vector<double> v = w;
            v[10] = bad;
            const GaborFit f = fitGabor(v, 1, 7, 7);
            QCOMPARE(f.r2, 0.0);
            QCOMPARE(f.nullR2, 0.0);
            QVERIFY(allFinite(f));
            QCOMPARE(int(f.fitted.size()), 49);
            QVERIFY(!gaborLike(f));
        }
        std::vector<float> layer(2 * 49);
        std::copy(w.begin(), w.end(), layer.begin());
        std::copy(w.begin(), w.end(), layer.begin() + 49);
        layer[60] = std::nanf("");
        auto fits = fitGaborFilters(layer, 2, 1, 7, 7);
        QVERIFY(fits.ok());
        QVERIFY((*fits)[0].r2 > 0.999);
        QCOMPARE((*fits)[1].r2, 0.0);
        QVERIFY(allFinite((*fits)[1]));

        // Sizes that do not match: a default fit, nothing to draw.
        QVERIFY(fitGabor(w, 1, 7, 6).fitted.empty());
        QVERIFY(fitGabor(w, 0, 7, 7).fitted.empty());
        QCOMPARE(fitGabor(w, 1, 7, 6).r2, 0.0);
        // Tiny and huge scales fit like the unit one.
        const GaborFit unit = fitGabor(w, 1, 7, 7);
        for (double scale : {1e-30, 1e30}) {
            std::vector<double> v = w;
            for (double& x : v)
                x *= scale;
            const GaborFit f = fitGabor(v, 1, 7, 7);
            QVERIFY2(std::abs(f.r2 - unit.r2) < 1e-6, qPrintable(describe(f)));
            QVERIFY(std::abs(f.p.amplitude / scale - unit.p.amplitude) < 1e-4);
        }
    }

    void colourFilters() {
        const int k = 7, n = k * k;
        const std::vector<double> grey = noisy(gaborKernel(gabor(40, 5, 2.5), k, k), 0.05, 9);
        std::vector<double> rgb;
        for (int ch = 0; ch < 3; ++ch)
            rgb.insert(rgb.end(), grey.begin(), grey.end());
        const GaborFit g = fitGabor(grey, 1, k, k);
        const GaborFit f = fitGabor(rgb, 3, k, k);
        QVERIFY(f.colourContrast < 1e-12);
        QCOMPARE(g.colourContrast, 0.0);
        QVERIFY(std::abs(f.r2 - g.r2) < 1e-9);
        QVERIFY(std::abs(f.p.theta - g.p.theta) < 1e-6);
        QCOMPARE(int(f.fitted.size()), 3 * n);
        for (int i = 0; i < n; ++i) {
            QCOMPARE(f.fitted[std::size_t(i)], f.fitted[std::size_t(n + i)]);
            QCOMPARE(f.fitted[std::size_t(i)], f.fitted[std::size_t(2 * n + i)]);
        }

        // Red against green: a luminance Gabor plus an opponent blob.
        std::vector<double> opponent = rgb;
        for (int i = 0; i < n; ++i) {
            const double blob =
                std::exp(-((i % k - 3) * (i % k - 3) + (i / k - 3) * (i / k - 3)) / 8.0);
            opponent[std::size_t(i)] += blob;
            opponent[std::size_t(n + i)] -= blob;
        }
        const GaborFit o = fitGabor(opponent, 3, k, k);
        QVERIFY2(o.colourContrast > 0.3, qPrintable(QString::number(o.colourContrast)));
        QVERIFY(o.colourContrast < 1);
        // The channel mean is the grey Gabor still.
        QVERIFY(std::abs(o.r2 - g.r2) < 1e-9);
        // Pure opponency: the channel mean is zero, contrast 1.
        std::vector<double> pure(std::size_t(3 * n), 0.0);
        for (int i = 0; i < n; ++i) {
            pure[std::size_t(i)] = grey[std::size_t(i)];
            pure[std::size_t(n + i)] = -grey[std::size_t(i)];
        }
        const GaborFit p = fitGabor(pure, 3, k, k);
        QVERIFY(std::abs(p.colourContrast - 1) < 1e-12);
        QCOMPARE(p.r2, 0.0);
    }

    void wholeLayers() {
        Rng rng(11);
        std::vector<float> w(2 * 3 * 5 * 5);
        for (float& v : w)
            v = float(rng.normal());
        auto fits = fitGaborFilters(w, 2, 3, 5, 5);
        QVERIFY2(fits.ok(), fits.status().message().c_str());
        QCOMPARE(int(fits->size()), 2);
        for (int o = 0; o < 2; ++o) {
            const GaborFit& f = (*fits)[std::size_t(o)];
            QCOMPARE(int(f.fitted.size()), 75);
            QVERIFY(f.colourContrast > 0.5); // three independent random channels
            // Fit o is fitGabor of filter o with index o: the same null shuffles.
            std::vector<double> filter(w.begin() + o * 75, w.begin() + (o + 1) * 75);
            const GaborFit single = fitGabor(filter, 3, 5, 5, {}, std::uint64_t(o));
            QCOMPARE(single.r2, f.r2);
            QCOMPARE(single.nullR2, f.nullR2);
        }
        // The shuffles follow the seed and the index.
        std::vector<double> filter(w.begin(), w.begin() + 75);
        GaborOptions other;
        other.seed = 2;
        QCOMPARE(fitGabor(filter, 3, 5, 5, other).nullR2, fitGabor(filter, 3, 5, 5, other).nullR2);
        QVERIFY(fitGabor(filter, 3, 5, 5, other).nullR2 != (*fits)[0].nullR2);
        QVERIFY(fitGabor(filter, 3, 5, 5, {}, 1).nullR2 != (*fits)[0].nullR2);
        GaborOptions none;
        none.shuffles = 0;
        QCOMPARE(fitGabor(filter, 3, 5, 5, none).nullR2, 0.0);

        auto wrong = fitGaborFilters(w, 2, 3, 5, 4);
        QVERIFY(!wrong.ok());
        QVERIFY2(wrong.status().message().find("Gabor") != std::string::npos,
                 wrong.status().message().c_str());
        QVERIFY(!fitGaborFilters(w, 0, 3, 5, 5).ok());
        auto empty = fitGaborFilters({}, 0, 1, 1, 1);
        QVERIFY(!empty.ok());
    }

    void parametersAreCanonical() {
        Rng rng(21);
        for (auto [kh, kw] : {std::pair{5, 5}, std::pair{7, 7}, std::pair{3, 5}, std::pair{11, 11},
                              std::pair{1, 6}}) {
            for (int i = 0; i < 8; ++i) {
                std::vector<double> v(std::size_t(kh * kw));
                // Random filters and smooth ones (whose fits run into the bounds).
                for (std::size_t j = 0; j < v.size(); ++j)
                    v[j] = i % 2 ? rng.normal() : double(j % std::size_t(kw)) + 0.01 * rng.normal();
                const GaborFit f = fitGabor(v, 1, kh, kw);
                const GaborParams& p = f.p;
                const QString what = QString("%1×%2: %3").arg(kh).arg(kw).arg(describe(f));
                QVERIFY2(allFinite(f), qPrintable(what));
                QVERIFY2(p.theta >= 0 && p.theta < kPi, qPrintable(what));
                QVERIFY2(p.phase > -kPi && p.phase <= kPi, qPrintable(what));
                QVERIFY2(p.amplitude >= 0, qPrintable(what));
                QVERIFY2(p.sigma >= 0.5 && p.sigma <= std::max(kh, kw), qPrintable(what));
                QVERIFY2(p.gamma >= 0.25 && p.gamma <= 4, qPrintable(what));
                QVERIFY2(p.omega >= 0.05 && p.omega <= kPi, qPrintable(what));
                QVERIFY2(std::abs(p.x0) <= (kw - 1) / 2.0 && std::abs(p.y0) <= (kh - 1) / 2.0,
                         qPrintable(what));
                QVERIFY2(f.r2 >= 0 && f.r2 <= 1 && f.nullR2 >= 0 && f.nullR2 <= 1,
                         qPrintable(what));
                // `fitted` is the model of the reported parameters, and R² is its R².
                QVERIFY(rms(f.fitted, gaborKernel(p, kh, kw)) < 1e-12);
                QVERIFY2(std::abs(rSquared(v, f.fitted) - f.r2) < 1e-9, qPrintable(what));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestGabor)
#include "tst_gabor.moc"
