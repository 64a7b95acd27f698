// Pictures of analysis results: colour scales by linear interpolation between anchors, tiles and
// a simple row layout.
#include "analysis/render.h"

#include <algorithm>
#include <cmath>

namespace convscope::analysis {

namespace {
io::Rgb lerp(std::span<const io::Rgb> anchors, double t) {
    t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * double(anchors.size() - 1);
    const std::size_t i = std::min(anchors.size() - 2, std::size_t(t));
    const double f = t - double(i);
    auto mix = [f](std::uint8_t a, std::uint8_t b) {
        return std::uint8_t(std::lround(double(a) + f * (double(b) - double(a))));
    };
    return {mix(anchors[i].r, anchors[i + 1].r), mix(anchors[i].g, anchors[i + 1].g),
            mix(anchors[i].b, anchors[i + 1].b)};
}
} // namespace

io::Rgb diverging(double t) {
    // ColorBrewer RdBu (reversed: blue negative, red positive), white at 0.
    static const io::Rgb a[] = {{5, 48, 97},     {33, 102, 172}, {146, 197, 222}, {247, 247, 247},
                                {244, 165, 130}, {178, 24, 43},  {103, 0, 31}};
    return lerp(a, 0.5 * (t + 1.0));
}

io::Rgb sequential(double t) {
    // inferno-like: black, purple, red, orange, yellow.
    static const io::Rgb a[] = {{0, 0, 4},     {40, 11, 84},   {101, 21, 110}, {159, 42, 99},
                                {212, 72, 66}, {245, 125, 21}, {250, 193, 39}, {252, 255, 164}};
    return lerp(a, t);
}

io::Canvas imageTile(std::span<const double> px, int C, int H, int W, int scale) {
    io::Canvas c(W * scale, H * scale);
    auto byte = [](double v) { return std::uint8_t(std::lround(std::clamp(v, 0.0, 1.0) * 255)); };
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) {
            const std::size_t at = std::size_t(y * W + x), plane = std::size_t(H * W);
            io::Rgb v = C >= 3
                            ? io::Rgb{byte(px[at]), byte(px[plane + at]), byte(px[2 * plane + at])}
                            : io::Rgb{byte(px[at]), byte(px[at]), byte(px[at])};
            c.fill(x * scale, y * scale, scale, scale, v);
        }
    return c;
}

io::Canvas mapTile(std::span<const double> map, int H, int W, int scale, bool signedMap,
                   const io::Canvas* background, double opacity) {
    double top = 0;
    for (double v : map)
        if (std::isfinite(v))
            top = std::max(top, signedMap ? std::abs(v) : v);
    io::Canvas c = background ? *background : io::Canvas(W * scale, H * scale);
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) {
            const double v = map[std::size_t(y * W + x)];
            const double t = top > 0 ? v / top : 0.0; // a constant map sits at the scale's zero
            const io::Rgb m = signedMap ? diverging(t) : sequential(std::max(0.0, t));
            for (int dy = 0; dy < scale; ++dy)
                for (int dx = 0; dx < scale; ++dx) {
                    const int px = x * scale + dx, py = y * scale + dy;
                    io::Rgb out = m;
                    if (background && opacity < 1.0) {
                        const std::uint8_t* b =
                            background->rgb.data() +
                            (std::size_t(py) * std::size_t(c.width) + std::size_t(px)) * 3;
                        auto mix = [&](std::uint8_t a, std::uint8_t bg) {
                            return std::uint8_t(
                                std::lround(opacity * double(a) + (1 - opacity) * double(bg)));
                        };
                        out = {mix(m.r, b[0]), mix(m.g, b[1]), mix(m.b, b[2])};
                    }
                    c.set(px, py, out);
                }
        }
    return c;
}

io::Canvas composeRows(const std::vector<std::vector<Panel>>& rows, const std::string& heading,
                       int s) {
    const int gap = 8 * s, line = 10 * s, margin = 10 * s;
    int width = margin, height = margin + (heading.empty() ? 0 : line + gap);
    std::vector<int> rowHeights;
    for (const auto& row : rows) {
        int w = margin, h = 0;
        for (const auto& p : row) {
            const int pw = std::max({p.tile.width, io::Canvas::textWidth(p.title, s),
                                     io::Canvas::textWidth(p.caption, s)});
            w += pw + gap;
            h = std::max(h, p.tile.height);
        }
        width = std::max(width, w + margin - gap);
        rowHeights.push_back(line + h + line + gap);
        height += rowHeights.back();
    }
    width = std::max(width, io::Canvas::textWidth(heading, s) + 2 * margin);
    io::Canvas out(width, height + margin);
    const io::Rgb ink{20, 20, 20};
    int y = margin;
    if (!heading.empty()) {
        out.text(margin, y, heading, ink, s);
        y += line + gap;
    }
    for (std::size_t r = 0; r < rows.size(); ++r) {
        int x = margin;
        for (const auto& p : rows[r]) {
            const int pw = std::max({p.tile.width, io::Canvas::textWidth(p.title, s),
                                     io::Canvas::textWidth(p.caption, s)});
            out.text(x, y, p.title, ink, s);
            out.blit(p.tile, x, y + line);
            out.text(x, y + line + p.tile.height + 2 * s, p.caption, ink, s);
            x += pw + gap;
        }
        y += rowHeights[r];
    }
    return out;
}

} // namespace convscope::analysis
