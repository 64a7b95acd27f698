// Adversarial examples on a LeNet-5 trained here for a few hundred steps: FGSM images and the
// accuracy-vs-ε curves of FGSM and PGD against PyTorch on the same checkpoint and images (the
// same images wherever the gradient's sign is not in doubt, the same accuracy within 2 images
// in 1,000); the attacks' own invariants; the confusion matrix; bad input refused.
#include "analysis/adversarial.h"
#include "data/synthetic.h"
#include "model/weights.h"
#include "test_support.h"
#include "torch_reference.h"
#include "train/trainer.h"

#include <QTemporaryDir>
#include <cmath>

using namespace convscope;
using namespace convscope::testing;

namespace {

const data::TrainTestSplit& dataset() {
    static const data::TrainTestSplit s = [] {
        auto fm = data::loadFashionMnist();
        if (fm.ok())
            return std::move(*fm);
        return data::makeGratingsSplit(6400, 1000, 28, 4, 5);
    }();
    return s;
}

std::string joined(const std::vector<double>& v) {
    std::string s;
    for (double e : v) {
        if (!s.empty())
            s.push_back(',');
        s.append(std::to_string(e));
    }
    return s;
}

} // namespace

class TestAdversarial : public QObject {
    Q_OBJECT
    CpuBackend<float> m_float;
    CpuBackend<double> m_double{1};
    QTemporaryDir m_dir;
    std::string m_checkpoint;
    std::vector<double> m_pixels;
    std::vector<std::int32_t> m_labels;

    std::unique_ptr<analysis::Inspector> inspector(Backend& be, std::int64_t batch = 100) {
        auto c = model::loadCheckpoint(m_checkpoint);
        if (!c.ok())
            return {};
        auto in = analysis::Inspector::open(be, *c, batch);
        return in.ok() ? std::move(*in) : nullptr;
    }

private slots:
    // LeNet-5, 300 steps of SGD with momentum: ~80 % on Fashion-MNIST, enough to attack.
    void initTestCase() {
        const auto& d = dataset();
        auto spec = model::preset("lenet5");
        QVERIFY(spec.ok());
        model::Network net(*spec);
        CpuBackend<float> be;
        train::TrainConfig cfg;
        cfg.maxSteps = 300;
        cfg.optimizer.lr = 0.02;
        train::Trainer t(be, net, d, cfg);
        CS_VERIFY_OK(t.setup());
        (void)t.run({}, {}); // stops at maxSteps
        QCOMPARE(t.stepsDone(), std::int64_t(300));
        m_checkpoint = m_dir.filePath("lenet5.safetensors").toStdString();
        CS_VERIFY_OK(t.saveCheckpoint(
            m_checkpoint, {{"mean", std::to_string(d.mean)}, {"std", std::to_string(d.std)}}));
        std::vector<std::int64_t> idx;
        for (std::int64_t i = 0; i < std::min<std::int64_t>(1000, d.test.count); ++i) {
            idx.push_back(i);
            m_labels.push_back(d.test.labels[std::size_t(i)]);
        }
        m_pixels = analysis::Inspector::pixels(d.test, idx);
    }
    void cleanup() { QVERIFY2(noValidationMessages(), "Vulkan validation reported messages"); }

    void fgsmMatchesPyTorch() {
        if (const QString why = torchMissing(); !why.isEmpty())
            QSKIP(qPrintable(why));
        auto in = inspector(m_float);
        QVERIFY(in);
        const std::int64_t N = std::int64_t(m_labels.size()), D = in->imageSize();
        const std::vector<double> eps = analysis::defaultEpsilons();
        auto fgsm = analysis::accuracyVsEpsilon(*in, m_pixels, m_labels, eps, 0);
        auto pgd = analysis::accuracyVsEpsilon(*in, m_pixels, m_labels, eps, 5);
        QVERIFY2(fgsm.ok() && pgd.ok(), (fgsm.ok() ? pgd : fgsm).status().message().c_str());

        io::SafeTensors inputs;
        inputs.tensors["pixels"] = storedF32({N, 1, 28, 28}, m_pixels);
        inputs.tensors["labels"] = storedI64({m_labels.begin(), m_labels.end()});
        inputs.tensors["targets"] = storedI64({m_labels.begin(), m_labels.end()});
        const auto c = model::loadCheckpoint(m_checkpoint);
        inputs.metadata = {{"mean", std::to_string(c->mean)},
                           {"std", std::to_string(c->std)},
                           {"tasks", "fgsm,pgd"},
                           {"eps", joined(eps)},
                           {"pgd_steps", "5"},
                           {"keep_images", "0"}};
        auto t = torchAnalysis(m_checkpoint, inputs, "float32");
        QVERIFY2(t.ok(), t.status().message().c_str());
        const auto tf = valuesOf(*t, "fgsm_accuracy"), tp = valuesOf(*t, "pgd_accuracy");
        QCOMPARE(tf.size(), eps.size());
        for (std::size_t i = 0; i < eps.size(); ++i) {
            qInfo("ε %.3f: FGSM %.3f (PyTorch %.3f), PGD-5 %.3f (PyTorch %.3f)", eps[i],
                  (*fgsm)[i].accuracy, tf[i], (*pgd)[i].accuracy, tp[i]);
            QVERIFY(std::abs((*fgsm)[i].accuracy - tf[i]) * double(N) <= 2.0 + 1e-9);
            QVERIFY(std::abs((*pgd)[i].accuracy - tp[i]) * double(N) <= 2.0 + 1e-9);
        }
        QVERIFY((*fgsm)[0].accuracy > 0.6);                     // trained
        QVERIFY((*fgsm).back().accuracy < (*fgsm)[0].accuracy); // attacked
        QVERIFY((*pgd).back().accuracy <= (*fgsm).back().accuracy + 0.01);

        // The images themselves, for 100 of them at ε = 0.1: in double precision on both
        // sides exactly wherever the sign is not in doubt (|g| > 1e-6·max|g|); in float, where
        // rounding can flip the sign of a gradient that is a sum of cancelling terms, at most
        // one pixel in 10,000 differs.
        for (const bool exact : {true, false}) {
            auto in2 = exact ? inspector(m_double) : inspector(m_float);
            QVERIFY(in2);
            const std::int64_t n = 100;
            std::vector<double> px(m_pixels.begin(), m_pixels.begin() + n * D);
            std::vector<std::int32_t> lb(m_labels.begin(), m_labels.begin() + n);
            auto ours = analysis::attack(*in2, px, lb, {0.1, 0});
            QVERIFY(ours.ok());
            inputs.tensors["pixels"] = storedF32({n, 1, 28, 28}, px);
            inputs.tensors["labels"] = storedI64({lb.begin(), lb.end()});
            inputs.tensors["targets"] = storedI64({lb.begin(), lb.end()});
            inputs.metadata["tasks"] = std::string("fgsm");
            inputs.metadata["eps"] = std::string("0.1");
            inputs.metadata["keep_images"] = std::string("1");
            auto ti = torchAnalysis(m_checkpoint, inputs, exact ? "float64" : "float32");
            QVERIFY2(ti.ok(), ti.status().message().c_str());
            const auto images = valuesOf(*ti, "fgsm_images"), g = valuesOf(*ti, "fgsm_gradient");
            QCOMPARE(std::int64_t(images.size()), n * D);
            std::int64_t checked = 0, differ = 0;
            for (std::int64_t i = 0; i < n; ++i) {
                double gmax = 0;
                for (std::int64_t k = 0; k < D; ++k)
                    gmax = std::max(gmax, std::abs(g[std::size_t(i * D + k)]));
                for (std::int64_t k = 0; k < D; ++k) {
                    const std::size_t at = std::size_t(i * D + k);
                    if (std::abs(g[at]) <= 1e-6 * gmax)
                        continue; // the sign is in doubt
                    ++checked;
                    if (std::abs(ours->adversarial[at] - images[at]) > 1e-5) {
                        ++differ;
                        qInfo("image %lld pixel %lld: %.3g vs %.3g, |g|/max %.3g", (long long)i,
                              (long long)k, ours->adversarial[at], images[at],
                              std::abs(g[at]) / gmax);
                    }
                }
            }
            qInfo("FGSM images in %s: %lld pixels checked, %lld differ by more than 1e-5",
                  exact ? "double" : "float", (long long)checked, (long long)differ);
            QVERIFY(checked > n * D / 2);
            QVERIFY(exact ? differ == 0 : differ * 10000 <= checked);
        }
    }

    void attacksKeepTheirBounds() {
        auto in = inspector(m_double, 50);
        QVERIFY(in);
        const std::int64_t n = 50, D = in->imageSize();
        std::vector<double> px(m_pixels.begin(), m_pixels.begin() + n * D);
        std::vector<std::int32_t> lb(m_labels.begin(), m_labels.begin() + n);
        auto zero = analysis::attack(*in, px, lb, {0.0, 0});
        QVERIFY(zero.ok());
        QVERIFY(zero->adversarial == px);
        QVERIFY(zero->predictedAfter == zero->predictedBefore);
        for (int steps : {0, 4}) {
            auto r = analysis::attack(*in, px, lb, {0.05, steps});
            QVERIFY(r.ok());
            std::int64_t full = 0;
            for (std::size_t i = 0; i < px.size(); ++i) {
                const double d = std::abs(r->adversarial[i] - px[i]);
                QVERIFY(d <= 0.05 + 1e-12);
                QVERIFY(r->adversarial[i] >= 0 && r->adversarial[i] <= 1);
                full += std::abs(d - 0.05) < 1e-12;
            }
            if (steps == 0) // FGSM moves every pixel by ε unless clipped or the gradient is 0
                QVERIFY(full > std::int64_t(px.size()) / 4);
            // The attack lowers the true class's probability on average.
            double before = 0, after = 0;
            for (std::int64_t i = 0; i < n; ++i) {
                before += r->probsBefore[std::size_t(i * 10 + lb[std::size_t(i)])];
                after += r->probsAfter[std::size_t(i * 10 + lb[std::size_t(i)])];
            }
            QVERIFY(after < before);
        }
    }

    void confusionMatrixAddsUp() {
        auto in = inspector(m_float);
        QVERIFY(in);
        auto m = analysis::confusion(*in, m_pixels, m_labels);
        QVERIFY2(m.ok(), m.status().message().c_str());
        std::int64_t total = 0;
        for (auto c : m->counts)
            total += c;
        QCOMPARE(total, std::int64_t(m_labels.size()));
        auto curve = analysis::accuracyVsEpsilon(*in, m_pixels, m_labels, std::vector{0.0}, 0);
        QVERIFY(curve.ok());
        QCOMPARE(m->accuracy(), (*curve)[0].accuracy);
        for (std::size_t i = 0; i < m_labels.size(); ++i)
            QVERIFY(m->predicted[i] >= 0 && m->predicted[i] < 10);
        auto adv = analysis::confusion(*in, m_pixels, m_labels, {0.2, 0});
        QVERIFY(adv.ok());
        QVERIFY(adv->accuracy() < m->accuracy());
    }

    void badInputIsRefused() {
        auto in = inspector(m_float, 10);
        QVERIFY(in);
        const std::int64_t D = in->imageSize();
        std::vector<double> px(m_pixels.begin(), m_pixels.begin() + 2 * D);
        std::vector<std::int32_t> lb{0, 1};
        QVERIFY(!analysis::attack(*in, px, lb, {-0.1, 0}).ok());
        QVERIFY(!analysis::accuracyVsEpsilon(*in, px, lb, std::vector{-0.1}, 0).ok());
        std::vector<std::int32_t> bad{0, 12};
        auto r = analysis::confusion(*in, px, bad);
        QVERIFY(!r.ok());
        QVERIFY2(r.status().message().find("label 12") != std::string::npos,
                 r.status().message().c_str());
        std::vector<std::int32_t> three{0, 1, 2};
        QVERIFY(!analysis::attack(*in, px, three, {0.1, 0}).ok());
    }
};

QTEST_GUILESS_MAIN(TestAdversarial)
#include "tst_adversarial.moc"
