// A folder of images, one subfolder per class (the torchvision ImageFolder layout), decoded with
// stb_image, resized to a square and split into train and test sets.
#pragma once

#include "data/idx.h"

#include <string_view>

namespace convscope::data {

// What a PNG or JPEG header claims: its size and the channels stored (1 grey, 2 grey + alpha,
// 3 RGB, 4 RGBA).
struct ImageHeader {
    int width = 0, height = 0, channels = 0;
};

// Reads the header of a PNG or JPEG file's bytes (stb_image's info: nothing is decoded). The
// loader checks this size against its pixel bound before it decodes. Errors: not a PNG or JPEG
// (stb_image's reason), or over 2 GiB.
Result<ImageHeader> imageHeader(std::string_view bytes);

// Loads every PNG and JPEG (.png, .jpg, .jpeg, any case) of each subfolder of `dir`; the sorted
// subfolder names are the class names, other files and hidden folders are ignored. Each image is
// stretched to side x side (area averaging when shrinking, bilinear when enlarging) as grey
// (channels 1) or RGB (channels 3). Per class, a seeded shuffle puts round(n·testFraction) images
// in the test set and the rest in the training set, so the split depends only on the files and
// `seed`. mean/std are those of the training pixels. Errors: `dir` missing, fewer than two class
// folders, a class without images, and the first image that cannot be decoded (named).
Result<TrainTestSplit> loadImageFolder(const std::string& dir, int side, int channels,
                                       double testFraction, std::uint64_t seed);

// Resizes an 8-bit interleaved image (h x w x channels) to outH x outW: per axis, area averaging
// where it shrinks and bilinear interpolation where it enlarges. Output is interleaved too.
std::vector<std::uint8_t> resizeImage(const std::uint8_t* pixels, int w, int h, int channels,
                                      int outW, int outH);

} // namespace convscope::data
