// Saliency: closed forms (a linear model's gradient is its weight row; SmoothGrad with σ = 0 is
// the gradient; integrated gradients are complete; Grad-CAM of conv → GAP → linear is Zhou et
// al.'s class activation map), every method on Vulkan and CPU float against CPU double, every
// method against PyTorch autograd on the same checkpoint, the sanity check's falling
// correlation, cancellation, and the helpers (Spearman, Gauss–Legendre, bilinear resize).
#include "analysis/saliency.h"
#include "core/random.h"
#include "io/png.h"
#include "model/weights.h"
#include "test_support.h"
#include "torch_reference.h"

#include <QTemporaryDir>
#include <cmath>

using namespace convscope;
using namespace convscope::testing;
using analysis::Method;

namespace {

constexpr double kMean = 0.2860, kStd = 0.3530;

std::unique_ptr<analysis::Inspector> inspectorFor(Backend& be, const std::string& checkpoint,
                                                  std::int64_t batch = 64) {
    auto c = model::loadCheckpoint(checkpoint);
    if (!c.ok()) {
        qWarning("%s", c.status().message().c_str());
        return {};
    }
    auto in = analysis::Inspector::open(be, *c, batch);
    if (!in.ok()) {
        qWarning("%s", in.status().message().c_str());
        return {};
    }
    return std::move(*in);
}

// An image with structure (a bright square on a gradient), so the maps are not noise.
std::vector<double> testImage(std::int64_t C, std::int64_t H, std::int64_t W) {
    std::vector<double> x(std::size_t(C * H * W));
    for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t y = 0; y < H; ++y)
            for (std::int64_t i = 0; i < W; ++i) {
                const bool square = y > H / 4 && y < H / 2 && i > W / 3 && i < 3 * W / 4;
                x[std::size_t((c * H + y) * W + i)] =
                    float(square ? 0.9 : 0.1 + 0.3 * double(i) / double(W) + 0.05 * double(c));
            }
    return x;
}

} // namespace

class TestSaliency : public QObject {
    Q_OBJECT
    CpuBackend<double> m_double{1};
    CpuBackend<float> m_float;
    QTemporaryDir m_dir;

    std::string checkpoint(const std::string& preset) {
        const std::string path =
            m_dir.filePath(QString::fromStdString(preset)).toStdString() + ".safetensors";
        if (!QFile::exists(QString::fromStdString(path))) {
            auto spec = model::preset(preset);
            if (!spec.ok() || !writeRandomCheckpoint(path, *spec, 5, kMean, kStd).ok())
                return {};
        }
        return path;
    }

private slots:
    void cleanup() { QVERIFY2(noValidationMessages(), "Vulkan validation reported messages"); }

    void helpers() {
        std::vector<double> nodes, weights;
        analysis::gaussLegendre(5, nodes, weights);
        double integral = 0, sum = 0;
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            integral += weights[i] * std::pow(nodes[i], 9); // exact up to degree 2m − 1 = 9
            sum += weights[i];
        }
        QVERIFY(std::abs(integral - 0.1) < 1e-14);
        QVERIFY(std::abs(sum - 1.0) < 1e-14);
        QVERIFY(nodes.front() > 0 && nodes.back() < 1 && nodes.front() < nodes.back());
        const std::vector<double> a{1, 2, 3, 4, 5}, b{10, 20, 30, 40, 50}, r{5, 4, 3, 2, 1};
        QCOMPARE(analysis::spearman(a, b), 1.0);
        QCOMPARE(analysis::spearman(a, r), -1.0);
        QCOMPARE(analysis::spearman(a, std::vector<double>(5, 2.0)), 0.0); // constant: no NaN
        const std::vector<double> ties{1, 1, 2, 2, 3};
        QVERIFY(std::abs(analysis::spearman(ties, a) - 0.9486832980505138) < 1e-12);
        // Half-pixel bilinear, as F.interpolate(align_corners=False): 2 → 4 gives
        // 1, 1.25, 1.75, 2 along a row holding 1, 2.
        const auto up = analysis::resizeBilinear(std::vector<double>{1, 2, 1, 2}, 2, 2, 4, 4);
        QCOMPARE(up[0], 1.0);
        QCOMPARE(up[1], 1.25);
        QCOMPARE(up[2], 1.75);
        QCOMPARE(up[3], 2.0);
    }

    // y = W·(x − mean)/std + b: ∂y_c/∂x = W[c]/std; IG from black = x ⊙ W[c]/std, gap 0.
    // The pictures' bitmap font knows ASCII only: Greek letters and symbols are spelled out and
    // anything else becomes '?', never an index outside its table (ASan found stb_easy_font
    // reading before it on "R²").
    void picturesTakeAnyText() {
        QCOMPARE(io::Canvas::textWidth("α ≥ 0.7, R²"), io::Canvas::textWidth("alpha >= 0.7, R2"));
        QCOMPARE(io::Canvas::textWidth("日本"), io::Canvas::textWidth("??"));
        io::Canvas c(200, 20);
        QVERIFY(c.text(0, 0, "θ 30°, λ 4.5 — 日本 \xff\xfe", {0, 0, 0}) > 0);
    }

    void linearModelGradientIsItsWeightRow() {
        auto spec = model::parseNetSpec(R"({"name": "linear", "input": [1, 4, 5], "layers": [
            {"type": "linear", "name": "fc", "out": 3}]})",
                                        "test");
        QVERIFY(spec.ok());
        auto in = analysis::Inspector::create(m_double, *spec, 8, {0.1, 0.5});
        QVERIFY2(in.ok(), in.status().message().c_str());
        CS_VERIFY_OK((*in)->initialize(3));
        auto w = (*in)->weights(); // float, as in a checkpoint: the network computes with these
        QVERIFY(w.ok());
        CS_VERIFY_OK((*in)->loadWeights(*w, "test"));
        const auto& W = w->tensors.at("fc.weight").f32;
        const auto x = uniform(20, 4, 0.0, 1.0);
        analysis::SaliencyOptions o;
        o.methods = {Method::Gradient, Method::IntegratedGradients, Method::GradientXInput};
        auto r = analysis::saliency(**in, x, -1, {analysis::Target::Kind::Class, 2}, o);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->target, 2);
        for (std::size_t i = 0; i < 20; ++i) {
            const double wi = double(W[40 + i]) / 0.5;
            QVERIFY(std::abs(r->maps[Method::Gradient][i] - wi) < 1e-12);
            QVERIFY(std::abs(r->maps[Method::GradientXInput][i] - wi * x[i]) < 1e-12);
            QVERIFY(std::abs(r->maps[Method::IntegratedGradients][i] - wi * x[i]) < 1e-12);
        }
        QVERIFY(std::abs(r->igGap) < 1e-12);
        // No spatial layer: Grad-CAM says so.
        o.methods = {Method::GradCam};
        auto cam = analysis::saliency(**in, x, -1, {}, o);
        QVERIFY(!cam.ok());
        QVERIFY2(cam.status().message().find("spatial") != std::string::npos,
                 cam.status().message().c_str());
    }

    void smoothGradWithoutNoiseIsTheGradient() {
        auto in = inspectorFor(m_double, checkpoint("lenet5"));
        QVERIFY(in);
        analysis::SaliencyOptions o;
        o.smoothNoise = 0;
        o.smoothSamples = 7;
        o.methods = {Method::Gradient, Method::SmoothGrad};
        auto r = analysis::saliency(*in, testImage(1, 28, 28), 3, {}, o);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QVERIFY(relError(r->maps[Method::SmoothGrad], r->maps[Method::Gradient]) < 1e-12);
    }

    // Σ attribution = y_c(x) − y_c(baseline) within 1 % at m = 64 with the midpoint rule, for
    // every baseline. Gauss–Legendre is exact for polynomials, but a ReLU network is only
    // piecewise linear along the path, and there it does worse (~2 %): bounded at 5 %.
    void integratedGradientsAreComplete_data() {
        QTest::addColumn<int>("baseline");
        QTest::addColumn<int>("rule");
        QTest::newRow("black, midpoint") << 0 << 0;
        QTest::newRow("blur, midpoint") << 1 << 0;
        QTest::newRow("noise, midpoint") << 2 << 0;
        QTest::newRow("black, Gauss-Legendre") << 0 << 1;
    }
    void integratedGradientsAreComplete() {
        QFETCH(int, baseline);
        QFETCH(int, rule);
        auto in = inspectorFor(m_double, checkpoint("lenet5"));
        QVERIFY(in);
        analysis::SaliencyOptions o;
        o.methods = {Method::IntegratedGradients};
        o.igSteps = 64;
        o.baseline = analysis::SaliencyOptions::Baseline(baseline);
        o.igRule = analysis::SaliencyOptions::IgRule(rule);
        auto r = analysis::saliency(*in, testImage(1, 28, 28), 3, {}, o);
        QVERIFY2(r.ok(), r.status().message().c_str());
        qInfo("IG gap %.3g of Δy = %.4g (%.3f %%)", r->igGap, r->igDelta,
              100 * std::abs(r->igGap / r->igDelta));
        QVERIFY(std::abs(r->igDelta) > 1e-3);
        QVERIFY(std::abs(r->igGap) <= (rule == 0 ? 0.01 : 0.05) * std::abs(r->igDelta));
    }

    // conv → ReLU → global average pool → linear: y_c = Σ_k W[c,k]·mean(A_k) + b_c, so Grad-CAM's
    // weights are W[c,k]/(h·w) and its map is CAM_c/(h·w) (Zhou et al. 2016).
    void gradCamIsTheClassActivationMap() {
        auto spec = model::parseNetSpec(R"({"name": "cam", "input": [2, 7, 7], "layers": [
            {"type": "conv2d", "name": "conv", "out": 4, "kernel": 3, "padding": 1},
            {"type": "relu", "name": "relu"}, {"type": "global_avg_pool", "name": "gap"},
            {"type": "linear", "name": "fc", "out": 3}]})",
                                        "test");
        QVERIFY(spec.ok());
        auto in = analysis::Inspector::create(m_double, *spec, 4, {0.5, 0.25});
        QVERIFY2(in.ok(), in.status().message().c_str());
        CS_VERIFY_OK((*in)->initialize(9));
        CS_VERIFY_OK((*in)->loadWeights(*(*in)->weights(), "test")); // float, as W below
        QCOMPARE((*in)->lastSpatialLayer(), (*in)->layerIndex("relu"));
        const auto x = testImage(2, 7, 7);
        analysis::SaliencyOptions o;
        o.methods = {Method::GradCam};
        auto r = analysis::saliency(**in, x, -1, {analysis::Target::Kind::Class, 1}, o);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->gradcamLayer, std::string("relu"));
        CS_VERIFY_OK((*in)->setImages(x, 1));
        CS_VERIFY_OK((*in)->forward());
        auto A = (*in)->layerOutput((*in)->layerIndex("relu"));
        const auto weights = (*in)->weights(); // kept: W refers into it
        QVERIFY(weights.ok());
        const auto& W = weights->tensors.at("fc.weight").f32;
        std::vector<double> cam(49, 0.0);
        for (int k = 0; k < 4; ++k)
            for (int i = 0; i < 49; ++i)
                cam[std::size_t(i)] +=
                    double(W[std::size_t(4 + k)]) * (*A)[std::size_t(k * 49 + i)] / 49.0;
        QVERIFY(relError(r->gradcamRaw, cam) < 1e-12);
        for (double& v : cam)
            v = std::max(v, 0.0);
        QVERIFY(relError(r->maps[Method::GradCam], cam) < 1e-12); // same size: no resampling
    }

    void backendsAgree_data() {
        QTest::addColumn<QString>("backend");
        QTest::newRow("cpu") << "cpu";
        QTest::newRow("vulkan") << "vulkan";
    }
    void backendsAgree() {
        QFETCH(QString, backend);
        Backend* be = backend == "cpu" ? static_cast<Backend*>(&m_float) : vulkan();
        if (!be) {
            QVERIFY2(!onCi(), "no Vulkan device on CI");
            QSKIP("no Vulkan device");
        }
        const std::string path = checkpoint("lenet5-bn");
        auto ref = inspectorFor(m_double, path), got = inspectorFor(*be, path);
        QVERIFY(ref && got);
        const auto x = testImage(1, 28, 28);
        analysis::SaliencyOptions o;
        auto a = analysis::saliency(*ref, x, 2, {analysis::Target::Kind::True}, o);
        auto b = analysis::saliency(*got, x, 2, {analysis::Target::Kind::True}, o);
        QVERIFY2(a.ok() && b.ok(), (a.ok() ? b : a).status().message().c_str());
        for (Method m : analysis::allMethods()) {
            const double e = relError(b->maps[m], a->maps[m]);
            qInfo("%s: %.3g", analysis::methodName(m), e);
            QVERIFY2(e < 1e-4, analysis::methodName(m));
        }
        QVERIFY(relError(b->gradcamRaw, a->gradcamRaw) < 1e-4);
        QVERIFY(std::abs(b->igGap - a->igGap) < 1e-4 * std::abs(a->igDelta) + 1e-6);
    }

    void matchesPyTorch_data() {
        QTest::addColumn<QString>("preset");
        QTest::newRow("lenet5-bn") << "lenet5-bn";
        QTest::newRow("resnet20") << "resnet20";
    }
    void matchesPyTorch() {
        QFETCH(QString, preset);
        if (const QString why = torchMissing(); !why.isEmpty())
            QSKIP(qPrintable(why));
        const std::string path = checkpoint(preset.toStdString());
        auto in = inspectorFor(m_double, path);
        QVERIFY(in);
        const std::int64_t C = in->channels(), H = in->height(), W = in->width(), D = C * H * W;
        const auto x = testImage(C, H, W);
        analysis::SaliencyOptions o;
        o.smoothSamples = 6;
        o.igSteps = 16;
        auto r = analysis::saliency(*in, x, 4, {}, o);
        QVERIFY2(r.ok(), r.status().message().c_str());
        auto gl = o;
        gl.methods = {Method::IntegratedGradients};
        gl.igRule = analysis::SaliencyOptions::IgRule::GaussLegendre;
        auto rg = analysis::saliency(*in, x, 4, {}, gl);
        QVERIFY(rg.ok());
        auto sq = o;
        sq.methods = {Method::SmoothGrad};
        sq.smoothSquared = true;
        auto rs = analysis::saliency(*in, x, 4, {}, sq);
        QVERIFY(rs.ok());
        // The same noise as saliency(): Rng(seed), σ = s·(max − min), drawn row after row.
        Rng rng(o.seed);
        const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
        std::vector<double> noise;
        for (std::int64_t i = 0; i < o.smoothSamples * D; ++i)
            noise.push_back(o.smoothNoise * (*hi - *lo) * rng.normal());
        io::SafeTensors inputs;
        inputs.tensors["pixels"] = storedF32({1, C, H, W}, x);
        inputs.tensors["labels"] = storedI64({4});
        inputs.tensors["targets"] = storedI64({r->target});
        inputs.tensors["noise"] = storedF32({1, o.smoothSamples, C, H, W}, noise);
        inputs.tensors["baseline"] = storedF32({1, C, H, W}, std::vector<double>(std::size_t(D)));
        inputs.metadata = {{"mean", std::to_string(kMean)},
                           {"std", std::to_string(kStd)},
                           {"tasks", "grad_logit,smoothgrad,ig,gradcam"},
                           {"ig_steps", "16"},
                           {"ig_rule", "midpoint"},
                           {"gradcam_layer", r->gradcamLayer}};
        auto t = torchAnalysis(path, inputs);
        QVERIFY2(t.ok(), t.status().message().c_str());
        inputs.metadata["tasks"] = "ig";
        inputs.metadata["ig_rule"] = "gauss-legendre";
        auto tg = torchAnalysis(path, inputs);
        QVERIFY2(tg.ok(), tg.status().message().c_str());
        std::vector<double> gxi = valuesOf(*t, "grad_logit");
        for (std::size_t i = 0; i < gxi.size(); ++i)
            gxi[i] *= double(float(x[i]));
        // The noise went to PyTorch as float: 1e-6 relative is the rounding, not the method.
        const std::pair<const char*, std::pair<const std::vector<double>*, std::vector<double>>>
            pairs[] = {
                {"grad", {&r->maps[Method::Gradient], valuesOf(*t, "grad_logit")}},
                {"gradxinput", {&r->maps[Method::GradientXInput], gxi}},
                {"smoothgrad", {&r->maps[Method::SmoothGrad], valuesOf(*t, "smoothgrad")}},
                {"smoothgrad squared",
                 {&rs->maps[Method::SmoothGrad], valuesOf(*t, "smoothgrad_sq")}},
                {"ig", {&r->maps[Method::IntegratedGradients], valuesOf(*t, "ig")}},
                {"ig gauss-legendre",
                 {&rg->maps[Method::IntegratedGradients], valuesOf(*tg, "ig")}},
                {"gradcam", {&r->maps[Method::GradCam], valuesOf(*t, "gradcam")}},
                {"gradcam raw", {&r->gradcamRaw, valuesOf(*t, "gradcam_raw")}},
            };
        for (const auto& [name, p] : pairs) {
            const double e = relError(*p.first, p.second);
            qInfo("%s vs PyTorch: %.3g (layer %s)", name, e, r->gradcamLayer.c_str());
            QVERIFY2(e < 1e-4, name);
        }
        QVERIFY(std::abs(r->igGap - valuesOf(*t, "ig_gap")[0]) < 1e-4 * std::abs(r->igDelta));
    }

    // Randomising layers from the top destroys the maps: the correlation with the trained
    // network's maps falls from 1.
    void sanityCheckCorrelationFalls() {
        auto in = inspectorFor(m_double, checkpoint("lenet5"));
        QVERIFY(in);
        auto before = in->weights();
        analysis::SaliencyOptions o;
        o.smoothSamples = 5;
        o.igSteps = 8;
        auto steps = analysis::sanityCheck(*in, testImage(1, 28, 28), 1, {}, o, 7);
        QVERIFY2(steps.ok(), steps.status().message().c_str());
        QCOMPARE(int(steps->size()), 6); // trained, then fc3, fc2, fc1, conv2, conv1
        QCOMPARE(steps->at(1).layer, std::string("fc3"));
        QCOMPARE(steps->back().layer, std::string("conv1"));
        for (Method m : analysis::allMethods()) {
            QString line;
            for (const auto& s : *steps)
                line += QString(" %1").arg(s.spearman.at(m), 0, 'f', 3);
            qInfo("%s:%s", analysis::methodName(m), qPrintable(line));
            QCOMPARE(steps->front().spearman.at(m), 1.0);
            QVERIFY2(steps->back().spearman.at(m) < 0.6, analysis::methodName(m));
        }
        // The inspector holds the trained weights again.
        auto after = in->weights();
        QVERIFY(after->tensors.at("conv1.weight").f32 == before->tensors.at("conv1.weight").f32);
        QVERIFY(after->tensors.at("fc3.weight").f32 == before->tensors.at("fc3.weight").f32);
    }

    void cancelledJobsStopAndLeaveTheWeights() {
        auto in = inspectorFor(m_double, checkpoint("lenet5"), 8);
        QVERIFY(in);
        auto before = in->weights();
        Progress p;
        p.cancel();
        auto r = analysis::saliency(*in, testImage(1, 28, 28), 1, {}, {}, &p);
        QVERIFY(!r.ok() && Progress::isCancellation(r.status()));
        auto s = analysis::sanityCheck(*in, testImage(1, 28, 28), 1, {}, {}, 7, &p);
        QVERIFY(!s.ok() && Progress::isCancellation(s.status()));
        QVERIFY(in->weights()->tensors.at("fc3.weight").f32 ==
                before->tensors.at("fc3.weight").f32);
        // Progress reaches 1.
        Progress q;
        analysis::SaliencyOptions o;
        o.smoothSamples = 10; // 1 + 10 + 32 + 1 rows: 6 batches of 8
        QVERIFY(analysis::saliency(*in, testImage(1, 28, 28), 1, {}, o, &q).ok());
        QCOMPARE(q.fraction(), 1.0);
    }
};

QTEST_GUILESS_MAIN(TestSaliency)
#include "tst_saliency.moc"
