// Datasets by name, for the command line and the GUI: fashion-mnist, cifar10, an image folder,
// and the synthetic sets (gratings, blobs, spirals) that need no download.
#pragma once

#include "data/idx.h"
#include <string>
#include <vector>

namespace convscope::data {

struct DatasetRequest {
    std::string name =
        "fashion-mnist";    // fashion-mnist | cifar10 | folder | gratings | blobs | spirals
    std::string dir;        // fashion-mnist (default: the Debian package), cifar10, folder
    int side = 28;          // folder and synthetic images: side x side pixels
    int channels = 1;       // folder: 1 (grey) or 3 (RGB)
    std::uint64_t seed = 1; // synthetic sets and the folder's train/test split
};

std::vector<std::string> datasetNames();
// Where fetched datasets live: $CONVSCOPE_DATA_DIR, else $XDG_DATA_HOME/convscope/data, else
// ~/.local/share/convscope/data. CIFAR-10 without a folder is looked for there.
std::string defaultDataDir();
Result<TrainTestSplit> loadDataset(const DatasetRequest& request);
// The sizes loadDataset gives `request` (counts, channels, side, classes), without its images,
// for estimates before loading; false for a folder, whose size is known once it is read.
bool datasetShape(const DatasetRequest& request, TrainTestSplit& shape);

} // namespace convscope::data
