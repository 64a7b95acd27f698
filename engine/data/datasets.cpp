// Datasets by name: dispatch to the loaders and generators.
#include "data/datasets.h"
#include "data/cifar.h"
#include "data/image_folder.h"
#include "data/synthetic.h"

#include <cstdlib>
#include <filesystem>

namespace convscope::data {

std::vector<std::string> datasetNames() {
    return {"fashion-mnist", "cifar10", "folder", "gratings", "blobs", "spirals"};
}

std::string defaultDataDir() {
    if (const char* d = std::getenv("CONVSCOPE_DATA_DIR"); d && *d)
        return d;
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x)
        return (std::filesystem::path(x) / "convscope" / "data").string();
    const char* home = std::getenv("HOME");
    return (std::filesystem::path(home && *home ? home : ".") / ".local" / "share" / "convscope" /
            "data")
        .string();
}

namespace {
// The synthetic sets: train and test counts, classes.
constexpr std::int64_t kSyntheticTrain = 6000, kSyntheticTest = 1000, kSpiralsTrain = 3000;
constexpr int kSyntheticClasses = 4, kSpiralsClasses = 3;
} // namespace

bool datasetShape(const DatasetRequest& r, TrainTestSplit& shape) {
    auto set = [&](std::int64_t train, std::int64_t test, std::int64_t c, std::int64_t h,
                   std::int64_t w, int classes) {
        for (ImageDataset* d : {&shape.train, &shape.test}) {
            d->name = r.name;
            d->count = d == &shape.train ? train : test;
            d->channels = c;
            d->height = h;
            d->width = w;
            d->classes = classes;
        }
        return true;
    };
    if (r.name == "fashion-mnist")
        return set(60000, 10000, 1, 28, 28, 10);
    if (r.name == "cifar10")
        return set(50000, 10000, 3, 32, 32, 10);
    if (r.name == "gratings" || r.name == "blobs")
        return set(kSyntheticTrain, kSyntheticTest, 1, r.side, r.side, kSyntheticClasses);
    if (r.name == "spirals")
        return set(kSpiralsTrain, kSyntheticTest, 2, 1, 1, kSpiralsClasses);
    return false;
}

Result<TrainTestSplit> loadDataset(const DatasetRequest& r) {
    if (r.name == "fashion-mnist")
        return loadFashionMnist(r.dir);
    if (r.name == "cifar10") {
        if (!r.dir.empty())
            return loadCifar10(r.dir);
        const auto fetched = std::filesystem::path(defaultDataDir()) / "cifar-10-batches-bin";
        std::error_code ec;
        if (std::filesystem::is_directory(fetched, ec))
            return loadCifar10(fetched.string());
        return Status::error("CIFAR-10 is not in " + defaultDataDir() + " and no folder was given",
                             "cifar10",
                             "Get it with `convscope-cli fetch cifar10` (or File → Get CIFAR-10… "
                             "in the window), or download cifar-10-binary.tar.gz from "
                             "https://www.cs.toronto.edu/~kriz/cifar.html, extract it and pass "
                             "the cifar-10-batches-bin folder with --data");
    }
    if (r.name == "folder") {
        if (r.dir.empty())
            return Status::error("an image folder dataset needs its folder", "folder",
                                 "Pass a folder with one subfolder of PNG/JPEG images per class");
        return loadImageFolder(r.dir, r.side, r.channels, 0.2, r.seed);
    }
    if (r.name == "gratings")
        return makeGratingsSplit(kSyntheticTrain, kSyntheticTest, r.side, kSyntheticClasses,
                                 r.seed);
    if (r.name == "blobs")
        return makeBlobsSplit(kSyntheticTrain, kSyntheticTest, r.side, kSyntheticClasses, r.seed);
    if (r.name == "spirals")
        return makeSpiralsSplit(kSpiralsTrain, kSyntheticTest, kSpiralsClasses, r.seed);
    std::string names;
    for (const auto& n : datasetNames())
        names += (names.empty() ? "" : ", ") + n;
    return Status::error("unknown dataset \"" + r.name + "\"", "dataset", "Use one of: " + names);
}

} // namespace convscope::data
