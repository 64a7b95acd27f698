// Controlled experiments on the command line: `train ... --twin KEY=VALUE` trains a pair, and
// `compare RUN_A RUN_B` puts two finished runs side by side.
#include "cli_train.h"
#include "core/format.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "model/network.h"
#include "train/metrics_csv.h"
#include "train/run_folder.h"
#include "train/twin.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

namespace convscope::cli {

namespace fs = std::filesystem;

const std::vector<std::string> kCompareOptions = {"twin", "csv"};

const char* const kCompareUsage = R"(
Controlled experiments: two runs that differ in one thing.
  convscope-cli train [train options] --twin KEY=VALUE --out DIR
      trains the network (run a, into DIR/a) and its twin (run b, into DIR/b) interleaved on one
      backend, with the same seed, the same initial weights wherever a tensor's name and shape
      agree, and the same order of training images; then prints the comparison. KEY=VALUE:
        bn=on|off                batch norm after every conv and hidden linear layer, or none
        dropout=off|RATE         dropout (0 < RATE < 1) before the linear layers, or none
        init=he|he-uniform|xavier|xavier-uniform|zeros|normal(SIGMA)   the initialisation
        activation=relu|sigmoid|tanh|leaky   every activation function
        shortcut=none|identity|projection    the residual blocks' shortcuts
        optimizer=sgd|momentum|adam|adamw    (across sgd/adam the twin takes the other's lr)
        lr=X, batch=N            the learning rate, the batch size
  convscope-cli compare RUN_A RUN_B [--csv FILE]   (or compare DIR for DIR/a and DIR/b)
      what differs (network layer by layer, settings), per epoch the train and test loss and
      accuracy of both and B - A, and the last per-layer gradient norms with B/A
      (vanishing gradients); --csv writes the numbers as metric,key,a,b,b_minus_a,b_over_a
      (train --twin takes --csv too).
)";

namespace {

std::string num(double v, const char* f = "%.4f") {
    if (std::isnan(v))
        return "-";
    return fmt(v, f);
}

// --- Reading a run folder.
struct LayerNorms {
    int epoch = 0;
    std::vector<std::pair<std::string, double>> grad; // the last epoch's, in file order
};

struct Run {
    std::string dir;
    model::NetSpec spec;
    train::MetricsCsv metrics;
    LayerNorms layers;
    std::map<std::string, std::string> settings; // from the newest checkpoint's metadata
    nlohmann::json twin;                         // twin.json, when there is one
};

LayerNorms readLayers(const std::string& text) {
    LayerNorms n;
    std::istringstream in(text);
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream ss(line);
        std::string item;
        while (std::getline(ss, item, ','))
            f.push_back(item);
        if (f.size() < 5)
            continue;
        int epoch = 0;
        double grad = 0;
        try {
            epoch = std::stoi(f[0]);
            grad = std::stod(f[4]);
        } catch (const std::exception&) {
            continue;
        }
        if (epoch != n.epoch) {
            n.epoch = epoch;
            n.grad.clear();
        }
        n.grad.emplace_back(f[2], grad);
    }
    return n;
}

Result<Run> readRun(const std::string& dir) {
    Run r;
    r.dir = dir;
    if (!fs::is_directory(dir))
        return Status::error("not a run folder", dir,
                             "Give two run folders (convscope-cli train --out DIR)");
    CS_TRY_ASSIGN(r.spec, model::loadNetSpec((fs::path(dir) / "spec.json").string()));
    CS_TRY_ASSIGN(std::string csv, io::readFile((fs::path(dir) / "metrics.csv").string()));
    r.metrics = train::parseMetricsCsv(csv);
    if (auto layers = io::readFile((fs::path(dir) / "layers.csv").string()); layers.ok())
        r.layers = readLayers(*layers);
    if (auto ckpt = train::RunFolder::latestCheckpoint(dir); ckpt.ok())
        if (auto st = io::loadSafetensors(*ckpt); st.ok())
            r.settings = st->metadata;
    if (auto t = io::readFile((fs::path(dir) / "twin.json").string()); t.ok())
        r.twin = nlohmann::json::parse(*t, nullptr, false);
    return r;
}

// --- What differs.
std::string describe(const model::LayerInfo& l) {
    std::string s = std::string(model::layerTypeName(l.type)) + " " + l.out.str();
    if (!l.detail.empty())
        s += " (" + l.detail + ")";
    return s;
}

std::vector<std::string> networkDiff(const model::NetSpec& a, const model::NetSpec& b) {
    std::vector<std::string> out;
    auto aa = model::analyze(a), ab = model::analyze(b);
    if (!aa.ok() || !ab.ok()) {
        out.push_back("(a network does not analyse: " +
                      (aa.ok() ? ab.status() : aa.status()).message() + ")");
        return out;
    }
    const auto& la = aa->layers;
    const auto& lb = ab->layers;
    std::map<std::string, std::size_t> inA, inB;
    for (std::size_t i = 0; i < la.size(); ++i)
        inA[la[i].path] = i;
    for (std::size_t i = 0; i < lb.size(); ++i)
        inB[lb[i].path] = i;
    std::set<std::string> done;
    std::size_t i = 0, j = 0;
    auto onlyB = [&](std::size_t k) {
        out.push_back("+ " + lb[k].path + ": " + describe(lb[k]) + " (only in b)");
        done.insert(lb[k].path);
    };
    while (i < la.size() || j < lb.size()) {
        if (j < lb.size() && (done.count(lb[j].path) || !inA.count(lb[j].path))) {
            if (!done.count(lb[j].path))
                onlyB(j);
            ++j;
            continue;
        }
        if (i >= la.size()) {
            ++j;
            continue;
        }
        const auto& x = la[i++];
        auto it = inB.find(x.path);
        if (it == inB.end()) {
            out.push_back("- " + x.path + ": " + describe(x) + " (only in a)");
            continue;
        }
        const auto& y = lb[it->second];
        done.insert(y.path);
        if (describe(x) != describe(y))
            out.push_back("~ " + x.path + ": " + describe(x) + " -> " + describe(y));
    }
    if (a.init.name() != b.init.name())
        out.push_back("~ default init: " + a.init.name() + " -> " + b.init.name());
    if (aa->params != ab->params)
        out.push_back("  parameters: " + thousands(double(aa->params)) + " -> " +
                      thousands(double(ab->params)));
    return out;
}

// --- The per-epoch table.
struct EpochRow {
    double trainLoss = NAN, trainAcc = NAN, testLoss = NAN, testAcc = NAN;
    std::int64_t step = 0;
};

std::map<int, EpochRow> epochs(const train::MetricsCsv& m) {
    std::map<int, EpochRow> e; // a resumed run's later row for an epoch wins
    for (const auto& r : m.rows)
        if (r.kind == train::MetricsRow::Kind::Epoch)
            e[r.epoch] = {r.loss, r.accuracy, r.testLoss, r.testAccuracy, r.step};
    return e;
}

} // namespace

int compareCommand(const std::vector<std::string>& argsIn, const Options& opt) {
    std::vector<std::string> args = argsIn;
    if (args.size() == 1 && fs::is_directory(fs::path(args[0]) / "a") &&
        fs::is_directory(fs::path(args[0]) / "b"))
        args = {(fs::path(args[0]) / "a").string(), (fs::path(args[0]) / "b").string()};
    if (args.size() != 2)
        return usage("compare needs two run folders: convscope-cli compare RUN_A RUN_B");
    auto a = readRun(args[0]);
    if (!a.ok())
        return failed(a.status());
    auto b = readRun(args[1]);
    if (!b.ok())
        return failed(b.status());

    std::printf("a: %s  (%s)\nb: %s  (%s)\n", a->dir.c_str(), a->spec.name.c_str(), b->dir.c_str(),
                b->spec.name.c_str());
    for (const Run* r : {&*a, &*b})
        if (r->twin.is_object() && r->twin.value("run", "") == "b") {
            std::printf("twin: %s: %s\n", r->twin.value("change", "").c_str(),
                        r->twin.value("description", "").c_str());
            if (r->twin.contains("shared") && r->twin["shared"].is_array())
                std::printf("same initial weights: %zu tensors shared, %zu not\n",
                            r->twin["shared"].size(),
                            r->twin.contains("not_shared") ? r->twin["not_shared"].size() : 0);
        }

    std::printf("\nWhat differs\n");
    std::vector<std::string> net = networkDiff(a->spec, b->spec);
    std::printf("  network:%s\n", net.empty() ? " the same layers" : "");
    for (const auto& l : net)
        std::printf("    %s\n", l.c_str());
    std::vector<std::string> settings;
    if (a->settings.empty() || b->settings.empty()) {
        settings.push_back("(unknown: a run has no checkpoint)");
    } else {
        for (const char* k :
             {"optimizer", "lr", "weight_decay", "batch", "epochs", "seed", "dataset"}) {
            auto x = a->settings.find(k), y = b->settings.find(k);
            // Numbers as people write them (the metadata holds them exactly).
            auto show = [](const std::string& v) {
                double d = 0;
                try {
                    std::size_t used = 0;
                    d = std::stod(v, &used);
                    return used == v.size() ? shortNumber(d) : v;
                } catch (const std::exception&) {
                    return v;
                }
            };
            const std::string vx = x == a->settings.end() ? "-" : show(x->second);
            const std::string vy = y == b->settings.end() ? "-" : show(y->second);
            if (vx != vy)
                settings.push_back(std::string(k) + ": " + vx + " -> " + vy);
        }
    }
    std::printf("  settings:%s\n", settings.empty() ? " the same" : "");
    for (const auto& s : settings)
        std::printf("    %s\n", s.c_str());

    std::vector<std::string> csv = {"metric,key,a,b,b_minus_a,b_over_a"};
    auto csvRow = [&](const std::string& metric, const std::string& key, double x, double y) {
        auto v = [](double d) { return std::isnan(d) ? std::string() : fmt(d, "%.9g"); };
        csv.push_back(metric + "," + key + "," + v(x) + "," + v(y) + "," + v(y - x) + "," +
                      (x != 0 && !std::isnan(x) && !std::isnan(y) ? v(y / x) : std::string()));
    };

    const auto ea = epochs(a->metrics), eb = epochs(b->metrics);
    std::set<int> all;
    for (const auto& [e, r] : ea)
        all.insert(e);
    for (const auto& [e, r] : eb)
        all.insert(e);
    std::printf("\nPer epoch (b - a in brackets)\n");
    if (all.empty())
        std::printf("  no epoch has ended in either run\n");
    else
        std::printf("  %5s  %-26s  %-26s  %-26s  %-26s\n", "epoch", "train loss a / b",
                    "train acc a / b", "test loss a / b", "test acc a / b");
    for (int e : all) {
        const EpochRow x = ea.count(e) ? ea.at(e) : EpochRow{};
        const EpochRow y = eb.count(e) ? eb.at(e) : EpochRow{};
        auto cell = [](double p, double q) {
            return num(p) + " / " + num(q) + " (" + num(q - p, "%+.4f") + ")";
        };
        std::printf("  %5d  %-26s  %-26s  %-26s  %-26s\n", e,
                    cell(x.trainLoss, y.trainLoss).c_str(), cell(x.trainAcc, y.trainAcc).c_str(),
                    cell(x.testLoss, y.testLoss).c_str(), cell(x.testAcc, y.testAcc).c_str());
        const std::string k = std::to_string(e);
        csvRow("train_loss", k, x.trainLoss, y.trainLoss);
        csvRow("train_accuracy", k, x.trainAcc, y.trainAcc);
        csvRow("test_loss", k, x.testLoss, y.testLoss);
        csvRow("test_accuracy", k, x.testAcc, y.testAcc);
    }

    std::printf("\nGradient norms per layer after the last epoch (a: epoch %d, b: epoch %d)\n",
                a->layers.epoch, b->layers.epoch);
    std::vector<std::string> names;
    for (const auto& [n, g] : a->layers.grad)
        names.push_back(n);
    for (const auto& [n, g] : b->layers.grad)
        if (std::find(names.begin(), names.end(), n) == names.end())
            names.push_back(n);
    if (names.empty())
        std::printf("  none recorded (layers.csv is written at epoch ends)\n");
    else
        std::printf("  %-32s %12s %12s %10s\n", "layer", "a", "b", "b / a");
    auto find = [](const LayerNorms& l, const std::string& n) {
        for (const auto& [k, g] : l.grad)
            if (k == n)
                return g;
        return double(NAN);
    };
    for (const auto& n : names) {
        const double x = find(a->layers, n), y = find(b->layers, n);
        const double ratio = (!std::isnan(x) && !std::isnan(y) && x > 0) ? y / x : NAN;
        std::printf("  %-32s %12s %12s %10s\n", n.c_str(), num(x, "%.4g").c_str(),
                    num(y, "%.4g").c_str(), num(ratio, "%.3g").c_str());
        csvRow("grad_norm", n, x, y);
    }

    if (auto it = opt.find("csv"); it != opt.end()) {
        std::string text;
        for (const auto& l : csv)
            text += l + "\n";
        if (Status s = io::writeFileAtomic(it->second, text); !s.ok())
            return failed(s);
        std::printf("\nwrote %s\n", it->second.c_str());
    }
    return 0;
}

int twinTrainCommand(const Options& opt, TrainSetup& s, const std::atomic<bool>* cancel) {
    auto change = train::parseTwin(get(opt, "twin", ""));
    if (!change.ok())
        return usage(change.status().message());
    if (!s.resume.empty())
        return usage("--twin trains a new pair; it does not --resume");
    auto twin = train::makeTwin(s.spec, s.cfg, *change);
    if (!twin.ok())
        return usage(twin.status().message());
    auto choice = createBackend(s.backend);
    if (!choice.ok())
        return failed(choice.status());
    Backend& be = *choice->backend;

    train::PairOptions po;
    if (!s.outDir.empty())
        po.dirs = {(fs::path(s.outDir) / "a").string(), (fs::path(s.outDir) / "b").string()};
    po.datasetName = s.dataset.name;
    po.cancel = cancel;
    const std::array<train::TrainConfig, 2> cfgs = {s.cfg, twin->config};
    std::printf("convscope: training %s and its twin (%s) on %s (%lld train / %lld test "
                "images), interleaved\n",
                s.spec.name.c_str(), twin->change.str().c_str(), s.dataset.name.c_str(),
                (long long)s.data.train.count, (long long)s.data.test.count);
    std::printf("twin: %s\n", twin->description.c_str());
    std::printf("backend: %s\n         %s\n", be.description().c_str(), choice->reason.c_str());
    for (int r = 0; r < 2; ++r) {
        const auto& o = cfgs[std::size_t(r)].optimizer;
        std::printf("[%c] %s: %s lr %g, batch %lld, seed %llu%s%s\n", "ab"[r],
                    r == 0 ? s.spec.name.c_str() : twin->spec.name.c_str(), o.name().c_str(), o.lr,
                    (long long)cfgs[std::size_t(r)].batch,
                    (unsigned long long)cfgs[std::size_t(r)].seed,
                    po.dirs[0].empty() ? "" : ", run folder ", po.dirs[std::size_t(r)].c_str());
    }
    std::fflush(stdout);

    std::array<double, 2> smooth{-1, -1};
    po.onStep = [&](int r, const train::StepReport& st) {
        double& sm = smooth[std::size_t(r)];
        sm = sm < 0 ? st.loss : 0.98 * sm + 0.02 * st.loss;
        if (st.step % s.logEvery != 0 && st.stepInEpoch != st.stepsPerEpoch)
            return;
        std::printf(
            "[%c] %s\n", "ab"[r],
            stepLine(st, cfgs[std::size_t(r)].epochs, cfgs[std::size_t(r)].batch, sm).c_str());
        std::fflush(stdout);
    };
    po.onEpoch = [&](int r, const train::EpochReport& e) {
        std::printf("[%c] %s\n", "ab"[r], epochLine(e).c_str());
        std::fflush(stdout);
    };
    train::PairResult result;
    Status st = train::trainPair(be, s.spec, s.cfg, *twin, s.data, po, &result);
    std::printf("trained %lld steps (a) and %lld steps (b); initial weights: %zu tensors shared",
                (long long)result.steps[0], (long long)result.steps[1],
                result.weights.shared.size());
    if (!result.weights.notShared.empty())
        std::printf(
            ", not shared: %s%s",
            [&] {
                std::string l;
                for (std::size_t i = 0; i < result.weights.notShared.size() && i < 6; ++i)
                    l += (i ? ", " : "") + result.weights.notShared[i];
                return l;
            }()
                .c_str(),
            result.weights.notShared.size() > 6 ? ", ..." : "");
    std::printf("\n");
    if (!st.ok())
        return failed(st);
    if (!po.dirs[0].empty()) {
        std::printf("\n");
        std::fflush(stdout);
        Options compareOptions;
        if (auto it = opt.find("csv"); it != opt.end())
            compareOptions["csv"] = it->second;
        if (int code = compareCommand({po.dirs[0], po.dirs[1]}, compareOptions); code != 0)
            return code;
    }
    return validationExit(be);
}

} // namespace convscope::cli
