// Controlled experiments: a twin of a network and its training settings that differs in exactly
// one named thing (batch norm, dropout, initialisation, activation, shortcuts, optimizer,
// learning rate, batch size), and the pair trained interleaved on one backend with the same
// seed, the same initial weights wherever names and shapes agree, and the same data order.
//
//   auto change = parseTwin("bn=off");                    // or a GUI's key and value
//   auto twin = makeTwin(spec, cfg, *change);             // twin->spec, twin->config
//   PairOptions o;  o.dirs = {"runs/x/a", "runs/x/b"};  o.onStep = ...;
//   Status s = trainPair(backend, spec, cfg, *twin, data, o);
//
// Each run folder is what `convscope-cli train --out DIR` writes (spec.json, metrics.csv,
// layers.csv, checkpoints/) plus twin.json, which pairs the two folders:
//   {"format": "convscope-twin-1", "run": "a" | "b", "change": "bn=off", "key": "bn",
//    "value": "off", "description": "...", "other": "../b" (relative to this folder),
//    "shared": ["conv1.weight", ...], "not_shared": ["bn1.weight (only in a)", ...],
//    "seed": 1, "dataset": "fashion-mnist"}
#pragma once

#include "model/netspec.h"
#include "model/network.h"
#include "train/trainer.h"
#include <array>
#include <atomic>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace convscope::train {

// One named difference: key "bn", value "off".
struct TwinChange {
    std::string key, value;
    std::string str() const { return key + "=" + value; } // "bn=off"
    bool operator==(const TwinChange&) const = default;
};

// The keys and the values each takes, for help texts and pickers:
//   bn          on | off
//   dropout     off | a rate in (0, 1)
//   init        he | he-normal | he-uniform | xavier | xavier-normal | xavier-uniform | zeros |
//               normal(σ)
//   activation  relu | sigmoid | tanh | leaky
//   shortcut    none | identity | projection
//   optimizer   sgd | momentum | nesterov | rmsprop | adam | adamw
//   lr          a positive number
//   batch       a whole number, 1..8192
struct TwinKey {
    const char* key;
    const char* values; // "on | off"
    const char* what;   // "batch norm after every conv and hidden linear layer"
};
const std::vector<TwinKey>& twinKeys();

// "bn=off" → {"bn", "off"} with the value checked (spaces around both parts are ignored);
// errors list the valid keys or values.
Result<TwinChange> parseTwin(const std::string& keyEqualsValue);
// The same from a key and a value (a GUI's combo boxes).
Result<TwinChange> checkTwin(const std::string& key, const std::string& value);

struct Twin {
    TwinChange change;
    model::NetSpec spec;         // the twin's network (analyze() passes)
    TrainConfig config;          // the twin's settings
    std::string description;     // one line: "batch norm off: 6 batch_norm layers removed"
    bool networkChanged = false; // the spec differs (else only the settings)
};

// The twin of (spec, cfg) that differs in `change`. Network keys apply inside residual bodies
// and concat branches too:
//   bn=on        a batch_norm after every conv2d and linear layer that has none, but not after
//                the classifier (the last learnable layer), and on projection shortcuts;
//                bn=off removes every batch_norm (and projection shortcuts' batch norm)
//   dropout=R    where the network has dropout: rate R for each; else a dropout of rate R
//                before every linear layer that follows another linear layer (fc2 and fc3 of
//                lenet5, as in lenet5-dropout), or, where the only linear layer follows
//                convolutions (resnet20), before that one; dropout=off removes every dropout
//   init=S       the network's default init and every layer's own init set to S
//   activation=A every relu/leaky_relu/sigmoid/tanh layer; a residual block's relu after the
//                add (a NetSpec allows relu or none there) becomes none followed by an A layer
//                "<block>_act"
//   shortcut=X   every residual block's shortcut; none→identity only where the body keeps the
//                shape (else projection)
//   optimizer=O  the optimizer (lr: 0.001 for adam/adamw from sgd/momentum and back to 0.02)
//   lr=X, batch=N  the settings
// A change that changes nothing (bn=off on a network without batch norm) is an error saying so.
Result<Twin> makeTwin(const model::NetSpec& spec, const TrainConfig& cfg, const TwinChange& change);

// Which parameter and buffer tensors two networks share (same PyTorch name and shape), in A's
// order; the rest with where they are: "bn1.weight (only in a)", "fc1.weight (6x120 in a,
// 6x84 in b)". An init twin shares none (its weights are its own by design).
struct SharedWeights {
    std::vector<std::string> shared, notShared;
};

struct PairOptions {
    // Run folders of A and B (both empty: none written). Created like `convscope-cli train
    // --out`, with twin.json beside; their metrics.csv and checkpoints follow each run.
    std::array<std::string, 2> dirs;
    std::string datasetName; // for the checkpoints' metadata and twin.json
    // Callbacks from the calling thread, tagged with the run: 0 = A, 1 = B.
    std::function<void(int run, const StepReport&)> onStep;
    std::function<void(int run, const EpochReport&)> onEpoch;
    const std::atomic<bool>* cancel = nullptr; // stops both within a slice
    // After each slice of run `run`, with nothing in flight: the place to read the run's
    // weights, filters or a probe (trainer.probe(), network.namedTensors()) for a live view.
    std::function<void(int run, Trainer& trainer, const model::Network& network)> afterSlice;
    // The runs alternate in slices of about this many seconds (at most a twentieth of a run);
    // the one further behind (as a fraction of its planned steps) goes next, so both curves grow
    // together. Slicing does not change the results.
    double sliceSeconds = 0.2;
};

struct PairResult {
    SharedWeights weights;
    std::array<std::int64_t, 2> steps{0, 0}; // steps done by A and B
    std::array<Status, 2> status;            // each run's own outcome
};

// Trains A = (specA, cfgA) and B = (twin.spec, twin.config) on `data`, interleaved on the
// calling thread and the one backend `be` (reset first: it then holds both runs' tensors; its
// tensors stay readable until the next reset). Both are initialised with their own seed, then
// every tensor of A whose name and shape B shares is copied into B (not for init twins); both
// shuffle with the same seed, so the order of images is the same (the batches too unless the
// batch size differs). Each run is bitwise the same as training it alone with its settings.
// A run that fails (diverges) stops and the other goes on; the result is the first failure
// ("run b (lr=10): ..."), or the cancellation. `result`, when given, says what was shared and
// how far each run got.
Status trainPair(Backend& be, const model::NetSpec& specA, const TrainConfig& cfgA,
                 const Twin& twin, const data::TrainTestSplit& data, const PairOptions& options,
                 PairResult* result = nullptr);

// The tensors of two set-up networks on one backend that share name and shape; with `copy`, A's
// values are written into B's.
Result<SharedWeights> shareWeights(Backend& be, const model::Network& a, const model::Network& b,
                                   bool copy);

} // namespace convscope::train
