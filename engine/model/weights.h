// Weight I/O: a network's parameters and batch-norm statistics to and from safetensors (tensor
// names as in the spec, PyTorch's state_dict keys), and checkpoints read without a trainer.
// The trainer (train/) and the analyses (analysis/) both load weights through here.
#pragma once

#include "backend/backend.h"
#include "io/safetensors.h"
#include "model/network.h"
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace convscope::model {

// Every named tensor of `net` (parameters and running statistics) as F32, shaped as PyTorch
// shapes it. Waits for the submitted work first.
Result<io::SafeTensors> readWeights(Backend& be, const Network& net);
// Fails when a floating-point tensor of `file` holds NaN or ±Inf: names the first such tensor
// and how many of its values are not finite (a run that diverged before it was saved).
Status checkFinite(const io::SafeTensors& file, const std::string& where);
// Writes the tensors of `file` into `net`'s parameters and buffers (all finite: checkFinite); every
// tensor the network has must be there with the right element count. `where` names the file in
// errors.
Status writeWeights(Backend& be, const Network& net, const io::SafeTensors& file,
                    const std::string& where);

// A checkpoint on disk: its spec (from the file's metadata, else the run's spec.json), its
// tensors and what the run recorded about its data.
struct Checkpoint {
    std::string path;
    NetSpec spec;
    io::SafeTensors file;
    std::string dataset;           // "fashion-mnist", "cifar10", ... (empty when not recorded)
    double mean = 0, std = 1;      // the dataset's normalisation: the network saw (x − mean)/std
    bool hasNormalization = false; // mean and std were in the metadata
    std::int64_t step = 0;
};

// The run's checkpoints <run>/checkpoints/step-N.safetensors as (N, path), sorted by N; other
// files in the folder are skipped. Empty when the folder is missing.
std::vector<std::pair<std::int64_t, std::string>> checkpointFiles(const std::string& runDir);
// The checkpoint with the highest step in <run>/checkpoints/step-N.safetensors, or the file
// itself when `runOrFile` is a file.
Result<std::string> latestCheckpoint(const std::string& runOrFile);
// Loads latestCheckpoint(runOrFile) and its spec; refuses weights that are not finite. Errors
// name the file and what to do.
Result<Checkpoint> loadCheckpoint(const std::string& runOrFile);

} // namespace convscope::model
