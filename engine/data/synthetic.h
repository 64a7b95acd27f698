// Synthetic datasets generated in code, so every feature works with no download and tests run
// on small data: oriented gratings (class = orientation), the first-layer-filter lecture's toy.
#pragma once

#include "data/idx.h"

namespace convscope::data {

// `count` images of side x side pixels: a sinusoidal grating at orientation k·π/classes for
// class k, with random phase, frequency jitter, contrast and pixel noise; seeded.
ImageDataset makeGratings(std::int64_t count, int side, int classes, std::uint64_t seed);
// Train and test splits of gratings with their normalisation.
TrainTestSplit makeGratingsSplit(std::int64_t trainCount, std::int64_t testCount, int side,
                                 int classes, std::uint64_t seed);

} // namespace convscope::data
