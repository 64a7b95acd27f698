// A checkpoint together with the dataset it was trained on: what every analysis opens first.
// The dataset is the one the checkpoint recorded (or a named one), at the network's image size,
// and the checkpoint's normalisation falls back to the dataset's statistics for older files.
#pragma once

#include "data/datasets.h"
#include "model/weights.h"
#include <string>

namespace convscope::analysis {

struct CheckpointData {
    model::Checkpoint ckpt;
    data::TrainTestSplit data;
    std::string dataset; // the dataset's name, as loadDataset knows it
};

// Dataset `name` (from `dir`, empty: its default folder) at `spec`'s image size; fails with a
// clear message (`where`: the network's file) when its images do not fit the network.
Result<data::TrainTestSplit> loadDatasetFor(const model::NetSpec& spec, const std::string& name,
                                            const std::string& dir, const std::string& where);

// `runOrFile`: a run folder (its latest checkpoint) or a .safetensors file. `dataset` empty:
// the dataset the checkpoint names (Fashion-MNIST when it names none); `dataDir` empty: the
// dataset's default folder. Fails with a clear message when the images do not fit the network.
Result<CheckpointData> loadCheckpointData(const std::string& runOrFile,
                                          const std::string& dataset = {},
                                          const std::string& dataDir = {});

} // namespace convscope::analysis
