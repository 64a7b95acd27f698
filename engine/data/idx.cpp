// IDX reading and writing through zlib (gzread reads raw files transparently).
#include "data/idx.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <zlib.h>

namespace convscope::data {

namespace {

constexpr std::uint64_t kMaxBytes = 4ull << 30; // refuse files that decompress past 4 GiB

const char* kInstallHint = "Install it with: sudo apt-get install dataset-fashion-mnist, or "
                           "point --data at a folder with the four IDX files";

Result<std::vector<std::uint8_t>> slurp(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        return Status::error("file not found", path, kInstallHint);
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f)
        return Status::error("cannot open the file", path, "Check its permissions");
    std::vector<std::uint8_t> bytes;
    std::uint8_t buf[1 << 16];
    for (;;) {
        int n = gzread(f, buf, sizeof buf);
        if (n < 0) {
            int code = 0;
            std::string msg = gzerror(f, &code);
            gzclose(f);
            return Status::error("the file is corrupt (" + msg + ")", path,
                                 "Reinstall or re-download it");
        }
        if (n == 0)
            break;
        bytes.insert(bytes.end(), buf, buf + n);
        if (bytes.size() > kMaxBytes) {
            gzclose(f);
            return Status::error("the file is larger than 4 GiB", path);
        }
    }
    int code = 0;
    std::string msg = gzerror(f, &code);
    gzclose(f);
    if (code != Z_OK && code != Z_STREAM_END)
        return Status::error("the file is corrupt or truncated (" + msg + ")", path,
                             "Reinstall or re-download it");
    return bytes;
}

} // namespace

Result<IdxArray> readIdx(const std::string& path) {
    CS_TRY_ASSIGN(auto bytes, slurp(path));
    if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0)
        return Status::error("not an IDX file (bad magic number)", path,
                             "Expected an MNIST-format file such as train-images-idx3-ubyte.gz");
    if (bytes[2] != 0x08)
        return Status::error("IDX element type " + std::to_string(bytes[2]) +
                                 " is not supported (only unsigned bytes, 0x08)",
                             path);
    const int rank = bytes[3];
    if (rank < 1 || rank > 4 || bytes.size() < 4u + 4u * rank)
        return Status::error("IDX header is truncated or has " + std::to_string(rank) +
                                 " dimensions",
                             path, "Reinstall or re-download the file");
    IdxArray a;
    std::uint64_t total = 1;
    for (int i = 0; i < rank; ++i) {
        const std::uint8_t* p = bytes.data() + 4 + 4 * i;
        std::uint64_t d = (std::uint64_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
        if (d == 0 || d > kMaxBytes)
            return Status::error("IDX dimension " + std::to_string(i) + " is " + std::to_string(d),
                                 path, "The file is corrupt; reinstall or re-download it");
        a.dims.push_back(std::int64_t(d));
        total *= d;
        if (total > kMaxBytes)
            return Status::error("IDX header announces more than 4 GiB", path);
    }
    const std::size_t header = 4 + 4 * std::size_t(rank);
    if (bytes.size() - header != total)
        return Status::error("IDX header announces " + std::to_string(total) +
                                 " bytes of data but " + std::to_string(bytes.size() - header) +
                                 " follow",
                             path, "The file is truncated or corrupt; reinstall or re-download it");
    a.values.assign(bytes.begin() + std::ptrdiff_t(header), bytes.end());
    return a;
}

Status writeIdx(const std::string& path, const IdxArray& a, bool gzip) {
    std::vector<std::uint8_t> bytes = {0, 0, 0x08, std::uint8_t(a.dims.size())};
    for (auto d : a.dims)
        for (int s = 24; s >= 0; s -= 8)
            bytes.push_back(std::uint8_t(d >> s));
    bytes.insert(bytes.end(), a.values.begin(), a.values.end());
    gzFile f = gzopen(path.c_str(), gzip ? "wb6" : "wbT");
    if (!f)
        return Status::error("cannot create the file", path);
    int n = gzwrite(f, bytes.data(), unsigned(bytes.size()));
    int rc = gzclose(f);
    if (n != int(bytes.size()) || rc != Z_OK)
        return Status::error("cannot write the file", path, "Is the disk full?");
    return {};
}

Result<ImageDataset> loadIdxSplit(const std::string& imagesPath, const std::string& labelsPath,
                                  int classes, const std::string& name) {
    CS_TRY_ASSIGN(IdxArray img, readIdx(imagesPath));
    CS_TRY_ASSIGN(IdxArray lab, readIdx(labelsPath));
    if (img.dims.size() != 3)
        return Status::error(
            "an images file needs 3 dimensions (count, rows, columns), this one has " +
                std::to_string(img.dims.size()),
            imagesPath);
    if (lab.dims.size() != 1)
        return Status::error("a labels file needs 1 dimension, this one has " +
                                 std::to_string(lab.dims.size()),
                             labelsPath);
    if (img.dims[0] != lab.dims[0])
        return Status::error(std::to_string(img.dims[0]) + " images but " +
                                 std::to_string(lab.dims[0]) + " labels in " + labelsPath,
                             imagesPath, "The two files do not belong together");
    for (std::size_t i = 0; i < lab.values.size(); ++i)
        if (lab.values[i] >= classes)
            return Status::error("label " + std::to_string(lab.values[i]) + " of item " +
                                     std::to_string(i) + " is not below " + std::to_string(classes),
                                 labelsPath, "The file is corrupt or from another dataset");
    ImageDataset d;
    d.name = name;
    d.count = img.dims[0];
    d.height = img.dims[1];
    d.width = img.dims[2];
    d.classes = classes;
    d.images = std::move(img.values);
    d.labels = std::move(lab.values);
    return d;
}

std::string defaultFashionMnistDir() {
    return "/usr/share/datasets/fashion-mnist";
}

void computeNormalisation(TrainTestSplit& s) {
    double sum = 0, sq = 0;
    for (std::uint8_t v : s.train.images) {
        sum += v;
        sq += double(v) * v;
    }
    const double n = double(s.train.images.size()) * 255.0;
    s.mean = sum / n;
    s.std = std::sqrt(std::max(sq / (n * 255.0) - s.mean * s.mean, 1e-12));
}

Result<TrainTestSplit> loadFashionMnist(const std::string& dirArg) {
    std::string dir = dirArg;
    if (dir.empty())
        if (const char* env = std::getenv("CONVSCOPE_FASHION_MNIST"); env && *env)
            dir = env;
    if (dir.empty())
        dir = defaultFashionMnistDir();
    auto path = [&](const char* f) { return (std::filesystem::path(dir) / f).string(); };
    const std::vector<std::string> names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                            "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                            "Bag",         "Ankle boot"};
    TrainTestSplit s;
    CS_TRY_ASSIGN(s.train,
                  loadIdxSplit(path("train-images-idx3-ubyte.gz"),
                               path("train-labels-idx1-ubyte.gz"), 10, "Fashion-MNIST train"));
    CS_TRY_ASSIGN(s.test,
                  loadIdxSplit(path("t10k-images-idx3-ubyte.gz"), path("t10k-labels-idx1-ubyte.gz"),
                               10, "Fashion-MNIST test"));
    if (s.train.height != s.test.height || s.train.width != s.test.width)
        return Status::error("train and test images differ in size", dir);
    s.train.classNames = s.test.classNames = names;
    computeNormalisation(s);
    return s;
}

} // namespace convscope::data
