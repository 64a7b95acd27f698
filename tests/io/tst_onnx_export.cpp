// ONNX export: networks trained a few steps (so the batch-norm statistics are not their initial
// 0 and 1) are exported, and tests/io/onnx_check.py checks the file with Debian's python3-onnx
// (checker, strict shape inference), compares every layer's inferred shape with convscope's
// shape inference, and evaluates the graph with its own interpreter on torch.nn.functional
// against convscope's CPU forward pass. Bad inputs give a clear error and write no file.
#include "backend/cpu_backend.h"
#include "data/synthetic.h"
#include "io/atomic_file.h"
#include "io/onnx_export.h"
#include "io/safetensors.h"
#include "model/weights.h"
#include "test_support.h"
#include "train/run_folder.h"
#include "train/trainer.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <filesystem>
#include <nlohmann/json.hpp>

using namespace convscope;

namespace {

const char* kPython = "/usr/bin/python3"; // Debian's, with python3-torch and python3-onnx

// Empty when /usr/bin/python3 imports onnx and torch; else why not.
QString pythonMissing() {
    static const QString why = [] {
        QProcess p;
        p.start(kPython, {"-c", "import onnx, torch"});
        if (!p.waitForFinished(120000) || p.exitStatus() != QProcess::NormalExit ||
            p.exitCode() != 0)
            return QString("%1 cannot import onnx and torch (install python3-onnx and "
                           "python3-torch; scripts/test does): %2")
                .arg(kPython, QString::fromUtf8(p.readAllStandardError()).trimmed().right(200));
        return QString();
    }();
    return why;
}

// Every layer type and block form the exporter knows, on 1x16x16 images: convolutions with
// "same", asymmetric and per-axis padding, stride, dilation and groups; batch norm on maps and
// vectors; leaky ReLU, tanh, sigmoid; a concat block; max and average pooling with padding;
// layer norm on maps and vectors; residual blocks with a projection shortcut without batch
// norm, no shortcut and no activation, an identity shortcut without activation; dropout.
const char* kZoo = R"({"name": "zoo", "input": [1, 16, 16], "layers": [
  {"type": "conv2d", "name": "stem", "out": 8, "kernel": 3, "padding": "same"},
  {"type": "batch_norm", "name": "bn_stem"},
  {"type": "leaky_relu", "name": "leaky", "slope": 0.1},
  {"type": "concat", "name": "mix", "branches": [
    [{"type": "conv2d", "name": "c1", "out": 4, "kernel": 1}],
    [{"type": "conv2d", "name": "c3", "out": 4, "kernel": 3, "padding": 2, "dilation": 2,
      "groups": 2, "bias": false},
     {"type": "tanh", "name": "t"}],
    [{"type": "max_pool2d", "name": "mp", "kernel": 3, "stride": 1, "padding": 1},
     {"type": "sigmoid", "name": "s"}]]},
  {"type": "avg_pool2d", "name": "pool", "kernel": 3, "stride": 2, "padding": 1},
  {"type": "layer_norm", "name": "ln"},
  {"type": "residual", "name": "down", "shortcut": "projection", "body": [
    {"type": "conv2d", "name": "conv", "out": 24, "kernel": 3, "stride": 2, "padding": 1},
    {"type": "batch_norm", "name": "bn"}]},
  {"type": "residual", "name": "plain", "shortcut": "none", "activation": "none", "body": [
    {"type": "conv2d", "name": "conv", "out": 24, "kernel": 3, "padding": [1, 1, 0, 2]}]},
  {"type": "residual", "name": "same", "shortcut": "identity", "activation": "none", "body": [
    {"type": "conv2d", "name": "conv", "out": 24, "kernel": [1, 3], "padding": [0, 1]},
    {"type": "relu", "name": "relu"}]},
  {"type": "dropout", "name": "drop", "rate": 0.3},
  {"type": "flatten", "name": "flat"},
  {"type": "linear", "name": "fc1", "out": 32},
  {"type": "batch_norm", "name": "bn_fc"},
  {"type": "relu", "name": "relu_fc"},
  {"type": "layer_norm", "name": "ln_fc"},
  {"type": "dropout", "name": "drop_fc", "rate": 0.5},
  {"type": "linear", "name": "out", "out": 4}]})";

// A network without linear layers: its class scores are a (4, 1, 1) map, which the export
// flattens into logits (batch, 4).
const char* kAllConvolutional = R"({"name": "all-conv", "input": [1, 12, 12], "layers": [
  {"type": "conv2d", "name": "conv1", "out": 6, "kernel": 3, "stride": 2, "bias": false},
  {"type": "batch_norm", "name": "bn1"}, {"type": "relu", "name": "relu1"},
  {"type": "conv2d", "name": "classifier", "out": 4, "kernel": 1},
  {"type": "global_avg_pool", "name": "gap"}]})";

// Trains `spec` for a few steps on blobs (its input size, `classes` classes) and leaves a run
// folder with its checkpoint in `dir`.
Status trainRun(const std::string& dir, const model::NetSpec& spec, int classes, int steps) {
    const data::TrainTestSplit data = data::makeBlobsSplit(256, 32, int(spec.height), classes, 11);
    CpuBackend<float> be;
    model::Network net(spec);
    train::TrainConfig cfg;
    cfg.batch = 16;
    cfg.maxSteps = steps;
    cfg.chunk = 4;
    cfg.seed = 3;
    cfg.optimizer.lr = 0.02;
    train::Trainer t(be, net, data, cfg);
    CS_TRY(t.setup());
    CS_TRY(t.run({}, {}));
    CS_TRY_ASSIGN(train::RunFolder run, train::RunFolder::create(dir, spec, "blobs", data));
    CS_TRY_ASSIGN(bool wrote, run.checkpoint(t));
    if (!wrote)
        return Status::error("no checkpoint written", dir);
    return {};
}

// convscope's evaluation-mode forward pass of the checkpoint on `x` on a CPU backend (double or
// float, the default one).
template <class Real>
Result<std::vector<double>> convscopeLogits(const model::Checkpoint& ck,
                                            const std::vector<double>& x, std::int64_t batch) {
    CpuBackend<Real> be(1);
    model::Network net(ck.spec);
    CS_TRY(net.plan(be, batch));
    Tensor in = be.tensor({batch, net.inputFeatures()});
    Tensor step = be.tensor({1}, DType::I32);
    CS_TRY(be.allocate());
    CS_TRY(net.initialize(be, 1));
    CS_TRY(model::writeWeights(be, net, ck.file, ck.path));
    CS_TRY(be.writeReal(in, x));
    CS_TRY(be.writeI32(step, std::vector<std::int32_t>{0}));
    CS_TRY(testing::runOnce(be, [&] { return net.recordForward(be, in, false, step); }));
    return be.readReal(net.logits());
}

// What onnx_check.py compares the model with (see its docstring).
Result<std::string> expectations(const model::Checkpoint& ck, std::int64_t batch) {
    CS_TRY_ASSIGN(const model::Analysis a, model::analyze(ck.spec));
    nlohmann::json j;
    j["input"] = {a.input.c, a.input.h, a.input.w};
    j["classes"] = a.output.numel();
    j["layers"] = nlohmann::json::array();
    for (const model::LayerInfo& l : a.layers) {
        nlohmann::json shape = l.out.flat ? nlohmann::json::array({l.out.c})
                                          : nlohmann::json::array({l.out.c, l.out.h, l.out.w});
        j["layers"].push_back({{"path", l.path}, {"shape", shape}});
    }
    j["tensors"] = nlohmann::json::array();
    for (const auto& [name, t] : ck.file.tensors)
        if (t.dtype == "F32") // not PyTorch's batch counters (num_batches_tracked, I64)
            j["tensors"].push_back(name);
    const std::vector<double> x = testing::asFloat(
        testing::uniform(batch * a.input.numel(), 17, -2, 2)); // float-exact: the model's dtype
    CS_TRY_ASSIGN(const std::vector<double> logits, convscopeLogits<double>(ck, x, batch));
    CS_TRY_ASSIGN(const std::vector<double> logitsFloat, convscopeLogits<float>(ck, x, batch));
    j["inputs"] = x;
    j["logits"] = logits;
    j["logits_float"] = logitsFloat;
    j["tolerance"] = 1e-4;
    return j.dump();
}

} // namespace

class TestOnnxExport : public QObject {
    Q_OBJECT

    // Runs onnx_check.py; its exit code and report.
    static int check(const std::string& onnx, const std::string& json, QString& report) {
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(kPython, {QString(CONVSCOPE_SOURCE_DIR "/tests/io/onnx_check.py"),
                          QString::fromStdString(onnx), QString::fromStdString(json)});
        if (!p.waitForFinished(600000) || p.exitStatus() != QProcess::NormalExit)
            return -1;
        report = QString::fromUtf8(p.readAll()).trimmed();
        return p.exitCode();
    }

    // Trains, exports and runs the checker. With `control`, also a negative control: the
    // checker must notice a wrong layer shape and logits off by 1e-3.
    void exportAndCheck(const model::NetSpec& spec, int classes, bool hasBatchNorm,
                        bool control = false) {
        if (!pythonMissing().isEmpty()) {
            if (testing::onCi())
                QFAIL(qPrintable(pythonMissing()));
            QSKIP(qPrintable(pythonMissing()));
        }
        QTemporaryDir dir;
        const std::string run = dir.filePath("run").toStdString();
        CS_VERIFY_OK(trainRun(run, spec, classes, 6));
        auto ck = model::loadCheckpoint(run);
        QVERIFY2(ck.ok(), ck.status().message().c_str());
        if (hasBatchNorm) { // the statistics moved away from their initial 0 and 1
            double moved = 0;
            for (const auto& [name, t] : ck->file.tensors)
                if (name.ends_with(".running_mean") || name.ends_with(".running_var"))
                    for (float v : t.f32)
                        moved = std::max(
                            moved, std::abs(double(v) - (name.ends_with("_var") ? 1.0 : 0.0)));
            QVERIFY2(moved > 1e-3, "the batch-norm statistics did not move in training");
        }

        const std::string onnx =
            dir.filePath(QString::fromStdString(spec.name + ".onnx")).toStdString();
        auto summary = io::exportOnnx(run, onnx);
        QVERIFY2(summary.ok(), summary.status().message().c_str());
        QVERIFY(std::filesystem::is_regular_file(onnx));
        QCOMPARE(summary->opset, 13);
        QCOMPARE(summary->bytes, std::int64_t(std::filesystem::file_size(onnx)));
        auto a = model::analyze(spec);
        QVERIFY(a.ok());
        std::int64_t statistics = 0;
        for (const auto& [name, t] : ck->file.tensors)
            if (name.ends_with(".running_mean") || name.ends_with(".running_var"))
                statistics += t.numel();
        QCOMPARE(summary->parameters, a->params + statistics);

        auto expected = expectations(*ck, 5);
        QVERIFY2(expected.ok(), expected.status().message().c_str());
        const std::string json = dir.filePath("expected.json").toStdString();
        CS_VERIFY_OK(io::writeFileAtomic(json, *expected));
        QString report;
        const int rc = check(onnx, json, report);
        qInfo().noquote() << spec.name.c_str() << "\n" << report;
        QVERIFY2(rc == 0, qPrintable(report));
        QVERIFY(report.contains("all checks passed"));
        if (control) {
            auto j = nlohmann::json::parse(*expected);
            j["layers"][0]["shape"][0] = j["layers"][0]["shape"][0].get<std::int64_t>() + 1;
            j["logits"][0] = j["logits"][0].get<double>() + 1e-3;
            CS_VERIFY_OK(io::writeFileAtomic(json, j.dump()));
            QString wrong;
            QCOMPARE(check(onnx, json, wrong), 1);
            QVERIFY2(wrong.contains("FAIL: " + QString::fromStdString(a->layers[0].path)),
                     qPrintable(wrong));
            QVERIFY2(wrong.contains("logits differ from convscope CPU double"), qPrintable(wrong));
        }
    }

private slots:
    void lenet5() {
        auto spec = model::preset("lenet5");
        QVERIFY(spec.ok());
        exportAndCheck(*spec, 10, false, true);
    }

    // Batch norm, identity and projection shortcuts (with batch norm), global average pooling.
    void resnet20() {
        auto spec = model::preset("resnet20");
        QVERIFY(spec.ok());
        exportAndCheck(*spec, 10, true);
    }

    void everyLayerType() {
        auto spec = model::parseNetSpec(kZoo, "zoo");
        QVERIFY2(spec.ok(), spec.status().message().c_str());
        exportAndCheck(*spec, 4, true);
    }

    void allConvolutional() {
        auto spec = model::parseNetSpec(kAllConvolutional, "all-conv");
        QVERIFY2(spec.ok(), spec.status().message().c_str());
        exportAndCheck(*spec, 4, true);
    }

    // A missing run, a checkpoint of another network, an unwritable place: a clear error, and
    // the file is not written (an existing one keeps its contents).
    void badInputsWriteNoFile() {
        QTemporaryDir dir;
        const std::string onnx = dir.filePath("out.onnx").toStdString();
        const std::string missing = dir.filePath("no-such-run").toStdString();
        auto r = io::exportOnnx(missing, onnx);
        QVERIFY(!r.ok());
        QVERIFY2(r.status().message().find(missing) != std::string::npos,
                 r.status().message().c_str());
        QVERIFY(!std::filesystem::exists(onnx));

        // lenet5's weights under resnet20's spec: conv1.weight has the wrong shape.
        const std::string run = dir.filePath("run").toStdString();
        CS_VERIFY_OK(trainRun(run, *model::preset("lenet5"), 10, 1));
        auto ck = model::loadCheckpoint(run);
        QVERIFY2(ck.ok(), ck.status().message().c_str());
        io::SafeTensors other = ck->file;
        other.metadata["spec"] = model::toJson(*model::preset("resnet20"));
        const std::string otherPath = dir.filePath("other.safetensors").toStdString();
        CS_VERIFY_OK(io::saveSafetensors(otherPath, other));
        r = io::exportOnnx(otherPath, onnx);
        QVERIFY(!r.ok());
        qInfo() << r.status().message().c_str();
        QVERIFY(r.status().message().find(otherPath) != std::string::npos);
        QVERIFY(r.status().message().find("conv1.weight") != std::string::npos);
        QVERIFY(r.status().message().find("another network") != std::string::npos);
        QVERIFY(!std::filesystem::exists(onnx));

        // Tensors the network does not have, and one it lacks.
        io::SafeTensors extra = ck->file;
        extra.tensors["fc9.weight"] = extra.tensors.at("fc1.bias");
        CS_VERIFY_OK(io::saveSafetensors(otherPath, extra));
        CS_VERIFY_OK(io::writeFileAtomic(onnx, "old"));
        r = io::exportOnnx(otherPath, onnx);
        QVERIFY(!r.ok());
        qInfo() << r.status().message().c_str();
        QVERIFY(r.status().message().find("fc9.weight") != std::string::npos);
        QCOMPARE(*io::readFile(onnx), std::string("old"));
        io::SafeTensors lacking = ck->file;
        lacking.tensors.erase("conv2.bias");
        CS_VERIFY_OK(io::saveSafetensors(otherPath, lacking));
        r = io::exportOnnx(otherPath, onnx);
        QVERIFY(!r.ok());
        QVERIFY(r.status().message().find("no tensor \"conv2.bias\"") != std::string::npos);
        QCOMPARE(*io::readFile(onnx), std::string("old"));
        std::filesystem::remove(onnx);

        // A folder that does not exist: the writer's error names the file.
        const std::string nowhere = dir.filePath("no-dir/out.onnx").toStdString();
        r = io::exportOnnx(run, nowhere);
        QVERIFY(!r.ok());
        QVERIFY(r.status().message().find(nowhere) != std::string::npos);
        QVERIFY(!std::filesystem::exists(nowhere));
        QVERIFY(io::exportOnnx(run, onnx).ok()); // the good checkpoint exports
    }

#ifdef CONVSCOPE_CLI_PATH
    // convscope-cli export RUN --onnx FILE, its --help and its usage errors.
    void commandLine() {
        QTemporaryDir dir;
        const QString run = dir.filePath("run");
        CS_VERIFY_OK(trainRun(run.toStdString(), *model::preset("lenet5"), 10, 1));
        auto cli = [](const QStringList& args, QString& out) {
            QProcess p;
            p.setProcessChannelMode(QProcess::MergedChannels);
            p.start(CONVSCOPE_CLI_PATH, args);
            p.waitForFinished(120000);
            out = QString::fromUtf8(p.readAll());
            return p.exitCode();
        };
        QString out;
        QCOMPARE(cli({"export", "--help"}, out), 0);
        QVERIFY2(out.contains("--onnx FILE"), qPrintable(out));
        const QString onnx = dir.filePath("lenet5.onnx");
        QCOMPARE(cli({"export", run, "--onnx", onnx}, out), 0);
        QVERIFY2(out.contains("opset 13"), qPrintable(out));
        QVERIFY(QFileInfo(onnx).size() > 61706 * 4); // lenet5's parameters as float32
        QCOMPARE(cli({"export", run}, out), 2);
        QVERIFY2(out.contains("--onnx"), qPrintable(out));
        QCOMPARE(cli({"export", "--onnx", onnx}, out), 2);
        const QString nothing = dir.filePath("nothing.onnx");
        QCOMPARE(cli({"export", dir.filePath("missing"), "--onnx", nothing}, out), 1);
        QVERIFY2(out.contains("no such run folder"), qPrintable(out));
        QVERIFY(!QFileInfo::exists(nothing));
    }
#endif
};

QTEST_GUILESS_MAIN(TestOnnxExport)
#include "tst_onnx_export.moc"
