// CIFAR-10 binary batches: plain reads of fixed-size records, with checks that name the file.
#include "data/cifar.h"

#include <filesystem>
#include <fstream>

namespace convscope::data {

namespace {

constexpr std::int64_t kSide = 32, kChannels = 3, kPixels = kChannels * kSide * kSide;
constexpr std::int64_t kRecord = 1 + kPixels; // 3073
constexpr int kClasses = 10;
constexpr std::uintmax_t kMaxBytes = 4ull << 30;

std::string downloadHint() {
    return std::string("Expected data_batch_1.bin .. data_batch_5.bin and test_batch.bin; "
                       "download ") +
           kCifar10Url + ", extract it and pass the cifar-10-batches-bin folder";
}

const std::vector<std::string>& standardNames() {
    static const std::vector<std::string> names = {
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
    return names;
}

std::string trimmed(std::string s) {
    const char* ws = " \t\r\n";
    const auto first = s.find_first_not_of(ws);
    if (first == std::string::npos)
        return {};
    return s.substr(first, s.find_last_not_of(ws) - first + 1);
}

// batches.meta.txt: one class name a line (the real file ends with blank lines).
Result<std::vector<std::string>> readClassNames(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        return Status::error("cannot open the file", path, "Check its permissions");
    std::vector<std::string> names;
    for (std::string line; std::getline(in, line);)
        if (auto t = trimmed(line); !t.empty())
            names.push_back(t);
    if (names.size() != std::size_t(kClasses))
        return Status::error("has " + std::to_string(names.size()) + " class names, expected " +
                                 std::to_string(kClasses),
                             path,
                             "Remove or fix the file (without it the standard names are used)");
    return names;
}

} // namespace

Result<ImageDataset> readCifar10Batch(const std::string& path, const std::string& name) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        return Status::error("file not found", path, downloadHint());
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec)
        return Status::error("cannot read the file size (" + ec.message() + ")", path);
    if (size == 0 || size % kRecord != 0 || size > kMaxBytes)
        return Status::error("the file has " + std::to_string(size) +
                                 " bytes, which is not a whole number of 3073-byte records "
                                 "(1 label byte + 3072 pixel bytes)",
                             path,
                             "The file is truncated or not a CIFAR-10 binary batch; re-download " +
                                 std::string(kCifar10Url));
    const auto count = static_cast<std::int64_t>(size / kRecord);
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
    std::ifstream in(path, std::ios::binary);
    if (!in || !in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(size)))
        return Status::error("cannot read the file", path, "Check its permissions");
    ImageDataset d;
    d.name = name;
    d.count = count;
    d.channels = kChannels;
    d.height = d.width = kSide;
    d.classes = kClasses;
    d.images.resize(static_cast<std::size_t>(count * kPixels));
    d.labels.resize(static_cast<std::size_t>(count));
    for (std::int64_t n = 0; n < count; ++n) {
        const std::uint8_t* rec = bytes.data() + n * kRecord;
        if (rec[0] >= kClasses)
            return Status::error("label " + std::to_string(rec[0]) + " of record " +
                                     std::to_string(n) + " is above 9",
                                 path,
                                 "The file is corrupt or not a CIFAR-10 batch (CIFAR-100 has "
                                 "2 label bytes per record); re-download " +
                                     std::string(kCifar10Url));
        d.labels[std::size_t(n)] = rec[0];
        std::copy(rec + 1, rec + kRecord, d.images.begin() + std::ptrdiff_t(n * kPixels));
    }
    d.classNames = standardNames();
    return d;
}

Result<TrainTestSplit> loadCifar10(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (dir.empty())
        return Status::error("no CIFAR-10 folder given", "CIFAR-10", downloadHint());
    if (!fs::is_directory(dir, ec))
        return Status::error("folder not found", dir, downloadHint());
    auto path = [&](const std::string& f) { return (fs::path(dir) / f).string(); };
    TrainTestSplit s;
    s.train.name = "CIFAR-10 train";
    for (int b = 1; b <= 5; ++b) {
        CS_TRY_ASSIGN(
            ImageDataset part,
            readCifar10Batch(path("data_batch_" + std::to_string(b) + ".bin"), "CIFAR-10 train"));
        if (b == 1) {
            s.train = std::move(part);
            continue;
        }
        s.train.count += part.count;
        s.train.images.insert(s.train.images.end(), part.images.begin(), part.images.end());
        s.train.labels.insert(s.train.labels.end(), part.labels.begin(), part.labels.end());
    }
    CS_TRY_ASSIGN(s.test, readCifar10Batch(path("test_batch.bin"), "CIFAR-10 test"));
    if (const std::string meta = path("batches.meta.txt"); fs::exists(meta, ec)) {
        CS_TRY_ASSIGN(auto names, readClassNames(meta));
        s.train.classNames = s.test.classNames = names;
    }
    computeNormalisation(s);
    return s;
}

} // namespace convscope::data
