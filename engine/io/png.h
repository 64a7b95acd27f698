// PNG pictures from the engine (the command line's figures): an RGB canvas, filled rectangles,
// a small bitmap font (stb_easy_font) and an atomic PNG write (stb_image_write); PNG and JPEG
// encoding of any 8-bit image to memory (the image-folder tests and fuzz seeds).
#pragma once

#include "core/status.h"
#include <cstdint>
#include <string>
#include <vector>

namespace convscope::io {

struct Rgb {
    std::uint8_t r = 0, g = 0, b = 0;
};

struct Canvas {
    int width = 0, height = 0;
    std::vector<std::uint8_t> rgb; // row-major, 3 bytes a pixel

    Canvas() = default;
    Canvas(int w, int h, Rgb fill = {255, 255, 255});
    void set(int x, int y, Rgb c); // ignores pixels outside
    void fill(int x, int y, int w, int h, Rgb c);
    // Copies `src` with its top-left corner at (x, y).
    void blit(const Canvas& src, int x, int y);
    // Text with the top-left corner at (x, y), each font pixel `scale` × `scale`; returns the
    // width drawn. The font is ~6 px wide and 7 px tall a character at scale 1.
    int text(int x, int y, const std::string& s, Rgb c, int scale = 1);
    static int textWidth(const std::string& s, int scale = 1);
};

// PNG, written atomically. Errors name the file.
Status savePng(const std::string& path, const Canvas& canvas);

// An 8-bit interleaved image (height rows of width pixels, `channels` bytes each: 1 grey, 2 grey
// + alpha, 3 RGB, 4 RGBA) encoded in memory as PNG, or as baseline JPEG at `quality` (1 to 100;
// JPEG drops alpha). Empty when the size or channel count is invalid.
std::string encodePng(const std::uint8_t* pixels, int width, int height, int channels);
std::string encodeJpeg(const std::uint8_t* pixels, int width, int height, int channels,
                       int quality);

} // namespace convscope::io
