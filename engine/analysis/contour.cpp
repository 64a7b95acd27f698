// Contours: log-spaced levels, marching squares, and a PNG with io::Canvas.
#include "analysis/contour.h"

#include "analysis/render.h"
#include <algorithm>
#include <cmath>
#include <limits>

namespace convscope::analysis {

namespace {
std::pair<double, double> range(const Surface& s) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (double v : s.loss)
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    return {lo, hi};
}
double roundTo2(double v) {
    if (v <= 0)
        return v;
    const double p = std::pow(10.0, std::floor(std::log10(v)) - 1);
    return std::round(v / p) * p;
}
// Where the colour scale puts a loss: log(loss) over the surface's range, in [0, 1].
double colourAt(double v, double lo, double hi) {
    const double a = std::log(std::max(lo, 1e-12)), b = std::log(std::max(hi, 1e-12));
    if (!(b > a))
        return 0.5;
    return std::clamp((std::log(std::max(v, 1e-12)) - a) / (b - a), 0.0, 1.0);
}
} // namespace

std::vector<double> contourLevels(const Surface& s, int count, double cap) {
    auto [lo, hi] = range(s);
    if (cap > 0 && hi > cap && lo < cap)
        hi = cap;
    std::vector<double> out;
    if (!std::isfinite(lo) || !(hi > lo) || count <= 0)
        return out;
    const double a = std::log(std::max(lo, 1e-6)), b = std::log(hi);
    for (int k = 1; k <= count; ++k) {
        const double v = roundTo2(std::exp(a + (b - a) * k / (count + 1)));
        if (v > lo && v < hi && (out.empty() || v > out.back()))
            out.push_back(v);
    }
    return out;
}

std::vector<Segment> contourSegments(std::span<const double> f, int rows, int cols, double level) {
    std::vector<Segment> out;
    auto at = [&](int r, int c) { return f[std::size_t(r) * std::size_t(cols) + std::size_t(c)]; };
    for (int r = 0; r + 1 < rows; ++r)
        for (int c = 0; c + 1 < cols; ++c) {
            // Corners counter-clockwise: (r,c) (r,c+1) (r+1,c+1) (r+1,c).
            const double v[4] = {at(r, c), at(r, c + 1), at(r + 1, c + 1), at(r + 1, c)};
            const double x[4] = {double(c), double(c + 1), double(c + 1), double(c)};
            const double y[4] = {double(r), double(r), double(r + 1), double(r + 1)};
            if (std::any_of(v, v + 4, [](double e) { return !std::isfinite(e); }))
                continue;
            // The crossing points on the four edges, in order.
            std::array<double, 2> p[4];
            int n = 0;
            for (int e = 0; e < 4; ++e) {
                const int a = e, b = (e + 1) % 4;
                if ((v[a] < level) == (v[b] < level))
                    continue;
                const double t = (level - v[a]) / (v[b] - v[a]);
                p[n++] = {x[a] + t * (x[b] - x[a]), y[a] + t * (y[b] - y[a])};
            }
            if (n == 2)
                out.push_back({p[0][0], p[0][1], p[1][0], p[1][1]});
            else if (n == 4) { // a saddle: pair by the centre's side
                const double centre = (v[0] + v[1] + v[2] + v[3]) / 4;
                const bool high = centre >= level, firstHigh = v[0] >= level;
                if (high == firstHigh) {
                    out.push_back({p[0][0], p[0][1], p[1][0], p[1][1]});
                    out.push_back({p[2][0], p[2][1], p[3][0], p[3][1]});
                } else {
                    out.push_back({p[0][0], p[0][1], p[3][0], p[3][1]});
                    out.push_back({p[1][0], p[1][1], p[2][0], p[2][1]});
                }
            }
        }
    return out;
}

bool LabelBox::overlaps(const LabelBox& o, double margin) const {
    return x < o.x + o.w + margin && o.x < x + w + margin && y < o.y + o.h + margin &&
           o.y < y + h + margin;
}

std::vector<LabelBox>
placeContourLabels(const std::vector<std::vector<Segment>>& levels,
                   const std::vector<double>& widths, double height,
                   const std::function<std::array<double, 2>(double, double)>& toPixel,
                   const std::array<double, 4>& bounds, double margin) {
    std::vector<LabelBox> out(levels.size());
    std::vector<LabelBox> placed;
    for (std::size_t k = 0; k < levels.size(); ++k) {
        std::vector<std::array<double, 2>> spots;
        for (const Segment& g : levels[k])
            spots.push_back({g.x0, g.y0});
        // Upper right first: grid y grows up the plot.
        std::stable_sort(spots.begin(), spots.end(),
                         [](const auto& a, const auto& b) { return a[0] + a[1] > b[0] + b[1]; });
        const double w = k < widths.size() ? widths[k] : 0;
        for (const auto& g : spots) {
            const auto p = toPixel(g[0], g[1]);
            LabelBox box{
                std::clamp(p[0] - 1, bounds[0], std::max(bounds[0], bounds[2] - w)),
                std::clamp(p[1] - height / 2, bounds[1], std::max(bounds[1], bounds[3] - height)),
                w, height};
            if (std::any_of(placed.begin(), placed.end(),
                            [&](const LabelBox& o) { return box.overlaps(o, margin); }))
                continue;
            placed.push_back(box);
            out[k] = box;
            break;
        }
    }
    return out;
}

io::Canvas contourPicture(const Surface& s, const std::string& title,
                          const std::vector<std::array<double, 2>>& path, int pixels) {
    const int left = 56, top = 28, bar = 18, right = 90, bottom = 44;
    const int W = pixels, H = s.beta.points > 1 ? pixels : pixels / 4;
    io::Canvas canvas(left + W + right, top + H + bottom);
    canvas.text(left, 8, title, {0, 0, 0}, 1);
    auto [lo, hi] = range(s);
    const bool capped = hi > kLossCap && lo < kLossCap;
    if (capped)
        hi = kLossCap;
    const int R = s.beta.points, C = s.alpha.points;
    // Pixel centre → fractional grid position, bilinear between grid points.
    for (int py = 0; py < H; ++py)
        for (int px = 0; px < W; ++px) {
            const double gx = (px + 0.5) / W * (C - 1), gy = (1 - (py + 0.5) / H) * (R - 1);
            const int c0 = std::min(int(gx), std::max(C - 2, 0)),
                      r0 = std::min(int(gy), std::max(R - 2, 0));
            const int c1 = std::min(c0 + 1, C - 1), r1 = std::min(r0 + 1, R - 1);
            const double fx = C > 1 ? gx - c0 : 0, fy = R > 1 ? gy - r0 : 0;
            const double v = (1 - fy) * ((1 - fx) * s.lossAt(r0, c0) + fx * s.lossAt(r0, c1)) +
                             fy * ((1 - fx) * s.lossAt(r1, c0) + fx * s.lossAt(r1, c1));
            canvas.set(left + px, top + py,
                       std::isfinite(v) ? sequential(colourAt(v, lo, hi)) : io::Rgb{200, 200, 200});
        }
    auto toPixel = [&](double gx, double gy) {
        return std::array<int, 2>{left + int(std::lround((gx / std::max(C - 1, 1)) * (W - 1))),
                                  top + int(std::lround((1 - gy / std::max(R - 1, 1)) * (H - 1)))};
    };
    auto line = [&](std::array<int, 2> a, std::array<int, 2> b, io::Rgb colour, int thick) {
        const int steps = std::max({std::abs(b[0] - a[0]), std::abs(b[1] - a[1]), 1});
        for (int i = 0; i <= steps; ++i) {
            const int x = a[0] + (b[0] - a[0]) * i / steps, y = a[1] + (b[1] - a[1]) * i / steps;
            canvas.fill(x - thick / 2, y - thick / 2, thick, thick, colour);
        }
    };
    if (R > 1) {
        const std::vector<double> levels = contourLevels(s);
        std::vector<std::vector<Segment>> segs;
        std::vector<double> widths;
        std::vector<std::string> texts;
        for (double level : levels) {
            segs.push_back(contourSegments(s.loss, R, C, level));
            for (const Segment& g : segs.back())
                line(toPixel(g.x0, g.y0), toPixel(g.x1, g.y1), {255, 255, 255}, 1);
            char text[32];
            std::snprintf(text, sizeof text, "%.3g", level);
            texts.push_back(text);
            widths.push_back(io::Canvas::textWidth(text) + 2);
        }
        const auto boxes =
            placeContourLabels(segs, widths, 9,
                               [&](double gx, double gy) {
                                   const auto p = toPixel(gx, gy);
                                   return std::array<double, 2>{double(p[0]), double(p[1])};
                               },
                               {double(left), double(top), double(left + W), double(top + H)});
        for (std::size_t k = 0; k < boxes.size(); ++k)
            if (boxes[k].w > 0) {
                canvas.fill(int(boxes[k].x), int(boxes[k].y), int(boxes[k].w), 9, {255, 255, 255});
                canvas.text(int(boxes[k].x) + 1, int(boxes[k].y) + 1, texts[k], {0, 0, 0});
            }
    }
    // The trajectory: α, β → grid units.
    auto gridOf = [&](std::array<double, 2> ab) {
        const double gx = C > 1 ? (ab[0] - s.alpha.lo) / (s.alpha.hi - s.alpha.lo) * (C - 1) : 0;
        const double gy = R > 1 ? (ab[1] - s.beta.lo) / (s.beta.hi - s.beta.lo) * (R - 1) : 0;
        return toPixel(gx, gy);
    };
    for (std::size_t i = 0; i + 1 < path.size(); ++i)
        line(gridOf(path[i]), gridOf(path[i + 1]), {0, 114, 178}, 2);
    for (const auto& p : path) {
        const auto q = gridOf(p);
        canvas.fill(q[0] - 2, q[1] - 2, 5, 5, {0, 114, 178});
    }
    // θ* (the origin) as a cross.
    if (s.alpha.lo <= 0 && s.alpha.hi >= 0 && (R == 1 || (s.beta.lo <= 0 && s.beta.hi >= 0))) {
        const auto o = gridOf({0, 0});
        line({o[0] - 5, o[1]}, {o[0] + 5, o[1]}, {0, 0, 0}, 1);
        line({o[0], o[1] - 5}, {o[0], o[1] + 5}, {0, 0, 0}, 1);
    }
    // Axes: ends and centre of α (below) and β (left).
    char t[32];
    for (int k = 0; k < 3; ++k) {
        const double a = s.alpha.lo + (s.alpha.hi - s.alpha.lo) * k / 2;
        std::snprintf(t, sizeof t, "%.3g", a);
        canvas.text(left + (W - 1) * k / 2 - io::Canvas::textWidth(t) / 2, top + H + 6, t,
                    {0, 0, 0});
        if (R > 1) {
            const double b = s.beta.lo + (s.beta.hi - s.beta.lo) * k / 2;
            std::snprintf(t, sizeof t, "%.3g", b);
            canvas.text(left - 6 - io::Canvas::textWidth(t), top + (H - 1) * (2 - k) / 2 - 3, t,
                        {0, 0, 0});
        }
    }
    canvas.text(left + W / 2 - 20, top + H + 24, "alpha (delta)", {0, 0, 0});
    if (R > 1)
        canvas.text(4, top + H / 2 + 14, "beta (eta)", {0, 0, 0});
    // Colour bar: log scale from lo (bottom) to hi (top).
    const int bx = left + W + 14;
    for (int py = 0; py < H; ++py)
        canvas.fill(bx, top + py, bar, 1, sequential(1 - double(py) / std::max(H - 1, 1)));
    std::snprintf(t, sizeof t, capped ? "%.3g+" : "%.3g", hi);
    canvas.text(bx + bar + 4, top, t, {0, 0, 0});
    std::snprintf(t, sizeof t, "%.3g", lo);
    canvas.text(bx + bar + 4, top + H - 8, t, {0, 0, 0});
    canvas.text(bx - 2, top + H + 6, "loss (log)", {0, 0, 0});
    return canvas;
}

} // namespace convscope::analysis
