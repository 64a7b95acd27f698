// Inspector: evaluation-mode logits and input gradients (class-logit and loss seeds) of
// lenet5-bn, lenet5-dropout and resnet20 on every backend against PyTorch autograd with
// model.eval() on the same checkpoint (random batch-norm statistics, so evaluation mode
// matters); a unit seed and a captured layer gradient against finite differences; checkpoints
// that do not fit are refused with the tensor named.
#include "analysis/inspector.h"
#include "model/weights.h"
#include "test_support.h"
#include "torch_reference.h"

#include <QTemporaryDir>
#include <map>

using namespace convscope;
using namespace convscope::testing;

namespace {

constexpr std::int64_t kImages = 4;
constexpr double kMean = 0.2860, kStd = 0.3530;

struct Case {
    std::string checkpoint;
    std::vector<double> pixels;
    std::vector<std::int32_t> labels, targets;
    io::SafeTensors torch;
};

} // namespace

class TestInspector : public QObject {
    Q_OBJECT
    NamedBackends backendNamed;
    CpuBackend<double>& m_double = backendNamed.cpuDouble();
    QTemporaryDir m_dir;
    std::map<std::string, Case> m_cases;

    // The checkpoint, the images and PyTorch's answers for `preset`, made once.
    const Case* caseFor(const std::string& preset, QString* why) {
        if (auto it = m_cases.find(preset); it != m_cases.end())
            return &it->second;
        auto spec = model::preset(preset);
        if (!spec.ok()) {
            *why = QString::fromStdString(spec.status().message());
            return nullptr;
        }
        Case c;
        c.checkpoint =
            m_dir.filePath(QString::fromStdString(preset + ".safetensors")).toStdString();
        if (Status s = writeRandomCheckpoint(c.checkpoint, *spec, 11, kMean, kStd); !s.ok()) {
            *why = QString::fromStdString(s.message());
            return nullptr;
        }
        const std::int64_t D = spec->channels * spec->height * spec->width;
        c.pixels = asFloat(uniform(kImages * D, 5, 0.0, 1.0));
        for (std::int64_t i = 0; i < kImages; ++i) {
            c.labels.push_back(std::int32_t((3 * i + 1) % 10));
            c.targets.push_back(std::int32_t((7 * i + 2) % 10));
        }
        io::SafeTensors in;
        in.tensors["pixels"] =
            storedF32({kImages, spec->channels, spec->height, spec->width}, c.pixels);
        in.tensors["labels"] = storedI64({c.labels.begin(), c.labels.end()});
        in.tensors["targets"] = storedI64({c.targets.begin(), c.targets.end()});
        in.metadata = {{"mean", std::to_string(kMean)},
                       {"std", std::to_string(kStd)},
                       {"tasks", "grad_logit,grad_loss"}};
        auto out = torchAnalysis(c.checkpoint, in);
        if (!out.ok()) {
            *why = QString::fromStdString(out.status().message());
            return nullptr;
        }
        c.torch = std::move(*out);
        return &(m_cases[preset] = std::move(c));
    }

private slots:
    void cleanup() { QVERIFY2(noValidationMessages(), "Vulkan validation reported messages"); }

    void evalGradientsMatchPyTorch_data() {
        QTest::addColumn<QString>("preset");
        QTest::addColumn<QString>("backend");
        for (const char* p : {"lenet5-bn", "lenet5-dropout", "resnet20"})
            for (const char* b : {"cpu-double", "cpu", "vulkan"})
                QTest::newRow(qPrintable(QString("%1 %2").arg(p, b))) << p << b;
    }
    void evalGradientsMatchPyTorch() {
        QFETCH(QString, preset);
        QFETCH(QString, backend);
        if (const QString why = torchMissing(); !why.isEmpty())
            QSKIP(qPrintable(why));
        Backend* be = backendNamed(backend);
        if (!be) {
            QVERIFY2(!onCi(), "no Vulkan device on CI");
            QSKIP("no Vulkan device");
        }
        QString why;
        const Case* c = caseFor(preset.toStdString(), &why);
        QVERIFY2(c, qPrintable(why));
        auto ckpt = model::loadCheckpoint(c->checkpoint);
        QVERIFY2(ckpt.ok(), ckpt.status().message().c_str());
        QCOMPARE(ckpt->mean, kMean);
        auto in = analysis::Inspector::open(*be, *ckpt, kImages);
        QVERIFY2(in.ok(), in.status().message().c_str());
        analysis::Inspector& inspector = **in;
        CS_VERIFY_OK(inspector.setImages(c->pixels, kImages));
        CS_VERIFY_OK(inspector.forward());
        auto logits = inspector.logits();
        QVERIFY(logits.ok());
        // Double precision on both sides agrees to the F32 rounding of PyTorch's output file;
        // float within 1e-4.
        const double tol = backend == "cpu-double" ? 1e-6 : 1e-4;
        const double logitErr = relError(*logits, valuesOf(c->torch, "logits"));
        qInfo("logits: %.3g", logitErr);
        QVERIFY2(logitErr < tol, qPrintable(QString("logits differ by %1").arg(logitErr)));

        analysis::Seed seed;
        seed.classes = c->targets;
        CS_VERIFY_OK(inspector.backward(seed));
        auto g = inspector.inputGradient();
        QVERIFY(g.ok());
        const double gradErr = relError(*g, valuesOf(c->torch, "grad_logit"));
        seed.kind = analysis::Seed::Kind::Loss;
        seed.classes = c->labels;
        CS_VERIFY_OK(inspector.backward(seed));
        auto gl = inspector.inputGradient();
        QVERIFY(gl.ok());
        const double lossErr = relError(*gl, valuesOf(c->torch, "grad_loss"));
        qInfo("d logit/dx: %.3g, d loss/dx: %.3g (relative to PyTorch eval autograd)", gradErr,
              lossErr);
        QVERIFY2(gradErr < tol, qPrintable(QString("d y_c/dx differs by %1").arg(gradErr)));
        QVERIFY2(lossErr < tol, qPrintable(QString("d loss/dx differs by %1").arg(lossErr)));
    }

    // ∂(unit of a layer)/∂pixels against central differences of the layer's output, and the
    // gradient captured at a layer against differences of the logit in that layer's output
    // (through the rest of the network: checked by perturbing pixels along the gradient).
    void unitSeedMatchesFiniteDifferences() {
        auto spec = model::parseNetSpec(
            R"({"name": "small", "input": [1, 6, 6], "layers": [
                {"type": "conv2d", "name": "conv1", "out": 3, "kernel": 3, "padding": 1},
                {"type": "batch_norm", "name": "bn1"}, {"type": "tanh", "name": "act1"},
                {"type": "dropout", "name": "drop", "rate": 0.5},
                {"type": "conv2d", "name": "conv2", "out": 2, "kernel": 3},
                {"type": "sigmoid", "name": "act2"},
                {"type": "linear", "name": "fc", "out": 3}]})",
            "test");
        QVERIFY2(spec.ok(), spec.status().message().c_str());
        const std::string path = m_dir.filePath("small.safetensors").toStdString();
        CS_VERIFY_OK(writeRandomCheckpoint(path, *spec, 3, 0.5, 0.25));
        auto ckpt = model::loadCheckpoint(path);
        QVERIFY(ckpt.ok());
        auto made = analysis::Inspector::open(m_double, *ckpt, 2);
        QVERIFY2(made.ok(), made.status().message().c_str());
        analysis::Inspector& in = **made;
        const int layer = in.layerIndex("act2");
        QVERIFY(layer >= 0);
        QCOMPARE(in.layers()[std::size_t(layer)].dims.str(), std::string("2x4x4"));
        const std::vector<double> x = uniform(36, 9, 0.0, 1.0);
        auto unitValue = [&](const std::vector<double>& px) {
            std::vector<double> two = px;
            two.insert(two.end(), px.begin(), px.end());
            (void)in.setImages(two, 2);
            (void)in.forward();
            return (*in.layerOutput(layer))[std::size_t((1 * 4 + 2) * 4 + 1)]; // (1, 2, 1)
        };
        analysis::Seed seed;
        seed.kind = analysis::Seed::Kind::Unit;
        seed.layer = layer;
        seed.channel = 1, seed.y = 2, seed.x = 1;
        (void)unitValue(x);
        const int captured = in.layerIndex("act1");
        QVERIFY(captured >= 0);
        CS_VERIFY_OK(in.backward(seed, captured));
        auto g = in.inputGradient();
        QVERIFY(g.ok());
        const std::vector<double> got(g->begin(), g->begin() + 36);
        const auto fd = numericGradient(x, unitValue);
        QVERIFY2(relError(got, fd) < 1e-7, "unit gradient differs from finite differences");
        QVERIFY(in.layerGradient(captured).ok());
        QVERIFY(!in.layerGradient(layer).ok()); // only the captured layer is kept
        // Out of range: named.
        seed.channel = 5;
        Status s = in.backward(seed);
        QVERIFY(!s.ok());
        QVERIFY2(s.message().find("outside act2") != std::string::npos, s.message().c_str());
    }

    // One image runs on the inspector's one-image network: the same numbers as in a batch.
    void aSingleImageMatchesTheBatch() {
        QString why;
        const Case* c = caseFor("lenet5-bn", &why);
        QVERIFY2(c, qPrintable(why));
        auto ckpt = model::loadCheckpoint(c->checkpoint);
        auto in = analysis::Inspector::open(m_double, *ckpt, kImages);
        QVERIFY(in.ok());
        analysis::Seed seed;
        seed.classes = c->targets;
        CS_VERIFY_OK((*in)->setImages(c->pixels, kImages));
        CS_VERIFY_OK((*in)->forward());
        CS_VERIFY_OK((*in)->backward(seed));
        const auto batch = *(*in)->inputGradient();
        const auto batchLogits = *(*in)->logits();
        CS_VERIFY_OK((*in)->setImages(c->pixels, 1));
        CS_VERIFY_OK((*in)->forward());
        CS_VERIFY_OK((*in)->backward(seed));
        const auto one = *(*in)->inputGradient();
        const auto oneLogits = *(*in)->logits();
        const std::size_t D = 784;
        QCOMPARE(one.size(), D); // the one-image network's input gradient
        QVERIFY(relError(one, std::vector<double>(batch.begin(), batch.begin() + D)) < 1e-12);
        QVERIFY(relError(oneLogits, std::vector<double>(batchLogits.begin(),
                                                        batchLogits.begin() + 10)) < 1e-12);
    }

    void checkpointThatDoesNotFitIsRefused() {
        auto lenet = model::preset("lenet5");
        auto bn = model::preset("lenet5-bn");
        QVERIFY(lenet.ok() && bn.ok());
        const std::string path = m_dir.filePath("lenet5.safetensors").toStdString();
        CS_VERIFY_OK(writeRandomCheckpoint(path, *lenet, 1, 0, 1));
        auto ckpt = model::loadCheckpoint(path);
        QVERIFY(ckpt.ok());
        auto in = analysis::Inspector::create(m_double, *bn, 1, {});
        QVERIFY(in.ok());
        Status s = (*in)->loadWeights(ckpt->file, path);
        QVERIFY(!s.ok());
        QVERIFY2(s.message().find("has no tensor \"bn1.weight\"") != std::string::npos,
                 s.message().c_str());
        auto none = model::loadCheckpoint(m_dir.filePath("nothing-here").toStdString());
        QVERIFY(!none.ok());
        QVERIFY2(none.status().message().find("no such run folder") != std::string::npos,
                 none.status().message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestInspector)
#include "tst_inspector.moc"
