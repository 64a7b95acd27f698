// Contours of a loss surface: levels, marching-squares segments (the window's contour map draws
// the same segments with QPainter) and the command line's PNG (the surface on a sequential colour
// scale of log loss, labelled contour lines, the trajectory with its snapshots).
#pragma once

#include "analysis/landscape.h"
#include "io/png.h"
#include <array>
#include <functional>
#include <vector>

namespace convscope::analysis {

// Li et al. clip the loss they draw (vmax = 10 in their plots): far from θ* a plain network's
// loss reaches 10⁴ and would squeeze every level near the minimum into one colour.
constexpr double kLossCap = 10.0;

// About `count` contour levels between the surface's minimum and its maximum (at most `cap`;
// ≤ 0: no cap), evenly spaced in log(loss) (a landscape spans orders of magnitude), rounded to
// two significant digits.
std::vector<double> contourLevels(const Surface& s, int count = 12, double cap = kLossCap);

// A segment in grid units: x = column (α index), y = row (β index), both fractional.
struct Segment {
    double x0, y0, x1, y1;
};
// Marching squares on rows × cols values (row-major) at `level`; cells with a NaN are skipped.
std::vector<Segment> contourSegments(std::span<const double> values, int rows, int cols,
                                     double level);

// A label's box in pixels (x, y its top-left corner).
struct LabelBox {
    double x = 0, y = 0, w = 0, h = 0;
    bool overlaps(const LabelBox& o, double margin) const;
};
// Where to label each contour level so that no two labels overlap: for level k (its segments
// in grid units, a label widths[k] × height pixels), the first segment start — from the level's
// upper-right end along it — whose box, centred vertically on it and kept inside `bounds`
// (left, top, right, bottom in pixels), is at least `margin` from every box already placed; no
// box (w = 0) when there is no free spot. `toPixel` maps grid units to pixels.
std::vector<LabelBox>
placeContourLabels(const std::vector<std::vector<Segment>>& levels,
                   const std::vector<double>& widths, double height,
                   const std::function<std::array<double, 2>(double, double)>& toPixel,
                   const std::array<double, 4>& bounds, double margin = 2);

// The picture: `title` above, the surface `pixels` wide, α to the right and β up, a colour bar
// (log loss, losses above kLossCap in its top colour).
// `path` (optional): the trajectory in (α, β) coordinates, drawn over it.
io::Canvas contourPicture(const Surface& s, const std::string& title,
                          const std::vector<std::array<double, 2>>& path = {}, int pixels = 480);

} // namespace convscope::analysis
