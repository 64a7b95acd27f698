// Network: the whole-model oracles. A small network with every layer kind (fused and in-place
// activations, batch and layer norm, dropout, identity and projection residual blocks, concat
// branches) has the gradients of central finite differences on the double CPU backend, and
// Vulkan and CPU float agree with it; evaluation mode is deterministic and differs from training;
// the inference pass (batch norms folded into the layers before them) gives evaluation's logits.
#include "model/network.h"
#include "ops/softmax_cross_entropy.h"
#include "test_support.h"

#include <cmath>
#include <set>

using namespace convscope;
using namespace convscope::model;
using namespace convscope::testing;

namespace {

const char* kEveryLayer = R"({"name": "every-layer", "input": [2, 8, 8], "init": "xavier-normal",
 "layers": [
  {"type": "conv2d", "name": "conv1", "out": 4, "kernel": 3, "padding": 1},
  {"type": "relu", "name": "relu1"},
  {"type": "batch_norm", "name": "bn1"},
  {"type": "leaky_relu", "name": "leaky1", "slope": 0.1},
  {"type": "residual", "name": "res1", "shortcut": "identity", "activation": "relu", "body": [
    {"type": "conv2d", "name": "a", "out": 4, "kernel": 3, "padding": 1, "bias": false},
    {"type": "batch_norm", "name": "bn_a"}, {"type": "relu", "name": "relu_a"},
    {"type": "conv2d", "name": "b", "out": 4, "kernel": 3, "padding": 1}]},
  {"type": "residual", "name": "res2", "shortcut": "projection", "shortcut_batch_norm": true,
   "activation": "none", "body": [
    {"type": "conv2d", "name": "a", "out": 6, "kernel": 3, "stride": 2, "padding": 1},
    {"type": "tanh", "name": "tanh_a"}]},
  {"type": "concat", "name": "cat", "branches": [
    [{"type": "conv2d", "name": "c1", "out": 3, "kernel": 1}, {"type": "sigmoid", "name": "s1"}],
    [{"type": "max_pool2d", "name": "p", "kernel": 3, "stride": 1, "padding": 1},
     {"type": "conv2d", "name": "c2", "out": 2, "kernel": 1}],
    [{"type": "avg_pool2d", "name": "q", "kernel": 3, "stride": 1, "padding": 1}]]},
  {"type": "avg_pool2d", "name": "pool", "kernel": 2},
  {"type": "layer_norm", "name": "ln"},
  {"type": "dropout", "name": "drop", "rate": 0.25},
  {"type": "flatten", "name": "flat"},
  {"type": "linear", "name": "fc1", "out": 7}, {"type": "relu", "name": "relu_fc"},
  {"type": "residual", "name": "plain", "shortcut": "none", "activation": "relu", "body": [
    {"type": "linear", "name": "fc2", "out": 7}]},
  {"type": "linear", "name": "out", "out": 3}]})";

constexpr std::int64_t kBatch = 4;

// A planned network with its input, labels and programs on one backend.
struct Rig {
    Backend& be;
    Network net;
    Tensor x, labels, metrics, step;
    ProgramId train = 0, lossOnly = 0, eval = 0, infer = 0;
    int folded = 0; // batch norms the inference program folded

    Rig(Backend& backend, const NetSpec& spec) : be(backend), net(spec) {}

    Status setup(std::uint64_t seed) {
        CS_TRY(be.reset());
        CS_TRY(net.plan(be, kBatch, true));
        x = be.tensor({kBatch, net.inputFeatures()});
        labels = be.tensor({kBatch}, DType::I32);
        metrics = be.tensor({3});
        step = be.tensor({1}, DType::I32);
        CS_TRY(be.allocate());
        CS_TRY(net.initialize(be, seed));
        CS_TRY(be.writeReal(x, asFloat(uniform(kBatch * net.inputFeatures(), 3, -2, 2))));
        CS_TRY(be.writeI32(labels, std::vector<std::int32_t>{0, 2, 1, 2}));
        CS_TRY(be.writeI32(step, std::vector<std::int32_t>{5}));
        auto loss = [&](bool training) -> Status {
            CS_TRY(net.recordForward(be, x, training, step));
            return ops::softmaxCrossEntropy(be, kBatch, net.classes(), net.logits(), labels,
                                            net.dlogits(), metrics);
        };
        CS_TRY_ASSIGN(train, be.record([&]() -> Status {
            CS_TRY(loss(true));
            return net.recordBackward(be, step);
        }));
        CS_TRY_ASSIGN(lossOnly, be.record([&] { return loss(true); }));
        CS_TRY_ASSIGN(eval, be.record([&] { return loss(false); }));
        CS_TRY_ASSIGN(infer, be.record([&]() -> Status {
            CS_TRY(net.recordInference(be, x, step));
            folded = net.foldedBatchNorms();
            return ops::softmaxCrossEntropy(be, kBatch, net.classes(), net.logits(), labels,
                                            net.dlogits(), metrics);
        }));
        return {};
    }
    Result<double> run(ProgramId p) {
        CS_TRY_ASSIGN(Ticket t, be.submit(p));
        CS_TRY(be.wait(t));
        CS_TRY_ASSIGN(auto m, be.readReal(metrics));
        return m[0];
    }
};

NetSpec everyLayer() {
    return *parseNetSpec(kEveryLayer, "every-layer");
}

// Batch norm after linear layers (BatchNorm1d), the second with a ReLU after it.
const char* kLinearBatchNorm = R"({"name": "mlp-bn", "input": [1, 6, 6], "layers": [
  {"type": "flatten", "name": "flat"},
  {"type": "linear", "name": "fc1", "out": 12}, {"type": "batch_norm", "name": "bn1"},
  {"type": "tanh", "name": "t1"},
  {"type": "linear", "name": "fc2", "out": 9, "bias": false}, {"type": "batch_norm", "name": "bn2"},
  {"type": "relu", "name": "r2"},
  {"type": "linear", "name": "out", "out": 3}]})";

} // namespace

class TestNetwork : public QObject {
    Q_OBJECT
    CpuBackend<double> m_ref;
    CpuBackend<float> m_cpu;

private slots:
    void cleanup() { QVERIFY2(noValidationMessages(), "Vulkan validation reported messages"); }

    void planHasEveryLayerKind() {
        auto a = analyze(everyLayer());
        QVERIFY2(a.ok(), a.status().message().c_str());
        std::set<LayerType> kinds;
        for (const auto& l : a->layers)
            kinds.insert(l.type);
        QCOMPARE(int(kinds.size()), 15 - 1); // every type but global_avg_pool (in the presets)
        Rig r(m_ref, everyLayer());
        CS_VERIFY_OK(r.setup(1));
        QCOMPARE(r.net.classes(), qint64(3));
        QCOMPARE(r.net.parameterCount(), a->params);
    }

    // Parameter and input gradients of the whole network against central differences.
    void gradientsMatchFiniteDifferences() {
        Rig r(m_ref, everyLayer());
        CS_VERIFY_OK(r.setup(2));
        // Biases start at exactly 0, which puts a ReLU after a dead row exactly on its kink; move
        // every parameter a little so central differences see a smooth function.
        {
            auto p = m_ref.readReal(r.net.params());
            QVERIFY(p.ok());
            const auto jitter = uniform(std::int64_t(p->size()), 9, -0.05, 0.05);
            for (std::size_t i = 0; i < p->size(); ++i)
                (*p)[i] += jitter[i];
            CS_VERIFY_OK(m_ref.writeReal(r.net.params(), *p));
        }
        auto loss0 = r.run(r.train);
        QVERIFY(loss0.ok());
        auto grads = m_ref.readReal(r.net.grads());
        auto dx = m_ref.readReal(r.net.inputGradient());
        auto params = m_ref.readReal(r.net.params());
        auto x = m_ref.readReal(r.x);
        QVERIFY(grads.ok() && dx.ok() && params.ok() && x.ok());
        auto lossAt = [&](const Tensor& t, std::vector<double> v) {
            if (!m_ref.writeReal(t, v).ok())
                return std::nan("");
            auto l = r.run(r.lossOnly);
            return l.ok() ? *l : std::nan("");
        };
        // Every named tensor's first entries, and a spread of input pixels.
        double worst = 0;
        int checked = 0;
        const std::int64_t real = std::int64_t(m_ref.elementSize(DType::Real));
        for (const auto& t : r.net.namedTensors()) {
            if (!t.parameter)
                continue;
            const std::int64_t first = std::int64_t(t.tensor.offset - r.net.params().offset) / real;
            for (std::int64_t k = 0; k < std::min<std::int64_t>(3, t.tensor.numel()); ++k) {
                const std::size_t i =
                    std::size_t(first + k * (t.tensor.numel() / 3 + 1) % t.tensor.numel());
                std::vector<double> p = *params;
                const double h = 1e-6;
                p[i] += h;
                const double up = lossAt(r.net.params(), p);
                p[i] -= 2 * h;
                const double down = lossAt(r.net.params(), p);
                const double numeric = (up - down) / (2 * h), analytic = (*grads)[i];
                const double err = std::abs(numeric - analytic) / std::max(1e-3, std::abs(numeric));
                if (err > 1e-4)
                    qWarning("%s[%zu]: analytic %.9g numeric %.9g", t.name.c_str(), i, analytic,
                             numeric);
                worst = std::max(worst, err);
                ++checked;
            }
        }
        CS_VERIFY_OK(m_ref.writeReal(r.net.params(), *params));
        for (std::size_t i = 0; i < x->size(); i += 37) {
            std::vector<double> v = *x;
            const double h = 1e-6;
            v[i] += h;
            const double up = lossAt(r.x, v);
            v[i] -= 2 * h;
            const double down = lossAt(r.x, v);
            const double numeric = (up - down) / (2 * h);
            const double err = std::abs(numeric - (*dx)[i]) / std::max(1e-3, std::abs(numeric));
            if (err > 1e-4)
                qWarning("x[%zu]: analytic %.9g numeric %.9g", i, (*dx)[i], numeric);
            worst = std::max(worst, err);
            ++checked;
        }
        qInfo("%d coordinates, worst relative difference %.3g", checked, worst);
        QVERIFY(checked > 60);
        QVERIFY(worst < 1e-4);
    }

    void backendsAgree_data() {
        QTest::addColumn<QString>("backend");
        QTest::newRow("vulkan") << "vulkan";
        QTest::newRow("cpu float") << "cpu";
    }
    void backendsAgree() {
        QFETCH(QString, backend);
        Backend* be = &m_cpu;
        if (backend == "vulkan") {
            CS_REQUIRE_VULKAN(vk);
            be = vk;
        }
        for (const char* name : {"every-layer", "inception-mini"}) {
            const NetSpec spec = std::string(name) == "every-layer" ? everyLayer() : *preset(name);
            Rig ref(m_ref, spec), got(*be, spec);
            CS_VERIFY_OK(ref.setup(4));
            CS_VERIFY_OK(got.setup(4));
            auto l0 = ref.run(ref.train), l1 = got.run(got.train);
            QVERIFY(l0.ok() && l1.ok());
            auto rd = [](Backend& b, const Tensor& t) { return *b.readReal(t); };
            // Flat blocks differ in padding between float and double: compare tensor by tensor.
            auto gather = [&](Backend& b, const Network& n, bool gradients, bool parameters) {
                std::vector<double> all;
                for (const auto& t : n.namedTensors())
                    if (t.parameter == parameters) {
                        const auto v = rd(b, gradients ? t.grad : t.tensor);
                        all.insert(all.end(), v.begin(), v.end());
                    }
                return all;
            };
            const auto gl = rd(*be, got.net.logits()), rl = rd(m_ref, ref.net.logits());
            const auto gg = gather(*be, got.net, true, true),
                       rg = gather(m_ref, ref.net, true, true);
            const auto gx = rd(*be, got.net.inputGradient()),
                       rx = rd(m_ref, ref.net.inputGradient());
            const auto gb = gather(*be, got.net, false, false),
                       rb = gather(m_ref, ref.net, false, false);
            QVERIFY(!gg.empty());
            QString failure;
            qInfo("%s: loss %.7f vs %.7f", name, *l1, *l0);
            QVERIFY2(allClose({{"logits", gl, rl},
                               {"parameter gradients", gg, rg},
                               {"input gradient", gx, rx},
                               {"running statistics", gb, rb}},
                              1e-4, &failure),
                     qPrintable(failure));
            auto e0 = ref.run(ref.eval), e1 = got.run(got.eval);
            QVERIFY(e0.ok() && e1.ok());
            QVERIFY(std::abs(*e0 - *e1) < 1e-4 * std::abs(*e0));
        }
    }

    // The inference pass folds each batch norm that follows a conv or linear layer into it (and
    // the ReLU after it) and gives the evaluation pass's logits, after training has moved the
    // running statistics and γ, β away from their start; a backward pass may not follow it.
    void inferenceMatchesEvaluation_data() {
        QTest::addColumn<QString>("backend");
        QTest::addColumn<QString>("network");
        QTest::addColumn<int>("folded");
        for (const char* b : {"double", "float", "vulkan"}) {
            QTest::addRow("%s every-layer", b) << b << "every-layer" << 2; // bn_a, res2's shortcut
            QTest::addRow("%s mlp-bn", b) << b << "mlp-bn" << 2;
            QTest::addRow("%s resnet20", b) << b << "resnet20" << 19 + 2; // 2 projections
        }
    }
    void inferenceMatchesEvaluation() {
        QFETCH(QString, backend);
        QFETCH(QString, network);
        QFETCH(int, folded);
        Backend* be = backend == "double" ? static_cast<Backend*>(&m_ref) : &m_cpu;
        if (backend == "vulkan") {
            CS_REQUIRE_VULKAN(vk);
            be = vk;
        }
        const NetSpec spec = network == "every-layer" ? everyLayer()
                             : network == "mlp-bn"    ? *parseNetSpec(kLinearBatchNorm, "mlp-bn")
                                                      : *preset(network.toStdString());
        Rig r(*be, spec);
        CS_VERIFY_OK(r.setup(6));
        for (int i = 0; i < 3; ++i)
            QVERIFY(r.run(r.train).ok());
        // The rig has no optimizer: move γ, β (and the running statistics further) by hand.
        for (const auto& t : r.net.namedTensors())
            if (t.name.find("bn") != std::string::npos ||
                t.name.find("running") != std::string::npos) {
                auto v = *be->readReal(t.tensor);
                const auto noise = uniform(std::int64_t(v.size()), v.size(), 0.2, 0.9);
                for (std::size_t i = 0; i < v.size(); ++i)
                    v[i] += noise[i];
                CS_VERIFY_OK(be->writeReal(t.tensor, v));
            }
        auto e = r.run(r.eval);
        QVERIFY(e.ok());
        const auto evalLogits = *be->readReal(r.net.logits());
        CS_VERIFY_OK(be->writeReal(r.net.logits(), std::vector<double>(evalLogits.size(), 0.0)));
        auto i = r.run(r.infer);
        QVERIFY(i.ok());
        const auto inferLogits = *be->readReal(r.net.logits());
        QCOMPARE(r.folded, folded);
        const double err = relError(inferLogits, evalLogits);
        qInfo("%s: loss %.9f (eval) vs %.9f (inference), logits rel. error %.2g",
              qPrintable(network), *e, *i, err);
        QVERIFY2(err <= (backend == "double" ? 1e-12 : 1e-5), qPrintable(QString::number(err)));
        // No backward pass after an inference pass.
        auto refused = be->record([&]() -> Status {
            CS_TRY(r.net.recordInference(*be, r.x, r.step));
            return r.net.recordBackward(*be, r.step);
        });
        QVERIFY(!refused.ok());
        QVERIFY2(refused.status().message().find("inference") != std::string::npos,
                 refused.status().message().c_str());
    }

    // Evaluation uses running statistics and no dropout: repeatable, and not the training loss.
    void evaluationModeIsDeterministic() {
        Rig r(m_cpu, everyLayer());
        CS_VERIFY_OK(r.setup(3));
        auto t = r.run(r.lossOnly);
        auto e1 = r.run(r.eval), e2 = r.run(r.eval);
        QVERIFY(t.ok() && e1.ok() && e2.ok());
        QCOMPARE(*e1, *e2);
        QVERIFY(std::abs(*e1 - *t) > 1e-6);
    }
};

QTEST_GUILESS_MAIN(TestNetwork)
#include "tst_network.moc"
