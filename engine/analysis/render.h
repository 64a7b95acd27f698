// Pictures of analysis results for the command line (the window draws its own with QPainter, on
// the same colour scales): images, signed maps on a diverging scale (blue − white + red, zero
// white, symmetric about 0), magnitudes on a sequential one (black → yellow), side by side with
// titles. A constant map is drawn at the scale's zero, never divided by zero.
#pragma once

#include "io/png.h"
#include <span>
#include <string>
#include <vector>

namespace convscope::analysis {

io::Rgb diverging(double t);  // t in [−1, 1]
io::Rgb sequential(double t); // t in [0, 1]

// An image (C × H × W, pixels in [0, 1]; C = 1 grey or 3 RGB), each pixel `scale` × `scale`.
io::Canvas imageTile(std::span<const double> pixels, int channels, int height, int width,
                     int scale);
// A map (H × W): signed on the diverging scale (by max |·|), else on the sequential scale (by
// max); over `background` (an image tile of the same size) with `opacity` when given.
io::Canvas mapTile(std::span<const double> map, int height, int width, int scale, bool signedMap,
                   const io::Canvas* background = nullptr, double opacity = 1.0);

struct Panel {
    std::string title;
    io::Canvas tile;
    std::string caption; // under the tile (may be empty)
};
// Rows of panels with titles above and captions below, on white.
io::Canvas composeRows(const std::vector<std::vector<Panel>>& rows, const std::string& heading,
                       int textScale = 1);

} // namespace convscope::analysis
