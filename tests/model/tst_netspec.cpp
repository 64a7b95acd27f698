// NetSpec: every preset parses, round-trips through JSON and has the shapes of its lecture;
// mistakes are reported by layer index and name; initialisation is seeded and follows its scheme.
#include "model/network.h"
#include "test_support.h"

#include <cmath>
#include <map>
#include <tuple>

using namespace convscope;
using namespace convscope::model;
using namespace convscope::testing;

namespace {

std::string errorOf(const std::string& json) {
    auto spec = parseNetSpec(json, "test.json");
    if (!spec.ok())
        return spec.status().message();
    auto a = analyze(*spec);
    return a.ok() ? std::string("no error") : a.status().message();
}

const char* kLenetOn8x8 = R"({"name": "tiny", "input": [1, 8, 8], "layers": [
    {"type": "conv2d", "name": "conv1", "out": 6, "kernel": 5},
    {"type": "relu"},
    {"type": "max_pool2d", "name": "pool1", "kernel": 2},
    {"type": "conv2d", "name": "conv2", "out": 16, "kernel": 5},
    {"type": "flatten"}, {"type": "linear", "out": 10}]})";

} // namespace

class TestNetSpec : public QObject {
    Q_OBJECT

private slots:
    void everyPresetAnalyzesAndRoundTrips_data() {
        QTest::addColumn<QString>("name");
        for (const auto& n : presetNames())
            QTest::newRow(n.c_str()) << QString::fromStdString(n);
    }
    void everyPresetAnalyzesAndRoundTrips() {
        QFETCH(QString, name);
        auto spec = preset(name.toStdString());
        QVERIFY2(spec.ok(), spec.status().message().c_str());
        QVERIFY2(!spec->description.empty(), "every preset says what the lecture shows with it");
        auto a = analyze(*spec);
        QVERIFY2(a.ok(), a.status().message().c_str());
        QCOMPARE(a->output.numel(), qint64(10));
        const std::string json = toJson(*spec);
        auto again = parseNetSpec(json, "round trip");
        QVERIFY2(again.ok(), again.status().message().c_str());
        QCOMPARE(toJson(*again), json);
        auto b = analyze(*again);
        QVERIFY(b.ok());
        QCOMPARE(b->params, a->params);
        QCOMPARE(b->flops, a->flops);
        QCOMPARE(b->layers.size(), a->layers.size());
    }

    void presetListIsComplete() {
        for (const char* n :
             {"mlp", "lenet5", "lenet5-bn", "lenet5-dropout", "deep-sigmoid", "vgg-mini",
              "resnet20", "plain20", "resnet56", "plain56", "alexnet-mini", "inception-mini"})
            QVERIFY2(preset(n).ok(), n);
        auto missing = preset("lenet6");
        QVERIFY(!missing.ok());
        QVERIFY(missing.status().message().find("lenet5") != std::string::npos);
    }

    // The lecture's LeNet-5 table: shapes and parameter counts, layer by layer.
    void lenet5MatchesTheLectureTable() {
        auto a = analyze(*preset("lenet5"));
        QVERIFY(a.ok());
        std::map<std::string, std::pair<std::string, std::int64_t>> expect = {
            {"conv1", {"6x28x28", 6 * 25 + 6}},     {"pool1", {"6x14x14", 0}},
            {"conv2", {"16x10x10", 16 * 150 + 16}}, {"pool2", {"16x5x5", 0}},
            {"fc1", {"120", 120 * 400 + 120}},      {"fc2", {"84", 84 * 120 + 84}},
            {"fc3", {"10", 10 * 84 + 10}}};
        for (const auto& l : a->layers)
            if (auto it = expect.find(l.path); it != expect.end()) {
                QCOMPARE(l.out.str(), it->second.first);
                QCOMPARE(l.params, it->second.second);
                expect.erase(it);
            }
        QVERIFY(expect.empty());
        QCOMPARE(a->params, qint64(61706));
        // conv1: 6 filters x 25 taps x 28x28 outputs x 2 FLOPs + the bias adds.
        QCOMPARE(a->layers[0].flops, qint64(2 * 25 * 6 * 784 + 6 * 784));
        const std::string table = a->table();
        QVERIFY(table.find("61,706") != std::string::npos);
        QVERIFY(table.find("16x5x5") != std::string::npos);
    }

    // The theoretical receptive field (r_l = r_{l-1} + (k_l - 1)·d_l·j_{l-1}, j_l = j_{l-1}·s_l):
    // the VGG slide's stacks, dilation, pooling, and LeNet-5 and ResNet-20 computed by hand.
    void receptiveFieldsGrowAsTheLectureSays_data() {
        QTest::addColumn<QString>("layers");
        QTest::addColumn<int>("size");
        QTest::addColumn<int>("jump");
        QTest::addColumn<double>("start");
        const QString c3 = R"({"type": "conv2d", "out": 2, "kernel": 3, "padding": 1})";
        QTest::newRow("one 3x3") << c3 << 3 << 1 << 0.0;
        QTest::newRow("two 3x3 = 5x5") << c3 + "," + c3 << 5 << 1 << 0.0;
        QTest::newRow("three 3x3 = 7x7") << c3 + "," + c3 + "," + c3 << 7 << 1 << 0.0;
        QTest::newRow("dilation 2 on a 3x3 = 5")
            << R"({"type": "conv2d", "out": 2, "kernel": 3, "dilation": 2, "padding": 2})" << 5 << 1
            << 0.0;
        QTest::newRow("dilated stack 1, 2, 4: 15")
            << c3 + R"(, {"type": "conv2d", "out": 2, "kernel": 3, "dilation": 2, "padding": 2},
                       {"type": "conv2d", "out": 2, "kernel": 3, "dilation": 4, "padding": 4})"
            << 15 << 1 << 0.0;
        QTest::newRow("3x3 valid, then stride-2 pool")
            << R"({"type": "conv2d", "out": 2, "kernel": 3}, {"type": "relu"},
                  {"type": "max_pool2d", "kernel": 2})"
            << 4 << 2 << 1.5;
        QTest::newRow("pool, then 3x3: the jump doubles the growth")
            << R"({"type": "max_pool2d", "kernel": 2}, )" + c3 << 6 << 2 << 0.5;
    }
    void receptiveFieldsGrowAsTheLectureSays() {
        QFETCH(QString, layers);
        QFETCH(int, size);
        QFETCH(int, jump);
        QFETCH(double, start);
        const std::string json = R"({"name": "rf", "input": [1, 16, 16], "layers": [)" +
                                 layers.toStdString() +
                                 R"(, {"type": "flatten"}, {"type": "linear", "out": 2}]})";
        auto spec = parseNetSpec(json, "rf.json");
        QVERIFY2(spec.ok(), spec.status().message().c_str());
        auto a = analyze(*spec);
        QVERIFY2(a.ok(), a.status().message().c_str());
        const ReceptiveField& rf = a->layers[a->layers.size() - 3].rf; // before the flatten
        QCOMPARE(rf.sizeH, qint64(size));
        QCOMPARE(rf.sizeW, qint64(size));
        QCOMPARE(rf.jumpH, qint64(jump));
        QCOMPARE(rf.startH, start);
        QVERIFY(!rf.global);
        QVERIFY(a->layers.back().rf.global); // a linear unit sees everything
        QCOMPARE(a->layers.back().rf.str(), std::string("all"));
    }

    void lenet5AndResnet20ReceptiveFieldsMatchAHandComputation() {
        // LeNet-5: conv1 5x5 p2 → 5; pool 2/2 → 6, jump 2; conv2 5x5 → 6 + 4·2 = 14;
        // pool → 16, jump 4; unit (0, 0) of pool2 sees input rows −2 … 13 (centre 5.5).
        auto lenet = analyze(*preset("lenet5"));
        QVERIFY(lenet.ok());
        std::map<std::string, std::tuple<int, int, double>> expect{{"conv1", {5, 1, 0.0}},
                                                                   {"relu1", {5, 1, 0.0}},
                                                                   {"pool1", {6, 2, 0.5}},
                                                                   {"conv2", {14, 2, 4.5}},
                                                                   {"pool2", {16, 4, 5.5}}};
        for (const auto& l : lenet->layers)
            if (auto it = expect.find(l.path); it != expect.end()) {
                QCOMPARE(l.rf.sizeH, qint64(std::get<0>(it->second)));
                QCOMPARE(l.rf.jumpW, qint64(std::get<1>(it->second)));
                QCOMPARE(l.rf.startW, std::get<2>(it->second));
                expect.erase(it);
            } else if (l.path.rfind("fc", 0) == 0) {
                QVERIFY(l.rf.global);
            }
        QVERIFY(expect.empty());
        QVERIFY(lenet->table().find("   16 ") != std::string::npos); // the RF column
        // ResNet-20: conv1 3; each block adds two 3x3 at its stride's jump (1, 2, 4); the
        // first block of stages 2 and 3 strides in conv_a, its projection shortcut sees less.
        auto resnet = analyze(*preset("resnet20"));
        QVERIFY(resnet.ok());
        std::map<std::string, int> sizes{{"conv1", 3},
                                         {"stage1_block1", 7},
                                         {"stage1_block2", 11},
                                         {"stage1_block3", 15},
                                         {"stage2_block1.body.conv_a", 17},
                                         {"stage2_block1", 21},
                                         {"stage2_block2", 29},
                                         {"stage2_block3", 37},
                                         {"stage3_block1", 49},
                                         {"stage3_block2", 65},
                                         {"stage3_block3", 81}};
        for (const auto& l : resnet->layers)
            if (auto it = sizes.find(l.path); it != sizes.end()) {
                QCOMPARE(l.rf.sizeH, qint64(it->second));
                sizes.erase(it);
            }
        QVERIFY(sizes.empty());
        QVERIFY(resnet->layers.back().rf.global);
        // Its plain twin has the same field: the shortcut never sees farther than the body.
        auto plain = analyze(*preset("plain20"));
        QVERIFY(plain.ok());
        QCOMPARE(plain->layers[plain->layers.size() - 3].rf.sizeH, qint64(81));
        // A concat block sees as far as its widest branch.
        auto spec = parseNetSpec(R"({"name": "c", "input": [1, 12, 12], "layers": [
            {"type": "concat", "name": "mix", "branches": [
                [{"type": "conv2d", "out": 2, "kernel": 1}],
                [{"type": "conv2d", "out": 2, "kernel": 5, "padding": 2}]]},
            {"type": "flatten"}, {"type": "linear", "out": 2}]})",
                                 "concat.json");
        QVERIFY(spec.ok());
        auto c = analyze(*spec);
        QVERIFY(c.ok());
        QCOMPARE(c->layers[0].rf.sizeH, qint64(5));
    }

    // ResNet-20 has 20 weight layers (19 convolutions + 1 linear, projections aside), its plain
    // twin the same layers without shortcuts; ResNet-56 has 56.
    void resnetDepthsAreRight_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("depth");
        QTest::newRow("resnet20") << "resnet20" << 20;
        QTest::newRow("plain20") << "plain20" << 20;
        QTest::newRow("resnet56") << "resnet56" << 56;
        QTest::newRow("plain56") << "plain56" << 56;
    }
    void resnetDepthsAreRight() {
        QFETCH(QString, name);
        QFETCH(int, depth);
        auto a = analyze(*preset(name.toStdString()));
        QVERIFY(a.ok());
        int weightLayers = 0, projections = 0;
        for (const auto& l : a->layers) {
            if (l.type == LayerType::Conv2d || l.type == LayerType::Linear)
                ++weightLayers;
            if (l.type == LayerType::Residual && l.detail.find("projection") != std::string::npos)
                ++projections;
        }
        QCOMPARE(weightLayers, depth);
        QCOMPARE(projections, name.startsWith("plain") ? 0 : 2);
        QCOMPARE(a->output.str(), std::string("10"));
    }

    void errorsNameTheLayer_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("kernel larger than input")
            << kLenetOn8x8 << "layer 4 conv2: kernel 5x5 larger than its 2x2 input";
        // Numbers beyond a double: nlohmann throws out_of_range while parsing (it aborted here).
        QTest::newRow("slope beyond a double")
            << R"({"input": [1, 8, 8], "layers": [{"type": "leaky_relu", "slope": 1e400}]})"
            << "a number is out of range";
        QTest::newRow("out beyond a double")
            << R"({"input": [1, 8, 8], "layers": [{"type": "linear", "out": 1e400}]})"
            << "a number is out of range";
        QTest::newRow("a string where a number belongs")
            << R"({"input": [1, 8, 8], "layers": [{"type": "leaky_relu", "slope": "steep"}]})"
            << "slope";
        QTest::newRow("unknown key")
            << R"({"input": [1, 8, 8], "layers": [{"type": "conv2d", "out": 4, "kernal": 3}]})"
            << "layer 1: unknown key \"kernal\" for a conv2d layer";
        QTest::newRow("unknown type") << R"({"input": [1, 8, 8], "layers": [{"type": "conv3d"}]})"
                                      << "unknown layer type \"conv3d\"";
        QTest::newRow("bad json") << R"({"input": [1, 8, 8], "layers": [)"
                                  << "not valid JSON";
        QTest::newRow("bad input") << R"({"input": [1, 8], "layers": []})"
                                   << "\"input\" must be [channels, height, width]";
        QTest::newRow("conv after flatten")
            << R"({"input": [1, 8, 8], "layers": [{"type": "flatten"},
                  {"type": "conv2d", "name": "c", "out": 2, "kernel": 3}]})"
            << "layer 2 c: conv2d needs a feature map (C, H, W) but gets a flat vector of 64";
        QTest::newRow("identity shortcut changes shape")
            << R"({"input": [4, 8, 8], "layers": [{"type": "residual", "name": "blk", "body": [
                  {"type": "conv2d", "out": 8, "kernel": 3, "padding": 1}]},
                  {"type": "flatten"}, {"type": "linear", "out": 2}]})"
            << "layer 1 blk: the body turns 4x8x8 into 8x8x8";
        QTest::newRow("nested error")
            << R"({"input": [4, 8, 8], "layers": [{"type": "residual", "name": "blk", "body": [
                  {"type": "conv2d", "name": "a", "out": 4, "kernel": 3, "padding": 1},
                  {"type": "conv2d", "name": "b", "out": 4, "kernel": 11}]}]})"
            << "layer 1 blk: body layer 2 b: kernel 11x11 larger than its 8x8 input";
        QTest::newRow("concat sizes differ")
            << R"({"input": [4, 8, 8], "layers": [{"type": "concat", "name": "cat", "branches": [
                  [{"type": "conv2d", "out": 2, "kernel": 3, "padding": 1}],
                  [{"type": "conv2d", "out": 2, "kernel": 3}]]}]})"
            << "branch 1 gives 2x8x8 but branch 2 gives 2x6x6";
        QTest::newRow("ends in a feature map")
            << R"({"name": "n", "input": [1, 8, 8], "layers": [{"type": "conv2d", "out": 2, "kernel": 3}]})"
            << "the network ends in a 2x6x6 feature map";
        QTest::newRow("duplicate name")
            << R"({"input": [1, 8, 8], "layers": [{"type": "relu", "name": "a"}, {"type": "relu", "name": "a"}]})"
            << "the name \"a\" is used twice";
        QTest::newRow("bad groups")
            << R"({"input": [3, 8, 8], "layers": [{"type": "conv2d", "out": 4, "kernel": 3, "groups": 2}]})"
            << "3 input and 4 output channels must both be divisible by 2 groups";
        QTest::newRow("same with stride")
            << R"({"input": [3, 8, 8], "layers": [{"type": "conv2d", "out": 4, "kernel": 3, "stride": 2, "padding": "same"}]})"
            << "padding \"same\" needs stride 1";
        QTest::newRow("bad dropout rate")
            << R"({"input": [3, 8, 8], "layers": [{"type": "dropout", "rate": 1.0}]})"
            << "\"rate\" must be in [0, 1)";
        QTest::newRow("init with a number it does not take")
            << "{\"input\": [3, 8, 8], \"init\": \"he-normal(2)\", \"layers\": [{\"type\": "
               "\"flatten\"}]}"
            << "only normal(σ) and constant(c) take a number";
        QTest::newRow("init with a bad number")
            << "{\"input\": [3, 8, 8], \"init\": \"normal(x)\", \"layers\": [{\"type\": "
               "\"flatten\"}]}"
            << "\"x\" is not a number";
        // Sizes that would overflow the shape arithmetic, and nesting that would recurse deep
        // (found by fuzz_netspec's design; analyze keeps every product in range).
        QTest::newRow("kernel out of range")
            << R"({"input": [1, 8, 8], "layers": [{"type": "conv2d", "out": 4, "kernel": 100000000}]})"
            << "\"kernel\" 100000000 is out of range (at most 16777216)";
        QTest::newRow("input too large")
            << R"({"input": [4096, 65536, 65536], "layers": [{"type": "flatten"}]})"
            << "the input 4096x65536x65536 holds more than 2^31 values";
        QTest::newRow("output too large")
            << R"({"input": [1, 4096, 4096], "layers": [{"type": "conv2d", "name": "c",
                  "out": 1000000, "kernel": 1}]})"
            << "tensor too large (over 2^31 elements)";
        QTest::newRow("linear too wide")
            << R"({"input": [1, 8, 8], "layers": [{"type": "flatten"}, {"type": "linear",
                  "name": "fc", "out": 16777217}]})"
            << "layer 2 fc: \"out\" 16777217 is out of range";
        QTest::newRow("nested too deep")
            << QString::fromStdString("{\"input\": [1, 8, 8], \"layers\": " +
                                      std::string(200, '[') + std::string(200, ']') + "}")
            << "the JSON nests deeper than 100 levels";
        QTest::newRow("unknown init")
            << R"({"input": [3, 8, 8], "init": "lecun", "layers": [{"type": "flatten"}]})"
            << "unknown initialisation \"lecun\"";
    }
    // A preset's training defaults read back, and bad ones are refused with what is allowed.
    void trainingDefaultsRoundTripAndAreChecked() {
        auto gabor = preset("gabor");
        QVERIFY2(gabor.ok(), gabor.status().message().c_str());
        QCOMPARE(gabor->training.weightDecay, 0.02);
        QCOMPARE(gabor->training.epochs, 3);
        QCOMPARE(gabor->training.optimizer, std::string("momentum"));
        auto again = parseNetSpec(toJson(*gabor), "round trip");
        QVERIFY(again.ok());
        QVERIFY(again->training == gabor->training);
        QVERIFY(preset("lenet5")->training.empty());
        QVERIFY(toJson(*preset("lenet5")).find("training") == std::string::npos);
        const std::string head = R"({"name": "t", "input": [1, 8, 8], "layers": [
            {"type": "flatten"}, {"type": "linear", "out": 2}], "training": )";
        for (const char* bad : {R"({"optimizer": "lion"})", R"({"lr": -1})", R"({"epochs": 0})",
                                R"({"weight_decay": "lots"})", R"({"momentum": 0.9})", "3"}) {
            auto spec = parseNetSpec(head + bad + "}", "t.json");
            QVERIFY2(!spec.ok(), bad);
            QVERIFY2(spec.status().message().find("\"training\"") != std::string::npos,
                     spec.status().message().c_str());
        }
    }

    void errorsNameTheLayer() {
        QFETCH(QString, json);
        QFETCH(QString, expected);
        const std::string m = errorOf(json.toStdString());
        QVERIFY2(m.find(expected.toStdString()) != std::string::npos, m.c_str());
    }

    // Init::name()'s spelling reads back: "normal(0.05)" and "constant(0.5)".
    void initNamesRoundTrip() {
        for (const char* name : {"normal(0.05)", "constant(0.5)", "he-uniform", "zeros"}) {
            const std::string json = std::string("{\"input\": [1, 4, 4], \"init\": \"") + name +
                                     "\", \"layers\": [{\"type\": \"flatten\"}]}";
            auto spec = parseNetSpec(json, "test.json");
            QVERIFY2(spec.ok(), spec.status().message().c_str());
            QCOMPARE(QString::fromStdString(spec->init.name()), QString(name));
        }
    }

    // The builder marks the offending row: analyzePartial() keeps the rows before the error and
    // names the innermost layer at fault (the block itself when its shortcut cannot be added).
    void errorRowPointsAtTheLayer_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<int>("errorRow");
        QTest::addColumn<QString>("rowPath");
        QTest::newRow("top level") << kLenetOn8x8 << 3 << "conv2";
        QTest::newRow("inside a body")
            << R"({"input": [4, 8, 8], "layers": [{"type": "relu", "name": "r"},
                  {"type": "residual", "name": "blk", "body": [
                  {"type": "conv2d", "name": "a", "out": 4, "kernel": 3, "padding": 1},
                  {"type": "conv2d", "name": "b", "out": 4, "kernel": 11}]}]})"
            << 3 << "blk.body.b";
        QTest::newRow("the block's shortcut")
            << R"({"input": [4, 8, 8], "layers": [{"type": "residual", "name": "blk", "body": [
                  {"type": "conv2d", "name": "a", "out": 8, "kernel": 3, "padding": 1}]}]})"
            << 0 << "blk";
        QTest::newRow("the network as a whole")
            << R"({"input": [1, 8, 8], "layers": [{"type": "conv2d", "out": 2, "kernel": 3}]})"
            << -1 << "";
    }
    void errorRowPointsAtTheLayer() {
        QFETCH(QString, json);
        QFETCH(int, errorRow);
        QFETCH(QString, rowPath);
        auto spec = parseNetSpec(json.toStdString(), "test.json");
        QVERIFY2(spec.ok(), spec.status().message().c_str());
        Status error;
        Analysis a = analyzePartial(*spec, error);
        QVERIFY(!error.ok());
        QCOMPARE(a.errorRow, errorRow);
        if (errorRow >= 0) {
            QVERIFY(int(a.layers.size()) > errorRow); // a block's body rows come after it
            QCOMPARE(QString::fromStdString(a.layers[std::size_t(errorRow)].path), rowPath);
            QCOMPARE(a.layers[std::size_t(errorRow)].out.c, std::int64_t(0)); // not computed
        }
        QVERIFY(analyzePartial(*preset("lenet5"), error).errorRow == -1 && error.ok());
    }

    // Same seed, same values on every backend; He-normal weights have σ² = 2/n_in.
    void initialisationIsSeededAndFollowsItsScheme() {
        CpuBackend<float> a, b;
        CpuBackend<double> d;
        auto spec = preset("vgg-mini");
        QVERIFY(spec.ok());
        auto init = [&](Backend& be, std::uint64_t seed) {
            Network n(*spec);
            Status s = be.reset();
            if (s.ok())
                s = n.plan(be, 2);
            if (s.ok())
                s = be.allocate();
            if (s.ok())
                s = n.initialize(be, seed);
            std::vector<double> v;
            if (s.ok()) {
                auto r = be.readReal(n.params());
                v = r.ok() ? *r : std::vector<double>{};
            }
            return std::make_pair(v, std::move(n));
        };
        auto [p1, n1] = init(a, 7);
        auto [p2, n2] = init(b, 7);
        auto [p3, n3] = init(a, 8);
        auto [pd, nd] = init(d, 7);
        QVERIFY(!p1.empty());
        QCOMPARE(p1, p2);
        QVERIFY(p1 != p3);
        QCOMPARE(asFloat(pd), p1); // double backend: the same values before rounding
        // conv1_2: 32 filters of 32x3x3, fan-in 288.
        for (const auto& t : n1.namedTensors()) {
            if (t.name != "conv1_2.weight")
                continue;
            auto w = a.readReal(t.tensor);
            QVERIFY(w.ok());
            double sum = 0, sq = 0;
            for (double v : *w) {
                sum += v;
                sq += v * v;
            }
            const double n = double(w->size()), mean = sum / n, var = sq / n - mean * mean;
            qInfo("conv1_2 weights: mean %.4f, variance %.5f (He: %.5f)", mean, var, 2.0 / 288);
            QVERIFY(std::abs(var - 2.0 / 288) < 0.05 * 2.0 / 288);
            QVERIFY(std::abs(mean) < 0.01);
        }
        for (const auto& t : n1.namedTensors())
            if (t.name == "bn1_1.weight") {
                auto g = a.readReal(t.tensor);
                QVERIFY(g.ok() &&
                        std::all_of(g->begin(), g->end(), [](double v) { return v == 1.0; }));
            }
    }

    // The classifier (the last layer, linear, no init of its own) starts at a tenth of its
    // scheme's scale, so the first loss is near ln K; the layers before it keep He's σ.
    void theClassifierStartsSmall() {
        CpuBackend<double> be;
        auto spec = preset("lenet5");
        QVERIFY(spec.ok());
        Network n(*spec);
        QVERIFY(n.plan(be, 1).ok() && be.allocate().ok() && n.initialize(be, 3).ok());
        auto variance = [&](const std::string& name) {
            for (const auto& t : n.namedTensors())
                if (t.name == name) {
                    const auto w = *be.readReal(t.tensor);
                    double sq = 0;
                    for (double v : w)
                        sq += v * v;
                    return sq / double(w.size());
                }
            return -1.0;
        };
        const double fc2 = variance("fc2.weight"), fc3 = variance("fc3.weight");
        qInfo("fc2 variance %.5f (He %.5f), fc3 %.6f (He/100 %.6f)", fc2, 2.0 / 120, fc3,
              0.01 * 2.0 / 84);
        QVERIFY(std::abs(fc2 - 2.0 / 120) < 0.1 * 2.0 / 120);
        QVERIFY(std::abs(fc3 - 0.01 * 2.0 / 84) < 0.15 * 0.01 * 2.0 / 84);
        // An init of its own is kept as written.
        auto own = parseNetSpec(R"J({"name": "x", "input": [1, 4, 4], "layers": [
            {"type": "linear", "name": "fc", "out": 3, "init": "constant(0.5)"}]})J",
                                "test");
        QVERIFY(own.ok());
        Network m(*own);
        QVERIFY(be.reset().ok() && m.plan(be, 1).ok() && be.allocate().ok() &&
                m.initialize(be, 3).ok());
        QCOMPARE((*be.readReal(m.namedTensors()[0].tensor))[0], 0.5);
    }
};

QTEST_GUILESS_MAIN(TestNetSpec)
#include "tst_netspec.moc"
