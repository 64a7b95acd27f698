// Checkpoints and run folders: safetensors round-trips and rejects damaged files, writes are
// atomic, and a run resumed from a checkpoint continues the very same loss curve.
#include "data/synthetic.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "model/weights.h"
#include "test_support.h"

#include "train/run_folder.h"

#include <QTemporaryDir>
#include <filesystem>
#include <limits>
#include <memory>

using namespace convscope;
using namespace convscope::testing;

namespace {

const data::TrainTestSplit& blobs() {
    static const data::TrainTestSplit s = data::makeBlobsSplit(512, 128, 12, 4, 3);
    return s;
}

// lenet5-bn shrunk to 12x12 inputs: conv, batch norm (running statistics), pooling, linear.
model::NetSpec smallNet() {
    return *model::parseNetSpec(R"({"name": "small", "input": [1, 12, 12], "layers": [
        {"type": "conv2d", "name": "conv1", "out": 4, "kernel": 3, "padding": 1},
        {"type": "batch_norm", "name": "bn1"}, {"type": "relu", "name": "relu1"},
        {"type": "max_pool2d", "name": "pool1"},
        {"type": "residual", "name": "res", "body": [
            {"type": "conv2d", "name": "a", "out": 4, "kernel": 3, "padding": 1}]},
        {"type": "flatten", "name": "flat"}, {"type": "linear", "name": "fc", "out": 4}]})",
                                "small");
}

train::TrainConfig config(int epochs) {
    train::TrainConfig c;
    c.batch = 32;
    c.epochs = epochs;
    c.chunk = 4;
    c.seed = 9;
    c.optimizer.lr = 0.05;
    return c;
}

// What damagedCheckpointsAreRefused does to a checkpoint.
enum Damage { StepCount, NonFiniteWeights, AnotherNetwork };

} // namespace

class TestCheckpoint : public QObject {
    Q_OBJECT
    CpuBackend<float> m_cpu;

    // `t` (of a network on m_cpu) set up on a fresh backend and saved to `path`.
    Status savedCheckpoint(train::Trainer& t, const std::string& path) {
        CS_TRY(m_cpu.reset());
        CS_TRY(t.setup());
        return t.saveCheckpoint(path);
    }

private slots:
    void cleanup() { QVERIFY2(noValidationMessages(), "Vulkan validation reported messages"); }

    void safetensorsRoundTrips() {
        io::SafeTensors f;
        f.tensors["a.weight"].shape = {2, 3};
        f.tensors["a.weight"].f32 = {1, 2, 3, 4, 5, -6.5f};
        f.tensors["bn.num_batches_tracked"].dtype = "I64";
        f.tensors["bn.num_batches_tracked"].i64 = {42};
        f.metadata["step"] = "42";
        const std::string bytes = io::encodeSafetensors(f);
        std::uint64_t headerLength = 0;
        std::memcpy(&headerLength, bytes.data(), 8);
        QCOMPARE((8 + headerLength) % 8, std::uint64_t(0)); // data 8-byte aligned
        auto back = io::decodeSafetensors(bytes, "mem");
        QVERIFY2(back.ok(), back.status().message().c_str());
        QCOMPARE(back->tensors["a.weight"].f32, f.tensors["a.weight"].f32);
        QCOMPARE(back->tensors["a.weight"].shape, (std::vector<std::int64_t>{2, 3}));
        QCOMPARE(back->tensors["bn.num_batches_tracked"].i64, std::vector<std::int64_t>{42});
        QVERIFY(back->tensors["bn.num_batches_tracked"].shape.empty());
        QCOMPARE(back->metadata["step"], std::string("42"));
    }

    void damagedFilesAreRejected_data() {
        QTest::addColumn<int>("cut");
        QTest::addColumn<QString>("expected");
        QTest::newRow("empty") << 0 << "shorter than its 8-byte header length";
        QTest::newRow("header cut") << 20 << "runs past the end of the file";
        QTest::newRow("data cut") << -4 << "data offsets outside the file";
    }
    void damagedFilesAreRejected() {
        QFETCH(int, cut);
        QFETCH(QString, expected);
        io::SafeTensors f;
        f.tensors["w"].shape = {4};
        f.tensors["w"].f32 = {1, 2, 3, 4};
        std::string bytes = io::encodeSafetensors(f);
        bytes.resize(cut >= 0 ? std::size_t(cut) : bytes.size() - std::size_t(-cut));
        auto r = io::decodeSafetensors(bytes, "ckpt.safetensors");
        QVERIFY(!r.ok());
        const std::string m = r.status().message();
        QVERIFY2(m.find(expected.toStdString()) != std::string::npos, m.c_str());
        QVERIFY(m.find("ckpt.safetensors") != std::string::npos);
    }

    // Headers that lie about their tensors are refused before anything is allocated (found by
    // fuzz_safetensors: a negative shape was accepted, a float shape entry was undefined
    // behaviour, an offset near 2^64 wrapped past the bounds check).
    void lyingHeadersAreRejected_data() {
        QTest::addColumn<QString>("header");
        QTest::addColumn<QString>("expected");
        QTest::newRow("negative shape")
            << R"({"w":{"dtype":"F32","shape":[-1,-2],"data_offsets":[0,8]}})"
            << "has a negative dimension";
        QTest::newRow("float shape")
            << R"({"w":{"dtype":"F32","shape":[2184467440737095516154096],"data_offsets":[0,8]}})"
            << "has a shape entry that is not an integer (a number)";
        QTest::newRow("shape past the file")
            << R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})"
            << "has the wrong number of bytes";
        QTest::newRow("offset wraps")
            << R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551608,8]}})"
            << "data offsets outside the file";
        QTest::newRow("end past the file")
            << R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}})"
            << "data offsets outside the file";
        QTest::newRow("negative offset")
            << R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})"
            << "has a data offset that is not a non-negative integer";
    }
    void lyingHeadersAreRejected() {
        QFETCH(QString, header);
        QFETCH(QString, expected);
        const std::string h = header.toStdString();
        std::string bytes(8, '\0');
        const std::uint64_t n = h.size();
        std::memcpy(bytes.data(), &n, 8);
        bytes += h + std::string(8, '\0');
        auto r = io::decodeSafetensors(bytes, "ckpt.safetensors");
        QVERIFY(!r.ok());
        const std::string m = r.status().message();
        QVERIFY2(m.find(expected.toStdString()) != std::string::npos, m.c_str());
        QVERIFY(m.find("ckpt.safetensors") != std::string::npos);
    }

    void atomicWritesLeaveNoTemporaryFiles() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("x.json").toStdString();
        CS_VERIFY_OK(io::writeFileAtomic(path, "first"));
        CS_VERIFY_OK(io::writeFileAtomic(path, "second"));
        QCOMPARE(*io::readFile(path), std::string("second"));
        int files = 0;
        for ([[maybe_unused]] const auto& e :
             std::filesystem::directory_iterator(dir.path().toStdString()))
            ++files;
        QCOMPARE(files, 1);
        QVERIFY(!io::writeFileAtomic("/nonexistent-dir/x", "y").ok());
    }

    // Two epochs straight, or one epoch, a checkpoint, a fresh trainer, and one more epoch:
    // the same losses step for step, the same final weights.
    void resumingContinuesTheSameCurve() {
        QTemporaryDir dir;
        std::vector<double> straight, resumed;
        auto onStep = [](std::vector<double>& v) {
            return [&v](const train::StepReport& r) { v.push_back(r.loss); };
        };
        CS_VERIFY_OK(m_cpu.reset());
        model::Network a(smallNet());
        train::Trainer ta(m_cpu, a, blobs(), config(2));
        CS_VERIFY_OK(ta.setup());
        CS_VERIFY_OK(ta.run(onStep(straight), {}));
        auto finalStraight = m_cpu.readReal(a.params());
        QVERIFY(finalStraight.ok());

        auto run = train::RunFolder::create(dir.filePath("run").toStdString(), smallNet(), "blobs",
                                            blobs());
        QVERIFY2(run.ok(), run.status().message().c_str());
        CS_VERIFY_OK(m_cpu.reset());
        {
            model::Network b(smallNet());
            train::Trainer tb(m_cpu, b, blobs(), config(1));
            CS_VERIFY_OK(tb.setup());
            CS_VERIFY_OK(tb.run(onStep(resumed), {}));
            CS_VERIFY_OK(tb.saveCheckpoint(run->checkpointPath(tb.stepsDone())));
        }
        CS_VERIFY_OK(m_cpu.reset());
        model::Network c(smallNet());
        train::Trainer tc(m_cpu, c, blobs(), config(2));
        CS_VERIFY_OK(tc.setup());
        auto latest = train::RunFolder::latestCheckpoint(run->dir());
        QVERIFY2(latest.ok(), latest.status().message().c_str());
        QVERIFY(latest->ends_with("step-16.safetensors"));
        CS_VERIFY_OK(tc.loadCheckpoint(*latest));
        QCOMPARE(tc.stepsDone(), qint64(16));
        CS_VERIFY_OK(tc.run(onStep(resumed), {}));
        QCOMPARE(resumed.size(), straight.size());
        QCOMPARE(resumed, straight);
        QCOMPARE(*m_cpu.readReal(c.params()), *finalStraight);

        // The file holds PyTorch's names and shapes, the BN statistics and the step count.
        auto f = io::loadSafetensors(*latest);
        QVERIFY(f.ok());
        QCOMPARE(f->tensors["conv1.weight"].shape, (std::vector<std::int64_t>{4, 1, 3, 3}));
        QCOMPARE(f->tensors["fc.weight"].shape, (std::vector<std::int64_t>{4, 144}));
        QVERIFY(f->tensors.count("bn1.running_var"));
        QVERIFY(f->tensors.count("res.body.a.bias"));
        QCOMPARE(f->tensors["bn1.num_batches_tracked"].i64, std::vector<std::int64_t>{16});
        QVERIFY(f->metadata["spec"].find("\"small\"") != std::string::npos);
    }

    // Checkpoints that cannot be resumed are refused at load with a message naming the fault: a
    // damaged step count in the metadata (an error, not a crash: std::stoll threw here), weights
    // with NaN or Inf (refused by the trainer and by the analyses, naming the tensor and how
    // many values are not finite; training on them would only say "diverged"), and the
    // checkpoint of another network.
    void damagedCheckpointsAreRefused_data() {
        QTest::addColumn<int>("damage");
        QTest::addColumn<QStringList>("expected"); // all in the trainer's message
        QTest::addColumn<bool>("analysesRefuse");  // model::loadCheckpoint names expected[0] too
        QTest::newRow("step count not a number")
            << int(StepCount) << QStringList{"\"twelve\""} << false;
        QTest::newRow("weights not finite")
            << int(NonFiniteWeights)
            << QStringList{"tensor \"conv1.weight\" holds 2 of ", "not finite"} << true;
        QTest::newRow("another network")
            << int(AnotherNetwork) << QStringList{"has no tensor \"fc1.weight\""} << false;
    }
    void damagedCheckpointsAreRefused() {
        QFETCH(int, damage);
        QFETCH(QStringList, expected);
        QFETCH(bool, analysesRefuse);
        QTemporaryDir dir;
        const std::string path = dir.filePath("step-1.safetensors").toStdString();
        model::Network a(smallNet());
        train::Trainer ta(m_cpu, a, blobs(), config(1));
        CS_VERIFY_OK(savedCheckpoint(ta, path));
        auto f = io::loadSafetensors(path);
        QVERIFY(f.ok());
        if (damage == StepCount)
            f->metadata["step"] = "twelve";
        if (damage == NonFiniteWeights) {
            std::vector<float>& w = f->tensors.at("conv1.weight").f32;
            w[0] = std::numeric_limits<float>::quiet_NaN();
            w[1] = std::numeric_limits<float>::infinity();
        }
        CS_VERIFY_OK(io::saveSafetensors(path, *f));

        train::Trainer* loader = &ta;
        std::unique_ptr<model::Network> other;
        std::unique_ptr<train::Trainer> otherTrainer;
        if (damage == AnotherNetwork) {
            CS_VERIFY_OK(m_cpu.reset());
            other = std::make_unique<model::Network>(model::mlpSpec(1, 12, 12, {16}, 4));
            otherTrainer = std::make_unique<train::Trainer>(m_cpu, *other, blobs(), config(1));
            CS_VERIFY_OK(otherTrainer->setup());
            loader = otherTrainer.get();
        }
        const Status s = loader->loadCheckpoint(path);
        QVERIFY(!s.ok());
        for (const QString& e : expected)
            QVERIFY2(s.message().find(e.toStdString()) != std::string::npos, s.message().c_str());
        if (analysesRefuse) {
            auto c = model::loadCheckpoint(path);
            QVERIFY(!c.ok());
            QVERIFY2(c.status().message().find(expected.front().toStdString()) != std::string::npos,
                     c.status().message().c_str());
        }
    }
};

QTEST_GUILESS_MAIN(TestCheckpoint)
#include "tst_checkpoint.moc"
