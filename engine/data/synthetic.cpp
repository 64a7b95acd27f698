// Oriented gratings: G(x) = 0.5 + c·cos(ω(cosθ·x₁ + sinθ·x₂) + φ) + noise, clamped to [0, 1].
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

TrainTestSplit makeGratingsSplit(std::int64_t trainCount, std::int64_t testCount, int side,
                                 int classes, std::uint64_t seed) {
    TrainTestSplit s;
    s.train = makeGratings(trainCount, side, classes, seed);
    s.test = makeGratings(testCount, side, classes, seed + 7919);
    s.train.name = "gratings train";
    s.test.name = "gratings test";
    computeNormalisation(s);
    return s;
}

} // namespace convscope::data
