// Oriented gratings: G(x) = 0.5 + c·cos(ω(cosθ·x₁ + sinθ·x₂) + φ) + noise, clamped to [0, 1].
// Blobs: B(x) = b + a·exp(−|x − μ_k|²/2σ²) + noise. Spirals: (r cos θ, r sin θ), θ = 2πk/K + 4r.
#include "data/synthetic.h"
#include "core/random.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace convscope::data {

ImageDataset makeGratings(std::int64_t count, int side, int classes, std::uint64_t seed) {
    Rng rng(seed);
    ImageDataset d;
    d.name = "gratings";
    d.count = count;
    d.height = d.width = side;
    d.classes = classes;
    d.images.resize(std::size_t(count * side * side));
    d.labels.resize(std::size_t(count));
    for (int k = 0; k < classes; ++k)
        d.classNames.push_back(std::to_string(180 * k / classes) + "°");
    for (std::int64_t n = 0; n < count; ++n) {
        const int label = int(rng.below(std::uint64_t(classes)));
        const double theta = std::numbers::pi * label / classes;
        const double omega = (0.9 + 0.3 * rng.uniform()) * 2.0 * std::numbers::pi / 4.0;
        const double phase = 2.0 * std::numbers::pi * rng.uniform();
        const double contrast = 0.25 + 0.2 * rng.uniform();
        std::uint8_t* img = d.images.data() + n * side * side;
        for (int r = 0; r < side; ++r)
            for (int c = 0; c < side; ++c) {
                const double u = std::cos(theta) * c + std::sin(theta) * r;
                double v = 0.5 + contrast * std::cos(omega * u + phase) + 0.08 * rng.normal();
                img[r * side + c] = std::uint8_t(std::lround(255.0 * std::clamp(v, 0.0, 1.0)));
            }
        d.labels[std::size_t(n)] = std::uint8_t(label);
    }
    return d;
}

namespace {
// Train and test sets from one generator with different seeds, and their normalisation.
template <class Make>
TrainTestSplit splitOf(Make make, const char* name, std::uint64_t seed) {
    TrainTestSplit s;
    s.train = make(seed, true);
    s.test = make(seed + 7919, false);
    s.train.name = std::string(name) + " train";
    s.test.name = std::string(name) + " test";
    computeNormalisation(s);
    return s;
}
} // namespace

TrainTestSplit makeGratingsSplit(std::int64_t trainCount, std::int64_t testCount, int side,
                                 int classes, std::uint64_t seed) {
    return splitOf(
        [&](std::uint64_t s, bool train) {
            return makeGratings(train ? trainCount : testCount, side, classes, s);
        },
        "gratings", seed);
}

namespace {

// count labels, each class count/classes times (±1), in a seeded random order.
std::vector<std::uint8_t> balancedLabels(std::int64_t count, int classes, Rng& rng) {
    std::vector<std::uint8_t> labels(static_cast<std::size_t>(count));
    const auto perm = rng.permutation(count);
    for (std::int64_t n = 0; n < count; ++n)
        labels[std::size_t(perm[std::size_t(n)])] = std::uint8_t(n % classes);
    return labels;
}

std::uint8_t toByte(double v01) {
    return std::uint8_t(std::lround(255.0 * std::clamp(v01, 0.0, 1.0)));
}

} // namespace

ImageDataset makeBlobs(std::int64_t count, int side, int classes, std::uint64_t seed) {
    Rng rng(seed);
    ImageDataset d;
    d.name = "blobs";
    d.count = count;
    d.height = d.width = side;
    d.classes = classes;
    d.images.resize(static_cast<std::size_t>(count * side * side));
    d.labels = balancedLabels(count, classes, rng);
    const int grid = int(std::ceil(std::sqrt(double(classes))));
    const double cell = double(side) / grid;
    for (int k = 0; k < classes; ++k)
        d.classNames.push_back("blob " + std::to_string(k / grid) + "," + std::to_string(k % grid));
    for (std::int64_t n = 0; n < count; ++n) {
        const int label = d.labels[std::size_t(n)];
        const double cy = (label / grid + 0.5 + 0.4 * (rng.uniform() - 0.5)) * cell;
        const double cx = (label % grid + 0.5 + 0.4 * (rng.uniform() - 0.5)) * cell;
        const double sigma = cell * (0.15 + 0.1 * rng.uniform());
        const double amplitude = 0.5 + 0.3 * rng.uniform();
        const double background = 0.1 + 0.1 * rng.uniform();
        std::uint8_t* img = d.images.data() + n * side * side;
        for (int r = 0; r < side; ++r)
            for (int c = 0; c < side; ++c) {
                const double d2 = (r + 0.5 - cy) * (r + 0.5 - cy) + (c + 0.5 - cx) * (c + 0.5 - cx);
                img[r * side + c] =
                    toByte(background + amplitude * std::exp(-d2 / (2 * sigma * sigma)) +
                           0.06 * rng.normal());
            }
    }
    return d;
}

TrainTestSplit makeBlobsSplit(std::int64_t trainCount, std::int64_t testCount, int side,
                              int classes, std::uint64_t seed) {
    return splitOf(
        [&](std::uint64_t s, bool train) {
            return makeBlobs(train ? trainCount : testCount, side, classes, s);
        },
        "blobs", seed);
}

ImageDataset makeSpirals(std::int64_t count, int classes, std::uint64_t seed) {
    Rng rng(seed);
    ImageDataset d;
    d.name = "spirals";
    d.count = count;
    d.channels = 2;
    d.height = d.width = 1;
    d.classes = classes;
    d.images.resize(static_cast<std::size_t>(count * 2));
    d.labels = balancedLabels(count, classes, rng);
    for (int k = 0; k < classes; ++k)
        d.classNames.push_back("arm " + std::to_string(k));
    for (std::int64_t n = 0; n < count; ++n) {
        const int label = d.labels[std::size_t(n)];
        const double r = 0.05 + 0.95 * rng.uniform();
        const double theta =
            2.0 * std::numbers::pi * label / classes + 4.0 * r + 0.15 * rng.normal();
        d.images[std::size_t(2 * n)] = toByte(0.5 + 0.5 * r * std::cos(theta));
        d.images[std::size_t(2 * n + 1)] = toByte(0.5 + 0.5 * r * std::sin(theta));
    }
    return d;
}

TrainTestSplit makeSpiralsSplit(std::int64_t trainCount, std::int64_t testCount, int classes,
                                std::uint64_t seed) {
    return splitOf(
        [&](std::uint64_t s, bool train) {
            return makeSpirals(train ? trainCount : testCount, classes, s);
        },
        "spirals", seed);
}

} // namespace convscope::data
