// IDX files (the MNIST format), gzip-compressed or raw, and image datasets built from them.
#pragma once

#include "core/status.h"
#include <cstdint>
#include <string>
#include <vector>

namespace convscope::data {

struct IdxArray {
    std::vector<std::int64_t> dims;
    std::vector<std::uint8_t> values; // unsigned-byte IDX only (type 0x08)
};

// Reads an IDX file of unsigned bytes; gzip is detected from the content, not the name.
// Errors name the file and say what is wrong with it.
Result<IdxArray> readIdx(const std::string& path);
// Writes an unsigned-byte IDX file, gzip-compressed when `gzip` (tests, exports).
Status writeIdx(const std::string& path, const IdxArray& array, bool gzip);

struct ImageDataset {
    std::string name;
    std::int64_t count = 0, channels = 1, height = 0, width = 0;
    int classes = 0;
    std::vector<std::uint8_t> images; // (count, channels, height, width)
    std::vector<std::uint8_t> labels; // (count)
    std::vector<std::string> classNames;
    std::int64_t features() const { return channels * height * width; }
};

// One split from an images file and a labels file; checks that they agree.
Result<ImageDataset> loadIdxSplit(const std::string& imagesPath, const std::string& labelsPath,
                                  int classes, const std::string& name);

struct TrainTestSplit {
    ImageDataset train, test;
    double mean = 0.0, std = 1.0; // of the training pixels in [0, 1]; used to normalise
};

// Default folder of Debian's dataset-fashion-mnist package.
std::string defaultFashionMnistDir();
// Fashion-MNIST from `dir` (empty: $CONVSCOPE_FASHION_MNIST, else the Debian package folder).
Result<TrainTestSplit> loadFashionMnist(const std::string& dir = {});
// Computes mean and standard deviation of the training pixels (scaled to [0, 1]).
void computeNormalisation(TrainTestSplit& split);

} // namespace convscope::data
