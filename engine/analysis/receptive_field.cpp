// Receptive fields: the theoretical table and the effective field of a unit (see the header).
#include "analysis/receptive_field.h"

#include "core/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace convscope::analysis {

Result<std::vector<RfRow>> theoreticalFields(const model::NetSpec& spec) {
    CS_TRY_ASSIGN(model::Analysis a, model::analyze(spec));
    std::vector<RfRow> rows;
    for (const model::LayerInfo& l : a.layers)
        if (l.depth == 0)
            rows.push_back({l.path, l.out, l.rf});
    return rows;
}

namespace {
std::string jumpOf(const model::ReceptiveField& rf) {
    if (rf.global)
        return "-";
    return rf.jumpH == rf.jumpW ? std::to_string(rf.jumpH)
                                : std::to_string(rf.jumpH) + "x" + std::to_string(rf.jumpW);
}
std::string startOf(const model::ReceptiveField& rf) {
    char s[48] = "-";
    if (!rf.global)
        std::snprintf(s, sizeof s, "%g,%g", rf.startH, rf.startW);
    return s;
}
const EffectiveField* effectiveAt(const std::vector<const EffectiveField*>& e, std::size_t i) {
    return i < e.size() ? e[i] : nullptr;
}
} // namespace

std::string fieldTable(const std::vector<RfRow>& rows,
                       const std::vector<const EffectiveField*>& effective) {
    std::string t;
    char line[200];
    std::snprintf(line, sizeof line, "%-4s %-24s %-12s %8s %6s %10s%s\n", "#", "layer", "output",
                  "RF", "jump", "start",
                  effective.empty() ? "" : "  ERF-50  ERF-90  ERF-90/RF  ERF-rms");
    t += line;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const RfRow& r = rows[i];
        std::string erf;
        if (const EffectiveField* e = effectiveAt(effective, i)) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "  %6lld  %6lld  %9.2f  %7.2f", (long long)e->side50,
                          (long long)e->side90, e->ratio90, e->rmsRadius);
            erf = buf;
        }
        std::snprintf(line, sizeof line, "%-4zu %-24s %-12s %8s %6s %10s%s\n", i + 1,
                      r.layer.c_str(), r.dims.str().c_str(), r.rf.str().c_str(),
                      jumpOf(r.rf).c_str(), startOf(r.rf).c_str(), erf.c_str());
        t += line;
    }
    return t;
}

std::string fieldCsv(const std::vector<RfRow>& rows,
                     const std::vector<const EffectiveField*>& effective) {
    std::string t = "layer,output,rf_h,rf_w,jump_h,jump_w,start_h,start_w,global,erf50,erf90,"
                    "erf90_ratio,erf_rms_radius,erf_images\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const RfRow& r = rows[i];
        const EffectiveField* e = effectiveAt(effective, i);
        auto n = [](auto v) { return std::to_string(v); };
        t += r.layer + "," + r.dims.str() + "," + n(r.rf.sizeH) + "," + n(r.rf.sizeW) + "," +
             n(r.rf.jumpH) + "," + n(r.rf.jumpW) + "," + exactNumber(r.rf.startH) + "," +
             exactNumber(r.rf.startW) + "," + (r.rf.global ? "1" : "0") + ",";
        if (e)
            t += n(e->side50) + "," + n(e->side90) + "," + exactNumber(e->ratio90) + "," +
                 exactNumber(e->rmsRadius) + "," + n(e->images);
        else
            t += ",,,,";
        t += "\n";
    }
    return t;
}

Unit centreUnit(const Inspector& in, int layer) {
    Unit u;
    u.layer = layer;
    if (layer >= 0 && layer < int(in.layers().size())) {
        const model::Dims& d = in.layers()[std::size_t(layer)].dims;
        if (!d.flat) {
            u.y = (d.h - 1) / 2;
            u.x = (d.w - 1) / 2;
        }
    }
    return u;
}

std::int64_t centredSquare(std::span<const double> map, std::int64_t height, std::int64_t width,
                           double cy, double cx, double fraction) {
    // Prefix sums: the mass of any rectangle in O(1).
    std::vector<double> S(std::size_t((height + 1) * (width + 1)), 0.0);
    auto at = [&](std::int64_t y, std::int64_t x) -> double& {
        return S[std::size_t(y * (width + 1) + x)];
    };
    for (std::int64_t y = 0; y < height; ++y)
        for (std::int64_t x = 0; x < width; ++x)
            at(y + 1, x + 1) =
                map[std::size_t(y * width + x)] + at(y, x + 1) + at(y + 1, x) - at(y, x);
    const double total = at(height, width);
    if (!(total > 0))
        return 0;
    // A square of side s centred at c holds the pixels i with |i − c| ≤ (s − 1)/2.
    const std::int64_t most = 2 * std::max(height, width) + 2;
    for (std::int64_t s = 1; s <= most; ++s) {
        const double half = (double(s) - 1) / 2 + 1e-9;
        const std::int64_t y0 = std::max<std::int64_t>(0, std::int64_t(std::ceil(cy - half)));
        const std::int64_t y1 = std::min(height - 1, std::int64_t(std::floor(cy + half)));
        const std::int64_t x0 = std::max<std::int64_t>(0, std::int64_t(std::ceil(cx - half)));
        const std::int64_t x1 = std::min(width - 1, std::int64_t(std::floor(cx + half)));
        if (y0 > y1 || x0 > x1)
            continue;
        const double m = at(y1 + 1, x1 + 1) - at(y0, x1 + 1) - at(y1 + 1, x0) + at(y0, x0);
        if (m >= fraction * total * (1 - 1e-12))
            return s;
    }
    return most;
}

Result<EffectiveField> effectiveField(Inspector& in, const Unit& unit,
                                      std::span<const double> images, std::int64_t count,
                                      Progress* progress) {
    if (unit.layer < 0 || unit.layer >= int(in.layers().size()))
        return Status::error("there is no layer " + std::to_string(unit.layer),
                             "effective receptive field");
    const LayerInfo& layer = in.layers()[std::size_t(unit.layer)];
    if (layer.dims.flat)
        return Status::error("layer " + layer.name + " has a flat output (" + layer.dims.str() +
                                 "): every unit sees the whole image",
                             "effective receptive field", "Pick a convolution or pooling layer");
    if (count < 1 || std::int64_t(images.size()) < count * in.imageSize())
        return Status::error("no images to average over", "effective receptive field",
                             "Give one image or more");
    CS_TRY_ASSIGN(std::vector<RfRow> rows, theoreticalFields(in.spec()));
    EffectiveField out;
    out.unit = unit;
    out.height = in.height();
    out.width = in.width();
    out.images = count;
    out.map.assign(std::size_t(out.height * out.width), 0.0);
    for (const RfRow& r : rows)
        if (r.layer == layer.name)
            out.theoretical = r.rf;
    out.centreY = out.theoretical.startH + double(unit.y * out.theoretical.jumpH);
    out.centreX = out.theoretical.startW + double(unit.x * out.theoretical.jumpW);
    Seed seed;
    seed.kind = Seed::Kind::Unit;
    seed.layer = unit.layer;
    seed.channel = unit.channel;
    seed.y = unit.y;
    seed.x = unit.x;
    const std::int64_t C = in.channels(), HW = out.height * out.width, size = in.imageSize();
    for (std::int64_t first = 0; first < count; first += in.batch()) {
        if (progress && progress->cancelled())
            return Progress::cancelledStatus("effective receptive field");
        const std::int64_t n = std::min(in.batch(), count - first);
        CS_TRY(in.setImages(images.subspan(std::size_t(first * size), std::size_t(n * size)), n));
        CS_TRY(in.forward());
        CS_TRY(in.backward(seed));
        CS_TRY_ASSIGN(std::vector<double> g, in.inputGradient());
        for (std::int64_t i = 0; i < n; ++i)
            for (std::int64_t c = 0; c < C; ++c)
                for (std::int64_t p = 0; p < HW; ++p)
                    out.map[std::size_t(p)] += std::abs(g[std::size_t((i * C + c) * HW + p)]);
        if (progress)
            progress->report(first + n, count, "effective receptive field");
    }
    for (double& v : out.map)
        v /= double(count);
    double moment = 0;
    for (std::int64_t y = 0; y < out.height; ++y)
        for (std::int64_t x = 0; x < out.width; ++x) {
            const double v = out.map[std::size_t(y * out.width + x)];
            const double dy = double(y) - out.centreY, dx = double(x) - out.centreX;
            out.mass += v;
            moment += v * (dy * dy + dx * dx);
        }
    out.rmsRadius = out.mass > 0 ? std::sqrt(moment / out.mass) : 0;
    out.side50 = centredSquare(out.map, out.height, out.width, out.centreY, out.centreX, 0.5);
    out.side90 = centredSquare(out.map, out.height, out.width, out.centreY, out.centreX, 0.9);
    const double theory = double(std::max(out.theoretical.sizeH, out.theoretical.sizeW));
    out.ratio50 = out.theoretical.global ? 0 : double(out.side50) / theory;
    out.ratio90 = out.theoretical.global ? 0 : double(out.side90) / theory;
    return out;
}

} // namespace convscope::analysis
