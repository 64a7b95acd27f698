// convscope-cli saliency | fgsm | confusion: load the checkpoint and its test set, run the
// engine's analysis, write the files, print a summary.
#include "cli_analysis.h"
#include "analysis/adversarial.h"
#include "analysis/checkpoint_data.h"
#include "analysis/render.h"
#include "analysis/saliency.h"
#include "backend/backend.h"
#include "cli_options.h"
#include "data/datasets.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "model/weights.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>

namespace convscope::cli {

const char* kAnalysisUsage = R"(
analysis commands (RUN: a run folder, whose last checkpoint is used, or a checkpoint file):
  convscope-cli saliency RUN --images 3,17 --out DIR [options]
      gradient maps of test images: DIR/saliency.safetensors (<method>/<image>: the raw
      attribution, C x H x W in pixel units; gradcam/<image> H x W at input size and
      gradcam-raw/<image> at the layer's size), DIR/saliency.csv, DIR/saliency-<image>.png
    --methods LIST     grad,gradxinput,smoothgrad,ig,gradcam                 [all]
    --target WHICH     predicted | true | a class index or name              [predicted]
    --layer NAME       Grad-CAM's layer                     [the last with H, W > 1]
    --smooth-samples N, --smooth-noise S   SmoothGrad: n copies, σ = S·(max − min) [25, 0.15]
    --smooth-squared   SmoothGrad-Squared: the mean of the squared gradients
    --ig-steps M       integrated gradients: path points                      [32]
    --ig-rule NAME     midpoint | gauss-legendre                             [midpoint]
    --baseline NAME    black | blur | noise                                   [black]
    --sanity           Adebayo et al.'s cascading randomisation: DIR/sanity.csv and
                       DIR/sanity-<image>.png (Spearman correlation per layer randomised)
  convscope-cli fgsm RUN --out DIR [--eps LIST] [--count N] [--pgd K]
      accuracy vs ε (pixel units) over the first N test images: DIR/fgsm.csv, DIR/fgsm.png
      (a gallery of adversarial images); --pgd K adds K-step PGD beside FGSM
      [--eps 0,0.025,...,0.3  --count 1000]
  convscope-cli confusion RUN [--count N] [--eps E] [--pgd K] [--out DIR]
      the test set's confusion matrix (of adversarial images with --eps); DIR/confusion.csv
      [--count: every test image; --out: the run folder, or the checkpoint's folder]
  shared: --dataset NAME --data DIR (when the run's own cannot be found), --backend NAME,
          --device ID, --threads N, --batch N (images per analysis batch) [64]
)";

const std::vector<std::string> kAnalysisOptions = {
    "images",  "methods",  "target", "layer", "smooth-samples", "smooth-noise", "ig-steps",
    "ig-rule", "baseline", "sanity", "eps",   "count",          "pgd"};

namespace {

namespace fs = std::filesystem;

// The checkpoint, its test set, a backend and an inspector on it.
struct Session {
    model::Checkpoint ckpt;
    data::TrainTestSplit data;
    BackendChoice backend;
    std::unique_ptr<analysis::Inspector> in;
    std::string classNames(int k) const {
        const auto& n = data.test.classNames;
        return k >= 0 && std::size_t(k) < n.size() ? n[std::size_t(k)] : std::to_string(k);
    }
};

Result<Session> open(const std::string& run, const Options& opt, std::int64_t batch) {
    Session s;
    CS_TRY_ASSIGN(auto cd,
                  analysis::loadCheckpointData(run, get(opt, "dataset", ""), get(opt, "data", "")));
    s.ckpt = std::move(cd.ckpt);
    s.data = std::move(cd.data);
    const std::string dataset = cd.dataset;
    CS_TRY_ASSIGN(s.backend, backendFrom(opt));
    CS_TRY_ASSIGN(s.in, analysis::Inspector::open(*s.backend.backend, s.ckpt, batch));
    std::fprintf(stderr, "convscope: %s (step %lld) on %s test images; %s\n", s.ckpt.path.c_str(),
                 (long long)s.ckpt.step, dataset.c_str(), s.backend.backend->description().c_str());
    return s;
}

// open() with the --batch option; on failure an exit code (2 for a bad --batch, else 1).
std::optional<Session> openRun(const std::string& run, const Options& opt, int& exitCode) {
    std::int64_t batch = 0;
    if (!parseCount(opt, "batch", 64, 1, 4096, batch)) {
        exitCode = usage("--batch must be a whole number from 1 to 4096");
        return {};
    }
    auto s = open(run, opt, batch);
    if (!s.ok()) {
        exitCode = failed(s.status());
        return {};
    }
    return std::move(*s);
}

// Summed over colour channels: a signed map's one picture.
std::vector<double> channelSum(std::span<const double> m, std::int64_t C) {
    const std::size_t plane = m.size() / std::size_t(C);
    std::vector<double> out(plane, 0.0);
    for (std::size_t c = 0; c < std::size_t(C); ++c)
        for (std::size_t i = 0; i < plane; ++i)
            out[i] += m[c * plane + i];
    return out;
}

// The picture of one image's maps: magnitudes (grad, SmoothGrad) sequential, signed ones
// (gradient × input, IG) diverging, Grad-CAM over the image.
std::vector<analysis::Panel> saliencyPanels(const analysis::SaliencyResult& r,
                                            std::span<const double> image, int C, int H, int W,
                                            int scale) {
    using analysis::Method;
    std::vector<analysis::Panel> row;
    const io::Canvas img = analysis::imageTile(image, C, H, W, scale);
    row.push_back({"input", img, ""});
    for (const auto& [m, map] : r.maps) {
        switch (m) {
        case Method::Gradient:
            row.push_back({"|gradient|",
                           analysis::mapTile(analysis::magnitude(map, C), H, W, scale, false), ""});
            break;
        case Method::SmoothGrad:
            row.push_back({"SmoothGrad",
                           analysis::mapTile(analysis::magnitude(map, C), H, W, scale, false), ""});
            break;
        case Method::GradientXInput:
            row.push_back(
                {"grad x input", analysis::mapTile(channelSum(map, C), H, W, scale, true), ""});
            break;
        case Method::IntegratedGradients:
            row.push_back({"integrated grad.",
                           analysis::mapTile(channelSum(map, C), H, W, scale, true),
                           "gap " + fmt(r.igGap, "%.2g")});
            break;
        case Method::GradCam:
            row.push_back({"Grad-CAM " + r.gradcamLayer,
                           analysis::mapTile(map, H, W, scale, false, &img, 0.6), ""});
            break;
        }
    }
    return row;
}

} // namespace

int saliencyCommand(const std::vector<std::string>& args, const Options& opt) {
    using analysis::Method;
    if (args.size() != 1)
        return usage("saliency needs one RUN (a run folder or a checkpoint file)");
    if (!opt.count("out"))
        return usage("saliency needs --out DIR");
    std::vector<std::int64_t> images;
    if (!parseIntegers(get(opt, "images", "0"), images))
        return usage("--images takes test image indices, e.g. --images 3,17");
    analysis::SaliencyOptions so;
    if (opt.count("methods")) {
        so.methods.clear();
        std::stringstream ss(opt.at("methods"));
        std::string name;
        while (std::getline(ss, name, ',')) {
            Method m;
            if (!analysis::parseMethod(name, m))
                return usage("unknown method '" + name +
                             "' (grad, gradxinput, smoothgrad, ig, gradcam)");
            so.methods.push_back(m);
        }
    }
    std::int64_t n = 0;
    if (!parseCount(opt, "smooth-samples", 25, 1, 10000, n))
        return usage("--smooth-samples must be from 1 to 10000");
    so.smoothSamples = int(n);
    if (!parseCount(opt, "ig-steps", 32, 1, 10000, n))
        return usage("--ig-steps must be from 1 to 10000");
    so.igSteps = int(n);
    std::vector<double> noise;
    if (opt.count("smooth-noise") &&
        (!parseReals(opt.at("smooth-noise"), noise) || noise.size() != 1 || noise[0] < 0))
        return usage("--smooth-noise must be a number ≥ 0 (a fraction of the pixel range)");
    if (!noise.empty())
        so.smoothNoise = noise[0];
    so.smoothSquared = opt.count("smooth-squared") > 0;
    const std::string rule = get(opt, "ig-rule", "midpoint"), base = get(opt, "baseline", "black");
    if (rule != "midpoint" && rule != "gauss-legendre")
        return usage("--ig-rule must be midpoint or gauss-legendre");
    so.igRule = rule == "midpoint" ? analysis::SaliencyOptions::IgRule::Midpoint
                                   : analysis::SaliencyOptions::IgRule::GaussLegendre;
    if (base != "black" && base != "blur" && base != "noise")
        return usage("--baseline must be black, blur or noise");
    so.baseline = base == "black"  ? analysis::SaliencyOptions::Baseline::Black
                  : base == "blur" ? analysis::SaliencyOptions::Baseline::Blur
                                   : analysis::SaliencyOptions::Baseline::Noise;
    int rc = 0;
    auto s = openRun(args[0], opt, rc);
    if (!s)
        return rc;
    analysis::Inspector& in = *s->in;
    const auto& te = s->data.test;
    for (auto i : images)
        if (i < 0 || i >= te.count)
            return usage("test image " + std::to_string(i) + " does not exist (0.." +
                         std::to_string(te.count - 1) + ")");
    analysis::Target target;
    const std::string t = get(opt, "target", "predicted");
    if (t == "true") {
        target.kind = analysis::Target::Kind::True;
    } else if (t != "predicted") {
        target.kind = analysis::Target::Kind::Class;
        std::vector<std::int64_t> k;
        auto it = std::find(te.classNames.begin(), te.classNames.end(), t);
        if (it != te.classNames.end())
            target.cls = int(it - te.classNames.begin());
        else if (parseIntegers(t, k) && k.size() == 1 && k[0] >= 0 && k[0] < in.classes())
            target.cls = int(k[0]);
        else
            return usage("--target must be predicted, true, a class index (0.." +
                         std::to_string(in.classes() - 1) + ") or a class name");
    }
    if (opt.count("layer")) {
        so.gradcamLayer = in.layerIndex(opt.at("layer"));
        std::string names;
        for (const auto& l : in.layers())
            if (l.spatial() && l.dims.h * l.dims.w > 1)
                names += (names.empty() ? "" : ", ") + l.name;
        if (so.gradcamLayer < 0 || !in.layers()[std::size_t(so.gradcamLayer)].spatial())
            return usage("--layer '" + opt.at("layer") +
                         "' is not a layer with a spatial output (" + names + ")");
    }
    const std::string out = opt.at("out");
    if (Status st = io::makeDirectories(out); !st.ok())
        return failed(st);

    const int C = int(in.channels()), H = int(in.height()), W = int(in.width());
    const int scale = std::max(1, 112 / std::max(H, W));
    io::SafeTensors file;
    file.metadata = {{"checkpoint", s->ckpt.path}, {"target", t}, {"units", "pixel"}};
    std::string csv = "image,label,label_name,predicted,predicted_name,probability,target,"
                      "target_logit,ig_delta,ig_gap,gradcam_layer\n";
    std::string sanityCsv = "image,step,layer,method,spearman\n";
    for (auto i : images) {
        const auto px = analysis::Inspector::pixels(te, std::span(&i, 1));
        const int label = te.labels[std::size_t(i)];
        auto r = analysis::saliency(in, px, label, target, so);
        if (!r.ok())
            return failed(r.status());
        const std::string id = std::to_string(i);
        for (const auto& [m, map] : r->maps) {
            io::StoredTensor st;
            st.shape = m == Method::GradCam ? std::vector<std::int64_t>{H, W}
                                            : std::vector<std::int64_t>{C, H, W};
            st.f32.assign(map.begin(), map.end());
            file.tensors[std::string(analysis::methodName(m)) + "/" + id] = std::move(st);
        }
        if (!r->gradcamRaw.empty()) {
            io::StoredTensor st;
            st.shape = {r->gradcamHeight, r->gradcamWidth};
            st.f32.assign(r->gradcamRaw.begin(), r->gradcamRaw.end());
            file.tensors["gradcam-raw/" + id] = std::move(st);
        }
        const bool ig = r->maps.count(Method::IntegratedGradients) > 0;
        csv += id + "," + std::to_string(label) + "," + s->classNames(label) + "," +
               std::to_string(r->predicted) + "," + s->classNames(r->predicted) + "," +
               fmt(r->probabilities[std::size_t(r->predicted)]) + "," + std::to_string(r->target) +
               "," + fmt(r->targetLogit) + "," + (ig ? fmt(r->igDelta) : "") + "," +
               (ig ? fmt(r->igGap) : "") + "," + r->gradcamLayer + "\n";
        std::vector<std::vector<analysis::Panel>> rows{saliencyPanels(*r, px, C, H, W, scale)};
        const std::string heading = "test image " + id + ": true " + s->classNames(label) +
                                    ", predicted " + s->classNames(r->predicted) + " (" +
                                    fmt(100 * r->probabilities[std::size_t(r->predicted)], "%.1f") +
                                    " %), target " + s->classNames(r->target);
        if (Status st = io::savePng((fs::path(out) / ("saliency-" + id + ".png")).string(),
                                    analysis::composeRows(rows, heading));
            !st.ok())
            return failed(st);
        std::printf("image %s: true %s, predicted %s (%.1f %%), target %s%s\n", id.c_str(),
                    s->classNames(label).c_str(), s->classNames(r->predicted).c_str(),
                    100 * r->probabilities[std::size_t(r->predicted)],
                    s->classNames(r->target).c_str(),
                    ig ? (", IG completeness gap " + fmt(r->igGap, "%.3g") + " of " +
                          fmt(r->igDelta, "%.3g"))
                             .c_str()
                       : "");
        if (!opt.count("sanity"))
            continue;
        auto steps = analysis::sanityCheck(in, px, label, target, so);
        if (!steps.ok())
            return failed(steps.status());
        std::vector<std::vector<analysis::Panel>> strip;
        for (std::size_t k = 0; k < steps->size(); ++k) {
            const auto& step = (*steps)[k];
            analysis::SaliencyResult shown;
            shown.maps = step.maps;
            shown.gradcamLayer = r->gradcamLayer;
            shown.igGap = 0;
            auto row = saliencyPanels(shown, px, C, H, W, scale);
            row.front().title = k == 0 ? "trained" : "random to " + step.layer;
            for (std::size_t p = 1; p < row.size(); ++p) {
                auto it = std::next(step.spearman.begin(), std::ptrdiff_t(p - 1));
                row[p].caption = "rho " + fmt(it->second, "%.2f");
            }
            strip.push_back(std::move(row));
            for (const auto& [m, rho] : step.spearman)
                sanityCsv += id + "," + std::to_string(k) + "," + step.layer + "," +
                             analysis::methodName(m) + "," + fmt(rho) + "\n";
        }
        if (Status st = io::savePng((fs::path(out) / ("sanity-" + id + ".png")).string(),
                                    analysis::composeRows(strip, "sanity check, image " + id +
                                                                     ": layers randomised from "
                                                                     "the top (Spearman rho of "
                                                                     "|map| vs trained)"));
            !st.ok())
            return failed(st);
        std::printf("  sanity check: Spearman of |gradient| %s\n",
                    [&] {
                        std::string line;
                        for (const auto& step : *steps)
                            line += fmt(step.spearman.count(Method::Gradient)
                                            ? step.spearman.at(Method::Gradient)
                                            : step.spearman.begin()->second,
                                        "%.2f") +
                                    " ";
                        return line;
                    }()
                        .c_str());
    }
    if (Status st = io::saveSafetensors((fs::path(out) / "saliency.safetensors").string(), file);
        !st.ok())
        return failed(st);
    if (Status st = io::writeFileAtomic((fs::path(out) / "saliency.csv").string(), csv); !st.ok())
        return failed(st);
    if (opt.count("sanity"))
        if (Status st = io::writeFileAtomic((fs::path(out) / "sanity.csv").string(), sanityCsv);
            !st.ok())
            return failed(st);
    std::printf("wrote %s/saliency.safetensors, saliency.csv and %zu PNG%s\n", out.c_str(),
                images.size() * (opt.count("sanity") ? 2 : 1), images.size() > 1 ? "s" : "");
    return 0;
}

int fgsmCommand(const std::vector<std::string>& args, const Options& opt) {
    if (args.size() != 1)
        return usage("fgsm needs one RUN (a run folder or a checkpoint file)");
    if (!opt.count("out"))
        return usage("fgsm needs --out DIR");
    std::vector<double> eps = analysis::defaultEpsilons();
    if (opt.count("eps")) {
        eps.clear();
        if (!parseReals(opt.at("eps"), eps))
            return usage("--eps takes numbers, e.g. --eps 0,0.05,0.1");
    }
    for (double e : eps)
        if (e < 0 || e > 1)
            return usage("every ε must be in [0, 1] (pixel units), not " + fmt(e));
    std::int64_t count = 0, pgd = 0;
    if (!parseCount(opt, "count", 1000, 1, 1000000, count))
        return usage("--count must be a positive whole number");
    if (!parseCount(opt, "pgd", 0, 0, 1000, pgd))
        return usage("--pgd must be a whole number of steps from 0 to 1000");
    int rc = 0;
    auto s = openRun(args[0], opt, rc);
    if (!s)
        return rc;
    analysis::Inspector& in = *s->in;
    const auto test = analysis::Inspector::images(s->data.test, 0, count);
    count = test.count();
    const auto& px = test.pixels;
    const auto& labels = test.labels;
    const std::string out = opt.at("out");
    if (Status st = io::makeDirectories(out); !st.ok())
        return failed(st);
    std::string csv = "method,eps,accuracy,mean_confidence,correct,count\n";
    std::printf("accuracy vs ε over %lld test images (%s)\n%8s %10s%s\n", (long long)count,
                s->ckpt.path.c_str(), "ε", "FGSM",
                pgd ? ("    PGD-" + std::to_string(pgd)).c_str() : "");
    std::vector<std::vector<analysis::EpsilonPoint>> curves;
    for (int k : {0, int(pgd)}) {
        if (k == 0 && !curves.empty())
            break;
        auto c = analysis::accuracyVsEpsilon(in, px, labels, eps, k);
        if (!c.ok())
            return failed(c.status());
        for (const auto& p : *c)
            csv += std::string(k ? "pgd-" + std::to_string(k) : "fgsm") + "," + fmt(p.eps) + "," +
                   fmt(p.accuracy) + "," + fmt(p.meanConfidence) + "," + std::to_string(p.correct) +
                   "," + std::to_string(p.count) + "\n";
        curves.push_back(std::move(*c));
        if (pgd == 0)
            break;
    }
    for (std::size_t i = 0; i < eps.size(); ++i)
        std::printf("%8.3f %9.1f %%%s\n", eps[i], 100 * curves[0][i].accuracy,
                    curves.size() > 1 ? fmt(100 * curves[1][i].accuracy, "%9.1f %%").c_str() : "");
    if (Status st = io::writeFileAtomic((fs::path(out) / "fgsm.csv").string(), csv); !st.ok())
        return failed(st);

    // The gallery: 6 images, clean and at up to 5 ε values, with the prediction under each.
    const int C = int(in.channels()), H = int(in.height()), W = int(in.width());
    const int scale = std::max(1, 84 / std::max(H, W));
    std::vector<double> positive, shown; // up to 5 evenly spaced ε > 0
    for (double e : eps)
        if (e > 0)
            positive.push_back(e);
    const std::size_t P = positive.size();
    for (std::size_t j = 0; j < std::min<std::size_t>(5, P); ++j)
        shown.push_back(positive[P <= 5 ? j : (j * (P - 1) + 2) / 4]);
    const std::int64_t G = std::min<std::int64_t>(6, count), D = in.imageSize();
    std::vector<double> gpx(px.begin(), px.begin() + G * D);
    std::vector<std::int32_t> glb(labels.begin(), labels.begin() + G);
    std::vector<std::vector<analysis::Panel>> rows(static_cast<std::size_t>(G));
    for (std::size_t e = 0; e < shown.size() + 1; ++e) {
        auto a = analysis::attack(in, gpx, glb, {e == 0 ? 0.0 : shown[e - 1], int(pgd)});
        if (!a.ok())
            return failed(a.status());
        for (std::int64_t i = 0; i < G; ++i) {
            const int pred = a->predictedAfter[std::size_t(i)];
            const double p = a->probsAfter[std::size_t(i * in.classes() + pred)];
            rows[std::size_t(i)].push_back(
                {e == 0 ? "clean" : "eps " + fmt(shown[e - 1], "%.3g"),
                 analysis::imageTile(
                     std::span(a->adversarial).subspan(std::size_t(i * D), std::size_t(D)), C, H, W,
                     scale),
                 s->classNames(pred) + " " + fmt(100 * p, "%.0f") + "%" +
                     (pred == glb[std::size_t(i)] ? "" : " X")});
        }
    }
    if (Status st = io::savePng(
            (fs::path(out) / "fgsm.png").string(),
            analysis::composeRows(rows, std::string(pgd ? "PGD-" + std::to_string(pgd) : "FGSM") +
                                            " adversarial examples (X: wrong)"));
        !st.ok())
        return failed(st);
    std::printf("wrote %s/fgsm.csv and fgsm.png\n", out.c_str());
    return 0;
}

int confusionCommand(const std::vector<std::string>& args, const Options& opt) {
    if (args.size() != 1)
        return usage("confusion needs one RUN (a run folder or a checkpoint file)");
    std::int64_t count = 0, pgd = 0;
    if (!parseCount(opt, "count", 0, 0, 1000000, count))
        return usage("--count must be a whole number");
    if (!parseCount(opt, "pgd", 0, 0, 1000, pgd))
        return usage("--pgd must be a whole number of steps from 0 to 1000");
    std::vector<double> eps{0.0};
    if (opt.count("eps") && (!parseReals(opt.at("eps"), eps) || eps.size() != 2 - 1 ||
                             eps.back() < 0 || eps.back() > 1))
        return usage("--eps takes one number in [0, 1] (pixel units)");
    const double e = eps.back();
    int rc = 0;
    auto s = openRun(args[0], opt, rc);
    if (!s)
        return rc;
    const auto test =
        analysis::Inspector::images(s->data.test, 0, count == 0 ? s->data.test.count : count);
    count = test.count();
    auto m = analysis::confusion(*s->in, test.pixels, test.labels, {e, int(pgd)});
    if (!m.ok())
        return failed(m.status());
    const int K = m->classes;
    std::string csv = "true\\predicted";
    for (int k = 0; k < K; ++k)
        csv += "," + s->classNames(k);
    csv += "\n";
    std::printf(
        "confusion matrix of %lld test images%s (rows: true class, columns: "
        "predicted); accuracy %.2f %%\n%14s",
        (long long)count,
        e > 0
            ? (" attacked with " + std::string(pgd ? "PGD" : "FGSM") + " at ε = " + fmt(e)).c_str()
            : "",
        100 * m->accuracy(), "");
    for (int k = 0; k < K; ++k)
        std::printf(" %6.6s", s->classNames(k).c_str());
    std::printf("\n");
    for (int t = 0; t < K; ++t) {
        std::printf("%14.14s", s->classNames(t).c_str());
        csv += s->classNames(t);
        for (int p = 0; p < K; ++p) {
            std::printf(" %6lld", (long long)m->at(t, p));
            csv.push_back(',');
            csv.append(std::to_string(m->at(t, p)));
        }
        std::printf("\n");
        csv += "\n";
    }
    std::string out = get(opt, "out", "");
    if (out.empty()) {
        std::error_code ec;
        out =
            fs::is_directory(args[0], ec) ? args[0] : fs::path(s->ckpt.path).parent_path().string();
    }
    if (Status st = io::makeDirectories(out); !st.ok())
        return failed(st);
    const std::string path = (fs::path(out) / "confusion.csv").string();
    if (Status st = io::writeFileAtomic(path, csv); !st.ok())
        return failed(st);
    std::printf("wrote %s\n", path.c_str());
    return 0;
}

} // namespace convscope::cli
