// fuzz_make_corpus DIR: writes the seed corpus, DIR/<target>/seed-*, with the engine's own writers
// (writeIdx, encodeSafetensors, toJson of every preset, encodePng and encodeJpeg, RunFolder's CSV
// format) and a few hand-made broken files each. Inputs found by fuzzing (crash-*, regression-*)
// sit beside them and are not touched. Deterministic: rerunning rewrites the same bytes.
#include "data/idx.h"
#include "io/png.h"
#include "io/safetensors.h"
#include "model/netspec.h"
#include "train/metrics_csv.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

using namespace convscope;
namespace fs = std::filesystem;

namespace {

fs::path g_root;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
    const fs::path dir = g_root / target;
    fs::create_directories(dir);
    std::ofstream out(dir / ("seed-" + name), std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    if (!out) {
        std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
        std::exit(1);
    }
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

std::string bytesOf(std::initializer_list<int> v) {
    std::string s;
    for (int b : v)
        s += char(b);
    return s;
}

void idx() {
    const std::string tmp = (g_root / "idx.tmp").string();
    auto write = [&](const std::string& name, const data::IdxArray& a, bool gzip) {
        if (!data::writeIdx(tmp, a, gzip).ok())
            std::exit(1);
        put("idx", name, slurp(tmp));
        fs::remove(tmp);
    };
    data::IdxArray images;
    images.dims = {3, 4, 5};
    for (int i = 0; i < 60; ++i)
        images.values.push_back(std::uint8_t(i * 37));
    write("images-3x4x5.gz", images, true);
    write("images-3x4x5.raw", images, false);
    data::IdxArray labels;
    labels.dims = {7};
    labels.values = {0, 1, 2, 3, 9, 8, 7};
    write("labels-7.gz", labels, true);
    data::IdxArray four;
    four.dims = {2, 1, 2, 2};
    four.values = {1, 2, 3, 4, 5, 6, 7, 8};
    write("rank4.raw", four, false);
    // Broken: a header announcing 2^31 - 1 images of 28x28 over 4 bytes of data, raw and gzip;
    // a bad magic; a 32-bit float element type; a truncated gzip stream.
    std::string huge = bytesOf({0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 28, 0, 0, 0, 28});
    huge += "\1\2\3\4";
    put("idx", "huge-header.raw", huge);
    {
        data::IdxArray small;
        small.dims = {1};
        small.values = {5};
        write("tmp.gz", small, true);
        std::string gz = slurp((g_root / "idx" / "seed-tmp.gz").string());
        fs::remove(g_root / "idx" / "seed-tmp.gz");
        put("idx", "truncated.gz", gz.substr(0, gz.size() / 2));
    }
    put("idx", "bad-magic.raw", bytesOf({1, 0, 8, 1, 0, 0, 0, 1, 7}));
    put("idx", "float-type.raw", bytesOf({0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}));
}

void cifar() {
    std::string one(3073, '\0');
    one[0] = 3;
    for (int i = 1; i < 3073; ++i)
        one[std::size_t(i)] = char(i * 13);
    put("cifar", "one-record.bin", one);
    std::string two = one + one;
    two[3073] = 9;
    put("cifar", "two-records.bin", two);
    put("cifar", "short.bin", one.substr(0, 3072));
    std::string badLabel = one;
    badLabel[0] = 10;
    put("cifar", "label-10.bin", badLabel);
}

void safetensors() {
    io::SafeTensors f;
    io::StoredTensor w;
    w.shape = {2, 1, 3, 3};
    for (int i = 0; i < 18; ++i)
        w.f32.push_back(float(i) / 7.0f - 1.0f);
    f.tensors["conv1.weight"] = w;
    io::StoredTensor b;
    b.shape = {2};
    b.f32 = {0.5f, -0.25f};
    f.tensors["conv1.bias"] = b;
    io::StoredTensor n;
    n.dtype = "I64";
    n.shape = {};
    n.i64 = {1234};
    f.tensors["bn1.num_batches_tracked"] = n;
    f.metadata["dataset"] = "Fashion-MNIST";
    f.metadata["mean"] = "0.2860";
    put("safetensors", "checkpoint.safetensors", io::encodeSafetensors(f));
    io::SafeTensors empty;
    put("safetensors", "empty.safetensors", io::encodeSafetensors(empty));
    io::SafeTensors withSpec = f;
    withSpec.metadata["spec"] = model::toJson(*model::preset("lenet5"));
    put("safetensors", "with-spec.safetensors", io::encodeSafetensors(withSpec));
    io::SafeTensors nan = f;
    nan.tensors["conv1.bias"].f32[1] = std::numeric_limits<float>::quiet_NaN();
    put("safetensors", "nan.safetensors", io::encodeSafetensors(nan));
    // Broken: a header length past the end; data offsets past the end; a negative shape;
    // a dtype convscope does not read.
    std::string good = io::encodeSafetensors(f);
    std::string longHeader = good;
    longHeader[6] = char(0x7f);
    put("safetensors", "header-length.safetensors", longHeader);
    auto withHeader = [](const std::string& h, const std::string& data) {
        std::string out(8, '\0');
        const std::uint64_t len = h.size();
        std::memcpy(out.data(), &len, 8);
        return out + h + data;
    };
    put("safetensors", "offsets.safetensors",
        withHeader(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4096]}})",
                   std::string(8, '\0')));
    put("safetensors", "negative-shape.safetensors",
        withHeader(R"({"a":{"dtype":"F32","shape":[-1,-2],"data_offsets":[0,8]}})",
                   std::string(8, '\0')));
    put("safetensors", "f16.safetensors",
        withHeader(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})",
                   std::string(4, '\0')));
}

void netspec() {
    for (const std::string& name : model::presetNames())
        put("netspec", name + ".json", model::toJson(*model::preset(name)));
    put("netspec", "broken-json.json", R"({"name": "x", "input": [1, 28, 28], "layers": [)");
    put("netspec", "unknown-key.json",
        R"({"input": [1, 28, 28], "layers": [{"type": "conv2d", "out": 4, "kernal": 3}]})");
    put("netspec", "too-small.json",
        R"({"input": [1, 4, 4], "layers": [{"type": "conv2d", "out": 4, "kernel": 5},
            {"type": "flatten"}, {"type": "linear", "out": 10}]})");
    put("netspec", "huge.json",
        R"({"input": [4096, 65536, 65536], "layers": [{"type": "conv2d", "out": 1000000,
            "kernel": 11, "dilation": 1000, "padding": 100000}, {"type": "flatten"},
            {"type": "linear", "out": 4000000000}]})");
    put("netspec", "init-strings.json",
        R"j({"input": [3, 8, 8], "init": "normal(0.02)", "layers": [{"type": "conv2d", "out": 4,
            "kernel": [3, 1], "padding": "same", "init": "constant(0.5)"},
            {"type": "concat", "branches": [[{"type": "max_pool2d", "kernel": 2}],
            [{"type": "avg_pool2d", "kernel": [2, 2], "stride": 2}]]}, {"type": "global_avg_pool"},
            {"type": "flatten"}, {"type": "linear", "out": 10}],
            "training": {"optimizer": "adam", "lr": 0.001, "epochs": 2}})j");
}

void imageFolder() {
    io::Canvas c(5, 3, {255, 255, 255});
    c.set(0, 0, {255, 0, 0});
    c.set(4, 2, {0, 0, 255});
    c.fill(1, 1, 2, 1, {0, 128, 0});
    const std::string rgb = io::encodePng(c.rgb.data(), c.width, c.height, 3); // as savePng writes
    put("image_folder", "rgb-5x3.png", rgb);
    std::vector<std::uint8_t> px;
    for (int i = 0; i < 16 * 16 * 4; ++i)
        px.push_back(std::uint8_t((i * 29) ^ (i >> 3)));
    put("image_folder", "grey-7x5.png", io::encodePng(px.data(), 7, 5, 1));
    put("image_folder", "rgba-4x4.png", io::encodePng(px.data(), 4, 4, 4));
    put("image_folder", "rgb-16x16.jpg", io::encodeJpeg(px.data(), 16, 16, 3, 90));
    std::string s = io::encodeJpeg(px.data(), 9, 11, 1, 50);
    put("image_folder", "grey-9x11.jpg", s);
    // Broken: a truncated PNG; a JPEG whose frame header claims 60000 x 60000 pixels.
    put("image_folder", "truncated.png", rgb.substr(0, 40));
    std::string big = s;
    for (std::size_t i = 0; i + 8 < big.size(); ++i)
        if (std::uint8_t(big[i]) == 0xff && std::uint8_t(big[i + 1]) == 0xc0) { // SOF0
            big[i + 5] = char(0xea), big[i + 6] = char(0x60);                   // height 60000
            big[i + 7] = char(0xea), big[i + 8] = char(0x60);                   // width 60000
            break;
        }
    put("image_folder", "huge-frame.jpg", big);
}

void metricsCsv() {
    const std::string h = std::string(train::kMetricsCsvHeader) + "\n";
    put("metrics_csv", "run.csv",
        h + "step,1,50,0.0199,0.812345,0.712500,,,5321.4,\n"
            "step,1,100,0.0198,0.512345,0.812500,,,5330.1,\n"
            "epoch,1,469,,0.498765,0.823400,0.455678,0.838100,5210.7,11.52\n"
            "step,2,519,0.0150,nan,0.101562,,,5301.0,\n");
    put("metrics_csv", "damaged.csv",
        h + "step,1,2,0.1,2.2\r\nbatch,1,3,0.1,2.2,0.1,,,100,\n"
            "step,1,x,0.1,2.2,0.1,,,100,\nstep,1,5,0.1,1e999,0.1,,,100,\n"
            "epoch, 1 ,7,,2.0,0.5,2.1,0.4\nstep,1,8,+0.1,-inf,0.5,,,1,2,extra");
    put("metrics_csv", "empty.csv", "");
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_make_corpus DIR (tests/fuzz/corpus)\n");
        return 2;
    }
    g_root = argv[1];
    fs::create_directories(g_root);
    idx();
    cifar();
    safetensors();
    netspec();
    imageFolder();
    metricsCsv();
    std::printf("seed corpus written under %s\n", argv[1]);
    return 0;
}
