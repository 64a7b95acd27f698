// Image folders: small PNGs and a JPEG written here (io::encodePng, io::encodeJpeg) load with
// sorted class names, the right colours, sizes and labels, grey or RGB; the split is per class,
// seeded and reproducible; the resize averages areas and interpolates; a missing folder, a single
// class, an empty class and an undecodable image (the first one, named) are reported.
#include "data/image_folder.h"
#include "io/png.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <algorithm>
#include <filesystem>
#include <fstream>

using namespace convscope;
using namespace convscope::data;
namespace fs = std::filesystem;

namespace {

struct Rgb {
    int r, g, b;
};

// A w x h image of one colour with a 1-pixel darker border, as PNG (or JPEG).
void writeImage(const std::string& path, int w, int h, Rgb c, bool jpeg = false) {
    std::vector<std::uint8_t> px(static_cast<std::size_t>(w * h * 3));
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const bool edge = x == 0 || y == 0 || x == w - 1 || y == h - 1;
            std::uint8_t* p = px.data() + (y * w + x) * 3;
            p[0] = std::uint8_t(edge && !jpeg ? c.r / 2 : c.r);
            p[1] = std::uint8_t(edge && !jpeg ? c.g / 2 : c.g);
            p[2] = std::uint8_t(edge && !jpeg ? c.b / 2 : c.b);
        }
    const std::string bytes =
        jpeg ? io::encodeJpeg(px.data(), w, h, 3, 95) : io::encodePng(px.data(), w, h, 3);
    QVERIFY2(!bytes.empty(), path.c_str());
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    QVERIFY2(out.good(), path.c_str());
}

const Rgb kColours[] = {{230, 20, 20}, {20, 230, 20}, {20, 20, 230}};
const char* kClasses[] = {"a_red", "b_green", "c_blue"};

} // namespace

class TestImageFolder : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    int m_folders = 0;

    std::string fresh() {
        const std::string d = m_tmp.filePath(QString("f%1").arg(m_folders++)).toStdString();
        fs::create_directories(d);
        return d;
    }
    // Three classes of 5 images of assorted sizes, plus things that must be ignored.
    std::string writeSet() {
        const std::string d = fresh();
        const int sizes[][2] = {{16, 12}, {8, 8}, {40, 30}, {5, 9}, {20, 20}};
        for (int k = 0; k < 3; ++k) {
            fs::create_directories(d + "/" + kClasses[k]);
            for (int i = 0; i < 5; ++i)
                writeImage(d + "/" + kClasses[k] + "/img" + std::to_string(i) + ".png", sizes[i][0],
                           sizes[i][1], kColours[k]);
            std::ofstream(d + "/" + kClasses[k] + "/notes.txt") << "not an image";
        }
        fs::create_directories(d + "/.thumbnails");
        std::ofstream(d + "/README") << "ignored";
        return d;
    }
    static void expectError(const Result<TrainTestSplit>& r, const std::string& where,
                            const char* fragment) {
        QVERIFY2(!r.ok(), "a bad folder was accepted");
        const std::string m = r.status().message();
        QVERIFY2(m.find(where) != std::string::npos,
                 ("message does not name " + where + ": " + m).c_str());
        QVERIFY2(m.find(fragment) != std::string::npos, ("unexpected message: " + m).c_str());
    }

private slots:
    void loadsRgbWithSortedClassesAndTheRightColours() {
        auto r = loadImageFolder(writeSet(), 8, 3, 0.4, 1);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->train.classNames, (std::vector<std::string>{"a_red", "b_green", "c_blue"}));
        QCOMPARE(r->train.classes, 3);
        QCOMPARE(r->train.count, qint64(9)); // 5 per class, round(5·0.4) = 2 of them test
        QCOMPARE(r->test.count, qint64(6));
        QCOMPARE(r->train.channels, qint64(3));
        QCOMPARE(r->train.height, qint64(8));
        QCOMPARE(r->train.width, qint64(8));
        for (const ImageDataset* d : {&r->train, &r->test}) {
            QCOMPARE(d->images.size(), std::size_t(d->count * 3 * 64));
            std::vector<int> perClass(3);
            for (std::int64_t n = 0; n < d->count; ++n) {
                const int k = d->labels[std::size_t(n)];
                ++perClass[std::size_t(k)];
                // The centre pixel (row 4, column 4) of each plane has the class colour (CHW).
                const std::uint8_t* img = d->images.data() + n * 3 * 64;
                const int rgb[] = {kColours[k].r, kColours[k].g, kColours[k].b};
                for (int c = 0; c < 3; ++c)
                    QVERIFY(std::abs(img[c * 64 + 4 * 8 + 4] - rgb[c]) <= 1);
            }
            for (int c : perClass)
                QCOMPARE(c, d == &r->train ? 3 : 2);
        }
        QVERIFY(r->mean > 0.2 && r->mean < 0.5);
    }

    void greyUsesLuma() {
        const std::string d = fresh();
        for (int k = 0; k < 2; ++k) {
            fs::create_directories(d + "/c" + std::to_string(k));
            writeImage(d + "/c" + std::to_string(k) + "/x.png", 6, 6, {200, 100, 50});
        }
        auto r = loadImageFolder(d, 6, 1, 0.0, 3);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->train.channels, qint64(1));
        QCOMPARE(r->test.count, qint64(0));
        // stb_image's grey: (77 r + 150 g + 29 b) >> 8; the same size, so no resampling.
        QCOMPARE(int(r->train.images[2 * 6 + 2]), (77 * 200 + 150 * 100 + 29 * 50) >> 8);
        QCOMPARE(int(r->train.images[0]), (77 * 100 + 150 * 50 + 29 * 25) >> 8);
    }

    void decodesJpeg() {
        const std::string d = fresh();
        for (int k = 0; k < 2; ++k) {
            fs::create_directories(d + "/c" + std::to_string(k));
            writeImage(d + "/c" + std::to_string(k) + "/photo.JPG", 16, 16, kColours[k], true);
        }
        auto r = loadImageFolder(d, 4, 3, 0.0, 3);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->train.count, qint64(2));
        for (int k = 0; k < 2; ++k) {
            const std::uint8_t* img = r->train.images.data() + k * 48;
            const int rgb[] = {kColours[k].r, kColours[k].g, kColours[k].b};
            for (int c = 0; c < 3; ++c)
                QVERIFY(std::abs(img[c * 16 + 5] - rgb[c]) <= 8); // lossy
        }
    }

    // The header read the loader bounds its pixels with (and fuzz_image_folder its heap):
    // the size and stored channels of a PNG or JPEG, an error naming the fault otherwise.
    void imageHeaderReadsTheClaimedSize() {
        std::vector<std::uint8_t> px(7 * 5 * 4, 128);
        struct Case {
            std::string bytes;
            int w, h, channels;
        };
        const Case cases[] = {{io::encodePng(px.data(), 7, 5, 1), 7, 5, 1},
                              {io::encodePng(px.data(), 5, 7, 4), 5, 7, 4},
                              {io::encodeJpeg(px.data(), 7, 5, 3, 90), 7, 5, 3}};
        for (const Case& c : cases) {
            auto h = imageHeader(c.bytes);
            QVERIFY2(h.ok(), h.status().message().c_str());
            QCOMPARE(h->width, c.w);
            QCOMPARE(h->height, c.h);
            QCOMPARE(h->channels, c.channels);
        }
        // Only the header is read: a PNG cut 4 bytes into its image data (the signature, IHDR,
        // the IDAT chunk's length and type: 41 bytes) still tells its size.
        auto cut = imageHeader(io::encodePng(px.data(), 7, 5, 3).substr(0, 45));
        QVERIFY2(cut.ok(), cut.status().message().c_str());
        QCOMPARE(cut->width, 7);
        for (std::string_view bad : {std::string_view(), std::string_view("this is not a PNG")}) {
            auto r = imageHeader(bad);
            QVERIFY(!r.ok());
            QVERIFY2(r.status().message().find("cannot decode the image") != std::string::npos,
                     r.status().message().c_str());
        }
    }

    void splitIsSeededAndReproducible() {
        const std::string d = writeSet();
        auto a = loadImageFolder(d, 8, 3, 0.4, 7), b = loadImageFolder(d, 8, 3, 0.4, 7);
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(a->train.images, b->train.images);
        QCOMPARE(a->test.labels, b->test.labels);
        // The images differ only in size, so another seed puts other sizes in the test set.
        bool differs = false;
        for (std::uint64_t seed = 8; seed < 12 && !differs; ++seed) {
            auto c = loadImageFolder(d, 8, 3, 0.4, seed);
            QVERIFY(c.ok());
            differs = c->test.images != a->test.images;
        }
        QVERIFY(differs);
    }

    void resizeAveragesAndInterpolates() {
        // 4x2 grey, shrunk to 2x1: each output is the mean of a 2x2 block.
        const std::uint8_t src[] = {0, 10, 100, 200, 20, 30, 50, 50};
        auto small = resizeImage(src, 4, 2, 1, 2, 1);
        QCOMPARE(small, (std::vector<std::uint8_t>{15, 100}));
        // 2x1 enlarged to 4x1: bilinear at the pixel centres, clamped at the edges.
        const std::uint8_t two[] = {0, 100};
        QCOMPARE(resizeImage(two, 2, 1, 1, 4, 1), (std::vector<std::uint8_t>{0, 25, 75, 100}));
        // 3 → 2 columns: fractional coverage (weights 2/3 and 1/3).
        const std::uint8_t three[] = {0, 90, 30};
        QCOMPARE(resizeImage(three, 3, 1, 1, 2, 1), (std::vector<std::uint8_t>{30, 50}));
        // Same size: unchanged, channels kept apart.
        const std::uint8_t rgb[] = {1, 2, 3, 4, 5, 6};
        QCOMPARE(resizeImage(rgb, 2, 1, 3, 2, 1), (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6}));
    }

    void missingFolderIsReported() {
        const std::string d = m_tmp.filePath("nope").toStdString();
        expectError(loadImageFolder(d, 8, 3, 0.2, 1), d, "folder not found");
    }

    void oneClassIsNotEnough() {
        const std::string d = fresh();
        fs::create_directories(d + "/only");
        writeImage(d + "/only/x.png", 4, 4, kColours[0]);
        expectError(loadImageFolder(d, 8, 3, 0.2, 1), d, "found 1 class folder(s)");
    }

    void emptyClassIsReported() {
        const std::string d = writeSet();
        fs::create_directories(d + "/d_empty");
        expectError(loadImageFolder(d, 8, 3, 0.2, 1), d + "/d_empty", "no PNG or JPEG images");
    }

    void firstUndecodableImageIsNamed() {
        const std::string d = writeSet();
        std::ofstream(d + "/c_blue/broken.png") << "this is not a PNG";
        std::ofstream(d + "/b_green/zz_truncated.png") << "\x89PNG\r\n\x1a\n";
        expectError(loadImageFolder(d, 8, 3, 0.2, 1), d + "/b_green/zz_truncated.png",
                    "cannot decode the image");
    }

    // A PNG whose header claims far more pixels than its bytes can hold (a 4000x4000 canvas in
    // a few hundred bytes), or more than 4096x4096 (or a strip of that area), is refused before
    // stb_image allocates for it; so is one whose IDAT chunk claims more bytes than the file has
    // (found by fuzzing).
    void oversizedClaimsAreRefusedBeforeDecoding() {
        auto png = [](std::uint32_t w, std::uint32_t h, std::uint32_t idatLength) {
            std::string s = "\x89PNG\r\n\x1a\n";
            auto be32 = [&](std::uint32_t v) {
                for (int k = 24; k >= 0; k -= 8)
                    s += char((v >> k) & 0xff);
            };
            be32(13);
            s += "IHDR";
            be32(w);
            be32(h);
            s += std::string("\x08\x00\x00\x00\x00", 5); // 8-bit grey, no interlace
            be32(0);                                     // CRC (stb does not check it)
            be32(idatLength);
            s += "IDAT";
            s += std::string("\x78\x9c\x63\x60\x00\x00\x00\x02\x00\x01", 10);
            be32(0);
            be32(0);
            s += "IEND";
            be32(0);
            return s;
        };
        const struct {
            std::string bytes;
            const char* fragment;
        } cases[] = {
            {png(4000, 4000, 10), "more than such a file can hold"},
            {png(5000, 5000, 10) + std::string(4096, '\0'), "convscope decodes at most 4096x4096"},
            {png(8'000'000, 2, 10) + std::string(4096, '\0'), "convscope decodes at most"},
            {png(7, 5, 6'600'000), "needs more memory than its 7x5 pixels justify"},
        };
        for (const auto& c : cases) {
            const std::string d = writeSet();
            const std::string bad = d + "/a_red/zz_bad.png";
            std::ofstream(bad, std::ios::binary) << c.bytes;
            expectError(loadImageFolder(d, 8, 1, 0.2, 1), bad, c.fragment);
        }
    }

    void badArgumentsAreReported() {
        const std::string d = writeSet();
        QVERIFY(!loadImageFolder(d, 8, 2, 0.2, 1).ok());
        QVERIFY(!loadImageFolder(d, 0, 3, 0.2, 1).ok());
        QVERIFY(!loadImageFolder(d, 8, 3, 1.0, 1).ok());
        QVERIFY(!loadImageFolder(d, 8, 3, -0.1, 1).ok());
    }
};

QTEST_GUILESS_MAIN(TestImageFolder)
#include "tst_image_folder.moc"
