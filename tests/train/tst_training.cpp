// Training end to end on synthetic gratings: the recorded step learns, Vulkan and the CPU
// backends follow the same loss curve, runs are deterministic, and cancel, divergence and a
// mismatched network end with a clear message.
#include "data/synthetic.h"
#include "io/safetensors.h"
#include "model/weights.h"
#include "test_support.h"
#include "train/run_folder.h"
#include "train/trainer.h"
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>

using namespace convscope;
using namespace convscope::testing;

namespace {

struct Run {
    std::vector<double> losses;
    std::vector<train::EpochReport> epochs;
    Status status;
};

const data::TrainTestSplit& gratings() {
    static const data::TrainTestSplit s = data::makeGratingsSplit(1000, 250, 12, 4, 11);
    return s;
}

Run trainRun(Backend& be, train::TrainConfig cfg, std::vector<std::int64_t> sizes = {144, 64, 4},
             const std::atomic<bool>* cancel = nullptr, int cancelAfter = 0,
             std::atomic<bool>* cancelFlag = nullptr) {
    Run r;
    if (Status s = be.reset(); !s.ok()) {
        r.status = s;
        return r;
    }
    std::vector<std::int64_t> hidden(sizes.begin() + 1, sizes.end() - 1);
    model::Network mlp(model::mlpSpec(1, 1, sizes.front(), hidden, sizes.back()));
    train::Trainer t(be, mlp, gratings(), cfg);
    r.status = t.setup();
    if (!r.status.ok())
        return r;
    r.status = t.run(
        [&](const train::StepReport& s) {
            r.losses.push_back(s.loss);
            if (cancelFlag && int(r.losses.size()) == cancelAfter)
                cancelFlag->store(true);
        },
        [&](const train::EpochReport& e) { r.epochs.push_back(e); }, cancel);
    return r;
}

train::TrainConfig config() {
    train::TrainConfig c;
    c.batch = 32;
    c.epochs = 3;
    c.optimizer.lr = 0.05;
    c.optimizer.momentum = 0.9;
    c.seed = 5;
    c.chunk = 8;
    return c;
}

} // namespace

class TestTraining : public QObject {
    Q_OBJECT
    CpuBackend<float> m_cpu;
    CpuBackend<double> m_ref;

private slots:
    void cleanup() { QVERIFY2(noValidationMessages(), "Vulkan validation reported messages"); }

    void cpuLearnsGratings() {
        Run r = trainRun(m_cpu, config());
        QVERIFY2(r.status.ok(), r.status.message().c_str());
        QCOMPARE(int(r.losses.size()), 3 * 32); // ceil(1000/32) steps per epoch
        QCOMPARE(int(r.epochs.size()), 3);
        const double first = r.epochs.front().trainLoss, last = r.epochs.back().trainLoss;
        qInfo("train loss %.3f -> %.3f, test accuracy %.3f", first, last,
              r.epochs.back().test.accuracy);
        QVERIFY(last < 0.5 * first);
        QVERIFY(r.epochs.back().test.accuracy > 0.9); // chance is 0.25
        QCOMPARE(r.epochs.back().test.count, qint64(250));
    }

    void vulkanFollowsTheSameCurve_data() {
        QTest::addColumn<QString>("reference");
        QTest::newRow("against CPU float") << "float";
        QTest::newRow("against CPU double") << "double";
    }
    void vulkanFollowsTheSameCurve() {
        CS_REQUIRE_VULKAN(vk);
        QFETCH(QString, reference);
        train::TrainConfig c = config();
        c.epochs = 1;
        Run ref = reference == "float" ? trainRun(m_cpu, c) : trainRun(m_ref, c);
        Run got = trainRun(*vk, c);
        QVERIFY2(ref.status.ok() && got.status.ok(),
                 (ref.status.ok() ? got.status : ref.status).message().c_str());
        QCOMPARE(got.losses.size(), ref.losses.size());
        double worst = 0;
        for (std::size_t i = 0; i < got.losses.size(); ++i)
            worst = std::max(worst, std::abs(got.losses[i] - ref.losses[i]) / ref.losses[i]);
        qInfo("worst per-step loss relative difference over %zu steps: %.3g", got.losses.size(),
              worst);
        QVERIFY(worst < 1e-3);
        QVERIFY(std::abs(got.epochs[0].test.accuracy - ref.epochs[0].test.accuracy) < 0.01);
    }

    void runsAreDeterministic() {
        train::TrainConfig c = config();
        c.epochs = 1;
        Run a = trainRun(m_cpu, c), b = trainRun(m_cpu, c);
        QVERIFY(a.status.ok() && b.status.ok());
        QCOMPARE(a.losses, b.losses);
        c.seed = 6;
        Run other = trainRun(m_cpu, c);
        QVERIFY(other.losses != a.losses);
    }

    void cancelStopsPromptly() {
        std::atomic<bool> cancel{false};
        train::TrainConfig c = config();
        c.chunk = 4;
        Run r = trainRun(m_cpu, c, {144, 64, 4}, &cancel, 5, &cancel);
        QVERIFY(!r.status.ok());
        QVERIFY2(r.status.message().find("cancelled") != std::string::npos,
                 r.status.message().c_str());
        QVERIFY(r.losses.size() <= 5 + 2 * 4); // at most the chunks already in flight
    }

    // A run cancelled mid-epoch continues from the device's step counter on the next run(),
    // with the same batches an uninterrupted run would have used.
    void aCancelledRunResumes() {
        train::TrainConfig c = config();
        c.epochs = 1;
        c.chunk = 4;
        Run whole = trainRun(m_cpu, c);
        QVERIFY(whole.status.ok());

        CS_VERIFY_OK(m_cpu.reset());
        model::Network mlp(model::mlpSpec(1, 12, 12, {64}, 4));
        train::Trainer t(m_cpu, mlp, gratings(), c);
        CS_VERIFY_OK(t.setup());
        std::vector<double> losses;
        std::vector<std::int64_t> steps;
        std::atomic<bool> stop{false};
        auto onStep = [&](const train::StepReport& r) {
            losses.push_back(r.loss);
            steps.push_back(r.step);
            if (r.step == 6)
                stop = true;
        };
        QVERIFY(!t.run(onStep, {}, &stop).ok());
        const std::int64_t stoppedAt = t.stepsDone();
        QVERIFY(stoppedAt >= 6 && stoppedAt < 32);
        QVERIFY(!t.setLearningRate(-1).ok());
        stop = false;
        CS_VERIFY_OK(t.run(onStep, {}, &stop));
        QCOMPARE(t.stepsDone(), qint64(32)); // the rest of the epoch, not a new one
        QCOMPARE(steps.size(), std::size_t(32));
        for (std::size_t i = 0; i < steps.size(); ++i)
            QCOMPARE(steps[i], qint64(i + 1));
        QCOMPARE(losses, whole.losses);
    }

    // Single steps (the GUI's step button) walk the same curve as an uninterrupted run.
    void singleStepsFollowTheSameCurve() {
        train::TrainConfig c = config();
        c.epochs = 1;
        c.schedule.kind = train::LrSchedule::Kind::Cosine; // spans the run, not the pauses
        Run whole = trainRun(m_cpu, c);
        QVERIFY(whole.status.ok());
        CS_VERIFY_OK(m_cpu.reset());
        model::Network mlp(model::mlpSpec(1, 12, 12, {64}, 4));
        train::Trainer t(m_cpu, mlp, gratings(), c);
        CS_VERIFY_OK(t.setup());
        std::vector<double> losses;
        auto onStep = [&](const train::StepReport& r) { losses.push_back(r.loss); };
        int epochs = 0;
        train::EpochReport last;
        auto onEpoch = [&](const train::EpochReport& e) {
            ++epochs;
            last = e;
        };
        for (int i = 0; i < 3; ++i)
            CS_VERIFY_OK(t.runSteps(1, onStep, onEpoch));
        QCOMPARE(epochs, 0); // no evaluation after a single step
        QCOMPARE(t.stepsDone(), qint64(3));
        CS_VERIFY_OK(t.runSteps(5, onStep, {}));
        QCOMPARE(t.stepsDone(), qint64(8));
        CS_VERIFY_OK(t.run(onStep, onEpoch));
        QCOMPARE(epochs, 1);
        QCOMPARE(losses, whole.losses);
        // The epoch's report covers all its steps, not only those of the last run: the same
        // train loss and accuracy as the uninterrupted epoch, bit for bit.
        QVERIFY(last.trainLoss == whole.epochs[0].trainLoss);
        QVERIFY(last.trainAccuracy == whole.epochs[0].trainAccuracy);
        QVERIFY(last.test.loss == whole.epochs[0].test.loss);
        QVERIFY(!t.runSteps(0, onStep, {}).ok());
    }

    void divergenceIsReportedWithAHint() {
        train::TrainConfig c = config();
        c.optimizer.lr = 1e6;
        Run r = trainRun(m_cpu, c);
        QVERIFY(!r.status.ok());
        const std::string m = r.status.message();
        QVERIFY2(m.find("training diverged") != std::string::npos, m.c_str());
        QVERIFY2(m.find("Lower the learning rate (now 1e+06) and continue from the last good") !=
                     std::string::npos,
                 m.c_str());
        QVERIFY2(m.find("the first NaN or Inf appeared in the forward pass of step") !=
                     std::string::npos,
                 m.c_str());
        // Step 1 runs at the initial weights: the rate can only break the steps after it.
        QVERIFY2(m.find("the weights going in were finite") != std::string::npos, m.c_str());
    }

    // The NaN guard (lr 1e6 on lenet5 and resnet20, both backends): the message names the step,
    // the pass and the first layer (or batch-norm statistic) where a NaN or Inf appeared, and no
    // checkpoint of the diverged weights is written. The claim is checked independently, by the
    // ordinary path: a fresh trainer run to the step before has finite weights, statistics and
    // outputs; one more step makes the named tensor non-finite while every layer before it
    // stays finite.
    void divergenceNamesTheLayer_data() {
        QTest::addColumn<QString>("preset");
        QTest::addColumn<QString>("backend");
        for (const char* p : {"lenet5", "resnet20"})
            for (const char* b : {"cpu", "vulkan"})
                QTest::newRow(qPrintable(QString("%1 %2").arg(p, b))) << p << b;
    }
    void divergenceNamesTheLayer() {
        QFETCH(QString, preset);
        QFETCH(QString, backend);
        Backend* be = backend == "cpu" ? static_cast<Backend*>(&m_cpu) : vulkan();
        if (!be) {
            QVERIFY2(!onCi(), "no Vulkan device on CI");
            QSKIP("no Vulkan device");
        }
        auto spec = model::preset(preset.toStdString());
        QVERIFY(spec.ok());
        spec->height = spec->width = 12;
        train::TrainConfig c = config();
        c.optimizer.lr = 1e6;
        c.maxSteps = 16;
        std::int64_t bad = 0;
        std::string named;
        bool output = false;
        {
            CS_VERIFY_OK(be->reset());
            model::Network net(*spec);
            train::Trainer t(*be, net, gratings(), c);
            CS_VERIFY_OK(t.setup());
            const Status s = t.run({}, {});
            QVERIFY(!s.ok());
            QVERIFY(t.diverged());
            const std::string m = s.message();
            qInfo("%s", m.c_str());
            const std::string pass = "appeared in the forward pass of step ";
            auto at = m.find(pass);
            QVERIFY2(at != std::string::npos, m.c_str());
            bad = std::stoll(m.substr(at + pass.size()));
            at = m.find(", in ", at) + 5;
            output = m.compare(at, 14, "the output of ") == 0;
            if (output)
                at += 14;
            named = m.substr(at, m.find(' ', at) - at);
            QVERIFY2(bad >= 2 && bad <= 16, m.c_str()); // step 1 runs at the initial weights
            QTemporaryDir dir;
            auto run = train::RunFolder::create(dir.filePath("run").toStdString(), *spec,
                                                "gratings", gratings());
            QVERIFY2(run.ok(), run.status().message().c_str());
            auto made = run->checkpoint(t);
            QVERIFY(made.ok());
            QVERIFY(!*made); // nothing diverged is saved
        }
        CS_VERIFY_OK(be->reset());
        model::Network net(*spec);
        train::Trainer t(*be, net, gratings(), c);
        CS_VERIFY_OK(t.setup());
        auto finite = [&](const Tensor& x) {
            auto v = be->readReal(x);
            return v.ok() &&
                   std::all_of(v->begin(), v->end(), [](double d) { return std::isfinite(d); });
        };
        CS_VERIFY_OK(t.runSteps(bad - 1, {}, {}));
        for (const auto& n : net.namedTensors())
            QVERIFY2(finite(n.tensor), n.name.c_str());
        (void)t.runSteps(1, {}, {}); // step `bad`: its loss may still be finite
        CS_VERIFY_OK(be->finish());
        bool seen = false;
        for (const auto& o : net.layerOutputs()) {
            for (const auto& n : net.namedTensors())
                if (!n.parameter && n.name.starts_with(o.path + ".")) {
                    if (n.name == named) {
                        QVERIFY2(!finite(n.tensor), n.name.c_str());
                        seen = true;
                    } else if (!seen) {
                        QVERIFY2(finite(n.tensor), n.name.c_str());
                    }
                }
            if (seen)
                break;
            if (output && o.path == named) {
                QVERIFY2(!finite(o.y), o.path.c_str());
                seen = true;
                break;
            }
            QVERIFY2(finite(o.y), o.path.c_str()); // every layer before it is finite
        }
        QVERIFY2(seen, named.c_str());
    }

    // A network that cannot fit is refused before anything is allocated, with the number it
    // needs and what the backend has (MemAvailable on the CPU; the Vulkan heap's budget), and
    // the backend stays usable.
    void oversizedNetworkIsRefusedBeforeAllocating_data() {
        QTest::addColumn<QString>("backend");
        QTest::newRow("cpu") << "cpu";
        QTest::newRow("vulkan") << "vulkan";
    }
    void oversizedNetworkIsRefusedBeforeAllocating() {
        QFETCH(QString, backend);
        Backend* be = backend == "cpu" ? static_cast<Backend*>(&m_cpu) : vulkan();
        if (!be) {
            QVERIFY2(!onCi(), "no Vulkan device on CI");
            QSKIP("no Vulkan device");
        }
        const Backend::MemoryBudget budget = be->memoryBudget();
        QVERIFY(budget.device > 0);
        CS_VERIFY_OK(be->reset());
        auto spec = model::preset("lenet5");
        QVERIFY(spec.ok());
        spec->height = spec->width = 12;
        model::Network net(*spec);
        train::TrainConfig c = config();
        // conv1's output alone: 6 x 8 x 8 floats per image; enough images to pass any budget.
        c.batch = std::int64_t(budget.device / (6 * 8 * 8 * 4) + 1);
        train::Trainer t(*be, net, gratings(), c);
        const Status s = t.setup();
        QVERIFY(!s.ok());
        const std::string m = s.message();
        qInfo("%s", m.c_str());
        QVERIFY2(m.find("the tensors need ") != std::string::npos &&
                     m.find("available; nothing was allocated (batch " + std::to_string(c.batch)) !=
                         std::string::npos &&
                     m.find("Lower the batch size") != std::string::npos,
                 m.c_str());
        QVERIFY(!be->allocated());
        CS_VERIFY_OK(be->reset());
        Run r = trainRun(*be, config());
        CS_VERIFY_OK(r.status);
    }

    // The vanishing-gradients lecture in numbers: through ten sigmoid layers (σ' ≤ 1/4) the
    // gradient norm shrinks towards the input, while ReLU layers keep it (per-layer statistics).
    void deepSigmoidGradientsVanish() {
        auto stats = [&](const char* presetName) -> Result<std::vector<train::LayerStat>> {
            auto spec = *model::preset(presetName);
            spec.height = spec.width = 12;
            // He's scale on the classifier too (the default is a tenth of it): the lecture's
            // comparison is of the layers' scheme, not of the classifier's start.
            spec.layers.back().hasInit = true;
            spec.layers.back().init = spec.init;
            CS_TRY(m_cpu.reset());
            model::Network net(spec);
            train::TrainConfig c = config();
            c.maxSteps = 1;
            train::Trainer t(m_cpu, net, gratings(), c);
            CS_TRY(t.setup());
            CS_TRY(t.run({}, {}));
            return t.layerStats();
        };
        auto sigStats = stats("deep-sigmoid"), mlpStats = stats("mlp");
        QVERIFY2(sigStats.ok() && mlpStats.ok(),
                 (sigStats.ok() ? mlpStats.status() : sigStats.status()).message().c_str());
        const auto& sig = *sigStats;
        QCOMPARE(int(sig.size()), 11);
        QCOMPARE(sig.front().layer, std::string("fc1"));
        const double ratio = sig.front().gradNorm / sig[9].gradNorm;
        qInfo("deep-sigmoid: |grad fc1| / |grad fc10| = %.2e", ratio);
        QVERIFY(ratio < 1e-2);
        for (const auto& l : sig)
            QVERIFY(l.weightNorm > 0 && l.updateRatio > 0);
        const auto& mlp = *mlpStats;
        QVERIFY(mlp.front().gradNorm > 0.1 * mlp.back().gradNorm);
    }

    // The feature-map view's probe: sample 0 of the first map is ReLU(conv1(x)) of exactly the
    // chosen test image, normalised as training normalises it; layers sharing a buffer show once.
    void probeShowsOneTestImage_data() {
        QTest::addColumn<QString>("backend");
        QTest::newRow("cpu double") << "double";
        QTest::newRow("vulkan") << "vulkan";
    }
    void probeShowsOneTestImage() {
        QFETCH(QString, backend);
        Backend* be = &m_ref;
        if (backend == "vulkan") {
            CS_REQUIRE_VULKAN(vk);
            be = vk;
        }
        QVERIFY(be->reset().ok());
        auto spec = *model::preset("lenet5");
        model::fitInput(spec, 1, 12, 12);
        model::Network net(spec);
        train::TrainConfig c = config();
        c.maxSteps = 3;
        const auto& data = gratings();
        train::Trainer t(*be, net, data, c);
        QVERIFY(t.setup().ok());
        QVERIFY(t.run({}, {}).ok());
        const std::int64_t image = 7;
        QVERIFY(!t.probe(data.test.count).ok());
        Status s = t.probe(image);
        QVERIFY2(s.ok(), s.message().c_str());
        auto maps = net.featureMaps();
        QStringList names;
        for (const auto& m : maps)
            names << QString::fromStdString(m.path + " " + m.dims.str());
        QCOMPARE(names.join(", "),
                 QString("relu1 6x12x12, pool1 6x6x6, relu2 16x2x2, pool2 16x1x1"));
        auto y = *be->readReal(maps[0].y);
        std::vector<double> w, b;
        for (const auto& nt : net.namedTensors()) {
            if (nt.name == "conv1.weight")
                w = *be->readReal(nt.tensor);
            if (nt.name == "conv1.bias")
                b = *be->readReal(nt.tensor);
        }
        QCOMPARE(int(w.size()), 6 * 25);
        const std::uint8_t* px = data.test.images.data() + image * 144;
        auto x = [&](int r, int col) {
            if (r < 0 || r >= 12 || col < 0 || col >= 12)
                return 0.0;
            return (px[r * 12 + col] / 255.0 - data.mean) / data.std;
        };
        double worst = 0;
        for (int f = 0; f < 6; ++f)
            for (int r = 0; r < 12; ++r)
                for (int col = 0; col < 12; ++col) {
                    double sum = b[f];
                    for (int i = 0; i < 5; ++i)
                        for (int j = 0; j < 5; ++j)
                            sum += w[f * 25 + i * 5 + j] * x(r + i - 2, col + j - 2);
                    const double want = std::max(sum, 0.0);
                    worst = std::max(worst, std::abs(y[(f * 12 + r) * 12 + col] - want) /
                                                (1.0 + std::abs(want)));
                }
        qInfo("relu1 of test image %lld vs a direct convolution: %.2g", (long long)image, worst);
        QVERIFY(worst < 1e-5);
    }

    void mismatchedNetworkIsRejected() {
        Run r = trainRun(m_cpu, config(), {100, 10, 4});
        QVERIFY(!r.status.ok());
        QVERIFY2(r.status.message().find("144 features per image but the network expects 100") !=
                     std::string::npos,
                 r.status.message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestTraining)
#include "tst_training.moc"
