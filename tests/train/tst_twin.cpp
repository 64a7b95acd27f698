// Controlled experiments: every twin key on lenet5 and resnet20 (the layers it adds, removes or
// changes, analyze() passing, the description), bad input, the initial weights the pair shares,
// and trainPair giving each run exactly the curve of training it alone (CPU and Vulkan), with
// run folders the rest of the program reads.
#include "data/synthetic.h"
#include "io/atomic_file.h"
#include "model/network.h"
#include "test_support.h"
#include "train/metrics_csv.h"
#include "train/run_folder.h"
#include "train/twin.h"
#include <QTemporaryDir>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

using namespace convscope;
using namespace convscope::testing;
using model::LayerSpec;
using model::LayerType;
using model::NetSpec;

namespace {

NetSpec presetSpec(const char* name) {
    auto s = model::preset(name);
    if (!s.ok())
        qFatal("preset %s: %s", name, s.status().message().c_str());
    return *s;
}

// Every layer of a spec, depth first, with its path ("stage1_block1.conv_a").
void walk(const std::vector<LayerSpec>& layers, const std::string& prefix,
          const std::function<void(const LayerSpec&, const std::string&,
                                   const std::vector<LayerSpec>&, std::size_t)>& f) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const std::string path = prefix + layers[i].name;
        f(layers[i], path, layers, i);
        walk(layers[i].body, path + ".", f);
        for (const auto& b : layers[i].branches)
            walk(b, path + ".", f);
    }
}
int count(const NetSpec& s, LayerType t) {
    int n = 0;
    walk(s.layers, "", [&](const LayerSpec& l, auto&, auto&, auto) { n += l.type == t; });
    return n;
}
int countIf(const NetSpec& s, const std::function<bool(const LayerSpec&)>& p) {
    int n = 0;
    walk(s.layers, "", [&](const LayerSpec& l, auto&, auto&, auto) { n += p(l); });
    return n;
}

train::Twin twinOf(const NetSpec& spec, const train::TrainConfig& cfg, const std::string& kv) {
    auto c = train::parseTwin(kv);
    if (!c.ok())
        qFatal("%s: %s", kv.c_str(), c.status().message().c_str());
    auto t = train::makeTwin(spec, cfg, *c);
    if (!t.ok())
        qFatal("%s: %s", kv.c_str(), t.status().message().c_str());
    if (!model::analyze(t->spec).ok())
        qFatal("%s: the twin does not analyse", kv.c_str());
    return *t;
}

std::string errorOf(const NetSpec& spec, const std::string& kv) {
    auto c = train::parseTwin(kv);
    if (!c.ok())
        return c.status().message();
    auto t = train::makeTwin(spec, train::TrainConfig{}, *c);
    return t.ok() ? std::string() : t.status().message();
}

bool has(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

const data::TrainTestSplit& gratings() {
    static const data::TrainTestSplit s = [] {
        return data::makeGratingsSplit(300, 64, 12, 4, 17);
    }();
    return s;
}

NetSpec fitted(const char* name) {
    NetSpec s = presetSpec(name);
    model::fitInput(s, 1, 12, 12);
    return s;
}

train::TrainConfig smallConfig() {
    train::TrainConfig c;
    c.batch = 32;
    c.epochs = 2;
    c.optimizer.lr = 0.02;
    c.seed = 3;
    c.chunk = 4;
    return c;
}

struct Curve {
    std::vector<double> losses, lrs;
    std::vector<std::int64_t> steps;
    std::vector<train::EpochReport> epochs;
};

// A run trained alone, the reference for each half of a pair.
Curve alone(Backend& be, const NetSpec& spec, const train::TrainConfig& cfg, Status& status) {
    Curve c;
    status = be.reset();
    if (!status.ok())
        return c;
    model::Network net(spec);
    train::Trainer t(be, net, gratings(), cfg);
    status = t.setup();
    if (!status.ok())
        return c;
    status = t.run(
        [&](const train::StepReport& r) {
            c.losses.push_back(r.loss);
            c.steps.push_back(r.step);
            c.lrs.push_back(r.lr);
        },
        [&](const train::EpochReport& e) { c.epochs.push_back(e); });
    return c;
}

void compareCurves(const Curve& got, const Curve& ref, const char* which) {
    QVERIFY2(got.losses == ref.losses, which);
    QVERIFY2(got.steps == ref.steps, which);
    QVERIFY2(got.lrs == ref.lrs, which);
    QCOMPARE(got.epochs.size(), ref.epochs.size());
    for (std::size_t e = 0; e < ref.epochs.size(); ++e) {
        const auto &x = got.epochs[e], &y = ref.epochs[e];
        QCOMPARE(x.epoch, y.epoch);
        // Bitwise: the same numbers, not merely close ones.
        QVERIFY2(x.trainLoss == y.trainLoss && x.trainAccuracy == y.trainAccuracy, which);
        QVERIFY2(x.test.loss == y.test.loss && x.test.accuracy == y.test.accuracy, which);
        QCOMPARE(x.layers.size(), y.layers.size());
        for (std::size_t l = 0; l < y.layers.size(); ++l) {
            QCOMPARE(x.layers[l].layer, y.layers[l].layer);
            QVERIFY2(x.layers[l].gradNorm == y.layers[l].gradNorm, which);
            QVERIFY2(x.layers[l].weightNorm == y.layers[l].weightNorm, which);
        }
    }
}

} // namespace

class TestTwin : public QObject {
    Q_OBJECT
    NamedBackends m_backends;

private slots:
    void cleanup() { QVERIFY2(noValidationMessages(), "Vulkan validation reported messages"); }

    void parsesKeysAndValues() {
        auto c = train::parseTwin(" bn = off ");
        CS_VERIFY_OK(c.status());
        QCOMPARE(c->key, std::string("bn"));
        QCOMPARE(c->value, std::string("off"));
        QCOMPARE(c->str(), std::string("bn=off"));
        // The NetSpec's spellings, with he and xavier for their normal forms.
        QCOMPARE(train::parseTwin("init=he")->value, std::string("he-normal"));
        QCOMPARE(train::parseTwin("init=xavier")->value, std::string("xavier-normal"));
        QCOMPARE(train::parseTwin("init=he-uniform")->value, std::string("he-uniform"));
        QCOMPARE(train::parseTwin("init=normal(0.01)")->value, std::string("normal(0.01)"));
        QCOMPARE(train::parseTwin("activation=leaky")->value, std::string("leaky"));
        for (const char* ok : {"bn=on", "dropout=off", "dropout=0.25", "init=zeros",
                               "activation=sigmoid", "shortcut=none", "shortcut=projection",
                               "optimizer=adamw", "optimizer=sgd", "lr=0.1", "batch=128"})
            CS_VERIFY_OK(train::parseTwin(ok).status());
        QCOMPARE(int(train::twinKeys().size()), 8);
    }

    void badInputListsTheValidOnes_data() {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no =") << "bn"
                              << "bn, dropout, init, activation, shortcut";
        QTest::newRow("unknown key") << "colour=red"
                                     << "optimizer, lr, batch";
        QTest::newRow("bn value") << "bn=maybe"
                                  << "on | off";
        QTest::newRow("dropout 1.5") << "dropout=1.5"
                                     << "a rate in (0, 1)";
        QTest::newRow("dropout 0") << "dropout=0"
                                   << "a rate in (0, 1)";
        QTest::newRow("init") << "init=glorot"
                              << "xavier-uniform | zeros | normal(σ)";
        QTest::newRow("init constant") << "init=constant(1)"
                                       << "normal(σ)";
        QTest::newRow("init sigma") << "init=normal(-1)"
                                    << "normal(σ)";
        QTest::newRow("activation") << "activation=gelu"
                                    << "relu | sigmoid | tanh | leaky";
        QTest::newRow("shortcut") << "shortcut=dense"
                                  << "none | identity | projection";
        QTest::newRow("optimizer") << "optimizer=lbfgs"
                                   << "sgd | momentum";
        QTest::newRow("lr") << "lr=-1"
                            << "a positive number";
        QTest::newRow("lr text") << "lr=fast"
                                 << "a positive number";
        QTest::newRow("batch") << "batch=0"
                               << "1..8192";
        QTest::newRow("batch fraction") << "batch=1.5"
                                        << "1..8192";
    }
    void badInputListsTheValidOnes() {
        QFETCH(QString, input);
        QFETCH(QString, expected);
        auto c = train::parseTwin(input.toStdString());
        QVERIFY(!c.ok());
        QVERIFY2(has(c.status().message(), expected.toStdString()), c.status().message().c_str());
    }

    void aChangeThatChangesNothingIsAnError() {
        const NetSpec lenet = presetSpec("lenet5"), resnet = presetSpec("resnet20");
        QVERIFY(has(errorOf(lenet, "bn=off"), "no batch norm"));
        QVERIFY(has(errorOf(lenet, "dropout=off"), "no dropout"));
        QVERIFY(has(errorOf(lenet, "init=he-normal"), "he-normal already"));
        QVERIFY(has(errorOf(lenet, "activation=relu"), "relu already"));
        QVERIFY(has(errorOf(lenet, "shortcut=none"), "no residual blocks"));
        QVERIFY(has(errorOf(resnet, "bn=on"), "batch norm already"));
        QVERIFY(has(errorOf(resnet, "shortcut=identity"), "already"));
        QVERIFY(has(errorOf(presetSpec("lenet5-dropout"), "dropout=0.5"), "rate 0.5 already"));
        train::TrainConfig cfg;
        auto same = train::makeTwin(lenet, cfg, {"lr", std::to_string(cfg.optimizer.lr)});
        QVERIFY(!same.ok() && has(same.status().message(), "already"));
        auto batch = train::makeTwin(lenet, cfg, {"batch", std::to_string(cfg.batch)});
        QVERIFY(!batch.ok());
        auto opt = train::makeTwin(lenet, cfg, {"optimizer", cfg.optimizer.name()});
        QVERIFY(!opt.ok());
        // makeTwin checks the value too (a GUI may hand it anything).
        QVERIFY(!train::makeTwin(lenet, cfg, {"bn", "sometimes"}).ok());
    }

    void batchNormOnAndOff() {
        const NetSpec lenet = presetSpec("lenet5");
        train::Twin on = twinOf(lenet, {}, "bn=on");
        QVERIFY(on.networkChanged);
        // After conv1, conv2, fc1 and fc2; not after the classifier fc3.
        QCOMPARE(count(on.spec, LayerType::BatchNorm), 4);
        walk(on.spec.layers, "", [&](const LayerSpec& l, auto&, const auto& list, auto i) {
            if (l.type == LayerType::Conv2d || (l.type == LayerType::Linear && l.name != "fc3"))
                QCOMPARE(int(list[i + 1].type), int(LayerType::BatchNorm));
            if (l.name == "fc3")
                QCOMPARE(i + 1, list.size());
        });
        QVERIFY2(has(on.description, "batch norm on: 4 batch_norm layers added"),
                 on.description.c_str());
        QCOMPARE(on.config.optimizer.lr, train::TrainConfig{}.optimizer.lr);

        const NetSpec resnet = presetSpec("resnet20");
        const int bns = count(resnet, LayerType::BatchNorm);
        const int shortcutBns =
            countIf(resnet, [](const LayerSpec& l) { return l.shortcutBatchNorm; });
        QVERIFY(bns > 0 && shortcutBns > 0);
        train::Twin off = twinOf(resnet, {}, "bn=off");
        QCOMPARE(count(off.spec, LayerType::BatchNorm), 0);
        QCOMPARE(countIf(off.spec, [](const LayerSpec& l) { return l.shortcutBatchNorm; }), 0);
        QCOMPARE(count(off.spec, LayerType::Conv2d), count(resnet, LayerType::Conv2d));
        QCOMPARE(count(off.spec, LayerType::Residual), count(resnet, LayerType::Residual));
        QVERIFY2(has(off.description, "batch norm off: " + std::to_string(bns) +
                                          " batch_norm layers removed (and removed from " +
                                          std::to_string(shortcutBns) + " projection shortcuts)"),
                 off.description.c_str());
        // A network that classifies with a 1x1 convolution: no batch norm after it.
        auto conv = model::parseNetSpec(
            R"({"name": "allconv", "input": [1, 12, 12], "layers": [
                {"type": "conv2d", "name": "c1", "out": 8, "kernel": 3},
                {"type": "relu", "name": "r1"},
                {"type": "conv2d", "name": "c2", "out": 4, "kernel": 1},
                {"type": "global_avg_pool", "name": "gap"}, {"type": "flatten", "name": "f"}]})",
            "allconv");
        CS_VERIFY_OK(conv.status());
        train::Twin convBn = twinOf(*conv, {}, "bn=on");
        QCOMPARE(count(convBn.spec, LayerType::BatchNorm), 1);
        QCOMPARE(int(convBn.spec.layers[1].type), int(LayerType::BatchNorm));
        // And back: bn=on on the plain twin restores a batch norm after every conv.
        train::Twin back = twinOf(off.spec, {}, "bn=on");
        QCOMPARE(count(back.spec, LayerType::BatchNorm), bns);
    }

    void dropoutOnOffAndRate() {
        const NetSpec lenet = presetSpec("lenet5");
        train::Twin d = twinOf(lenet, {}, "dropout=0.3");
        // Before fc2 and fc3 (between the linear layers), as in the lenet5-dropout preset.
        QCOMPARE(count(d.spec, LayerType::Dropout), 2);
        walk(d.spec.layers, "", [&](const LayerSpec& l, auto&, const auto& list, auto i) {
            if (l.type == LayerType::Dropout) {
                QCOMPARE(l.rate, 0.3);
                QCOMPARE(int(list[i + 1].type), int(LayerType::Linear));
                QVERIFY(list[i + 1].name != "fc1");
            }
        });
        QVERIFY2(has(d.description, "2 dropout layers added"), d.description.c_str());

        const NetSpec withDropout = presetSpec("lenet5-dropout");
        train::Twin off = twinOf(withDropout, {}, "dropout=off");
        QCOMPARE(count(off.spec, LayerType::Dropout), 0);
        QCOMPARE(count(off.spec, LayerType::Linear), count(withDropout, LayerType::Linear));
        train::Twin rate = twinOf(withDropout, {}, "dropout=0.2");
        QCOMPARE(count(rate.spec, LayerType::Dropout), count(withDropout, LayerType::Dropout));
        QCOMPARE(countIf(rate.spec, [](const LayerSpec& l) { return l.rate == 0.2; }),
                 count(withDropout, LayerType::Dropout));

        // resnet20 has one linear layer: the dropout goes before it.
        const NetSpec resnet = presetSpec("resnet20");
        train::Twin r = twinOf(resnet, {}, "dropout=0.5");
        QCOMPARE(count(r.spec, LayerType::Dropout), 1);
        QCOMPARE(int(r.spec.layers[r.spec.layers.size() - 2].type), int(LayerType::Dropout));
        QCOMPARE(int(r.spec.layers.back().type), int(LayerType::Linear));
    }

    void initialisation() {
        for (const char* name : {"lenet5", "resnet20"}) {
            const NetSpec s = presetSpec(name);
            train::Twin z = twinOf(s, {}, "init=zeros");
            QCOMPARE(z.spec.init.name(), std::string("zeros"));
            QCOMPARE(countIf(z.spec, [](const LayerSpec& l) { return l.hasInit; }), 0);
            QVERIFY2(has(z.description, "initialisation zeros instead of " + s.init.name()),
                     z.description.c_str());
            QCOMPARE(count(z.spec, LayerType::Conv2d), count(s, LayerType::Conv2d));
            train::Twin n = twinOf(s, {}, "init=normal(0.05)");
            QCOMPARE(int(n.spec.init.scheme), int(model::InitScheme::Normal));
            QCOMPARE(n.spec.init.sigma, 0.05);
            train::Twin x = twinOf(s, {}, "init=xavier-uniform");
            QCOMPARE(x.spec.init.name(), std::string("xavier-uniform"));
        }
    }

    void activations() {
        const NetSpec lenet = presetSpec("lenet5");
        const int relus = count(lenet, LayerType::Relu);
        train::Twin s = twinOf(lenet, {}, "activation=sigmoid");
        QCOMPARE(count(s.spec, LayerType::Relu), 0);
        QCOMPARE(count(s.spec, LayerType::Sigmoid), relus);
        QVERIFY2(has(s.description, "activation sigmoid instead of relu: " + std::to_string(relus) +
                                        " layers changed"),
                 s.description.c_str());
        train::Twin l = twinOf(lenet, {}, "activation=leaky");
        QCOMPARE(count(l.spec, LayerType::LeakyRelu), relus);

        // resnet20: the blocks' activation after the add (relu or none in a NetSpec) becomes
        // none followed by the new activation.
        const NetSpec resnet = presetSpec("resnet20");
        const int blocks = count(resnet, LayerType::Residual);
        train::Twin t = twinOf(resnet, {}, "activation=tanh");
        QCOMPARE(count(t.spec, LayerType::Relu), 0);
        QCOMPARE(count(t.spec, LayerType::Tanh), count(resnet, LayerType::Relu) + blocks);
        QCOMPARE(countIf(t.spec,
                         [](const LayerSpec& b) {
                             return b.type == LayerType::Residual &&
                                    b.activation == LayerType::Flatten;
                         }),
                 blocks);
        QVERIFY2(has(t.description, std::to_string(blocks) + " residual blocks end in tanh"),
                 t.description.c_str());
        // And back to relu: the explicit activations become relu again.
        train::Twin back = twinOf(t.spec, {}, "activation=relu");
        QCOMPARE(count(back.spec, LayerType::Tanh), 0);
    }

    void shortcuts() {
        const NetSpec resnet = presetSpec("resnet20");
        const int blocks = count(resnet, LayerType::Residual);
        train::Twin plain = twinOf(resnet, {}, "shortcut=none");
        QCOMPARE(countIf(plain.spec,
                         [](const LayerSpec& l) {
                             return l.type == LayerType::Residual &&
                                    l.shortcut == model::Shortcut::None;
                         }),
                 blocks);
        QVERIFY2(has(plain.description,
                     "shortcut none: " + std::to_string(blocks) + " residual blocks changed"),
                 plain.description.c_str());
        // Back to identity: identity where the body keeps the shape, projection where it does
        // not; that is resnet20 again.
        train::Twin back = twinOf(plain.spec, {}, "shortcut=identity");
        std::vector<model::Shortcut> want, got;
        walk(resnet.layers, "", [&](const LayerSpec& l, auto&, auto&, auto) {
            if (l.type == LayerType::Residual)
                want.push_back(l.shortcut);
        });
        walk(back.spec.layers, "", [&](const LayerSpec& l, auto&, auto&, auto) {
            if (l.type == LayerType::Residual)
                got.push_back(l.shortcut);
        });
        QVERIFY(want == got);
        const int projections =
            int(std::count(want.begin(), want.end(), model::Shortcut::Projection));
        QVERIFY(projections > 0);
        QVERIFY2(has(back.description, std::to_string(projections) + " projection"),
                 back.description.c_str());
        train::Twin proj = twinOf(resnet, {}, "shortcut=projection");
        QCOMPARE(countIf(proj.spec,
                         [](const LayerSpec& l) {
                             return l.type == LayerType::Residual &&
                                    l.shortcut == model::Shortcut::Projection;
                         }),
                 blocks);
        // plain20 (no shortcuts) becomes a residual network.
        train::Twin res = twinOf(presetSpec("plain20"), {}, "shortcut=identity");
        QVERIFY(countIf(res.spec, [](const LayerSpec& l) {
                    return l.type == LayerType::Residual && l.shortcut != model::Shortcut::None;
                }) == count(res.spec, LayerType::Residual));
    }

    void settings() {
        for (const char* name : {"lenet5", "resnet20"}) {
            const NetSpec s = presetSpec(name);
            train::TrainConfig cfg;
            cfg.optimizer.lr = 0.02;
            train::Twin adam = twinOf(s, cfg, "optimizer=adam");
            QVERIFY(!adam.networkChanged);
            QCOMPARE(model::toJson(adam.spec), model::toJson(s));
            QCOMPARE(int(adam.config.optimizer.kind), int(ops::OptimizerKind::Adam));
            QCOMPARE(adam.config.optimizer.lr, 0.001); // Adam's default across the families
            QVERIFY2(has(adam.description, "optimizer adam instead of momentum (lr 0.001"),
                     adam.description.c_str());
            train::Twin sgd = twinOf(s, cfg, "optimizer=sgd");
            QCOMPARE(int(sgd.config.optimizer.kind), int(ops::OptimizerKind::Sgd));
            QCOMPARE(sgd.config.optimizer.lr, 0.02); // same family: the rate stays
            train::Twin lr = twinOf(s, cfg, "lr=0.1");
            QCOMPARE(lr.config.optimizer.lr, 0.1);
            QCOMPARE(lr.config.batch, cfg.batch);
            QVERIFY2(has(lr.description, "learning rate 0.1 instead of 0.02"),
                     lr.description.c_str());
            train::Twin b = twinOf(s, cfg, "batch=128");
            QCOMPARE(b.config.batch, qint64(128));
            QCOMPARE(b.config.seed, cfg.seed);
            QVERIFY2(has(b.description, "the same order of images, in different batches"),
                     b.description.c_str());
        }
    }

    // Every preset and every network key: a twin that analyses, or an error saying why not
    // (never a broken network).
    void everyPresetTwinsOrSaysWhy() {
        const char* changes[] = {"bn=on",
                                 "bn=off",
                                 "dropout=0.4",
                                 "dropout=off",
                                 "init=zeros",
                                 "init=xavier-uniform",
                                 "init=he-normal",
                                 "activation=tanh",
                                 "activation=relu",
                                 "shortcut=none",
                                 "shortcut=identity",
                                 "shortcut=projection"};
        int made = 0, refused = 0;
        for (const auto& name : model::presetNames()) {
            const NetSpec s = presetSpec(name.c_str());
            for (const char* kv : changes) {
                auto t = train::makeTwin(s, {}, *train::parseTwin(kv));
                const std::string what = name + " " + kv;
                if (!t.ok()) {
                    const std::string m = t.status().message();
                    QVERIFY2(has(m, "already") || has(m, "has no"), (what + ": " + m).c_str());
                    ++refused;
                    continue;
                }
                auto a = model::analyze(t->spec);
                QVERIFY2(a.ok(), (what + ": " + a.status().message()).c_str());
                QVERIFY2(!t->description.empty() && t->networkChanged, what.c_str());
                QVERIFY2(model::toJson(t->spec) != model::toJson(s), what.c_str());
                // spec.json of the twin reads back as the same network.
                auto back = model::parseNetSpec(model::toJson(t->spec), what);
                QVERIFY2(back.ok(), what.c_str());
                QCOMPARE(model::toJson(*back), model::toJson(t->spec));
                ++made;
            }
        }
        qInfo("%d twins made, %d refused with a reason", made, refused);
        QVERIFY(made > refused);
    }

    // A bn twin shares every conv and linear tensor; they hold A's values after setup even
    // when B was initialised with another seed (the copy, not luck).
    void sharedWeights() {
        CpuBackend<float>& be = m_backends.cpuFloat();
        CS_VERIFY_OK(be.reset());
        const NetSpec a = fitted("lenet5-bn");
        const train::Twin t = twinOf(a, {}, "bn=off");
        model::Network na(a), nb(t.spec);
        CS_VERIFY_OK(na.plan(be, 8));
        CS_VERIFY_OK(nb.plan(be, 8));
        CS_VERIFY_OK(be.allocate());
        CS_VERIFY_OK(na.initialize(be, 5));
        CS_VERIFY_OK(nb.initialize(be, 6));
        auto w = train::shareWeights(be, na, nb, true);
        CS_VERIFY_OK(w.status());
        std::vector<std::string> want;
        for (const auto& n : na.namedTensors())
            if (!has(n.name, "bn"))
                want.push_back(n.name);
        QVERIFY(want.size() >= 8); // 5 weights and their biases
        QVERIFY(w->shared == want);
        for (const auto& n : na.namedTensors())
            if (has(n.name, "bn"))
                QVERIFY2(std::find(w->notShared.begin(), w->notShared.end(),
                                   n.name + " (only in a)") != w->notShared.end(),
                         n.name.c_str());
        for (const auto& name : want) {
            auto find = [&](const model::Network& n) {
                return std::find_if(n.namedTensors().begin(), n.namedTensors().end(),
                                    [&](const auto& x) { return x.name == name; })
                    ->tensor;
            };
            auto va = be.readReal(find(na)), vb = be.readReal(find(nb));
            QVERIFY(va.ok() && vb.ok());
            QVERIFY2(*va == *vb, name.c_str());
        }
        // An init twin keeps its own weights: nothing shared, and the values differ.
        const train::Twin z = twinOf(a, {}, "init=zeros");
        CS_VERIFY_OK(be.reset());
        model::Network za(a), zb(z.spec);
        CS_VERIFY_OK(za.plan(be, 8));
        CS_VERIFY_OK(zb.plan(be, 8));
        CS_VERIFY_OK(be.allocate());
        CS_VERIFY_OK(za.initialize(be, 5));
        CS_VERIFY_OK(zb.initialize(be, 5));
        auto none = train::shareWeights(be, za, zb, false);
        CS_VERIFY_OK(none.status());
        QVERIFY(none->shared.empty());
        QCOMPARE(none->notShared.size(), za.namedTensors().size());
        auto wa = be.readReal(za.namedTensors().front().tensor);
        auto wb = be.readReal(zb.namedTensors().front().tensor);
        QVERIFY(wa.ok() && wb.ok() && *wa != *wb);
    }

    // Each half of an interleaved pair follows, bit for bit, the run trained alone with the
    // same settings; the pair really alternates; the folders are those of `train --out`.
    void pairMatchesEachRunAlone_data() {
        QTest::addColumn<QString>("backend");
        QTest::addColumn<QString>("preset");
        QTest::addColumn<QString>("change");
        QTest::newRow("cpu bn=off") << "cpu"
                                    << "lenet5-bn"
                                    << "bn=off";
        QTest::newRow("cpu dropout=0.3") << "cpu"
                                         << "lenet5"
                                         << "dropout=0.3";
        QTest::newRow("cpu batch=48") << "cpu"
                                      << "lenet5"
                                      << "batch=48";
        QTest::newRow("cpu init=zeros") << "cpu"
                                        << "lenet5"
                                        << "init=zeros";
        QTest::newRow("vulkan bn=off") << "vulkan"
                                       << "lenet5-bn"
                                       << "bn=off";
        QTest::newRow("vulkan activation=sigmoid") << "vulkan"
                                                   << "lenet5"
                                                   << "activation=sigmoid";
    }
    void pairMatchesEachRunAlone() {
        QFETCH(QString, backend);
        QFETCH(QString, preset);
        QFETCH(QString, change);
        Backend* be = m_backends(backend);
        if (!be) {
            if (onCi())
                QFAIL("no Vulkan device, and CI=true");
            QSKIP("no Vulkan device");
        }
        const NetSpec a = fitted(preset.toUtf8().constData());
        const train::TrainConfig cfg = smallConfig();
        const train::Twin t = twinOf(a, cfg, change.toStdString());

        QTemporaryDir dir;
        train::PairOptions o;
        o.dirs = {dir.filePath("a").toStdString(), dir.filePath("b").toStdString()};
        o.datasetName = "gratings";
        o.sliceSeconds = 0.002; // many short slices: epochs cross slice boundaries
        std::array<Curve, 2> got;
        std::vector<int> order;
        o.onStep = [&](int r, const train::StepReport& s) {
            got[std::size_t(r)].losses.push_back(s.loss);
            got[std::size_t(r)].steps.push_back(s.step);
            got[std::size_t(r)].lrs.push_back(s.lr);
            if (order.empty() || order.back() != r)
                order.push_back(r);
        };
        o.onEpoch = [&](int r, const train::EpochReport& e) {
            got[std::size_t(r)].epochs.push_back(e);
        };
        std::array<int, 2> slices{0, 0};
        std::array<std::int64_t, 2> lastStep{0, 0};
        bool monotonic = true;
        o.afterSlice = [&](int r, train::Trainer& tr, const model::Network& net) {
            ++slices[std::size_t(r)];
            monotonic = monotonic && tr.stepsDone() > lastStep[std::size_t(r)] &&
                        net.spec().name == (r == 0 ? a.name : t.spec.name);
            lastStep[std::size_t(r)] = tr.stepsDone();
        };
        train::PairResult result;
        CS_VERIFY_OK(train::trainPair(*be, a, cfg, t, gratings(), o, &result));
        QVERIFY2(order.size() >= 4, "the runs did not alternate"); // a, b, a, b, ...
        QVERIFY(slices[0] >= 2 && slices[1] >= 2 && monotonic);
        QCOMPARE(lastStep, result.steps);
        QVERIFY(result.status[0].ok() && result.status[1].ok());

        Status s;
        const Curve soloA = alone(*be, a, cfg, s);
        CS_VERIFY_OK(s);
        const Curve soloB = alone(*be, t.spec, t.config, s);
        CS_VERIFY_OK(s);
        QCOMPARE(int(got[0].epochs.size()), cfg.epochs);
        compareCurves(got[0], soloA, "run a");
        compareCurves(got[1], soloB, "run b");
        QCOMPARE(result.steps[0], qint64(soloA.losses.size()));
        QCOMPARE(result.steps[1], qint64(soloB.losses.size()));
        if (t.change.key == "init")
            QVERIFY(result.weights.shared.empty());
        else
            QVERIFY(!result.weights.shared.empty());

        // The run folders: what RunFolder and metrics_csv read back, and twin.json.
        for (int r = 0; r < 2; ++r) {
            const std::string d = o.dirs[std::size_t(r)];
            auto csv = io::readFile(d + "/metrics.csv");
            CS_VERIFY_OK(csv.status());
            const train::MetricsCsv m = train::parseMetricsCsv(*csv);
            QVERIFY(m.header);
            QCOMPARE(m.skipped, qint64(0));
            int steps = 0, epochs = 0;
            for (const auto& row : m.rows) {
                if (row.kind == train::MetricsRow::Kind::Step) {
                    QVERIFY(std::abs(row.loss - got[std::size_t(r)].losses[std::size_t(steps)]) <
                            1e-5);
                    ++steps;
                } else {
                    QVERIFY(
                        std::abs(row.testAccuracy -
                                 got[std::size_t(r)].epochs[std::size_t(epochs)].test.accuracy) <
                        1e-5);
                    ++epochs;
                }
            }
            QCOMPARE(steps, int(got[std::size_t(r)].losses.size()));
            QCOMPARE(epochs, cfg.epochs);
            auto ckpt = train::RunFolder::latestCheckpoint(d);
            CS_VERIFY_OK(ckpt.status());
            QVERIFY(has(*ckpt, "step-" + std::to_string(result.steps[std::size_t(r)])));
            auto spec = model::loadNetSpec(d + "/spec.json");
            CS_VERIFY_OK(spec.status());
            QCOMPARE(model::toJson(*spec), model::toJson(r == 0 ? a : t.spec));
            auto tj = io::readFile(d + "/twin.json");
            CS_VERIFY_OK(tj.status());
            const auto j = nlohmann::json::parse(*tj);
            QCOMPARE(j["run"].get<std::string>(), std::string(r == 0 ? "a" : "b"));
            QCOMPARE(j["change"].get<std::string>(), t.change.str());
            QCOMPARE(j["other"].get<std::string>(), std::string(r == 0 ? "../b" : "../a"));
            QCOMPARE(j["shared"].size(), result.weights.shared.size());
            QCOMPARE(j["description"].get<std::string>(), t.description);
        }
    }

    // A twin that diverges stops; its sibling trains on to the end; the error names the twin.
    void aDivergingTwinStopsAlone() {
        Backend& be = m_backends.cpuFloat();
        const NetSpec a = fitted("lenet5");
        train::TrainConfig cfg = smallConfig();
        cfg.epochs = 1;
        const train::Twin t = twinOf(a, cfg, "lr=1e6");
        train::PairResult result;
        Status s = train::trainPair(be, a, cfg, t, gratings(), {}, &result);
        QVERIFY(!s.ok());
        QVERIFY2(has(s.message(), "run b (lr=1e6)") && has(s.message(), "diverged"),
                 s.message().c_str());
        CS_VERIFY_OK(result.status[0]);
        QCOMPARE(result.steps[0], qint64((gratings().train.count + cfg.batch - 1) / cfg.batch));
        QVERIFY(result.steps[1] < result.steps[0]);
    }

    void cancelStopsBoth() {
        Backend& be = m_backends.cpuFloat();
        const NetSpec a = fitted("lenet5");
        const train::TrainConfig cfg = smallConfig();
        const train::Twin t = twinOf(a, cfg, "bn=on");
        std::atomic<bool> cancel{false};
        train::PairOptions o;
        o.cancel = &cancel;
        int steps = 0;
        o.onStep = [&](int, const train::StepReport&) {
            if (++steps == 6)
                cancel = true;
        };
        train::PairResult result;
        Status s = train::trainPair(be, a, cfg, t, gratings(), o, &result);
        QVERIFY(!s.ok());
        QVERIFY2(has(s.message(), "cancelled"), s.message().c_str());
        QVERIFY(result.steps[0] + result.steps[1] < 2 * 10 * cfg.epochs);
    }
};

QTEST_GUILESS_MAIN(TestTwin)
#include "tst_twin.moc"
