// convscope-cli rf and gabor: what a network's units see — receptive fields (theoretical per
// layer, effective (Luo et al. 2016) for the centre unit of every spatial layer or one chosen
// unit) and first-layer filters measured against Gabor's formula.
#include "analysis/checkpoint_data.h"
#include "analysis/gabor.h"
#include "analysis/receptive_field.h"
#include "analysis/render.h"
#include "cli_analysis.h"
#include "cli_options.h"
#include "io/atomic_file.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace convscope::cli {

const char* kFieldsUsage = R"(
  convscope-cli rf SPEC.json|PRESET|RUN [options]
      the theoretical receptive field of every layer (size, jump, the centre of unit (0, 0));
      for a run, or with --untrained, also the effective field (Luo et al.: the mean over K
      test images of |d unit / d pixel|) of each spatial layer's centre: the sides of the
      centred squares holding 50 % and 90 % of it, and ERF-90 / RF
    --layer NAME       one layer's unit only: its effective field in detail
    --unit C,Y,X       the unit (C = -1: all channels at Y, X)           [the centre, -1]
    --images K         test images to average over                       [64]
    --untrained        the network with its initial weights (--seed) instead of trained ones
    --out DIR          DIR/rf.csv (the table); with --layer also DIR/erf.csv (the map) and
                       DIR/erf.png (the map over the mean image, the theoretical square drawn)
  convscope-cli gabor RUN [--layer NAME] [--out DIR]
      fits every filter of the first convolution (or --layer) with a Gabor function
      A·exp(−(x′² + γ²y′²)/2σ²)·cos(ωx′ + φ) + c and prints R², the same fit on the filter's
      shuffled pixels (null R²), θ, λ = 2π/ω, σ, φ, γ; DIR/gabor.csv and DIR/gabor.png (each
      filter beside its fit, on one colour scale)
)";

const std::vector<std::string> kFieldsOptions = {"layer", "unit", "images", "untrained"};

namespace {
constexpr double kPi = 3.14159265358979323846;
} // namespace

namespace {

namespace fs = std::filesystem;

// The map as a heat map over the mean of the images, the theoretical square in white.
io::Canvas erfPicture(const analysis::EffectiveField& e, std::span<const double> images,
                      std::int64_t channels, const std::string& title) {
    const int H = int(e.height), W = int(e.width), scale = std::max(1, 320 / std::max(H, W));
    const std::int64_t D = channels * e.height * e.width;
    std::vector<double> mean(std::size_t(D), 0.0);
    for (std::int64_t i = 0; i < e.images; ++i)
        for (std::int64_t k = 0; k < D; ++k)
            mean[std::size_t(k)] += images[std::size_t(i * D + k)] / double(e.images);
    const io::Canvas image = analysis::imageTile(mean, int(channels), H, W, scale);
    io::Canvas tile = analysis::mapTile(e.map, H, W, scale, false, &image, 0.75);
    if (!e.theoretical.global) {
        const double halfH = double(e.theoretical.sizeH) / 2,
                     halfW = double(e.theoretical.sizeW) / 2;
        const int y0 = int(std::lround((e.centreY + 0.5 - halfH) * scale)),
                  y1 = int(std::lround((e.centreY + 0.5 + halfH) * scale)) - 1,
                  x0 = int(std::lround((e.centreX + 0.5 - halfW) * scale)),
                  x1 = int(std::lround((e.centreX + 0.5 + halfW) * scale)) - 1;
        const io::Rgb white{255, 255, 255};
        tile.fill(x0, y0, x1 - x0 + 1, 1, white);
        tile.fill(x0, y1, x1 - x0 + 1, 1, white);
        tile.fill(x0, y0, 1, y1 - y0 + 1, white);
        tile.fill(x1, y0, 1, y1 - y0 + 1, white);
    }
    char caption[160];
    std::snprintf(caption, sizeof caption, "RF %s; ERF-50 %lld, ERF-90 %lld (%.0f %% of RF)",
                  e.theoretical.str().c_str(), (long long)e.side50, (long long)e.side90,
                  100 * e.ratio90);
    return analysis::composeRows({{{"effective receptive field", tile, caption}}}, title);
}

} // namespace

int rfCommand(const std::vector<std::string>& args, const Options& opt) {
    if (args.size() != 1)
        return usage("rf needs one network: a NetSpec file, a preset name or a run");
    const std::string what = args[0];
    const bool untrained = opt.count("untrained") > 0;
    std::int64_t images = 0, seed = 0;
    if (!parseCount(opt, "images", 64, 1, 10000, images))
        return usage("--images must be a whole number from 1 to 10000");
    if (!parseCount(opt, "seed", 1, 0, std::int64_t(1) << 53, seed))
        return usage("--seed must be a whole number");
    std::vector<std::int64_t> unitValues;
    if (opt.count("unit") && (!parseIntegers(opt.at("unit"), unitValues) || unitValues.size() != 3))
        return usage("--unit must be C,Y,X (C = -1 for all channels)");
    if (opt.count("unit") && !opt.count("layer"))
        return usage("--unit needs --layer NAME");

    // The network: a run (trained weights and its dataset) or a spec (initial weights).
    std::error_code ec;
    const bool isRun = fs::is_directory(what, ec) || what.ends_with(".safetensors");
    model::Checkpoint ckpt;
    data::TrainTestSplit data;
    bool haveData = false;
    if (isRun) {
        auto cd = analysis::loadCheckpointData(what, get(opt, "dataset", ""), get(opt, "data", ""));
        if (!cd.ok())
            return failed(cd.status());
        ckpt = std::move(cd->ckpt);
        data = std::move(cd->data);
        haveData = true;
    } else {
        auto spec = what.ends_with(".json") ? model::loadNetSpec(what) : model::preset(what);
        if (!spec.ok())
            return failed(spec.status());
        ckpt.spec = std::move(*spec);
    }
    auto rows = analysis::theoreticalFields(ckpt.spec);
    if (!rows.ok())
        return failed(rows.status());
    const bool effective = isRun || untrained;
    std::vector<analysis::EffectiveField> fields;
    std::vector<const analysis::EffectiveField*> byRow(rows->size(), nullptr);
    std::vector<double> pixels;
    std::unique_ptr<analysis::Inspector> in;
    BackendChoice backend;
    if (effective) {
        if (!haveData) {
            auto d = analysis::loadDatasetFor(ckpt.spec, get(opt, "dataset", "fashion-mnist"),
                                              get(opt, "data", ""), what);
            if (!d.ok())
                return failed(d.status());
            data = std::move(*d);
            ckpt.mean = data.mean;
            ckpt.std = data.std;
        }
        auto be = backendFrom(opt);
        if (!be.ok())
            return failed(be.status());
        backend = std::move(*be);
        auto made =
            analysis::Inspector::create(*backend.backend, ckpt.spec, 32, {ckpt.mean, ckpt.std});
        if (!made.ok())
            return failed(made.status());
        in = std::move(*made);
        Status s =
            untrained ? in->initialize(std::uint64_t(seed)) : in->loadWeights(ckpt.file, ckpt.path);
        if (!s.ok())
            return failed(s);
        pixels = analysis::Inspector::images(data.test, 0, images).pixels;
        images = std::int64_t(pixels.size()) / in->imageSize();
        std::vector<analysis::Unit> units;
        if (opt.count("layer")) {
            const int layer = in->layerIndex(opt.at("layer"));
            if (layer < 0) {
                std::string names;
                for (const auto& l : in->layers())
                    names += (names.empty() ? "" : ", ") + l.name;
                return failed(Status::error("no layer \"" + opt.at("layer") + "\"", ckpt.spec.name,
                                            "Pick one of: " + names));
            }
            analysis::Unit u = analysis::centreUnit(*in, layer);
            if (!unitValues.empty()) {
                u.channel = unitValues[0];
                u.y = unitValues[1];
                u.x = unitValues[2];
            }
            units.push_back(u);
        } else {
            for (int l = 0; l < int(in->layers().size()); ++l)
                if (in->layers()[std::size_t(l)].spatial())
                    units.push_back(analysis::centreUnit(*in, l));
        }
        for (const analysis::Unit& u : units) {
            auto e = analysis::effectiveField(*in, u, pixels, images);
            if (!e.ok())
                return failed(e.status());
            fields.push_back(std::move(*e));
        }
        for (const auto& e : fields)
            for (std::size_t r = 0; r < rows->size(); ++r)
                if ((*rows)[r].layer == in->layers()[std::size_t(e.unit.layer)].name &&
                    !(*rows)[r].rf.global)
                    byRow[r] = &e;
    }

    std::printf("%s%s: receptive fields in input pixels%s\n\n%s", ckpt.spec.name.c_str(),
                isRun ? (" step " + std::to_string(ckpt.step)).c_str() : "",
                effective ? (", effective over " + std::to_string(images) + " test images (" +
                             (untrained ? "initial" : "trained") + " weights)")
                                .c_str()
                          : "",
                analysis::fieldTable(
                    *rows, effective ? byRow : std::vector<const analysis::EffectiveField*>{})
                    .c_str());
    if (opt.count("layer") && !fields.empty()) {
        const analysis::EffectiveField& e = fields.front();
        std::printf("\nunit (%lld, %lld, %lld) of %s: centre (%g, %g); RF %s; ERF-50 %lld, "
                    "ERF-90 %lld (%.2f of RF); mass %.4g\n",
                    (long long)e.unit.channel, (long long)e.unit.y, (long long)e.unit.x,
                    opt.at("layer").c_str(), e.centreY, e.centreX, e.theoretical.str().c_str(),
                    (long long)e.side50, (long long)e.side90, e.ratio90, e.mass);
    }
    const std::string out = get(opt, "out", "");
    if (!out.empty()) {
        fs::create_directories(out, ec);
        if (ec)
            return failed(Status::error("cannot create the folder: " + ec.message(), out));
        if (Status s = io::writeFileAtomic((fs::path(out) / "rf.csv").string(),
                                           analysis::fieldCsv(*rows, byRow));
            !s.ok())
            return failed(s);
        if (opt.count("layer") && !fields.empty()) {
            const analysis::EffectiveField& e = fields.front();
            std::string csv;
            char v[32];
            for (std::int64_t y = 0; y < e.height; ++y)
                for (std::int64_t x = 0; x < e.width; ++x) {
                    std::snprintf(v, sizeof v, "%.9g", e.map[std::size_t(y * e.width + x)]);
                    csv += v;
                    csv += x + 1 < e.width ? "," : "\n";
                }
            if (Status s = io::writeFileAtomic((fs::path(out) / "erf.csv").string(), csv); !s.ok())
                return failed(s);
            const std::string title = ckpt.spec.name + " " + opt.at("layer") + " (" +
                                      (untrained ? "initial weights" : "trained") + ")";
            if (Status s = io::savePng((fs::path(out) / "erf.png").string(),
                                       erfPicture(e, pixels, in->channels(), title));
                !s.ok())
                return failed(s);
        }
        std::printf("→ %s\n", out.c_str());
    }
    return 0;
}

namespace {

// Each filter (the channel mean) beside its fit, one colour scale a pair, 8 pairs a row.
io::Canvas gaborPicture(const std::vector<analysis::GaborFit>& fits, std::span<const float> w,
                        int in, int kh, int kw, const std::string& title) {
    const int scale = std::max(4, 56 / std::max(kh, kw));
    std::vector<std::vector<analysis::Panel>> rows;
    for (std::size_t f = 0; f < fits.size(); ++f) {
        // One map: filter | a zero column | fit.
        const int W2 = 2 * kw + 1;
        std::vector<double> pair(std::size_t(kh * W2), 0.0);
        for (int y = 0; y < kh; ++y)
            for (int x = 0; x < kw; ++x) {
                double mean = 0;
                for (int c = 0; c < in; ++c)
                    mean += w[((f * std::size_t(in) + std::size_t(c)) * std::size_t(kh) +
                               std::size_t(y)) *
                                  std::size_t(kw) +
                              std::size_t(x)] /
                            double(in);
                pair[std::size_t(y * W2 + x)] = mean;
                if (!fits[f].fitted.empty())
                    pair[std::size_t(y * W2 + kw + 1 + x)] =
                        fits[f].fitted[std::size_t(y * kw + x)];
            }
        char caption[64];
        std::snprintf(caption, sizeof caption, "R2 %.2f null %.2f%s", fits[f].r2, fits[f].nullR2,
                      analysis::gaborLike(fits[f]) ? " *" : "");
        if (f % 8 == 0)
            rows.emplace_back();
        rows.back().push_back(
            {"filter " + std::to_string(f), analysis::mapTile(pair, kh, W2, scale, true), caption});
    }
    return analysis::composeRows(rows, title);
}

} // namespace

int gaborCommand(const std::vector<std::string>& args, const Options& opt) {
    if (args.size() != 1)
        return usage("gabor needs a run folder or a checkpoint file");
    auto ckpt = model::loadCheckpoint(args[0]);
    if (!ckpt.ok())
        return failed(ckpt.status());
    auto a = model::analyze(ckpt->spec);
    if (!a.ok())
        return failed(a.status());
    const std::string wanted = get(opt, "layer", "");
    std::string layer;
    for (const model::LayerInfo& l : a->layers)
        if (l.type == model::LayerType::Conv2d && (wanted.empty() || l.path == wanted)) {
            layer = l.path;
            break;
        }
    if (layer.empty())
        return failed(Status::error(wanted.empty() ? "the network has no convolution"
                                                   : "no convolution named \"" + wanted + "\"",
                                    ckpt->path, "Pass --layer with a conv2d layer's name"));
    const auto it = ckpt->file.tensors.find(layer + ".weight");
    if (it == ckpt->file.tensors.end() || it->second.shape.size() != 4 || it->second.dtype != "F32")
        return failed(Status::error("the checkpoint has no 4-D weight \"" + layer + ".weight\"",
                                    ckpt->path, "Use a checkpoint saved by convscope"));
    const auto& shape = it->second.shape;
    const int out = int(shape[0]), in = int(shape[1]), kh = int(shape[2]), kw = int(shape[3]);
    auto fits = analysis::fitGaborFilters(it->second.f32, out, in, kh, kw);
    if (!fits.ok())
        return failed(fits.status());
    const analysis::GaborSummary sum = analysis::summarizeGabor(*fits);
    std::printf("%s step %lld, %s: %d filters %dx%dx%d\n%s\n\n", ckpt->spec.name.c_str(),
                (long long)ckpt->step, layer.c_str(), out, in, kh, kw, analysis::gaborRuleText());
    std::string csv = "filter,r2,null_r2,gabor_like,theta_deg,wavelength,sigma,phase_deg,gamma,"
                      "amplitude,offset,x0,y0,colour_contrast\n";
    std::printf("%6s %6s %6s %5s %8s %7s %6s %8s %6s\n", "filter", "R2", "null", "gabor", "theta",
                "lambda", "sigma", "phase", "gamma");
    for (std::size_t f = 0; f < fits->size(); ++f) {
        const analysis::GaborFit& g = (*fits)[f];
        const analysis::GaborParams& p = g.p;
        std::printf("%6zu %6.3f %6.3f %5s %7.1f° %7.2f %6.2f %7.1f° %6.2f\n", f, g.r2, g.nullR2,
                    analysis::gaborLike(g) ? "yes" : "-", p.theta * 180 / kPi, p.wavelength(),
                    p.sigma, p.phase * 180 / kPi, p.gamma);
        csv += std::to_string(f) + "," + fmt(g.r2) + "," + fmt(g.nullR2) + "," +
               (analysis::gaborLike(g) ? "1" : "0") + "," + fmt(p.theta * 180 / kPi) + "," +
               fmt(p.wavelength()) + "," + fmt(p.sigma) + "," + fmt(p.phase * 180 / kPi) + "," +
               fmt(p.gamma) + "," + fmt(p.amplitude) + "," + fmt(p.offset) + "," + fmt(p.x0) + "," +
               fmt(p.y0) + "," + fmt(g.colourContrast) + "\n";
    }
    std::printf("\nGabor-like: %d of %d (%.0f %%); median R² %.3f against a null of %.3f\n",
                sum.gaborLikeCount, sum.filters, 100 * sum.fractionGaborLike, sum.medianR2,
                sum.medianNullR2);
    const std::string dir = get(opt, "out", "");
    if (!dir.empty()) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec)
            return failed(Status::error("cannot create the folder: " + ec.message(), dir));
        if (Status s = io::writeFileAtomic((fs::path(dir) / "gabor.csv").string(), csv); !s.ok())
            return failed(s);
        char title[160];
        std::snprintf(title, sizeof title,
                      "%s step %lld %s: %d of %d Gabor-like (* : R2 >= 0.7, "
                      "R2 - null >= 0.3)",
                      ckpt->spec.name.c_str(), (long long)ckpt->step, layer.c_str(),
                      sum.gaborLikeCount, sum.filters);
        if (Status s = io::savePng((fs::path(dir) / "gabor.png").string(),
                                   gaborPicture(*fits, it->second.f32, in, kh, kw, title));
            !s.ok())
            return failed(s);
        std::printf("→ %s\n", dir.c_str());
    }
    return 0;
}

} // namespace convscope::cli
