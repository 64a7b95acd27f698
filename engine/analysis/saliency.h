// Saliency: which pixels a class score depends on, for one image — the plain gradient, gradient
// × input, SmoothGrad (Smilkov et al. 2017), integrated gradients (Sundararajan et al. 2017) and
// Grad-CAM (Selvaraju et al. 2017) — and the sanity check of Adebayo et al. 2018 (cascading
// randomisation). All in pixel units; raw numbers (the view scales the colours).
#pragma once

#include "analysis/inspector.h"
#include "core/progress.h"
#include <map>
#include <string>
#include <vector>

namespace convscope::analysis {

enum class Method { Gradient, GradientXInput, SmoothGrad, IntegratedGradients, GradCam };
// "grad", "gradxinput", "smoothgrad", "ig", "gradcam"
const char* methodName(Method m);
bool parseMethod(const std::string& name, Method& m);
std::vector<Method> allMethods();

struct Target {
    enum class Kind { Predicted, True, Class } kind = Kind::Predicted;
    int cls = 0; // Kind::Class
};

struct SaliencyOptions {
    std::vector<Method> methods = allMethods();
    // SmoothGrad: n copies with Gaussian noise of σ = noise·(max − min of the image's pixels);
    // the mean of their gradients, or of their squares (SmoothGrad-Squared).
    int smoothSamples = 25;
    double smoothNoise = 0.15;
    bool smoothSquared = false;
    std::uint64_t seed = 1; // the noise (and the uniform-noise baseline)
    // Integrated gradients: m points on the straight path from the baseline.
    int igSteps = 32;
    enum class IgRule { Midpoint, GaussLegendre } igRule = IgRule::Midpoint;
    enum class Baseline { Black, Blur, Noise } baseline = Baseline::Black;
    double blurSigma = 0;  // Gaussian blur σ in pixels for the blurred baseline (0: side / 8)
    int gradcamLayer = -1; // an index into Inspector::layers(); -1: lastSpatialLayer()
};

struct SaliencyResult {
    int label = -1, target = -1, predicted = -1;
    std::vector<double> probabilities; // softmax of the clean image
    double targetLogit = 0;
    // Per method: C × H × W in pixel units (Grad-CAM: H × W, ReLU'd and upsampled bilinearly
    // with half-pixel centres, as F.interpolate(align_corners=False)).
    std::map<Method, std::vector<double>> maps;
    // Grad-CAM at the layer's own size, before the ReLU: Σ_k w_k·A_k.
    std::vector<double> gradcamRaw;
    std::int64_t gradcamHeight = 0, gradcamWidth = 0;
    std::string gradcamLayer;
    // Integrated gradients' completeness: Σ attribution − (y_c(x) − y_c(baseline)).
    double igGap = 0, igDelta = 0;
};

// All requested methods for one image (imageSize() pixels in [0, 1]) with true class `label`
// (−1: unknown). The noisy copies and path points run as batches of the inspector's size.
Result<SaliencyResult> saliency(Inspector& in, std::span<const double> image, int label,
                                Target target, const SaliencyOptions& options,
                                Progress* progress = nullptr);

// Adebayo et al.'s cascading randomisation: learnable layers (conv and linear) re-initialised
// from the output down, one more per step, with the network's own initialisation and `seed`;
// every method recomputed for the same target class, and compared with the trained network's
// maps by the Spearman rank correlation of |map| (colour channels reduced by max).
struct SanityStep {
    std::string layer; // the layer randomised at this step ("" for the trained network)
    std::map<Method, double> spearman;
    std::map<Method, std::vector<double>> maps;
};
Result<std::vector<SanityStep>> sanityCheck(Inspector& in, std::span<const double> image, int label,
                                            Target target, const SaliencyOptions& options,
                                            std::uint64_t seed = 7, Progress* progress = nullptr);

// Helpers, public for tests.
// Spearman's rank correlation (average ranks for ties); 0 when either side is constant.
double spearman(std::span<const double> a, std::span<const double> b);
// Gauss–Legendre nodes and weights on [0, 1].
void gaussLegendre(int m, std::vector<double>& nodes, std::vector<double>& weights);
// Bilinear resize of an h × w map to H × W with half-pixel centres (align_corners=False).
std::vector<double> resizeBilinear(std::span<const double> map, std::int64_t h, std::int64_t w,
                                   std::int64_t H, std::int64_t W);
// max over channels of |map| (C × H × W → H × W), the view's magnitude of a signed map.
std::vector<double> magnitude(std::span<const double> map, std::int64_t channels);

} // namespace convscope::analysis
