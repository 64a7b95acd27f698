// Image folders: directory walk, stb_image decoding, a separable resize and a seeded split.
#include "data/image_folder.h"
#include "core/random.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

namespace convscope::data {
namespace {
// stb_image allocates through these (STBI_MALLOC, STBI_REALLOC): while a file decodes, no block
// may exceed what its header's size justifies (decodeImage sets the limit), so a PNG whose IDAT
// claims more than the file holds, or inflates past its pixels (a decompression bomb), fails
// with "outofmem" instead of taking gigabytes.
thread_local std::size_t t_blockLimit = SIZE_MAX;
thread_local bool t_blockRefused = false;

void* limitedMalloc(std::size_t n) {
    if (n > t_blockLimit) {
        t_blockRefused = true;
        return nullptr;
    }
    return std::malloc(n);
}

void* limitedRealloc(void* p, std::size_t n) {
    if (n > t_blockLimit) {
        t_blockRefused = true;
        return nullptr;
    }
    return std::realloc(p, n);
}
} // namespace
} // namespace convscope::data

// The one stb_image implementation of the project, private to this file (static functions), so
// nothing else can clash with it. PNG and JPEG only keeps the decoder small. The header is the
// tree's copy (engine/third_party/README.md): Debian's v2.27 has memory errors on bad JPEGs.
#define STBI_MALLOC(size) convscope::data::limitedMalloc(size)
#define STBI_REALLOC(p, size) convscope::data::limitedRealloc(p, size)
#define STBI_FREE(p) std::free(p)
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_NO_STDIO
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#include "third_party/stb/stb_image.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace convscope::data {

namespace {

namespace fs = std::filesystem;

constexpr int kMaxSide = 1024;
// What one image may claim before anything is decoded. 2^24 pixels (4096 x 4096; JPEG's padded
// canvas alike) bounds a decode to about 200 MB; 16384 pixels per byte of file is more than any
// honest PNG (1-bit pixels, deflate's 1032:1) or JPEG (at least one bit per 8x8 block) reaches, so
// a small file cannot make stb_image allocate for a huge canvas it does not hold. Files over
// 256 MiB are refused unread.
constexpr std::int64_t kMaxPixels = std::int64_t(1) << 24;
constexpr std::int64_t kMaxPixelsPerByte = 16384;
constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t(256) << 20;

bool isImage(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

bool hidden(const fs::path& p) {
    const std::string n = p.filename().string();
    return !n.empty() && n[0] == '.';
}

// Source taps and weights of each output index along one axis.
struct Taps {
    std::vector<std::vector<std::pair<int, double>>> of;
};

Taps axisTaps(int in, int out) {
    Taps t;
    t.of.resize(static_cast<std::size_t>(out));
    const double s = double(in) / out;
    for (int o = 0; o < out; ++o) {
        auto& taps = t.of[std::size_t(o)];
        if (in >= out) { // area: the source interval [o·s, (o+1)·s), weighted by coverage
            const double a = o * s, b = (o + 1) * s;
            for (int i = int(std::floor(a)); i < int(std::ceil(b)) && i < in; ++i) {
                const double w = std::min(b, double(i + 1)) - std::max(a, double(i));
                if (w > 0)
                    taps.emplace_back(i, w / s);
            }
        } else { // bilinear at the output pixel's centre, clamped at the edges
            const double c = std::clamp((o + 0.5) * s - 0.5, 0.0, double(in - 1));
            const int i0 = int(std::floor(c)), i1 = std::min(i0 + 1, in - 1);
            const double f = c - i0;
            taps.emplace_back(i0, 1.0 - f);
            if (f > 0)
                taps.emplace_back(i1, f);
        }
    }
    return t;
}

using Pixels = std::unique_ptr<stbi_uc, void (*)(void*)>;

// One image file decoded to `channels` interleaved channels, after its header has been checked
// against the limits above.
Result<Pixels> decodeImage(const std::string& path, int channels, int& w, int& h) {
    const char* hint = "Replace or remove the file";
    std::error_code ec;
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec)
        return Status::error("cannot read the file size (" + ec.message() + ")", path, hint);
    if (size > kMaxFileBytes)
        return Status::error("the file has " + std::to_string(size) +
                                 " bytes; images over 256 MiB are not read",
                             path, hint);
    std::string bytes(static_cast<std::size_t>(size), '\0');
    std::ifstream in(path, std::ios::binary);
    if (!in || !in.read(bytes.data(), std::streamsize(size)))
        return Status::error("cannot read the file", path, "Check its permissions");
    const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
    auto header = imageHeader(bytes);
    if (!header.ok())
        return Status::error(header.status().what(), path, hint);
    w = header->width;
    h = header->height;
    const std::int64_t pixels = std::int64_t(w) * h;
    // stb_image decodes JPEG planes padded to whole MCUs (up to 32x32): a 16-million-pixel-wide
    // strip one pixel high takes 33 rows of memory. The padded canvas has the same bound.
    const std::int64_t canvas = (std::int64_t(w) + 32) * (std::int64_t(h) + 32);
    const std::int64_t maxCanvas = (std::int64_t(4096) + 32) * (4096 + 32);
    if (pixels > kMaxPixels || canvas > maxCanvas)
        return Status::error("the image claims " + std::to_string(w) + "x" + std::to_string(h) +
                                 " pixels; convscope decodes at most 4096x4096 (16.7 million, "
                                 "or a strip of that area counting JPEG's 32-pixel blocks)",
                             path,
                             "Shrink it first (the folder's images are scaled to at most "
                             "1024x1024 anyway)");
    if (pixels > kMaxPixelsPerByte * std::int64_t(size))
        return Status::error("the image claims " + std::to_string(w) + "x" + std::to_string(h) +
                                 " pixels in a file of " + std::to_string(size) +
                                 " bytes, more than such a file can hold",
                             path, "The file is corrupt; replace or remove it");
    // The largest block a decode of this size needs: the file's data twice over (PNG gathers
    // its IDAT chunks), 32 bytes a pixel of the canvas padded to whole 32x32 JPEG MCUs (16-bit
    // RGBA rows with their filter bytes, inflated with room to grow; JPEG planes and
    // coefficients), 1 MiB.
    t_blockLimit = std::size_t(2 * size + 32 * std::uint64_t(w + 32) * std::uint64_t(h + 32) +
                               (std::uint64_t(1) << 20));
    t_blockRefused = false;
    int gotW = 0, gotH = 0, got = 0;
    Pixels px(stbi_load_from_memory(data, int(size), &gotW, &gotH, &got, channels),
              stbi_image_free);
    t_blockLimit = SIZE_MAX;
    if (!px && t_blockRefused)
        return Status::error("the image's data needs more memory than its " + std::to_string(w) +
                                 "x" + std::to_string(h) + " pixels justify",
                             path, "The file is corrupt; replace or remove it");
    if (!px)
        return Status::error(std::string("cannot decode the image (") + stbi_failure_reason() + ")",
                             path, hint);
    if (gotW != w || gotH != h)
        return Status::error("the image's size changed while it was decoded", path, hint);
    return px;
}

} // namespace

Result<ImageHeader> imageHeader(std::string_view bytes) {
    if (bytes.size() > std::size_t(INT32_MAX))
        return Status::error("the file has " + std::to_string(bytes.size()) +
                             " bytes, more than an image header is read from");
    ImageHeader header;
    if (!stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), int(bytes.size()),
                               &header.width, &header.height, &header.channels))
        return Status::error(std::string("cannot decode the image (") + stbi_failure_reason() +
                             ")");
    return header;
}

std::vector<std::uint8_t> resizeImage(const std::uint8_t* px, int w, int h, int ch, int outW,
                                      int outH) {
    const Taps tx = axisTaps(w, outW), ty = axisTaps(h, outH);
    // Rows first (h x outW), then columns.
    std::vector<double> mid(static_cast<std::size_t>(h) * outW * ch);
    for (int r = 0; r < h; ++r)
        for (int o = 0; o < outW; ++o)
            for (int c = 0; c < ch; ++c) {
                double v = 0;
                for (auto [i, wt] : tx.of[std::size_t(o)])
                    v += wt * px[(std::size_t(r) * w + i) * ch + c];
                mid[(std::size_t(r) * outW + o) * ch + c] = v;
            }
    std::vector<std::uint8_t> out(static_cast<std::size_t>(outH) * outW * ch);
    for (int o = 0; o < outH; ++o)
        for (int col = 0; col < outW; ++col)
            for (int c = 0; c < ch; ++c) {
                double v = 0;
                for (auto [i, wt] : ty.of[std::size_t(o)])
                    v += wt * mid[(std::size_t(i) * outW + col) * ch + c];
                out[(std::size_t(o) * outW + col) * ch + c] =
                    std::uint8_t(std::clamp(std::lround(v), 0l, 255l));
            }
    return out;
}

Result<TrainTestSplit> loadImageFolder(const std::string& dir, int side, int channels,
                                       double testFraction, std::uint64_t seed) {
    const char* op = "image folder";
    if (side < 1 || side > kMaxSide)
        return Status::error(
            "image side " + std::to_string(side) + " is not in 1.." + std::to_string(kMaxSide), op);
    if (channels != 1 && channels != 3)
        return Status::error(
            "channels must be 1 (grey) or 3 (RGB), not " + std::to_string(channels), op);
    if (!(testFraction >= 0 && testFraction < 1))
        return Status::error(
            "test fraction must be in [0, 1) (got " + std::to_string(testFraction) + ")", op);
    const char* layoutHint = "Give a folder with one subfolder of PNG or JPEG images per class, "
                             "e.g. cats/*.png and dogs/*.jpg";
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return Status::error("folder not found", dir, layoutHint);

    std::vector<fs::path> classDirs;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_directory(ec) && !hidden(it->path()))
            classDirs.push_back(it->path());
    if (ec)
        return Status::error("cannot list the folder (" + ec.message() + ")", dir);
    std::sort(classDirs.begin(), classDirs.end());
    if (classDirs.size() < 2)
        return Status::error("found " + std::to_string(classDirs.size()) +
                                 " class folder(s); at least 2 are needed",
                             dir, layoutHint);
    if (classDirs.size() > 256)
        return Status::error("found " + std::to_string(classDirs.size()) +
                                 " class folders; at most 256 are supported (labels are bytes)",
                             dir);

    std::vector<std::vector<std::string>> files(classDirs.size());
    for (std::size_t k = 0; k < classDirs.size(); ++k) {
        for (fs::directory_iterator it(classDirs[k], ec), end; !ec && it != end; it.increment(ec))
            if (it->is_regular_file(ec) && !hidden(it->path()) && isImage(it->path()))
                files[k].push_back(it->path().string());
        if (ec)
            return Status::error("cannot list the folder (" + ec.message() + ")",
                                 classDirs[k].string());
        if (files[k].empty())
            return Status::error("class folder has no PNG or JPEG images", classDirs[k].string(),
                                 "Add images (.png, .jpg, .jpeg) or remove the folder");
        std::sort(files[k].begin(), files[k].end());
    }

    // Decode every image in class and file-name order, so the first bad file is the one named.
    const std::int64_t plane = std::int64_t(side) * side, D = plane * channels;
    std::vector<std::vector<std::vector<std::uint8_t>>> decoded(files.size());
    for (std::size_t k = 0; k < files.size(); ++k)
        for (const std::string& path : files[k]) {
            int w = 0, h = 0;
            CS_TRY_ASSIGN(Pixels px, decodeImage(path, channels, w, h));
            const auto small = resizeImage(px.get(), w, h, channels, side, side);
            std::vector<std::uint8_t> chw(static_cast<std::size_t>(D)); // HWC to planar CHW
            for (std::int64_t i = 0; i < plane; ++i)
                for (int c = 0; c < channels; ++c)
                    chw[std::size_t(c * plane + i)] = small[std::size_t(i * channels + c)];
            decoded[k].push_back(std::move(chw));
        }

    const std::string base = fs::path(dir).filename().empty()
                                 ? fs::path(dir).parent_path().filename().string()
                                 : fs::path(dir).filename().string();
    auto empty = [&](const std::string& name) {
        ImageDataset d;
        d.name = base + " " + name;
        d.channels = channels;
        d.height = d.width = side;
        d.classes = int(classDirs.size());
        for (const auto& p : classDirs)
            d.classNames.push_back(p.filename().string());
        return d;
    };
    TrainTestSplit s;
    s.train = empty("train");
    s.test = empty("test");
    // The split: a seeded permutation per class, in class order, so it depends only on the files
    // and the seed, not on the order the file system lists them in.
    Rng rng(seed);
    for (std::size_t k = 0; k < decoded.size(); ++k) {
        const auto n = std::int64_t(decoded[k].size());
        const auto perm = rng.permutation(n);
        const auto nTest = std::int64_t(std::lround(double(n) * testFraction));
        for (std::int64_t i = 0; i < n; ++i) {
            ImageDataset& d = i < nTest ? s.test : s.train;
            const auto& img = decoded[k][std::size_t(perm[std::size_t(i)])];
            d.images.insert(d.images.end(), img.begin(), img.end());
            d.labels.push_back(std::uint8_t(k));
            ++d.count;
        }
    }
    if (s.train.count == 0)
        return Status::error("the training set is empty", dir,
                             "Add images or lower the test fraction");
    computeNormalisation(s);
    return s;
}

} // namespace convscope::data
