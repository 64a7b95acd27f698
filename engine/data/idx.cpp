// IDX reading and writing through zlib (gzread reads raw files transparently).
#include "data/idx.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <zlib.h>

namespace convscope::data {

namespace {

constexpr std::uint64_t kMaxBytes = 4ull << 30; // refuse files that decompress past 4 GiB
// Deflate cannot inflate one byte into more than 1032 (258-byte matches at 2 bits each), so a
// gzip file of N bytes announcing more than 1032·N bytes of data is lying.
constexpr std::uint64_t kMaxInflation = 1032;

const char* kInstallHint = "Install it with: sudo apt-get install dataset-fashion-mnist, or "
                           "point --data at a folder with the four IDX files";
const char* kRedownload = "Reinstall or re-download it";

// An open IDX file, gzip or raw (gzread reads raw files transparently).
class GzReader {
public:
    explicit GzReader(const std::string& path) : m_f(gzopen(path.c_str(), "rb")) {}
    ~GzReader() {
        if (m_f)
            gzclose(m_f);
    }
    GzReader(const GzReader&) = delete;
    GzReader& operator=(const GzReader&) = delete;
    bool open() const { return m_f != nullptr; }
    bool gzip() const { return !gzdirect(m_f); } // valid after the first read

    // Reads up to n bytes, fewer only at the end of the data; -1 on a zlib error.
    std::int64_t read(std::uint8_t* dst, std::uint64_t n) {
        std::uint64_t got = 0;
        while (got < n) {
            const int r =
                gzread(m_f, dst + got, unsigned(std::min<std::uint64_t>(n - got, 1u << 30)));
            if (r < 0)
                return -1;
            if (r == 0)
                break;
            got += std::uint64_t(r);
        }
        return std::int64_t(got);
    }
    // Reads the rest without keeping it (at most up to 4 GiB): how many bytes were left, or -1.
    std::int64_t skipRest() {
        std::uint8_t buf[1 << 14];
        std::uint64_t total = 0;
        for (std::int64_t n; (n = read(buf, sizeof buf)) != 0; total += std::uint64_t(n))
            if (n < 0 || total > kMaxBytes)
                return n < 0 ? -1 : std::int64_t(total);
        return std::int64_t(total);
    }
    // zlib's complaint about the stream, empty when it is fine.
    std::string error() const {
        int code = Z_OK;
        const char* msg = gzerror(m_f, &code);
        return code == Z_OK || code == Z_STREAM_END ? std::string() : std::string(msg);
    }

private:
    gzFile m_f;
};

} // namespace

Result<IdxArray> readIdx(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        return Status::error("file not found", path, kInstallHint);
    const std::uintmax_t fileSize = std::filesystem::file_size(path, ec);
    if (ec)
        return Status::error("cannot read the file size (" + ec.message() + ")", path);
    GzReader in(path);
    if (!in.open())
        return Status::error("cannot open the file", path, "Check its permissions");
    // A damaged gzip stream explains every other fault, so it is what is reported; the rest of
    // the stream is read (not kept) to find out.
    // fail({}): zlib failed a read.
    auto fail = [&](Status s) -> Status {
        const bool damaged = !in.error().empty() || (in.gzip() && in.skipRest() < 0);
        if (damaged || s.ok())
            return Status::error("the file is corrupt or truncated (" + in.error() + ")", path,
                                 kRedownload);
        return s;
    };
    std::uint8_t head[4 + 4 * 4];
    const std::int64_t got = in.read(head, 4);
    if (got < 0)
        return fail({});
    if (got < 4 || head[0] != 0 || head[1] != 0)
        return fail(
            Status::error("not an IDX file (bad magic number)", path,
                          "Expected an MNIST-format file such as train-images-idx3-ubyte.gz"));
    if (head[2] != 0x08)
        return fail(Status::error("IDX element type " + std::to_string(head[2]) +
                                      " is not supported (only unsigned bytes, 0x08)",
                                  path));
    const int rank = head[3];
    if (rank < 1 || rank > 4 || in.read(head + 4, 4u * rank) != 4 * rank)
        return fail(
            Status::error("IDX header is truncated or has " + std::to_string(rank) + " dimensions",
                          path, kRedownload));
    IdxArray a;
    std::uint64_t total = 1;
    for (int i = 0; i < rank; ++i) {
        const std::uint8_t* p = head + 4 + 4 * i;
        const std::uint64_t d = (std::uint64_t(p[0]) << 24) | (std::uint64_t(p[1]) << 16) |
                                (std::uint64_t(p[2]) << 8) | p[3];
        if (d == 0 || d > kMaxBytes)
            return fail(
                Status::error("IDX dimension " + std::to_string(i) + " is " + std::to_string(d),
                              path, "The file is corrupt; reinstall or re-download it"));
        a.dims.push_back(std::int64_t(d));
        total *= d;
        if (total > kMaxBytes)
            return fail(Status::error("IDX header announces more than 4 GiB", path));
    }
    const std::uint64_t header = 4 + 4 * std::uint64_t(rank);
    auto mismatch = [&](std::uint64_t follow) {
        return Status::error("IDX header announces " + std::to_string(total) +
                                 " bytes of data but " + std::to_string(follow) + " follow",
                             path, "The file is truncated or corrupt; reinstall or re-download it");
    };
    // Checked before anything is allocated: a raw file's size is known, a gzip file's bounds it.
    if (!in.gzip() && fileSize != header + total)
        return mismatch(fileSize - std::min<std::uint64_t>(fileSize, header));
    if (in.gzip() && total > kMaxInflation * fileSize)
        return fail(Status::error(
            "IDX header announces " + std::to_string(total) + " bytes of data, more than a " +
                std::to_string(fileSize) + "-byte gzip file can hold",
            path, "The file is truncated or corrupt; reinstall or re-download it"));
    // The data, in chunks: memory grows with what arrives, not with what the header claims.
    constexpr std::uint64_t kChunk = 1u << 20;
    std::uint64_t have = 0;
    while (have < total) {
        const std::uint64_t want = std::min(total - have, kChunk);
        a.values.resize(std::size_t(have + want));
        const std::int64_t n = in.read(a.values.data() + have, want);
        if (n < 0)
            return fail({});
        have += std::uint64_t(n);
        if (std::uint64_t(n) < want)
            break;
    }
    a.values.resize(std::size_t(have));
    if (have < total)
        return fail(mismatch(have));
    const std::int64_t extra = in.skipRest();
    if (extra < 0 || !in.error().empty())
        return fail({});
    if (extra > 0)
        return mismatch(total + std::uint64_t(extra));
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
