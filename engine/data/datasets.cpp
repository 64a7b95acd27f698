// Datasets by name: dispatch to the loaders and generators.
#include "data/datasets.h"
#include "data/cifar.h"
#include "data/image_folder.h"
#include "data/synthetic.h"

namespace convscope::data {

std::vector<std::string> datasetNames() {
    return {"fashion-mnist", "cifar10", "folder", "gratings", "blobs", "spirals"};
}

Result<TrainTestSplit> loadDataset(const DatasetRequest& r) {
    if (r.name == "fashion-mnist")
        return loadFashionMnist(r.dir);
    if (r.name == "cifar10") {
        if (r.dir.empty())
            return Status::error(
                "CIFAR-10 needs its folder", "cifar10",
                "Download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, "
                "extract it and pass the cifar-10-batches-bin folder with --data");
        return loadCifar10(r.dir);
    }
    if (r.name == "folder") {
        if (r.dir.empty())
            return Status::error("an image folder dataset needs its folder", "folder",
                                 "Pass a folder with one subfolder of PNG/JPEG images per class");
        return loadImageFolder(r.dir, r.side, r.channels, 0.2, r.seed);
    }
    if (r.name == "gratings")
        return makeGratingsSplit(6000, 1000, r.side, 4, r.seed);
    if (r.name == "blobs")
        return makeBlobsSplit(6000, 1000, r.side, 4, r.seed);
    if (r.name == "spirals")
        return makeSpiralsSplit(3000, 1000, 3, r.seed);
    std::string names;
    for (const auto& n : datasetNames())
        names += (names.empty() ? "" : ", ") + n;
    return Status::error("unknown dataset \"" + r.name + "\"", "dataset", "Use one of: " + names);
}

} // namespace convscope::data
