// Synthetic datasets generated in code, so every feature works with no download and tests run
// on small data: oriented gratings (class = orientation), the first-layer-filter lecture's toy;
// Gaussian blobs (class = where the blob is), the receptive-field toy; 2-D spirals (class = arm),
// the decision-boundary toy for multilayer perceptrons.
#pragma once

#include "data/idx.h"

namespace convscope::data {

// `count` images of side x side pixels: a sinusoidal grating at orientation k·π/classes for
// class k, with random phase, frequency jitter, contrast and pixel noise; seeded.
ImageDataset makeGratings(std::int64_t count, int side, int classes, std::uint64_t seed);
// Train and test splits of gratings with their normalisation.
TrainTestSplit makeGratingsSplit(std::int64_t trainCount, std::int64_t testCount, int side,
                                 int classes, std::uint64_t seed);

// `count` images of side x side pixels: class k is a bright Gaussian blob in region k of a
// ceil(√classes) x ceil(√classes) grid of the image (centre jittered within the region, random
// width and brightness) on a dim background with pixel noise. Labels are balanced (every class
// count/classes times, ±1) in a seeded random order.
ImageDataset makeBlobs(std::int64_t count, int side, int classes, std::uint64_t seed);
TrainTestSplit makeBlobsSplit(std::int64_t trainCount, std::int64_t testCount, int side,
                              int classes, std::uint64_t seed);

// `count` points of `classes` interleaved spiral arms in the plane: arm k at radius r ∈ [0.05, 1]
// has angle 2πk/classes + 4r plus noise. Each sample is an "image" of channels 2, height 1,
// width 1 holding (x, y) quantised from [−1, 1] to bytes 0..255. Labels balanced as for blobs.
ImageDataset makeSpirals(std::int64_t count, int classes, std::uint64_t seed);
TrainTestSplit makeSpiralsSplit(std::int64_t trainCount, std::int64_t testCount, int classes,
                                std::uint64_t seed);

} // namespace convscope::data
