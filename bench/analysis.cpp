// convscope-bench-analysis: the analysis layer's interactive work, timed on one backend —
// the five saliency methods for one image as the Saliency view computes them (SmoothGrad
// n = 25, IG m = 32, Grad-CAM at the last spatial layer) and, for 1x28x28 networks, FGSM
// accuracy vs ε (13 values × 1,000 images). bench/analysis.sh runs it beside PyTorch
// (bench/analysis_torch.py), and the Gabor fits of a 32-filter 7×7 layer. Prints
// "convscope-<backend> <preset> <what> median_ms min_ms max_ms".
#include "analysis/adversarial.h"
#include "analysis/gabor.h"
#include "analysis/saliency.h"
#include "backend/backend.h"
#include "core/random.h"
#include "data/idx.h"
#include "model/weights.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

using namespace convscope;

namespace {

double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// One warm-up, then `repeats` timed runs: median, min, max in ms; false on an error.
bool timeIt(const std::string& label, int repeats, const std::function<Status()>& f) {
    if (Status s = f(); !s.ok()) {
        std::fprintf(stderr, "%s: %s\n", label.c_str(), s.message().c_str());
        return false;
    }
    std::vector<double> ms;
    for (int r = 0; r < repeats; ++r) {
        const double t0 = now();
        if (Status s = f(); !s.ok())
            return false;
        ms.push_back(1e3 * (now() - t0));
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%s %.3f %.3f %.3f\n", label.c_str(), ms[ms.size() / 2], ms.front(), ms.back());
    std::fflush(stdout);
    return true;
}

} // namespace

int main(int argc, char** argv) {
    std::string preset = "lenet5", checkpoint, backendName = "cpu";
    int repeats = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--preset")
            preset = v;
        else if (k == "--checkpoint")
            checkpoint = v;
        else if (k == "--backend")
            backendName = v;
        else if (k == "--repeats")
            repeats = std::max(1, std::atoi(v.c_str()));
        else {
            std::fprintf(stderr, "usage: convscope-bench-analysis [--preset NAME] [--checkpoint "
                                 "FILE] [--backend cpu|vulkan] [--repeats N]\n");
            return 2;
        }
    }
    BackendOptions bo;
    bo.backend = backendName;
    bo.threads = 2;
    auto be = createBackend(bo);
    if (!be.ok()) {
        std::fprintf(stderr, "%s\n", be.status().message().c_str());
        return 1;
    }
    std::unique_ptr<analysis::Inspector> in;
    const double mean = 0.2860, sd = 0.3530;
    if (!checkpoint.empty()) {
        auto c = model::loadCheckpoint(checkpoint);
        auto made = c.ok() ? analysis::Inspector::open(*be->backend, *c, 64)
                           : Result<std::unique_ptr<analysis::Inspector>>(c.status());
        if (!made.ok()) {
            std::fprintf(stderr, "%s\n", made.status().message().c_str());
            return 1;
        }
        in = std::move(*made);
    } else {
        auto spec = model::preset(preset);
        auto made = spec.ok() ? analysis::Inspector::create(*be->backend, *spec, 64, {mean, sd})
                              : Result<std::unique_ptr<analysis::Inspector>>(spec.status());
        if (!made.ok() || !(*made)->initialize(1).ok()) {
            std::fprintf(stderr, "%s\n",
                         made.ok() ? "init failed" : made.status().message().c_str());
            return 1;
        }
        in = std::move(*made);
    }
    const std::int64_t D = in->imageSize();
    // Images: Fashion-MNIST's test set for 1x28x28 networks when installed, else random pixels.
    std::vector<double> pixels;
    std::vector<std::int32_t> labels;
    auto fm = D == 784 ? data::loadFashionMnist() : Result<data::TrainTestSplit>(Status::error(""));
    if (fm.ok()) {
        std::vector<std::int64_t> idx;
        for (std::int64_t i = 0; i < 1000; ++i) {
            idx.push_back(i);
            labels.push_back(fm->test.labels[std::size_t(i)]);
        }
        pixels = analysis::Inspector::pixels(fm->test, idx);
    } else {
        Rng rng(0);
        for (std::int64_t i = 0; i < 1000 * D; ++i)
            pixels.push_back(rng.uniform());
        for (int i = 0; i < 1000; ++i)
            labels.push_back(std::int32_t(rng.below(std::uint64_t(in->classes()))));
    }
    const std::string tag = "convscope-" + backendName + " " + preset + " ";
    const std::span<const double> image(pixels.data(), std::size_t(D));
    std::fprintf(stderr, "# %s on %s\n", preset.c_str(), be->backend->description().c_str());
    using analysis::Method;
    auto methods = [&](std::vector<Method> m) {
        return [&, m]() -> Status {
            analysis::SaliencyOptions o;
            o.methods = m;
            return analysis::saliency(*in, image, labels[0], {}, o).status();
        };
    };
    bool ok = timeIt(tag + "saliency_total", repeats, methods(analysis::allMethods())) &&
              timeIt(tag + "saliency_gradient", repeats,
                     methods({Method::Gradient, Method::GradientXInput})) &&
              timeIt(tag + "saliency_smoothgrad", repeats, methods({Method::SmoothGrad})) &&
              timeIt(tag + "saliency_ig", repeats, methods({Method::IntegratedGradients})) &&
              timeIt(tag + "saliency_gradcam", repeats, methods({Method::GradCam}));
    if (ok && D == 784 && preset.rfind("lenet5", 0) == 0) { // as bench/analysis_torch.py
        const auto eps = analysis::defaultEpsilons();
        ok = timeIt(tag + "fgsm_total", std::max(1, repeats / 2), [&]() -> Status {
            return analysis::accuracyVsEpsilon(*in, pixels, labels, eps, 0).status();
        });
    }
    // Gabor fits of a first layer of 32 filters 7×7 with 3 shuffles each (the Filters tab's live
    // refresh; goal: under 100 ms on one core). Random weights: the slowest case (every start
    // runs long).
    if (ok) {
        Rng rng(3);
        std::vector<float> w(32 * 49);
        for (float& v : w)
            v = float(rng.normal());
        ok = timeIt("convscope-cpu gabor fit_32x7x7", repeats,
                    [&]() -> Status { return analysis::fitGaborFilters(w, 32, 1, 7, 7).status(); });
    }
    return ok ? 0 : 1;
}
