// convscope-cli: the headless front end. `train` runs the same engine the GUI drives, with a
// progress line and a summary; `devices` lists the Vulkan devices.
#include "backend/backend.h"
#include "backend/vulkan_backend.h"
#include "cli_analysis.h"
#include "cli_export.h"
#include "cli_train.h"
#include "data/datasets.h"
#include "data/download.h"
#include "model/network.h"
#include "train/run_folder.h"
#include "train/trainer.h"
#include "vk/context.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <unistd.h>

using namespace convscope;

namespace {

std::atomic<bool> g_cancel{false};

const char* kUsage = R"(convscope-cli: train and inspect convolutional networks without a window.

Usage:
  convscope-cli train [options]            train a network, report test accuracy
  convscope-cli inspect SPEC.json          per-layer output shape, parameters and FLOPs
  convscope-cli inspect --preset NAME      the same for a preset; --list lists the presets
  convscope-cli devices                    list the Vulkan devices
  convscope-cli saliency RUN --images 3,17 --out DIR   gradient maps (see below)
  convscope-cli fgsm RUN --out DIR         accuracy vs ε of adversarial examples
  convscope-cli confusion RUN              the test set's confusion matrix
  convscope-cli landscape RUN --out DIR    the loss landscape around a checkpoint (see below)
  convscope-cli rf SPEC|PRESET|RUN         receptive fields, theoretical and effective (below)
  convscope-cli gabor RUN --out DIR        first-layer filters fitted with Gabor functions
  convscope-cli export RUN --onnx FILE     the trained network as an ONNX model (see below)
  convscope-cli train ... --twin KEY=VALUE --out DIR   a twin pair into DIR/a and DIR/b (below)
  convscope-cli compare RUN_A RUN_B        two finished runs side by side (below)
  convscope-cli fetch cifar10 [--data DIR] download CIFAR-10 (170 MB, verified, resumable) into
                                           DIR [~/.local/share/convscope/data]
  convscope-cli --help | --version

train options:
  --preset NAME        lenet5, resnet20, ... (convscope-cli inspect --list)  [lenet5]
  --spec FILE          a NetSpec JSON file instead of a preset
  --dataset NAME       fashion-mnist | cifar10 | folder | gratings | blobs | spirals [fashion-mnist]
  --data DIR           the dataset's folder (Fashion-MNIST: the Debian package's; CIFAR-10:
                       cifar-10-batches-bin; folder: one subfolder of images per class)
  --side N, --channels N  folder and synthetic images: N x N pixels; 1 (grey) or 3 (RGB) [28, 1]
  --out DIR            run folder: spec.json, metrics.csv, checkpoints/ (atomic writes)
  --resume PATH        continue from a run folder's last checkpoint (or a checkpoint file)
  --epochs N           passes over the training set (in all, when resuming)  [1]
  --batch N            images per step                                [64]
  --optimizer NAME     sgd | momentum | nesterov | rmsprop | adam | adamw [momentum]
  --lr X               learning rate                                  [0.02; 0.001 for adam(w)]
  --schedule NAME      constant | step | cosine (to 0 at the last step) [cosine]
  --step-epochs N      step schedule: multiply the rate by --gamma every N epochs [1]
  --gamma X            step schedule factor                           [0.1]
  --warmup N           linear warm-up over the first N steps          [0]
  --momentum X         μ of momentum and Nesterov                     [0.9]
  --weight-decay X     L2 weight decay (decoupled for adamw)          [0]
  --clip-norm X        clip the global gradient norm to X (0 = off)   [0]
  --augment            random crop (pad 4) and horizontal flip (CIFAR-style)
  --no-shuffle         keep the file order every epoch
  --seed N             initialisation and shuffling seed              [1]
  --backend NAME       auto | vulkan | cpu | cpu-double               [auto]
  --device ID          Vulkan device index or name fragment           [$CONVSCOPE_DEVICE]
  --threads N          CPU backend threads (0 = all cores)            [0]
  --log-every N        print a line every N steps when not on a terminal [100]
  --max-steps N        stop after N steps (smoke tests)               [0 = no limit]
  --twin KEY=VALUE     train a twin that differs in one thing beside it (see compare below)

Environment: CONVSCOPE_VALIDATION=1 enables the Vulkan validation layer.
)";

int usageError(const std::string& msg) {
    std::fprintf(stderr, "convscope-cli: %s\nRun 'convscope-cli --help' for the options.\n",
                 msg.c_str());
    return 2;
}

int fail(const Status& s) {
    std::fprintf(stderr, "convscope-cli: error: %s\n", s.message().c_str());
    return 1;
}

// fetch cifar10: the official archive into the data folder, verified and unpacked; Ctrl+C stops
// it and the next call resumes.
int fetchCommand(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& opt) {
    if (args.size() != 1 || args[0] != "cifar10")
        return usageError("fetch knows one dataset: convscope-cli fetch cifar10 [--data DIR]");
    auto it = opt.find("data");
    const std::string dir = it == opt.end() ? data::defaultDataDir() : it->second;
    static Progress* current = nullptr;
    const bool tty = isatty(fileno(stderr));
    Progress progress([&](double f, const std::string& stage) {
        if (tty)
            std::fprintf(stderr, "\r%-12s %5.1f %%", stage.c_str(), 100 * f);
    });
    current = &progress;
    std::signal(SIGINT, [](int) {
        if (current)
            current->cancel();
        std::signal(SIGINT, SIG_DFL);
    });
    std::fprintf(stderr, "convscope: fetching CIFAR-10 (%lld MB) into %s\n",
                 (long long)(data::kCifar10Bytes / 1000000), dir.c_str());
    auto folder = data::fetchCifar10(dir, {}, &progress);
    current = nullptr;
    if (tty)
        std::fprintf(stderr, "\n");
    if (!folder.ok()) {
        if (Progress::isCancellation(folder.status())) {
            std::fprintf(stderr, "convscope: stopped; run the same command to resume\n");
            return 130;
        }
        return fail(folder.status());
    }
    std::printf("CIFAR-10 is in %s (train with --dataset cifar10)\n", folder->c_str());
    return 0;
}

int devices() {
    auto list = vk::Context::listDevices();
    if (!list.ok())
        return fail(list.status());
    for (const auto& d : *list)
        std::printf("%u: %s (%s, Vulkan %u.%u)\n", d.index, d.name.c_str(), d.typeName().c_str(),
                    VK_API_VERSION_MAJOR(d.apiVersion), VK_API_VERSION_MINOR(d.apiVersion));
    if (list->empty())
        std::printf("no Vulkan devices\n");
    return 0;
}

Result<model::NetSpec> specFrom(const std::string& presetName, const std::string& specPath) {
    if (!specPath.empty())
        return model::loadNetSpec(specPath);
    return model::preset(presetName);
}

} // namespace

namespace convscope::cli {

std::string thousands(double v) {
    const std::string digits = std::to_string(std::llround(std::abs(v)));
    std::string out = v < 0 ? "-" : "";
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return out;
}

int prepareTrain(const Options& opt, TrainSetup& s) {
    auto get = [&](const char* k, const char* def) { return cli::get(opt, k, def); };
    train::TrainConfig& cfg = s.cfg;
    BackendOptions& bo = s.backend;
    data::DatasetRequest& dr = s.dataset;
    dr.name = get("dataset", "fashion-mnist");
    dr.dir = get("data", "");
    s.outDir = get("out", "");
    s.resume = get("resume", "");
    try {
        cfg.epochs = std::stoi(get("epochs", "1"));
        cfg.batch = std::stoll(get("batch", "64"));
        auto& o = cfg.optimizer;
        if (!ops::OptimizerConfig::parseKind(get("optimizer", "momentum"), o.kind))
            return usage("unknown optimizer '" + get("optimizer", "") +
                         "' (sgd, momentum, nesterov, rmsprop, adam, adamw)");
        const bool adam = o.kind == ops::OptimizerKind::Adam || o.kind == ops::OptimizerKind::AdamW;
        o.lr = std::stod(get("lr", adam ? "0.001" : "0.02"));
        o.momentum = std::stod(get("momentum", "0.9"));
        o.weightDecay = std::stod(get("weight-decay", "0"));
        o.clipNorm = std::stod(get("clip-norm", "0"));
        if (!train::LrSchedule::parse(get("schedule", "cosine"), cfg.schedule.kind))
            return usage("unknown schedule '" + get("schedule", "") + "' (constant, step, cosine)");
        cfg.schedule.stepEpochs = std::stoi(get("step-epochs", "1"));
        cfg.schedule.gamma = std::stod(get("gamma", "0.1"));
        cfg.schedule.warmupSteps = std::stoll(get("warmup", "0"));
        cfg.seed = std::stoull(get("seed", "1"));
        dr.side = std::stoi(get("side", "28"));
        dr.channels = std::stoi(get("channels", "1"));
        dr.seed = cfg.seed;
        cfg.maxSteps = std::stoll(get("max-steps", "0"));
        bo.threads = std::stoi(get("threads", "0"));
        s.logEvery = std::max(1, std::stoi(get("log-every", "100")));
    } catch (const std::exception&) {
        return usage("a numeric option has a value that is not a number");
    }
    cfg.shuffle = !opt.count("no-shuffle");
    if (opt.count("augment")) {
        cfg.cropPad = 4;
        cfg.hflip = true;
    }
    bo.backend = get("backend", "auto");
    bo.device = get("device", "");
    if (cfg.epochs <= 0 || cfg.batch <= 0 || cfg.batch > 8192)
        return usage("--epochs must be positive and --batch between 1 and 8192");
    if (dr.side < 4 || dr.side > 512 || (dr.channels != 1 && dr.channels != 3))
        return usage("--side must be between 4 and 512 and --channels 1 or 3");
    if (cfg.schedule.stepEpochs <= 0 || cfg.schedule.warmupSteps < 0)
        return usage("--step-epochs must be positive and --warmup not negative");
    if (Status st = cfg.optimizer.check(); !st.ok())
        return usage(st.message());

    // The network: --spec, --preset, or the spec.json of the run being resumed.
    std::string specPath = get("spec", "");
    if (specPath.empty() && !opt.count("preset") && !s.resume.empty() &&
        std::filesystem::is_directory(s.resume))
        specPath = (std::filesystem::path(s.resume) / "spec.json").string();
    auto spec = specFrom(get("preset", "lenet5"), specPath);
    if (!spec.ok())
        return opt.count("preset") ? usage(spec.status().message()) : failed(spec.status());

    // The network's own training defaults, where the command line does not say otherwise.
    if (const model::TrainingDefaults& td = spec->training; !td.empty()) {
        auto& o = cfg.optimizer;
        if (!opt.count("optimizer") && !td.optimizer.empty() &&
            ops::OptimizerConfig::parseKind(td.optimizer, o.kind) && !opt.count("lr") && td.lr < 0)
            o.lr = o.kind == ops::OptimizerKind::Adam || o.kind == ops::OptimizerKind::AdamW ? 0.001
                                                                                             : 0.02;
        if (!opt.count("lr") && td.lr > 0)
            o.lr = td.lr;
        if (!opt.count("weight-decay") && td.weightDecay >= 0)
            o.weightDecay = td.weightDecay;
        if (!opt.count("epochs") && td.epochs > 0)
            cfg.epochs = td.epochs;
        std::printf("note: %s's training defaults: %s, lr %g, weight decay %g, %d epochs\n",
                    spec->name.c_str(), o.name().c_str(), o.lr, o.weightDecay, cfg.epochs);
    }
    auto data = data::loadDataset(dr);
    if (!data.ok())
        return failed(data.status());
    s.data = std::move(*data);
    const auto& tr = s.data.train;
    const model::Dims wanted{spec->channels, spec->height, spec->width, false};
    if (model::fitInput(*spec, tr.channels, tr.height, tr.width))
        std::printf("note: %s expects %s inputs; adapting it to the dataset's %s\n",
                    spec->name.c_str(), wanted.str().c_str(),
                    model::Dims{tr.channels, tr.height, tr.width, false}.str().c_str());
    if (auto a = model::analyze(*spec); !a.ok())
        return failed(a.status());
    s.spec = std::move(*spec);
    return 0;
}

std::string stepLine(const train::StepReport& r, int epochs, std::int64_t batch, double smooth) {
    const double frac = double(r.stepInEpoch) / double(r.stepsPerEpoch);
    const int width = 24, fill = int(frac * width);
    const double eta =
        double(r.stepsPerEpoch - r.stepInEpoch) * double(batch) / std::max(r.imagesPerSecond, 1e-9);
    char line[512];
    std::snprintf(line, sizeof line,
                  "epoch %d/%d [%s%s] %3d%% step %lld/%lld loss %.4f (smoothed %.4f) lr %.3g %s "
                  "img/s ETA %.0fs",
                  r.epoch, epochs, std::string(std::size_t(fill), '#').c_str(),
                  std::string(std::size_t(width - fill), '-').c_str(), int(frac * 100),
                  (long long)r.stepInEpoch, (long long)r.stepsPerEpoch, r.loss, smooth, r.lr,
                  thousands(r.imagesPerSecond).c_str(), eta);
    return line;
}

std::string epochLine(const train::EpochReport& e) {
    char line[512];
    std::snprintf(line, sizeof line,
                  "epoch %d: train loss %.4f acc %.4f | test loss %.4f acc %.4f | %.1f s, %s img/s",
                  e.epoch, e.trainLoss, e.trainAccuracy, e.test.loss, e.test.accuracy, e.seconds,
                  thousands(e.imagesPerSecond).c_str());
    return line;
}

int validationExit(Backend& be) {
    if (auto* v = be.asVulkan(); v && v->context().validationEnabled()) {
        std::printf("vulkan validation messages: %llu\n",
                    (unsigned long long)v->context().validationMessages());
        if (v->context().validationMessages() > 0)
            return 1;
    }
    return 0;
}

} // namespace convscope::cli

namespace {

int inspectCommand(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& opt) {
    if (opt.count("list")) {
        for (const auto& n : model::presetNames()) {
            auto spec = model::preset(n);
            std::printf("%-16s %s\n", n.c_str(), spec.ok() ? spec->description.c_str() : "");
        }
        return 0;
    }
    auto it = opt.find("preset");
    if (args.empty() && it == opt.end())
        return usageError("inspect needs a NetSpec file or --preset NAME");
    auto spec = specFrom(it == opt.end() ? "" : it->second, args.empty() ? "" : args[0]);
    if (!spec.ok())
        return fail(spec.status());
    auto a = model::analyze(*spec);
    if (!a.ok())
        return fail(a.status());
    std::printf("%s%s%s\n\n%s", spec->name.c_str(), spec->description.empty() ? "" : ": ",
                spec->description.c_str(), a->table().c_str());
    return 0;
}

int trainCommand(const std::map<std::string, std::string>& opt) {
    cli::TrainSetup setup;
    if (int code = cli::prepareTrain(opt, setup); code != 0)
        return code;
    if (opt.count("twin")) {
        std::signal(SIGINT, [](int) { // as below: finish the slice in flight and stop
            g_cancel = true;
            std::signal(SIGINT, SIG_DFL);
        });
        return cli::twinTrainCommand(opt, setup, &g_cancel);
    }
    const train::TrainConfig& cfg = setup.cfg;
    const model::NetSpec* spec = &setup.spec;
    const data::TrainTestSplit* data = &setup.data;
    const data::DatasetRequest& dr = setup.dataset;
    const std::string& outDir = setup.outDir;
    const std::string& resume = setup.resume;
    const int logEvery = setup.logEvery;
    const auto& tr = data->train;
    auto choice = createBackend(setup.backend);
    if (!choice.ok())
        return fail(choice.status());
    Backend& be = *choice->backend;
    model::Network net(*spec);
    std::printf("convscope: training %s on %s (%lld train / %lld test images)\n",
                net.summary().c_str(), dr.name.c_str(), (long long)tr.count,
                (long long)data->test.count);
    std::printf("backend: %s\n         %s\n", be.description().c_str(), choice->reason.c_str());
    const auto& o = cfg.optimizer;
    std::printf("optimizer: %s lr %g momentum %g weight decay %g clip norm %g, batch %lld, seed "
                "%llu\n",
                o.name().c_str(), o.lr, o.momentum, o.weightDecay, o.clipNorm, (long long)cfg.batch,
                (unsigned long long)cfg.seed);
    std::fflush(stdout);
    train::Trainer trainer(be, net, *data, cfg);
    if (Status s = trainer.setup(); !s.ok())
        return fail(s);
    if (!resume.empty()) {
        auto ckpt = train::RunFolder::latestCheckpoint(resume);
        if (!ckpt.ok())
            return fail(ckpt.status());
        if (Status s = trainer.loadCheckpoint(*ckpt); !s.ok())
            return fail(s);
        std::printf("resumed from %s at step %lld\n", ckpt->c_str(),
                    (long long)trainer.stepsDone());
    }
    std::optional<train::RunFolder> run;
    if (!outDir.empty()) {
        auto r = train::RunFolder::create(outDir, *spec, dr.name, *data);
        if (!r.ok())
            return fail(r.status());
        run = std::move(*r);
        std::printf("run folder: %s\n", outDir.c_str());
    }
    const bool tty = isatty(STDOUT_FILENO);
    double smooth = -1;
    train::StepReport lastStep;
    auto onStep = [&](const train::StepReport& r) {
        lastStep = r;
        if (run)
            (void)run->logStep(r);
        smooth = smooth < 0 ? r.loss : 0.98 * smooth + 0.02 * r.loss;
        const bool last = r.stepInEpoch == r.stepsPerEpoch;
        if (!tty && r.step % logEvery != 0 && !last)
            return;
        if (tty && r.step % 5 != 0 && !last)
            return;
        std::printf("%s%s%s", tty ? "\r" : "",
                    cli::stepLine(r, cfg.epochs, cfg.batch, smooth).c_str(), tty ? "" : "\n");
        std::fflush(stdout);
    };
    double testAccuracy = 0, imagesPerSecond = 0;
    Status saved;
    auto onEpoch = [&](const train::EpochReport& e) {
        std::printf("%s%s\n", tty ? "\n" : "", cli::epochLine(e).c_str());
        testAccuracy = e.test.accuracy;
        imagesPerSecond = e.imagesPerSecond;
        if (run) {
            (void)run->logEpoch(e, trainer.stepsDone());
            if (Status s = run->checkpoint(trainer).status(); !s.ok() && saved.ok())
                saved = s;
        }
        std::fflush(stdout);
    };
    // First Ctrl-C: finish the steps in flight and stop cleanly. A second one ends the process.
    std::signal(SIGINT, [](int) {
        g_cancel = true;
        std::signal(SIGINT, SIG_DFL);
    });
    Status result = trainer.run(onStep, onEpoch, &g_cancel);
    if (run) {
        // Whatever happened, keep what was learned: a checkpoint of the last completed step
        // (not of a diverged network).
        auto wrote = run->close(trainer);
        if (wrote.ok() && *wrote)
            std::printf("%ssaved %s\n", tty && !result.ok() ? "\n" : "",
                        run->checkpointPath(trainer.stepsDone()).c_str());
        else if (!wrote.ok() && saved.ok())
            saved = wrote.status();
    }
    if (!result.ok())
        return fail(result);
    if (!saved.ok())
        return fail(saved);
    std::printf("trained %lld steps, last epoch at %s img/s\n", (long long)trainer.stepsDone(),
                cli::thousands(lastStep.imagesPerSecond).c_str());
    if (imagesPerSecond > 0)
        std::printf("test accuracy: %.4f (%s img/s training, %s)\n", testAccuracy,
                    cli::thousands(imagesPerSecond).c_str(), be.description().c_str());
    else
        std::printf("test accuracy: not evaluated (stopped mid-epoch; %s)\n",
                    be.description().c_str());
    return cli::validationExit(be);
}

} // namespace

int cliMain(int argc, char** argv) {
    if (argc < 2)
        return usageError("missing command");
    std::string cmd = argv[1];
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        std::fputs(kUsage, stdout);
        std::fputs(cli::kAnalysisUsage, stdout);
        std::fputs(cli::kLandscapeUsage, stdout);
        std::fputs(cli::kFieldsUsage, stdout);
        std::fputs(cli::kExportUsage, stdout);
        std::fputs(cli::kCompareUsage, stdout);
        return 0;
    }
    if (cmd == "--version") {
        std::printf("convscope-cli 0.1.0\n");
        return 0;
    }
    std::map<std::string, std::string> opt;
    std::vector<std::string> args;
    static const char* flags[] = {"augment", "no-shuffle", "list",      "sanity", "smooth-squared",
                                  "line",    "hessian",    "untrained", "help"}; // no value
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h")
            a = "--help";
        if (a.rfind("--", 0) != 0) {
            args.push_back(a);
            continue;
        }
        a = a.substr(2);
        if (auto eq = a.find('='); eq != std::string::npos) {
            opt[a.substr(0, eq)] = a.substr(eq + 1);
        } else if (std::find(std::begin(flags), std::end(flags), a) != std::end(flags)) {
            opt[a] = "1";
        } else {
            if (i + 1 >= argc)
                return usageError("option --" + a + " needs a value");
            opt[a] = argv[++i];
        }
    }
    static const char* known[] = {
        "preset",       "spec",     "dataset",    "data",     "out",         "resume",
        "epochs",       "batch",    "lr",         "momentum", "optimizer",   "clip-norm",
        "weight-decay", "seed",     "backend",    "device",   "threads",     "log-every",
        "max-steps",    "schedule", "side",       "channels", "step-epochs", "gamma",
        "warmup",       "augment",  "no-shuffle", "list",     "help"};
    for (auto& [k, v] : opt)
        if (std::find(std::begin(known), std::end(known), k) == std::end(known) &&
            std::find(cli::kAnalysisOptions.begin(), cli::kAnalysisOptions.end(), k) ==
                cli::kAnalysisOptions.end() &&
            std::find(cli::kLandscapeOptions.begin(), cli::kLandscapeOptions.end(), k) ==
                cli::kLandscapeOptions.end() &&
            std::find(cli::kFieldsOptions.begin(), cli::kFieldsOptions.end(), k) ==
                cli::kFieldsOptions.end() &&
            std::find(cli::kExportOptions.begin(), cli::kExportOptions.end(), k) ==
                cli::kExportOptions.end() &&
            std::find(cli::kCompareOptions.begin(), cli::kCompareOptions.end(), k) ==
                cli::kCompareOptions.end())
            return usageError("unknown option --" + k);
    // Every command answers --help with its own options.
    if (opt.count("help")) {
        if (cmd == "saliency" || cmd == "fgsm" || cmd == "confusion")
            std::fputs(cli::kAnalysisUsage, stdout);
        else if (cmd == "landscape")
            std::fputs(cli::kLandscapeUsage, stdout);
        else if (cmd == "rf" || cmd == "gabor")
            std::fputs(cli::kFieldsUsage, stdout);
        else if (cmd == "export")
            std::fputs(cli::kExportUsage, stdout);
        else if (cmd == "compare")
            std::fputs(cli::kCompareUsage, stdout);
        else if (cmd == "train") {
            std::fputs(kUsage, stdout);
            std::fputs(cli::kCompareUsage, stdout); // --twin
        } else
            std::fputs(kUsage, stdout);
        return 0;
    }
    if (cmd == "saliency")
        return cli::saliencyCommand(args, opt);
    if (cmd == "fgsm")
        return cli::fgsmCommand(args, opt);
    if (cmd == "confusion")
        return cli::confusionCommand(args, opt);
    if (cmd == "landscape")
        return cli::landscapeCommand(args, opt);
    if (cmd == "rf")
        return cli::rfCommand(args, opt);
    if (cmd == "gabor")
        return cli::gaborCommand(args, opt);
    if (cmd == "export")
        return cli::exportCommand(args, opt);
    if (cmd == "compare")
        return cli::compareCommand(args, opt);
    if (cmd == "fetch")
        return fetchCommand(args, opt);
    if (cmd == "inspect")
        return inspectCommand(args, opt);
    if (!args.empty())
        return usageError("unexpected argument '" + args[0] + "'");
    if (cmd == "devices")
        return devices();
    if (cmd == "train")
        return trainCommand(opt);
    return usageError("unknown command '" + cmd + "'");
}

// No exception leaves the program as an abort: an unexpected one is reported as an internal
// error with what it says (the libraries' own exceptions are caught where they are thrown).
int main(int argc, char** argv) {
    try {
        return cliMain(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr,
                     "convscope-cli: internal error: %s\nPlease report it with the "
                     "command line that caused it.\n",
                     e.what());
    } catch (...) {
        std::fprintf(stderr, "convscope-cli: internal error (an unknown exception)\n");
    }
    return 3;
}
