// What `convscope-cli train` and `train --twin` share: the options read into a configuration,
// the network and the dataset loaded, and the progress lines.
#pragma once

#include "cli_options.h"
#include "data/datasets.h"
#include "model/netspec.h"
#include "train/trainer.h"

namespace convscope::cli {

struct TrainSetup {
    train::TrainConfig cfg;
    BackendOptions backend;
    data::DatasetRequest dataset;
    model::NetSpec spec; // fitted to the dataset's images; analyze() passed
    data::TrainTestSplit data;
    std::string outDir, resume;
    int logEvery = 100;
};

// Reads train's options, loads the network (with its training defaults) and the dataset and
// prints the notes. 0 when all is well, else the exit code of the error it reported (2: usage).
int prepareTrain(const Options& opt, TrainSetup& s);
// "epoch 1/3 [####----] 50% step 47/94 loss 0.4321 (smoothed 0.4500) lr 0.02 5,321 img/s ETA 9s"
std::string stepLine(const train::StepReport& r, int epochs, std::int64_t batch, double smoothed);
// "epoch 1: train loss 0.5 acc 0.8 | test loss 0.45 acc 0.84 | 11.5 s, 5,210 img/s"
std::string epochLine(const train::EpochReport& e);
// 111932 -> "111,932"
std::string thousands(double v);
// After training on Vulkan with validation on: prints the message count; 1 when there were any.
int validationExit(Backend& be);

// train --twin KEY=VALUE (cli_compare.cpp): the pair into DIR/a and DIR/b, then compared.
int twinTrainCommand(const Options& opt, TrainSetup& s, const std::atomic<bool>* cancel);
// compare RUN_A RUN_B [--csv FILE], or compare DIR of a twin pair (DIR/a, DIR/b).
int compareCommand(const std::vector<std::string>& args, const Options& opt);
extern const char* const kCompareUsage;
extern const std::vector<std::string> kCompareOptions; // options only compare and --twin take

} // namespace convscope::cli
