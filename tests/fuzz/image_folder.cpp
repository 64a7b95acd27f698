// Fuzz target: image decoding in an image folder (data::loadImageFolder): the input is one
// class's only image (a/input.png; stb_image goes by the content, so JPEG too), beside a fixed
// 2x2 PNG in class b. Odd-sized inputs load as RGB, even-sized as grey.
// Checks: no crash or leak; a folder read has two classes of side x side images; an error names
// the file; the heap grows by at most 64 × the larger of the file and the pixels its header
// claims (data::imageHeader, the header read the loader bounds its pixels with), on the canvas
// padded to whole 32x32 JPEG MCUs (4 bytes each; stb decodes JPEG planes padded so): a
// compressed image is allowed the memory of its decoded pixels, which the loader bounds
// (data/image_folder.cpp: kMaxPixels, kMaxPixelsPerByte, and the block limit stb_image
// allocates under).
#include "data/image_folder.h"
#include "fuzz_support.h"
#include "io/png.h"

using namespace convscope;

namespace {

constexpr int kSide = 8;

const std::string& fixedImage() {
    static const std::string path = [] {
        const std::string p = (fuzz::scratch() / "images" / "b" / "fixed.png").string();
        std::filesystem::create_directories(std::filesystem::path(p).parent_path());
        io::Canvas c(2, 2, {10, 200, 30});
        c.set(1, 1, {250, 0, 90});
        if (!io::savePng(p, c).ok())
            std::abort();
        return p;
    }();
    return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)fixedImage();
    const std::string path = fuzz::writeScratch("images/a/input.png", data, size);
    const std::string dir = (fuzz::scratch() / "images").string();
    const int channels = size % 2 ? 3 : 1;
    std::uint64_t claimed = 0;
    if (auto header = data::imageHeader({reinterpret_cast<const char*>(data), size}); header.ok())
        claimed = std::uint64_t(header->width + 32) * std::uint64_t(header->height + 32) * 4;
    fuzz::AllocationBound bound;
    {
        auto r = data::loadImageFolder(dir, kSide, channels, 0.0, 1);
        if (r.ok()) {
            const auto& d = r->train;
            if (d.classes != 2 || d.count != 2 || d.channels != channels || d.height != kSide ||
                d.images.size() != std::size_t(2 * channels * kSide * kSide))
                std::abort();
        } else if (r.status().message().find(path) == std::string::npos) {
            std::abort();
        }
    }
    bound.check("image_folder", std::max<std::uint64_t>(size, claimed), 64);
    return 0;
}
