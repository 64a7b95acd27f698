// convscope-cli landscape: Li et al.'s loss-landscape plots from a run's checkpoint — a 2-D
// surface (random filter-normalised directions or the trajectory's PCA plane), a 1-D line, the
// interpolation between two checkpoints, and the Hessian's extreme eigenvalues. Files out:
// landscape.csv, directions.safetensors, trajectory.csv, landscape.png (and hessian.csv). A
// killed job resumes from landscape.partial.csv; --rows slices merge when the command runs again
// without --rows in the same folder.
#include "analysis/checkpoint_data.h"
#include "analysis/contour.h"
#include "analysis/hessian.h"
#include "analysis/landscape.h"
#include "analysis/trajectory.h"
#include "cli_analysis.h"
#include "cli_options.h"
#include "data/datasets.h"
#include "io/atomic_file.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

namespace convscope::cli {

const char* kLandscapeUsage = R"(
  convscope-cli landscape RUN --out DIR [options]
      the loss landscape around the checkpoint (Li et al. 2018): DIR/landscape.csv
      (alpha,beta,loss,accuracy: the mean cross-entropy over the first N training images, in
      evaluation mode), DIR/directions.safetensors (delta.<name>, eta.<name>: the directions
      with the checkpoint's tensor names), DIR/landscape.png, and a one-line summary
    --dir NAME         random | pca (the plane of the run's checkpoints)       [random]
    --norm NAME        filter | layer | none (how random directions are scaled) [filter]
    --grid LO:HI:N     the grid on each axis, both ends included  [-1:1:41; pca: the path's]
    --images N         the training subset (0: all of it)                       [1000]
    --seed S           the directions' seed (apart from the training seed)      [1]
    --rows I:J         compute rows I..J-1 only (a slice: DIR/landscape.rows-I-J.csv); run
                       again without --rows in the same DIR to merge the slices
    --line             a 1-D line through the checkpoint along delta
    --interpolate A B  the line (1 − t)·A + t·B between two checkpoints, t on --grid
                       [-0.5:1.5:41]; running statistics are interpolated too
    --hessian          the Hessian's largest and smallest eigenvalues at the checkpoint
                       (Lanczos on finite-difference products; DIR/hessian.csv)
    --tolerance X      the eigenvalues' relative tolerance                    [1e-3]
  convscope-cli landscape --replot DIR [--title TEXT]
      redraws DIR/landscape.png from DIR/landscape.csv (and trajectory.csv) without the run,
      e.g. after merging --rows slices computed elsewhere, and prints the roughness summary
)";

const std::vector<std::string> kLandscapeOptions = {"dir",       "norm",   "grid",        "seed",
                                                    "rows",      "line",   "interpolate", "hessian",
                                                    "tolerance", "replot", "title"};

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kMaxGridPoints = 201 * 201;

struct Setup {
    model::Checkpoint ckpt;
    data::TrainTestSplit data;
    BackendChoice backend;
    std::unique_ptr<analysis::LossLandscape> land;
};

Result<Setup> openLandscape(const std::string& run, const Options& opt, std::int64_t images) {
    Setup s;
    CS_TRY_ASSIGN(auto cd,
                  analysis::loadCheckpointData(run, get(opt, "dataset", ""), get(opt, "data", "")));
    s.ckpt = std::move(cd.ckpt);
    s.data = std::move(cd.data);
    CS_TRY_ASSIGN(s.backend, backendFrom(opt));
    std::int64_t batch = 0;
    if (!parseCount(opt, "batch", 0, 0, 4096, batch))
        return Status::error("--batch must be a whole number from 1 to 4096", "convscope-cli");
    CS_TRY_ASSIGN(s.land, analysis::LossLandscape::create(*s.backend.backend, s.ckpt, s.data.train,
                                                          images, batch));
    std::fprintf(stderr, "convscope: %s (step %lld), %lld %s training images; %s\n",
                 s.ckpt.path.c_str(), (long long)s.ckpt.step, (long long)s.land->images(),
                 cd.dataset.c_str(), s.backend.backend->description().c_str());
    return s;
}

std::string summaryOf(const analysis::Surface& s) {
    const analysis::Roughness all = analysis::roughness(s, 1e9);
    std::string out = "min loss " + fmt(all.minLoss, "%.4g") + " at (" + fmt(all.minAlpha, "%.3g") +
                      ", " + fmt(all.minBeta, "%.3g") + ")";
    if (s.beta.points > 2 && s.alpha.points > 2) { // Li et al.'s roughness, within |α|, |β| ≤ 0.5
        const analysis::Roughness r = analysis::roughness(s, 0.5);
        out += ", within |α|,|β| ≤ 0.5: " + std::to_string(r.localMinima) +
               " local minima, mean |discrete Laplacian| " + fmt(r.meanAbsLaplacian, "%.4g");
    }
    return out;
}

// The (α, β) axes a complete CSV was computed on: each column's distinct values, evenly spaced.
Result<std::pair<analysis::Axis, analysis::Axis>> axesOfCsv(const std::string& text,
                                                            const std::string& where) {
    std::set<double> alphas, betas;
    std::istringstream in(text);
    std::string row;
    std::getline(in, row); // the header
    while (std::getline(in, row)) {
        double a = 0, b = 0;
        if (std::sscanf(row.c_str(), "%lf,%lf", &a, &b) != 2 || !std::isfinite(a) ||
            !std::isfinite(b))
            return Status::error("a row is not alpha,beta,loss,accuracy: \"" + row + "\"", where,
                                 "Replot a landscape.csv written by convscope-cli landscape");
        alphas.insert(a);
        betas.insert(b);
    }
    if (alphas.empty())
        return Status::error("the file holds no points", where, "Compute the grid first");
    auto axis = [](const std::set<double>& v) {
        return analysis::Axis{*v.begin(), *v.rbegin(), int(v.size())};
    };
    return std::pair{axis(alphas), axis(betas)};
}

int replotCommand(const std::string& dir, const Options& opt) {
    const std::string csvPath = (fs::path(dir) / "landscape.csv").string();
    auto text = io::readFile(csvPath);
    if (!text.ok())
        return failed(text.status());
    // The axes: as the directions file recorded them, else as the CSV's points spread.
    auto directions = io::loadSafetensors((fs::path(dir) / "directions.safetensors").string());
    auto axes = axesOfCsv(*text, csvPath);
    if (!axes.ok())
        return failed(axes.status());
    if (directions.ok() && directions->metadata.count("alpha") &&
        directions->metadata.count("beta")) {
        auto a = analysis::parseAxis(directions->metadata.at("alpha"));
        auto b = analysis::parseAxis(directions->metadata.at("beta"));
        if (a.ok() && b.ok())
            axes = std::pair{*a, *b};
    }
    analysis::Surface surf = analysis::emptySurface(axes->first, axes->second);
    if (Status s = analysis::readSurfaceCsv(*text, surf, csvPath); !s.ok())
        return failed(s);
    if (surf.rowsDone() != surf.beta.points)
        return failed(Status::error("the grid is incomplete (" + std::to_string(surf.rowsDone()) +
                                        " of " + std::to_string(surf.beta.points) + " rows)",
                                    csvPath, "Compute or merge the missing rows first"));
    std::vector<std::array<double, 2>> path;
    if (auto traj = io::readFile((fs::path(dir) / "trajectory.csv").string()); traj.ok()) {
        std::istringstream in(*traj);
        std::string row;
        std::getline(in, row);
        long long step = 0;
        double a = 0, b = 0;
        while (std::getline(in, row))
            if (std::sscanf(row.c_str(), "%lld,%lf,%lf", &step, &a, &b) == 3)
                path.push_back({a, b});
    }
    std::string title = get(opt, "title", "");
    if (title.empty()) {
        if (directions.ok() && directions->metadata.count("title"))
            title = directions->metadata.at("title");
        else
            title = fs::path(dir).filename().string();
    }
    const std::string png = (fs::path(dir) / "landscape.png").string();
    if (Status w = io::savePng(png, analysis::contourPicture(surf, title, path)); !w.ok())
        return failed(w);
    std::printf("landscape: %s, %d×%d grid: %s → %s\n", title.c_str(), surf.alpha.points,
                surf.beta.points, summaryOf(surf).c_str(), png.c_str());
    return 0;
}

} // namespace

int landscapeCommand(const std::vector<std::string>& argsIn, const Options& opt) {
    std::vector<std::string> args = argsIn;
    const auto started = Clock::now();
    if (opt.count("replot")) {
        if (!args.empty())
            return usage("--replot DIR takes no run");
        return replotCommand(opt.at("replot"), opt);
    }
    if (args.empty())
        return usage("landscape needs a run folder or a checkpoint file");
    const std::string run = args[0];
    const std::string out = get(opt, "out", "");
    if (out.empty())
        return usage("landscape needs --out DIR");
    const bool line = opt.count("line") > 0, interpolate = opt.count("interpolate") > 0,
               hessian = opt.count("hessian") > 0;
    std::string ckptA, ckptB;
    if (interpolate) {
        // --interpolate A B: the option parser gives A; B follows as an argument (or A,B).
        ckptA = opt.at("interpolate");
        if (auto comma = ckptA.find(','); comma != std::string::npos) {
            ckptB = ckptA.substr(comma + 1);
            ckptA = ckptA.substr(0, comma);
        } else if (args.size() >= 2) {
            ckptB = args[1];
            args.erase(args.begin() + 1);
        } else {
            return usage("--interpolate needs two checkpoints: --interpolate A B");
        }
    }
    if (args.size() > 1)
        return usage("unexpected argument '" + args[1] + "'");
    const std::string dirMode = get(opt, "dir", "random");
    if (dirMode != "random" && dirMode != "pca")
        return usage("--dir must be random or pca");
    analysis::DirectionNorm norm{};
    if (!analysis::parseDirectionNorm(get(opt, "norm", "filter"), norm))
        return usage("--norm must be filter, layer or none");
    std::int64_t images = 0, seed = 1;
    if (!parseCount(opt, "images", 1000, 0, 100000000, images))
        return usage("--images must be a whole number (0: the whole training set)");
    if (!parseCount(opt, "seed", 1, 0, std::int64_t(1) << 53, seed))
        return usage("--seed must be a whole number");
    double tolerance = 1e-3;
    if (opt.count("tolerance")) {
        std::vector<double> t;
        if (!parseReals(opt.at("tolerance"), t) || t.size() != 1 || !(t[0] > 0) || t[0] >= 1)
            return usage("--tolerance must be a number between 0 and 1");
        tolerance = t[0];
    }
    // The grid.
    const bool oneDimensional = line || interpolate;
    analysis::Axis alpha, beta{0, 0, 1};
    const bool gridGiven = opt.count("grid") > 0;
    if (gridGiven) {
        auto a = analysis::parseAxis(opt.at("grid"));
        if (!a.ok())
            return usage(a.status().message());
        alpha = *a;
    } else if (interpolate) {
        alpha = {-0.5, 1.5, 41};
    } else if (line) {
        alpha = {-1, 1, 101};
    }
    if (!oneDimensional)
        beta = alpha;
    const std::int64_t points = std::int64_t(alpha.points) * beta.points;
    if (points > kMaxGridPoints)
        return usage("a grid of " + std::to_string(points) + " points is too large (at most " +
                     std::to_string(kMaxGridPoints) +
                     ", 201 × 201): Li et al.'s figures use 51 × 51; spread a large grid over "
                     "machines with --rows");
    int firstRow = 0, lastRow = beta.points;
    const bool slice = opt.count("rows") > 0;
    if (slice) {
        const std::string r = opt.at("rows");
        const auto colon = r.find(':');
        std::vector<std::int64_t> i, j;
        if (colon == std::string::npos || !parseIntegers(r.substr(0, colon), i) ||
            !parseIntegers(r.substr(colon + 1), j) || i[0] < 0 || j[0] <= i[0] ||
            j[0] > beta.points)
            return usage("--rows must be I:J with 0 ≤ I < J ≤ " + std::to_string(beta.points) +
                         " (the grid's rows)");
        firstRow = int(i[0]);
        lastRow = int(j[0]);
    }

    auto setup = openLandscape(run, opt, images);
    if (!setup.ok())
        return failed(setup.status());
    analysis::LossLandscape& land = *setup->land;
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec)
        return failed(Status::error("cannot create the folder: " + ec.message(), out));

    // The directions (or the interpolation's endpoints).
    std::vector<double> delta, eta;
    std::vector<std::array<double, 2>> path;
    std::vector<std::int64_t> pathSteps;
    std::string what;
    std::map<std::string, std::string> meta{{"checkpoint", setup->ckpt.path},
                                            {"images", std::to_string(land.images())},
                                            {"grid", opt.count("grid") ? opt.at("grid") : ""}};
    if (interpolate) {
        auto a = model::loadCheckpoint(ckptA);
        if (!a.ok())
            return failed(a.status());
        auto b = model::loadCheckpoint(ckptB);
        if (!b.ok())
            return failed(b.status());
        if (Status s = analysis::sameNetwork(a->file, b->file, a->path, b->path); !s.ok())
            return failed(s);
        if (Status s = land.setInterpolation(a->file, b->file, b->path); !s.ok())
            return failed(s);
        what = "interpolation " + a->path + " → " + b->path;
        meta["interpolate"] = a->path + " " + b->path;
    } else if (dirMode == "pca") {
        auto traj = analysis::runTrajectory(run, setup->ckpt.step, land.layout());
        if (!traj.ok())
            return failed(traj.status());
        const std::vector<std::vector<double>>& snaps = traj->snapshots;
        pathSteps = traj->steps;
        auto plane = analysis::pcaPlane(snaps, land.theta(), land.layout());
        if (!plane.ok())
            return failed(Status::error(plane.status().message() + " (the run has " +
                                            std::to_string(snaps.size()) +
                                            " checkpoints, one per epoch)",
                                        run, "Train 3 or more epochs for a PCA plane"));
        delta = plane->d1;
        eta = plane->d2;
        path = plane->path;
        if (!gridGiven) { // cover the path with a margin, as Li et al. do
            double reach = 0;
            for (const auto& p : path)
                reach = std::max({reach, std::abs(p[0]), std::abs(p[1])});
            alpha = beta = {-1.2 * reach, 1.2 * reach, 41};
        }
        what = "PCA plane of " + std::to_string(snaps.size()) + " checkpoints (explained " +
               fmt(100 * plane->explained[0], "%.1f") + " % + " +
               fmt(100 * plane->explained[1], "%.1f") + " %)";
        meta["dir"] = "pca";
        meta["explained"] = fmt(plane->explained[0]) + "," + fmt(plane->explained[1]);
    } else {
        delta =
            analysis::randomDirection(land.layout(), land.theta(), norm, std::uint64_t(seed), 0);
        if (!oneDimensional)
            eta = analysis::randomDirection(land.layout(), land.theta(), norm, std::uint64_t(seed),
                                            1);
        what = std::string(analysis::directionNormName(norm)) + "-normalised random direction" +
               (oneDimensional ? "" : "s") + " (seed " + std::to_string(seed) + ")";
        meta["dir"] = "random";
        meta["norm"] = analysis::directionNormName(norm);
        meta["seed"] = std::to_string(seed);
    }
    if (!interpolate) {
        meta["alpha"] = fmt(alpha.lo, "%.17g") + ":" + fmt(alpha.hi, "%.17g") + ":" +
                        std::to_string(alpha.points);
        meta["beta"] =
            fmt(beta.lo, "%.17g") + ":" + fmt(beta.hi, "%.17g") + ":" + std::to_string(beta.points);
        meta["title"] =
            setup->ckpt.spec.name + " step " + std::to_string(setup->ckpt.step) + ": " + what;
        if (Status s = land.setDirections(delta, eta); !s.ok())
            return failed(s);
        const std::string dpath = (fs::path(out) / "directions.safetensors").string();
        // A folder with a partial grid must have been started with these directions.
        if (auto old = io::loadSafetensors(dpath);
            old.ok() && old->metadata != meta &&
            fs::exists(fs::path(out) / "landscape.partial.csv"))
            return failed(Status::error("the folder holds a partial grid computed with other "
                                        "settings",
                                        out, "Use the same options, or another --out"));
        if (Status s = io::saveSafetensors(
                dpath, analysis::directionsFile(land.layout(), delta, eta, meta));
            !s.ok())
            return failed(s);
    }
    if (!path.empty()) {
        std::string csv = "step,alpha,beta\n";
        for (std::size_t i = 0; i < path.size(); ++i)
            csv += std::to_string(pathSteps[i]) + "," + fmt(path[i][0], "%.9g") + "," +
                   fmt(path[i][1], "%.9g") + "\n";
        if (Status s = io::writeFileAtomic((fs::path(out) / "trajectory.csv").string(), csv);
            !s.ok())
            return failed(s);
    }

    // The grid: whatever earlier runs and slices in DIR computed, then the missing rows.
    analysis::Surface surf = analysis::emptySurface(alpha, beta);
    const std::string base = interpolate ? "interpolation" : "landscape";
    const std::string partial = (fs::path(out) / (base + ".partial.csv")).string();
    const std::string target = slice
                                   ? (fs::path(out) / (base + ".rows-" + std::to_string(firstRow) +
                                                       "-" + std::to_string(lastRow) + ".csv"))
                                         .string()
                                   : (fs::path(out) / (base + ".csv")).string();
    int resumed = 0;
    for (const auto& e : fs::directory_iterator(out, ec)) {
        const std::string n = e.path().filename().string();
        if (n.rfind(base + ".", 0) != 0 || !n.ends_with(".csv"))
            continue;
        auto text = io::readFile(e.path().string());
        if (!text.ok())
            return failed(text.status());
        const int before = surf.rowsDone();
        if (Status s = analysis::readSurfaceCsv(*text, surf, e.path().string()); !s.ok())
            return failed(s);
        resumed += surf.rowsDone() - before;
    }
    if (resumed > 0)
        std::fprintf(stderr,
                     "convscope: %d of %d rows already computed in %s; computing the rest\n",
                     surf.rowsDone(), beta.points, out.c_str());
    const std::string progressFile = slice ? target : partial;
    const bool tty = isatty(fileno(stderr));
    Progress progress([&](double f, const std::string&) {
        if (tty)
            std::fprintf(stderr, "\r%s: %3.0f %%", base.c_str(), 100 * f);
    });
    const auto gridStart = Clock::now();
    Status s = analysis::computeRows(land, surf, firstRow, lastRow, &progress, [&](int) -> Status {
        return io::writeFileAtomic(progressFile, analysis::surfaceCsv(surf));
    });
    if (tty)
        std::fprintf(stderr, "\n");
    if (!s.ok())
        return failed(s);
    const double gridSeconds = std::chrono::duration<double>(Clock::now() - gridStart).count();
    const bool complete = surf.rowsDone() == beta.points;
    if (!slice) {
        if (Status w = io::writeFileAtomic(target, analysis::surfaceCsv(surf)); !w.ok())
            return failed(w);
        fs::remove(partial, ec);
        if (complete) {
            const std::string title =
                setup->ckpt.spec.name + " step " + std::to_string(setup->ckpt.step) + ": " + what;
            if (Status w = io::savePng((fs::path(out) / (base + ".png")).string(),
                                       analysis::contourPicture(surf, title, path));
                !w.ok())
                return failed(w);
        }
    }

    // Curvature at the checkpoint.
    std::string curvature;
    if (hessian) {
        analysis::HessianOptions ho;
        ho.tolerance = tolerance;
        auto h = analysis::hessianAt(land, ho, &progress);
        if (!h.ok())
            return failed(h.status());
        curvature = "; Hessian λ_max " + fmt(h->lambdaMax, "%.5g") + ", λ_min " +
                    fmt(h->lambdaMin, "%.5g") + " (|λ_min/λ_max| " + fmt(h->ratio(), "%.3g") +
                    "; Lanczos, tolerance " + fmt(h->tolerance, "%.0e") + ", " +
                    std::to_string(h->iterations) + " products, h " + fmt(h->h, "%.0e") + ", " +
                    std::to_string(h->images) + " images" +
                    (h->converged ? "" : ", NOT converged") + ")";
        const std::string csv =
            "lambda_max,lambda_min,ratio,products,tolerance,h,images,converged\n" +
            fmt(h->lambdaMax, "%.9g") + "," + fmt(h->lambdaMin, "%.9g") + "," +
            fmt(h->ratio(), "%.9g") + "," + std::to_string(h->iterations) + "," +
            fmt(h->tolerance) + "," + fmt(h->h) + "," + std::to_string(h->images) + "," +
            (h->converged ? "1" : "0") + "\n";
        if (Status w = io::writeFileAtomic((fs::path(out) / "hessian.csv").string(), csv); !w.ok())
            return failed(w);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::printf("%s: %s step %lld, %d×%d grid (%s) on %lld training images, %s: %s%s; grid %.1f s, "
                "%.1f s in all → %s\n",
                base.c_str(), setup->ckpt.spec.name.c_str(), (long long)setup->ckpt.step,
                alpha.points, beta.points,
                complete ? "complete" : (std::to_string(surf.rowsDone()) + " rows").c_str(),
                (long long)land.images(), what.c_str(), summaryOf(surf).c_str(), curvature.c_str(),
                gridSeconds, seconds, target.c_str());
    return 0;
}

} // namespace convscope::cli
