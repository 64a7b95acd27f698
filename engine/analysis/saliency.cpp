// Saliency: every method's inputs become rows of one list (the image, SmoothGrad's noisy copies,
// integrated gradients' path points, the baseline), run through the inspector a batch at a time
// with the target logit as the seed; each row's input gradient is folded into its method.
#include "analysis/saliency.h"
#include "core/random.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

namespace convscope::analysis {

const char* methodName(Method m) {
    switch (m) {
    case Method::Gradient:
        return "grad";
    case Method::GradientXInput:
        return "gradxinput";
    case Method::SmoothGrad:
        return "smoothgrad";
    case Method::IntegratedGradients:
        return "ig";
    case Method::GradCam:
        return "gradcam";
    }
    return "?";
}

std::vector<Method> allMethods() {
    return {Method::Gradient, Method::GradientXInput, Method::SmoothGrad,
            Method::IntegratedGradients, Method::GradCam};
}

bool parseMethod(const std::string& name, Method& m) {
    for (Method k : allMethods())
        if (name == methodName(k)) {
            m = k;
            return true;
        }
    return false;
}

double spearman(std::span<const double> a, std::span<const double> b) {
    const std::size_t n = std::min(a.size(), b.size());
    if (n < 2)
        return 0;
    auto ranks = [n](std::span<const double> v) {
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](auto i, auto j) { return v[i] < v[j]; });
        std::vector<double> r(n);
        for (std::size_t i = 0; i < n;) {
            std::size_t j = i;
            while (j + 1 < n && v[order[j + 1]] == v[order[i]])
                ++j;
            const double avg = 0.5 * double(i + j) + 1.0; // ties share their average rank
            for (std::size_t k = i; k <= j; ++k)
                r[order[k]] = avg;
            i = j + 1;
        }
        return r;
    };
    const auto ra = ranks(a), rb = ranks(b);
    const double mean = 0.5 * double(n + 1);
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sab += (ra[i] - mean) * (rb[i] - mean);
        saa += (ra[i] - mean) * (ra[i] - mean);
        sbb += (rb[i] - mean) * (rb[i] - mean);
    }
    return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

void gaussLegendre(int m, std::vector<double>& nodes, std::vector<double>& weights) {
    nodes.assign(std::size_t(m), 0.0);
    weights.assign(std::size_t(m), 0.0);
    for (int i = 0; i < m; ++i) {
        // Newton's method on P_m from Chebyshev's guess for root i.
        double x = std::cos(std::numbers::pi * (double(i) + 0.75) / (double(m) + 0.5)), dp = 1;
        for (int it = 0; it < 100; ++it) {
            double p0 = 1, p1 = x;
            for (int k = 2; k <= m; ++k) {
                const double p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / double(k);
                p0 = p1;
                p1 = p2;
            }
            if (m == 1)
                p0 = 1, p1 = x;
            dp = double(m) * (x * p1 - p0) / (x * x - 1.0);
            const double dx = p1 / dp;
            x -= dx;
            if (std::abs(dx) < 1e-15)
                break;
        }
        // [−1, 1] → [0, 1]: α = (x + 1)/2, weight w/2 with w = 2/((1 − x²)·P'(x)²).
        nodes[std::size_t(i)] = 0.5 * (1.0 - x); // ascending
        weights[std::size_t(i)] = 1.0 / ((1.0 - x * x) * dp * dp);
    }
}

std::vector<double> resizeBilinear(std::span<const double> map, std::int64_t h, std::int64_t w,
                                   std::int64_t H, std::int64_t W) {
    std::vector<double> out(std::size_t(H * W));
    auto source = [](std::int64_t o, std::int64_t in, std::int64_t outSize, std::int64_t& i0,
                     std::int64_t& i1, double& f) {
        double s = (double(o) + 0.5) * double(in) / double(outSize) - 0.5;
        s = std::max(s, 0.0); // PyTorch clamps negative source coordinates to 0
        i0 = std::min<std::int64_t>(std::int64_t(s), in - 1);
        i1 = std::min<std::int64_t>(i0 + 1, in - 1);
        f = s - double(i0);
    };
    for (std::int64_t y = 0; y < H; ++y) {
        std::int64_t y0, y1;
        double fy;
        source(y, h, H, y0, y1, fy);
        for (std::int64_t x = 0; x < W; ++x) {
            std::int64_t x0, x1;
            double fx;
            source(x, w, W, x0, x1, fx);
            auto at = [&](std::int64_t yy, std::int64_t xx) {
                return map[std::size_t(yy * w + xx)];
            };
            out[std::size_t(y * W + x)] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
                                          fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
        }
    }
    return out;
}

std::vector<double> magnitude(std::span<const double> map, std::int64_t channels) {
    const std::size_t plane = map.size() / std::size_t(std::max<std::int64_t>(1, channels));
    std::vector<double> out(plane, 0.0);
    for (std::int64_t c = 0; c < channels; ++c)
        for (std::size_t i = 0; i < plane; ++i)
            out[i] = std::max(out[i], std::abs(map[std::size_t(c) * plane + i]));
    return out;
}

namespace {

// Separable Gaussian blur per channel; the kernel is cut at the border and renormalised.
std::vector<double> blur(std::span<const double> img, std::int64_t C, std::int64_t H,
                         std::int64_t W, double sigma) {
    const int r = std::max(1, int(std::ceil(3.0 * sigma)));
    std::vector<double> k(std::size_t(2 * r + 1));
    for (int i = -r; i <= r; ++i)
        k[std::size_t(i + r)] = std::exp(-0.5 * double(i * i) / (sigma * sigma));
    std::vector<double> tmp(img.size()), out(img.size());
    for (std::int64_t c = 0; c < C; ++c) {
        const double* src = img.data() + c * H * W;
        for (std::int64_t y = 0; y < H; ++y)
            for (std::int64_t x = 0; x < W; ++x) {
                double s = 0, ws = 0;
                for (int i = -r; i <= r; ++i)
                    if (x + i >= 0 && x + i < W) {
                        s += k[std::size_t(i + r)] * src[y * W + x + i];
                        ws += k[std::size_t(i + r)];
                    }
                tmp[std::size_t(c * H * W + y * W + x)] = s / ws;
            }
        for (std::int64_t y = 0; y < H; ++y)
            for (std::int64_t x = 0; x < W; ++x) {
                double s = 0, ws = 0;
                for (int i = -r; i <= r; ++i)
                    if (y + i >= 0 && y + i < H) {
                        s += k[std::size_t(i + r)] * tmp[std::size_t(c * H * W + (y + i) * W + x)];
                        ws += k[std::size_t(i + r)];
                    }
                out[std::size_t(c * H * W + y * W + x)] = s / ws;
            }
    }
    return out;
}

bool wants(const SaliencyOptions& o, Method m) {
    return std::find(o.methods.begin(), o.methods.end(), m) != o.methods.end();
}

} // namespace

Result<SaliencyResult> saliency(Inspector& in, std::span<const double> image, int label,
                                Target target, const SaliencyOptions& o, Progress* progress) {
    const std::int64_t D = in.imageSize(), K = in.classes(), B = in.batch();
    const char* job = "saliency";
    if (std::int64_t(image.size()) != D)
        return Status::error("the image has " + std::to_string(image.size()) + " values, the " +
                                 "network expects " + std::to_string(D),
                             job);
    if (target.kind == Target::Kind::True && (label < 0 || label >= K))
        return Status::error("the true class is unknown", job, "Pick a target class");
    if (target.kind == Target::Kind::Class && (target.cls < 0 || target.cls >= K))
        return Status::error("class " + std::to_string(target.cls) + " does not exist", job,
                             "Pick one of 0.." + std::to_string(K - 1));
    const bool smooth = wants(o, Method::SmoothGrad), ig = wants(o, Method::IntegratedGradients),
               cam = wants(o, Method::GradCam);
    if (smooth && (o.smoothSamples < 1 || o.smoothSamples > 10000 || !(o.smoothNoise >= 0)))
        return Status::error("SmoothGrad needs 1 to 10,000 samples and a noise level ≥ 0", job);
    if (ig && (o.igSteps < 1 || o.igSteps > 10000))
        return Status::error("integrated gradients needs 1 to 10,000 steps", job);
    const int camLayer = o.gradcamLayer >= 0 ? o.gradcamLayer : in.lastSpatialLayer();
    if (cam && (camLayer < 0 || camLayer >= int(in.layers().size()) ||
                !in.layers()[std::size_t(camLayer)].spatial()))
        return Status::error("Grad-CAM needs a layer with a spatial output", job,
                             "Pick a convolution or pooling layer");

    const std::int64_t C = in.channels(), H = in.height(), W = in.width();
    // The rows: the image, SmoothGrad's copies, IG's path points, the baseline.
    std::vector<double> rows(image.begin(), image.end());
    const std::int64_t smoothFirst = 1, smoothCount = smooth ? o.smoothSamples : 0;
    Rng rng(o.seed);
    if (smooth) {
        const auto [lo, hi] = std::minmax_element(image.begin(), image.end());
        const double range = *hi - *lo > 0 ? *hi - *lo : 1.0;
        const double sigma = o.smoothNoise * range;
        for (std::int64_t j = 0; j < smoothCount; ++j)
            for (std::int64_t i = 0; i < D; ++i)
                rows.push_back(image[std::size_t(i)] + sigma * rng.normal());
    }
    const std::int64_t igFirst = smoothFirst + smoothCount, igCount = ig ? o.igSteps : 0;
    std::vector<double> alphas, weights, baseline;
    if (ig) {
        if (o.igRule == SaliencyOptions::IgRule::GaussLegendre) {
            gaussLegendre(o.igSteps, alphas, weights);
        } else {
            for (int k = 1; k <= o.igSteps; ++k) {
                alphas.push_back((double(k) - 0.5) / double(o.igSteps));
                weights.push_back(1.0 / double(o.igSteps));
            }
        }
        switch (o.baseline) {
        case SaliencyOptions::Baseline::Black:
            baseline.assign(std::size_t(D), 0.0);
            break;
        case SaliencyOptions::Baseline::Blur:
            baseline =
                blur(image, C, H, W, o.blurSigma > 0 ? o.blurSigma : double(std::max(H, W)) / 8.0);
            break;
        case SaliencyOptions::Baseline::Noise:
            for (std::int64_t i = 0; i < D; ++i)
                baseline.push_back(rng.uniform());
            break;
        }
        for (double a : alphas)
            for (std::int64_t i = 0; i < D; ++i)
                rows.push_back(baseline[std::size_t(i)] +
                               a * (image[std::size_t(i)] - baseline[std::size_t(i)]));
        rows.insert(rows.end(), baseline.begin(), baseline.end());
    }
    const std::int64_t total = std::int64_t(rows.size()) / D;

    SaliencyResult r;
    r.label = label;
    std::vector<double> smoothSum(smooth ? std::size_t(D) : 0, 0.0),
        igSum(ig ? std::size_t(D) : 0, 0.0);
    double baselineLogit = 0;
    for (std::int64_t first = 0; first < total; first += B) {
        if (cancelled(progress))
            return Progress::cancelledStatus(job);
        const std::int64_t n = std::min(B, total - first);
        CS_TRY(in.setImages(std::span(rows).subspan(std::size_t(first * D)), n));
        CS_TRY(in.forward());
        CS_TRY_ASSIGN(auto z, in.logits());
        if (first == 0) {
            r.probabilities = softmaxRows(std::span(z).first(std::size_t(K)), K);
            r.predicted = argmax(r.probabilities);
            r.target = target.kind == Target::Kind::Predicted ? r.predicted
                       : target.kind == Target::Kind::True    ? label
                                                              : target.cls;
            r.targetLogit = z[std::size_t(r.target)];
        }
        Seed seed;
        seed.classes.assign(std::size_t(n), r.target);
        CS_TRY(in.backward(seed, first == 0 && cam ? camLayer : -1));
        CS_TRY_ASSIGN(auto g, in.inputGradient());
        for (std::int64_t k = 0; k < n; ++k) {
            const std::int64_t row = first + k;
            const double* gr = g.data() + k * D;
            if (row == 0) {
                r.maps[Method::Gradient].assign(gr, gr + D);
                if (wants(o, Method::GradientXInput)) {
                    auto& m = r.maps[Method::GradientXInput];
                    m.resize(std::size_t(D));
                    for (std::int64_t i = 0; i < D; ++i)
                        m[std::size_t(i)] = gr[i] * image[std::size_t(i)];
                }
            } else if (row < igFirst) {
                for (std::int64_t i = 0; i < D; ++i)
                    smoothSum[std::size_t(i)] += o.smoothSquared ? gr[i] * gr[i] : gr[i];
            } else if (row < igFirst + igCount) {
                const double w = weights[std::size_t(row - igFirst)];
                for (std::int64_t i = 0; i < D; ++i)
                    igSum[std::size_t(i)] += w * gr[i];
            } else {
                baselineLogit = z[std::size_t(k * K + r.target)];
            }
        }
        if (first == 0 && cam) {
            const auto& info = in.layers()[std::size_t(camLayer)];
            const std::int64_t Kc = info.dims.c, hw = info.dims.h * info.dims.w;
            CS_TRY_ASSIGN(auto A, in.layerOutput(camLayer));
            CS_TRY_ASSIGN(auto dA, in.layerGradient(camLayer));
            std::vector<double> raw(std::size_t(hw), 0.0);
            for (std::int64_t c = 0; c < Kc; ++c) {
                double w = 0;
                for (std::int64_t i = 0; i < hw; ++i)
                    w += dA[std::size_t(c * hw + i)];
                w /= double(hw);
                for (std::int64_t i = 0; i < hw; ++i)
                    raw[std::size_t(i)] += w * A[std::size_t(c * hw + i)];
            }
            std::vector<double> relu(raw);
            for (double& v : relu)
                v = std::max(v, 0.0);
            r.maps[Method::GradCam] = resizeBilinear(relu, info.dims.h, info.dims.w, H, W);
            r.gradcamRaw = std::move(raw);
            r.gradcamHeight = info.dims.h;
            r.gradcamWidth = info.dims.w;
            r.gradcamLayer = info.name;
        }
        if (progress)
            progress->report(first + n, total, job);
    }
    if (!wants(o, Method::Gradient))
        r.maps.erase(Method::Gradient);
    if (smooth) {
        for (double& v : smoothSum)
            v /= double(smoothCount);
        r.maps[Method::SmoothGrad] = std::move(smoothSum);
    }
    if (ig) {
        double sum = 0;
        for (std::int64_t i = 0; i < D; ++i) {
            igSum[std::size_t(i)] *= image[std::size_t(i)] - baseline[std::size_t(i)];
            sum += igSum[std::size_t(i)];
        }
        r.igDelta = r.targetLogit - baselineLogit;
        r.igGap = sum - r.igDelta;
        r.maps[Method::IntegratedGradients] = std::move(igSum);
    }
    return r;
}

Result<std::vector<SanityStep>> sanityCheck(Inspector& in, std::span<const double> image, int label,
                                            Target target, const SaliencyOptions& options,
                                            std::uint64_t seed, Progress* progress) {
    const char* job = "sanity check";
    CS_TRY_ASSIGN(io::SafeTensors trained, in.weights());
    CS_TRY(in.initialize(seed));
    CS_TRY_ASSIGN(io::SafeTensors random, in.weights());
    // Conv and linear layers, output first (norm layers keep their trained γ and β).
    std::vector<std::string> layers;
    for (const auto& l : in.learnableLayers())
        if (trained.tensors.count(l + ".weight") && !trained.tensors.count(l + ".running_mean") &&
            trained.tensors.at(l + ".weight").shape.size() >= 2)
            layers.insert(layers.begin(), l);
    std::vector<SanityStep> steps;
    std::map<Method, std::vector<double>> original;
    io::SafeTensors current = trained;
    Status failed;
    for (std::size_t s = 0; s <= layers.size(); ++s) {
        if (cancelled(progress)) {
            failed = Progress::cancelledStatus(job);
            break;
        }
        SanityStep step;
        if (s > 0) {
            step.layer = layers[s - 1];
            for (const char* part : {".weight", ".bias"})
                if (auto it = random.tensors.find(step.layer + part); it != random.tensors.end())
                    current.tensors[step.layer + part] = it->second;
        }
        if (Status st = in.loadWeights(current, "sanity check"); !st.ok()) {
            failed = st;
            break;
        }
        auto r = saliency(in, image, label, target, options);
        if (!r.ok()) {
            failed = r.status();
            break;
        }
        if (s == 0)
            target = {Target::Kind::Class, r->target}; // the same class at every step
        for (auto& [m, map] : r->maps) {
            const auto mag = m == Method::GradCam ? map : magnitude(map, in.channels());
            if (s == 0)
                original[m] = mag;
            step.spearman[m] = spearman(original[m], mag);
            step.maps[m] = std::move(map);
        }
        steps.push_back(std::move(step));
        if (progress)
            progress->report(std::int64_t(s + 1), std::int64_t(layers.size() + 1), job);
    }
    // Leave the inspector as it was.
    CS_TRY(in.loadWeights(trained, "sanity check"));
    if (!failed.ok())
        return failed;
    return steps;
}

} // namespace convscope::analysis
