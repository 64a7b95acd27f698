// Receptive fields: the effective field (Luo et al. 2016) of a stack of n 3×3 box filters is
// exactly the n-fold convolution of the box; on lenet5 it matches PyTorch autograd of the same
// unit; the centred-square measure on closed forms; bad requests are refused with a reason.
#include "analysis/receptive_field.h"
#include "model/weights.h"
#include "test_support.h"
#include "torch_reference.h"

#include <QTemporaryDir>

using namespace convscope;
using namespace convscope::testing;

namespace {

// n 3×3 convolutions (padding 1, no bias, no nonlinearity) on 1×15×15, then a classifier.
std::string boxStack(int n) {
    std::string layers;
    for (int i = 1; i <= n; ++i)
        layers += R"({"type": "conv2d", "name": "c)" + std::to_string(i) +
                  R"(", "out": 1, "kernel": 3, "padding": 1, "bias": false}, )";
    return R"({"name": "box", "input": [1, 15, 15], "layers": [)" + layers +
           R"({"type": "flatten", "name": "flat"}, {"type": "linear", "name": "fc", "out": 2}]})";
}

// The n-fold convolution of the 3-tap box (1/3 each), centred: 2n + 1 taps.
std::vector<double> boxPower(int n) {
    std::vector<double> k{1.0};
    for (int i = 0; i < n; ++i) {
        std::vector<double> next(k.size() + 2, 0.0);
        for (std::size_t j = 0; j < k.size(); ++j)
            for (std::size_t t = 0; t < 3; ++t)
                next[j + t] += k[j] / 3.0;
        k = next;
    }
    return k;
}

} // namespace

class TestReceptiveField : public QObject {
    Q_OBJECT
    NamedBackends backendNamed;
    CpuBackend<double>& m_double = backendNamed.cpuDouble();
    QTemporaryDir m_dir;

private slots:
    void cleanup() { QVERIFY2(noValidationMessages(), "Vulkan validation reported messages"); }

    void boxStackGivesTheNFoldBoxConvolution_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<QString>("backend");
        for (int n : {1, 2, 3})
            for (const char* b : {"cpu-double", "cpu", "vulkan"})
                QTest::newRow(qPrintable(QString("%1 layers %2").arg(n).arg(b))) << n << b;
    }
    void boxStackGivesTheNFoldBoxConvolution() {
        QFETCH(int, n);
        QFETCH(QString, backend);
        Backend* be = backendNamed(backend);
        if (!be) {
            QVERIFY2(!onCi(), "no Vulkan device on CI");
            QSKIP("no Vulkan device");
        }
        auto spec = model::parseNetSpec(boxStack(n), "box.json");
        QVERIFY2(spec.ok(), spec.status().message().c_str());
        auto made = analysis::Inspector::create(*be, *spec, 3, {});
        QVERIFY2(made.ok(), made.status().message().c_str());
        analysis::Inspector& in = **made;
        io::SafeTensors w;
        for (int i = 1; i <= n; ++i)
            w.tensors["c" + std::to_string(i) + ".weight"] =
                storedF32({1, 1, 3, 3}, std::vector<double>(9, 1.0 / 9.0));
        w.tensors["fc.weight"] = storedF32({2, 225}, uniform(450, 3, -0.1, 0.1));
        w.tensors["fc.bias"] = storedF32({2}, {0.0, 0.0});
        CS_VERIFY_OK(in.loadWeights(w, "box weights"));
        const int layer = in.layerIndex("c" + std::to_string(n));
        QVERIFY(layer >= 0);
        // The unit at (5, 8): off-centre, its field inside the image; 3 images (a linear
        // network: the map is the same for every image).
        const analysis::Unit unit{layer, 0, 5, 8};
        const std::vector<double> images = uniform(3 * 225, 4, 0.0, 1.0);
        auto erf = analysis::effectiveField(in, unit, images, 3);
        QVERIFY2(erf.ok(), erf.status().message().c_str());
        QCOMPARE(erf->theoretical.sizeH, qint64(2 * n + 1));
        QCOMPARE(erf->centreY, 5.0);
        QCOMPARE(erf->centreX, 8.0);
        const std::vector<double> k = boxPower(n);
        double worst = 0;
        for (int y = 0; y < 15; ++y)
            for (int x = 0; x < 15; ++x) {
                const int dy = y - 5 + n, dx = x - 8 + n;
                const bool inside = dy >= 0 && dy <= 2 * n && dx >= 0 && dx <= 2 * n;
                const double want = inside ? k[std::size_t(dy)] * k[std::size_t(dx)] : 0.0;
                worst = std::max(worst, std::abs(erf->map[std::size_t(y * 15 + x)] - want));
            }
        qInfo("%d box layers on %s: max |ERF − box^%d| = %.2g", n, qPrintable(backend), n, worst);
        // The weights are stored as float (1/9 rounded): agreement to float precision.
        QVERIFY2(worst < 1e-6,
                 qPrintable(QString("the ERF differs from the box power by %1").arg(worst)));
        QVERIFY(std::abs(erf->mass - 1.0) < 1e-6); // each box sums to 1
        // The n-fold box has variance n·2/3 per axis: RMS radius √(4n/3).
        QVERIFY2(std::abs(erf->rmsRadius - std::sqrt(4.0 * n / 3.0)) < 1e-5,
                 qPrintable(QString("rms radius %1").arg(erf->rmsRadius)));
        // All the mass is inside the theoretical square, and the 90 % square is no larger.
        QVERIFY(erf->side90 <= 2 * n + 1);
        QVERIFY(erf->side50 <= erf->side90);
        QVERIFY(erf->ratio90 <= 1.0);
    }

    void lenet5MatchesPyTorch_data() {
        QTest::addColumn<QString>("layer");
        QTest::addColumn<int>("c");
        QTest::addColumn<int>("y");
        QTest::addColumn<int>("x");
        QTest::newRow("relu1 (2, 13, 20)") << "relu1" << 2 << 13 << 20;
        QTest::newRow("pool1 (4, 7, 7)") << "pool1" << 4 << 7 << 7;
        QTest::newRow("relu2 (11, 4, 6)") << "relu2" << 11 << 4 << 6;
        QTest::newRow("pool2 (7, 2, 1)") << "pool2" << 7 << 2 << 1;
    }
    void lenet5MatchesPyTorch() {
        QFETCH(QString, layer);
        QFETCH(int, c);
        QFETCH(int, y);
        QFETCH(int, x);
        if (const QString why = torchMissing(); !why.isEmpty())
            QSKIP(qPrintable(why));
        auto spec = model::preset("lenet5");
        QVERIFY(spec.ok());
        const std::string path = m_dir.filePath("lenet5.safetensors").toStdString();
        CS_VERIFY_OK(writeRandomCheckpoint(path, *spec, 21, 0.2860, 0.3530));
        auto ckpt = model::loadCheckpoint(path);
        QVERIFY(ckpt.ok());
        constexpr std::int64_t kImages = 10; // two batches of 8, the second partly empty
        const std::vector<double> pixels = asFloat(uniform(kImages * 784, 17, 0.0, 1.0));
        auto made = analysis::Inspector::open(m_double, *ckpt, 8);
        QVERIFY2(made.ok(), made.status().message().c_str());
        analysis::Inspector& in = **made;
        const int index = in.layerIndex(layer.toStdString());
        QVERIFY(index >= 0);
        auto erf = analysis::effectiveField(in, {index, c, y, x}, pixels, kImages);
        QVERIFY2(erf.ok(), erf.status().message().c_str());

        io::SafeTensors ins;
        ins.tensors["pixels"] = storedF32({kImages, 1, 28, 28}, pixels);
        ins.tensors["labels"] = storedI64(std::vector<std::int64_t>(kImages, 0));
        ins.tensors["targets"] = storedI64(std::vector<std::int64_t>(kImages, 0));
        ins.metadata = {{"mean", "0.2860"},
                        {"std", "0.3530"},
                        {"tasks", "erf"},
                        {"erf_layer", layer.toStdString()},
                        {"erf_unit", QString("%1,%2,%3").arg(c).arg(y).arg(x).toStdString()}};
        auto torch = torchAnalysis(path, ins);
        QVERIFY2(torch.ok(), torch.status().message().c_str());
        const std::vector<double> want = valuesOf(*torch, "erf");
        QCOMPARE(want.size(), erf->map.size());
        double worst = 0, peak = 0;
        for (std::size_t i = 0; i < want.size(); ++i) {
            worst = std::max(worst, std::abs(erf->map[i] - want[i]));
            peak = std::max(peak, std::abs(want[i]));
        }
        qInfo("%s unit (%d, %d, %d): max |ERF − PyTorch| = %.2g (peak %.3g)", qPrintable(layer), c,
              y, x, worst, peak);
        QVERIFY(peak > 0);
        QVERIFY2(worst <= 1e-5, qPrintable(QString("differs from PyTorch by %1").arg(worst)));
        // The map is zero outside the theoretical square.
        const double half = (erf->theoretical.sizeH - 1) / 2.0;
        for (int py = 0; py < 28; ++py)
            for (int px = 0; px < 28; ++px)
                if (std::abs(py - erf->centreY) > half + 1e-9 ||
                    std::abs(px - erf->centreX) > half + 1e-9)
                    QCOMPARE(erf->map[std::size_t(py * 28 + px)], 0.0);
    }

    void centredSquareOnClosedForms() {
        std::vector<double> map(9 * 9, 0.0);
        map[4 * 9 + 4] = 1.0; // a point at the centre
        QCOMPARE(analysis::centredSquare(map, 9, 9, 4, 4, 0.9), qint64(1));
        std::fill(map.begin(), map.end(), 1.0); // uniform: side s holds s²/81
        QCOMPARE(analysis::centredSquare(map, 9, 9, 4, 4, 0.5), qint64(7));  // 49/81 ≥ 0.5
        QCOMPARE(analysis::centredSquare(map, 9, 9, 4, 4, 0.25), qint64(5)); // 25/81 ≥ 0.25
        QCOMPARE(analysis::centredSquare(map, 9, 9, 4, 4, 1.0), qint64(9));
        // A half-pixel centre grows by even sides.
        std::vector<double> four(4 * 4, 0.0);
        four[1 * 4 + 1] = four[1 * 4 + 2] = four[2 * 4 + 1] = four[2 * 4 + 2] = 1.0;
        QCOMPARE(analysis::centredSquare(four, 4, 4, 1.5, 1.5, 1.0), qint64(2));
        // A corner centre: the square is clipped to the image.
        QCOMPARE(analysis::centredSquare(map, 9, 9, 0, 0, 16.0 / 81), qint64(7));
        std::vector<double> zero(16, 0.0);
        QCOMPARE(analysis::centredSquare(zero, 4, 4, 1, 1, 0.5), qint64(0));
    }

    void theTableAndBadRequests() {
        auto spec = model::preset("lenet5");
        QVERIFY(spec.ok());
        auto rows = analysis::theoreticalFields(*spec);
        QVERIFY(rows.ok());
        QCOMPARE(rows->front().layer, std::string("conv1"));
        const std::string table = analysis::fieldTable(*rows);
        QVERIFY2(table.find("pool2") != std::string::npos &&
                     table.find("16x5x5") != std::string::npos &&
                     table.find("5.5,5.5") != std::string::npos,
                 table.c_str());
        // The CSV: a header and one row a layer, 14 fields each (the effective ones empty here).
        const QStringList csv =
            QString::fromStdString(analysis::fieldCsv(*rows)).trimmed().split('\n');
        QCOMPARE(csv.size(), qsizetype(rows->size() + 1));
        for (const QString& line : csv)
            QCOMPARE(line.split(',').size(), 14);
        QVERIFY2(csv[6].startsWith("pool2,16x5x5,16,16,4,4,5.5,5.5,0,"), qPrintable(csv[6]));
        auto made = analysis::Inspector::create(m_double, *spec, 2, {});
        QVERIFY(made.ok());
        analysis::Inspector& in = **made;
        const std::vector<double> image(784, 0.5);
        auto flat = analysis::effectiveField(in, {in.layerIndex("fc3"), 0, 0, 0}, image, 1);
        QVERIFY(!flat.ok());
        QVERIFY2(flat.status().message().find("whole image") != std::string::npos,
                 flat.status().message().c_str());
        auto outside = analysis::effectiveField(in, {in.layerIndex("relu1"), 9, 0, 0}, image, 1);
        QVERIFY(!outside.ok());
        QVERIFY2(outside.status().message().find("outside") != std::string::npos,
                 outside.status().message().c_str());
        auto none = analysis::effectiveField(in, {in.layerIndex("relu1"), 0, 0, 0}, image, 0);
        QVERIFY(!none.ok());
        const analysis::Unit centre = analysis::centreUnit(in, in.layerIndex("pool2"));
        QCOMPARE(centre.y, qint64(2));
        QCOMPARE(centre.x, qint64(2));
        QCOMPARE(centre.channel, qint64(-1));
    }

    // Channel −1 seeds every channel at (y, x): the input gradient is the sum of the channels'.
    void allChannelsSeedIsTheSumOfTheChannels() {
        auto spec = model::preset("lenet5");
        QVERIFY(spec.ok());
        auto made = analysis::Inspector::create(m_double, *spec, 2, {0.3, 0.4});
        QVERIFY(made.ok());
        analysis::Inspector& in = **made;
        CS_VERIFY_OK(in.initialize(5));
        const std::vector<double> images = uniform(2 * 784, 8, 0.0, 1.0);
        CS_VERIFY_OK(in.setImages(images, 2));
        CS_VERIFY_OK(in.forward());
        analysis::Seed seed;
        seed.kind = analysis::Seed::Kind::Unit;
        seed.layer = in.layerIndex("relu2");
        seed.y = 3, seed.x = 4;
        std::vector<double> sum(2 * 784, 0.0);
        for (seed.channel = 0; seed.channel < 16; ++seed.channel) {
            CS_VERIFY_OK(in.backward(seed));
            auto g = in.inputGradient();
            QVERIFY(g.ok());
            for (std::size_t i = 0; i < sum.size(); ++i)
                sum[i] += (*g)[i];
        }
        seed.channel = -1;
        CS_VERIFY_OK(in.backward(seed));
        auto all = in.inputGradient();
        QVERIFY(all.ok());
        QVERIFY(relError(*all, sum) < 1e-12);
        QVERIFY(std::any_of(sum.begin(), sum.end(), [](double v) { return v != 0; }));
    }
};

QTEST_GUILESS_MAIN(TestReceptiveField)
#include "tst_receptive_field.moc"
