// PNG pictures: stb_image_write encodes to memory, writeFileAtomic puts it on disk; stb_easy_font
// gives the quads of each character, which are filled as rectangles.
#include "io/png.h"
#include "io/atomic_file.h"

#include <algorithm>
#include <cstring>

// The one stb_image_write implementation of the project, private to this file (encodePng and
// encodeJpeg expose it).
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STBI_WRITE_NO_STDIO
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb/stb_easy_font.h>
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace convscope::io {

Canvas::Canvas(int w, int h, Rgb c)
    : width(w), height(h), rgb(std::size_t(w) * std::size_t(h) * 3) {
    fill(0, 0, w, h, c);
}

void Canvas::set(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= width || y >= height)
        return;
    std::uint8_t* p = rgb.data() + (std::size_t(y) * std::size_t(width) + std::size_t(x)) * 3;
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
}

void Canvas::fill(int x, int y, int w, int h, Rgb c) {
    for (int yy = std::max(0, y); yy < std::min(height, y + h); ++yy)
        for (int xx = std::max(0, x); xx < std::min(width, x + w); ++xx)
            set(xx, yy, c);
}

void Canvas::blit(const Canvas& src, int x, int y) {
    for (int yy = 0; yy < src.height; ++yy)
        for (int xx = 0; xx < src.width; ++xx) {
            const std::uint8_t* p =
                src.rgb.data() + (std::size_t(yy) * std::size_t(src.width) + std::size_t(xx)) * 3;
            set(x + xx, y + yy, {p[0], p[1], p[2]});
        }
}

namespace {
// The bitmap font knows printable ASCII only (a byte ≥ 0x80 indexed before its table): the
// Greek letters and symbols the analyses write are spelled out, anything else becomes '?'.
std::vector<char> asciiText(const std::string& s) {
    static const std::pair<const char*, const char*> kNames[] = {
        {"α", "alpha"}, {"β", "beta"},  {"γ", "gamma"},  {"δ", "delta"}, {"ε", "eps"},
        {"η", "eta"},   {"θ", "theta"}, {"λ", "lambda"}, {"σ", "sigma"}, {"φ", "phi"},
        {"ω", "omega"}, {"²", "2"},     {"×", "x"},      {"≥", ">="},    {"≤", "<="},
        {"−", "-"},     {"·", "*"},     {"°", "deg"},    {"…", "..."},   {"→", "->"},
        {"±", "+-"},    {"–", "-"},     {"—", "-"},      {"∇", "grad "}, {"∞", "inf"}};
    std::vector<char> out;
    for (std::size_t i = 0; i < s.size();) {
        const unsigned char b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            out.push_back(b >= 0x20 || b == '\n' ? char(b) : ' ');
            ++i;
            continue;
        }
        bool named = false;
        for (const auto& [utf8, ascii] : kNames)
            if (s.compare(i, std::strlen(utf8), utf8) == 0) {
                out.insert(out.end(), ascii, ascii + std::strlen(ascii));
                i += std::strlen(utf8);
                named = true;
                break;
            }
        if (named)
            continue;
        out.push_back('?'); // one '?' a UTF-8 character: skip its continuation bytes
        for (++i; i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80; ++i) {
        }
    }
    out.push_back('\0');
    return out;
}
} // namespace

int Canvas::text(int x, int y, const std::string& s, Rgb c, int scale) {
    std::vector<char> buf = asciiText(s);
    std::vector<float> quads(buf.size() * 270 + 64); // ≤ ~270 floats per character
    unsigned char colour[4] = {c.r, c.g, c.b, 255};
    const int n = stb_easy_font_print(0, 0, buf.data(), colour, quads.data(),
                                      int(quads.size() * sizeof(float)));
    // Each quad: 4 vertices of (x, y, z, colour) = 16 bytes; axis-aligned.
    for (int q = 0; q < n; ++q) {
        const float* v = quads.data() + q * 16;
        const int x0 = int(v[0]), y0 = int(v[1]), x1 = int(v[8]), y1 = int(v[9]);
        fill(x + x0 * scale, y + y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale, c);
    }
    return textWidth(s, scale);
}

int Canvas::textWidth(const std::string& s, int scale) {
    std::vector<char> buf = asciiText(s);
    return stb_easy_font_width(buf.data()) * scale;
}

namespace {

void appendTo(void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), std::size_t(size));
}

bool validImage(const std::uint8_t* pixels, int width, int height, int channels) {
    return pixels && width > 0 && height > 0 && channels >= 1 && channels <= 4;
}

} // namespace

std::string encodePng(const std::uint8_t* pixels, int width, int height, int channels) {
    std::string bytes;
    if (!validImage(pixels, width, height, channels) ||
        !stbi_write_png_to_func(appendTo, &bytes, width, height, channels, pixels,
                                width * channels))
        return {};
    return bytes;
}

std::string encodeJpeg(const std::uint8_t* pixels, int width, int height, int channels,
                       int quality) {
    std::string bytes;
    if (!validImage(pixels, width, height, channels) || quality < 1 || quality > 100 ||
        !stbi_write_jpg_to_func(appendTo, &bytes, width, height, channels, pixels, quality))
        return {};
    return bytes;
}

Status savePng(const std::string& path, const Canvas& canvas) {
    if (canvas.width <= 0 || canvas.height <= 0)
        return Status::error("the picture is empty", path);
    const std::string bytes = encodePng(canvas.rgb.data(), canvas.width, canvas.height, 3);
    if (bytes.empty())
        return Status::error("PNG encoding failed", path);
    return writeFileAtomic(path, bytes);
}

} // namespace convscope::io
