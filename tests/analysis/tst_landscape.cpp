// Loss landscapes (Li et al. 2018) held to their conventions and to independent references:
// filter-normalised directions (each filter has its weight's norm, 1-D tensors zero, the seed
// reproduces them); grid points equal PyTorch's loss for the same θ* + αδ + βη (directions read
// from the safetensors file written for PyTorch users) on the same images in eval() mode, on
// the CPU and Vulkan backends; a linear softmax classifier's surface and Hessian eigenvalues
// equal their closed forms; a tiny tanh network's Hessian extremes equal the eigenvalues of its
// exact Hessian (double); the PCA recovers a known plane; row slices merge into exactly the full
// grid and a cancelled grid resumes; bad input gets a message.
#include "analysis/contour.h"
#include "analysis/hessian.h"
#include "analysis/inspector.h"
#include "analysis/landscape.h"
#include "analysis/trajectory.h"
#include "core/random.h"
#include "data/synthetic.h"
#include "ops/gather_batch.h"
#include "test_support.h"
#include "torch_reference.h"

#include <Eigen/Dense>
#include <QTemporaryDir>
#include <cmath>

using namespace convscope;
using namespace convscope::testing;
using analysis::Slice;

namespace {

const data::TrainTestSplit& gratings() {
    static const data::TrainTestSplit s = data::makeGratingsSplit(300, 10, 28, 10, 3);
    return s;
}

// A network planned on `be` (batch 1), initialised with `seed`: its layout and weights.
struct Planned {
    std::vector<Slice> layout;
    std::vector<double> theta;
};
Result<Planned> planned(Backend& be, const model::NetSpec& spec, std::uint64_t seed) {
    CS_TRY(be.reset());
    model::Network net(spec);
    CS_TRY(net.plan(be, 1));
    CS_TRY(be.allocate());
    CS_TRY(net.initialize(be, seed));
    Planned p;
    p.layout = analysis::parameterLayout(be, net);
    CS_TRY_ASSIGN(p.theta, be.readReal(net.params()));
    p.theta.resize(std::size_t(analysis::flatSize(p.layout)));
    return p;
}

double sliceNorm(std::span<const double> v, std::int64_t offset, std::int64_t n) {
    return analysis::norm2(v.subspan(std::size_t(offset), std::size_t(n)));
}

Result<model::NetSpec> parsed(const std::string& json) {
    return model::parseNetSpec(json, "test spec");
}

// A softmax classifier on 1×4×4 images (16 features, 3 classes): its loss is convex, its
// Hessian has a closed form.
const char* kLinearSpec = R"({"name": "linear", "input": [1, 4, 4], "layers": [
    {"type": "flatten", "name": "flatten"}, {"type": "linear", "name": "fc", "out": 3}]})";
// A tiny smooth network (tanh): a non-convex loss with an exact Hessian by differences.
const char* kTinySpec = R"({"name": "tiny", "input": [1, 6, 6], "layers": [
    {"type": "conv2d", "name": "conv1", "out": 2, "kernel": 3},
    {"type": "tanh", "name": "tanh1"},
    {"type": "flatten", "name": "flatten"},
    {"type": "linear", "name": "fc", "out": 3}]})";

// Small images for the small specs: `count` images of side × side, labels 0..classes-1.
data::ImageDataset smallImages(std::int64_t count, int side, int classes, std::uint64_t seed) {
    data::ImageDataset d = data::makeGratings(count, side, classes, seed);
    return d;
}

} // namespace

class TestLandscape : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    // A checkpoint of `spec` with random weights and batch-norm statistics.
    std::string checkpoint(const model::NetSpec& spec, const std::string& name, std::uint64_t seed,
                           double mean = 0.3, double std = 0.25) {
        const std::string path = m_dir.filePath(QString::fromStdString(name)).toStdString();
        Status s = writeRandomCheckpoint(path, spec, seed, mean, std);
        return s.ok() ? path : std::string();
    }

private slots:
    void cleanup() { QVERIFY2(noValidationMessages(), "Vulkan validation reported messages"); }

    void directionsFollowLiEtAl() {
        CpuBackend<double> be(1);
        auto spec = model::preset("lenet5-bn");
        QVERIFY(spec.ok());
        auto p = planned(be, *spec, 5);
        QVERIFY2(p.ok(), p.status().message().c_str());
        using analysis::DirectionNorm;
        const auto d = analysis::randomDirection(p->layout, p->theta, DirectionNorm::Filter, 11, 0);
        int filters = 0, zeroed = 0;
        for (const Slice& s : p->layout) {
            if (!s.multiDimensional()) { // biases, γ, β
                QCOMPARE(sliceNorm(d, s.offset, s.numel), 0.0);
                ++zeroed;
                continue;
            }
            const std::int64_t len = s.numel / s.dims[0];
            for (std::int64_t i = 0; i < s.dims[0]; ++i, ++filters) {
                const double w = sliceNorm(p->theta, s.offset + i * len, len);
                const double got = sliceNorm(d, s.offset + i * len, len);
                QVERIFY2(std::abs(got - w) <= 1e-9 * std::max(w, 1e-12),
                         qPrintable(QString("%1 filter %2: ‖d‖ %3, ‖w‖ %4")
                                        .arg(QString::fromStdString(s.name))
                                        .arg(i)
                                        .arg(got)
                                        .arg(w)));
            }
        }
        QVERIFY(filters == 6 + 16 + 120 + 84 + 10);
        QVERIFY(zeroed > 0);
        // The seed reproduces the direction; another seed or index gives another one.
        QCOMPARE(analysis::randomDirection(p->layout, p->theta, DirectionNorm::Filter, 11, 0), d);
        const auto e = analysis::randomDirection(p->layout, p->theta, DirectionNorm::Filter, 11, 1);
        const auto f = analysis::randomDirection(p->layout, p->theta, DirectionNorm::Filter, 12, 0);
        QVERIFY(std::abs(analysis::dot(d, e)) < 0.1 * analysis::norm2(d) * analysis::norm2(e));
        QVERIFY(std::abs(analysis::dot(d, f)) < 0.1 * analysis::norm2(d) * analysis::norm2(f));
        // Layer normalisation: each tensor has its weight's norm; none: Gaussian, 1-D zero.
        const auto l = analysis::randomDirection(p->layout, p->theta, DirectionNorm::Layer, 11, 0);
        const auto n = analysis::randomDirection(p->layout, p->theta, DirectionNorm::None, 11, 0);
        for (const Slice& s : p->layout) {
            if (!s.multiDimensional()) {
                QCOMPARE(sliceNorm(n, s.offset, s.numel), 0.0);
                continue;
            }
            const double w = sliceNorm(p->theta, s.offset, s.numel);
            QVERIFY(std::abs(sliceNorm(l, s.offset, s.numel) - w) <= 1e-9 * w);
            const double rms = sliceNorm(n, s.offset, s.numel) / std::sqrt(double(s.numel));
            QVERIFY2(rms > 0.8 && rms < 1.2, qPrintable(QString::number(rms)));
        }
        // Through the file PyTorch users read, and back.
        const auto file = analysis::directionsFile(p->layout, d, e, {{"seed", "11"}});
        QVERIFY(file.tensors.count("delta.conv1.weight") && file.tensors.count("eta.fc3.bias"));
        QCOMPARE(file.tensors.at("delta.conv1.weight").shape,
                 (std::vector<std::int64_t>{6, 1, 5, 5}));
        std::vector<double> d2, e2;
        CS_VERIFY_OK(analysis::readDirections(file, p->layout, d2, e2, "memory"));
        qInfo("through F32: δ %.3g, η %.3g", relError(d2, d), relError(e2, e));
        QVERIFY(relError(d2, d) < 1e-6 && relError(e2, e) < 1e-6);
    }

    // Grid points against PyTorch (float64) on the CPU float and Vulkan backends: lenet5-bn with
    // random running statistics, so evaluation mode matters.
    void gridPointsMatchPyTorch_data() {
        QTest::addColumn<QString>("backend");
        QTest::newRow("cpu") << "cpu";
        QTest::newRow("vulkan") << "vulkan";
    }
    void gridPointsMatchPyTorch() {
        QFETCH(QString, backend);
        if (const QString why = torchMissing(); !why.isEmpty())
            QSKIP(qPrintable(why));
        CpuBackend<float> cpu;
        Backend* be = &cpu;
        if (backend == "vulkan") {
            CS_REQUIRE_VULKAN(vk);
            be = vk;
        }
        auto spec = model::preset("lenet5-bn");
        QVERIFY(spec.ok());
        const std::string path = checkpoint(*spec, "lenet5-bn.safetensors", 21);
        QVERIFY(!path.empty());
        auto ckpt = model::loadCheckpoint(path);
        QVERIFY2(ckpt.ok(), ckpt.status().message().c_str());
        const auto& set = gratings().train;
        auto land =
            analysis::LossLandscape::create(*be, *ckpt, set, 150, 64); // 3 batches, last short
        QVERIFY2(land.ok(), land.status().message().c_str());
        auto& L = **land;
        const auto d =
            analysis::randomDirection(L.layout(), L.theta(), analysis::DirectionNorm::Filter, 1, 0);
        const auto e =
            analysis::randomDirection(L.layout(), L.theta(), analysis::DirectionNorm::Filter, 1, 1);
        CS_VERIFY_OK(L.setDirections(d, e));
        const std::vector<std::pair<double, double>> points = {
            {0, 0}, {0.3, -0.2}, {-1, 1}, {0.05, 0.5}, {1, 1}};
        std::vector<double> loss, acc;
        std::string spec_points;
        for (auto [a, b] : points) {
            auto v = L.evaluate(a, b);
            QVERIFY2(v.ok(), v.status().message().c_str());
            loss.push_back(v->loss);
            acc.push_back(v->accuracy);
            spec_points +=
                (spec_points.empty() ? "" : ",") + std::to_string(a) + ":" + std::to_string(b);
        }
        // PyTorch reads the directions from the file the command line writes.
        io::SafeTensors in = analysis::directionsFile(L.layout(), d, e, {});
        std::vector<std::int64_t> idx(150);
        for (std::size_t i = 0; i < idx.size(); ++i)
            idx[i] = std::int64_t(i);
        in.tensors["pixels"] = storedF32({150, 1, 28, 28}, analysis::Inspector::pixels(set, idx));
        std::vector<std::int64_t> labels(set.labels.begin(), set.labels.begin() + 150);
        in.tensors["labels"] = storedI64(labels);
        in.tensors["targets"] = storedI64(labels);
        in.metadata = {{"mean", std::to_string(ckpt->mean)},
                       {"std", std::to_string(ckpt->std)},
                       {"tasks", "landscape"},
                       {"points", spec_points}};
        auto ref = torchAnalysis(path, in);
        QVERIFY2(ref.ok(), ref.status().message().c_str());
        const auto tl = valuesOf(*ref, "landscape_loss"), ta = valuesOf(*ref, "landscape_accuracy");
        QCOMPARE(tl.size(), points.size());
        for (std::size_t k = 0; k < points.size(); ++k) {
            qInfo("(%g, %g): loss %.7g, PyTorch %.7g; accuracy %.4f, PyTorch %.4f", points[k].first,
                  points[k].second, loss[k], tl[k], acc[k], ta[k]);
            QVERIFY2(std::abs(loss[k] - tl[k]) <= 1e-4 * std::abs(tl[k]),
                     qPrintable(QString("point %1: %2 vs %3").arg(k).arg(loss[k]).arg(tl[k])));
            QVERIFY(std::abs(acc[k] - ta[k]) <= 1.0 / 150 + 1e-12); // one image on a knife edge
        }
        QVERIFY(loss[2] > loss[0]); // far from θ* the loss is higher
    }

    // A softmax classifier: the surface equals the cross-entropy computed here, and the Hessian's
    // extremes equal the eigenvalues of its closed form
    //   H = (1/N) Σ_n (diag(p_n) − p_n p_nᵀ) ⊗ (x̃_n x̃_nᵀ),   x̃ = (normalised pixels, 1).
    void linearClassifierMatchesClosedForm() {
        auto spec = parsed(kLinearSpec);
        QVERIFY2(spec.ok(), spec.status().message().c_str());
        const double mean = 0.4, sd = 0.3;
        const std::string path = checkpoint(*spec, "linear.safetensors", 4, mean, sd);
        auto ckpt = model::loadCheckpoint(path);
        QVERIFY(ckpt.ok());
        const data::ImageDataset set = smallImages(40, 4, 3, 8);
        CpuBackend<double> be(1);
        auto land = analysis::LossLandscape::create(be, *ckpt, set, 40, 16);
        QVERIFY2(land.ok(), land.status().message().c_str());
        auto& L = **land;
        const int K = 3, D = 16, N = 40;
        // The layout: fc.weight (K, D) then fc.bias (K), in some order; find them.
        std::int64_t wOff = -1, bOff = -1;
        for (const Slice& s : L.layout())
            (s.name == "fc.weight" ? wOff : bOff) = s.offset;
        QVERIFY(wOff >= 0 && bOff >= 0);
        auto lossAt = [&](const std::vector<double>& theta, Eigen::MatrixXd* hessian) {
            double total = 0;
            if (hessian)
                hessian->setZero(K * (D + 1), K * (D + 1));
            for (int n = 0; n < N; ++n) {
                Eigen::VectorXd x(D + 1);
                for (int i = 0; i < D; ++i)
                    x(i) = ops::normaliseByte(set.images[std::size_t(n * D + i)],
                                              float(1 / (255.0 * sd)), float(-mean / sd));
                x(D) = 1;
                Eigen::VectorXd z(K);
                for (int k = 0; k < K; ++k) {
                    z(k) = theta[std::size_t(bOff + k)];
                    for (int i = 0; i < D; ++i)
                        z(k) += theta[std::size_t(wOff + k * D + i)] * x(i);
                }
                const double top = z.maxCoeff();
                const Eigen::VectorXd ez = (z.array() - top).exp();
                const Eigen::VectorXd p = ez / ez.sum();
                total += std::log(ez.sum()) + top - z(set.labels[std::size_t(n)]);
                if (hessian) {
                    const Eigen::MatrixXd A = Eigen::MatrixXd(p.asDiagonal()) - p * p.transpose();
                    for (int a = 0; a < K; ++a)
                        for (int b = 0; b < K; ++b)
                            hessian->block(a * (D + 1), b * (D + 1), D + 1, D + 1) +=
                                A(a, b) * x * x.transpose() / N;
                }
            }
            return total / N;
        };
        // The surface at a few points, against θ* + αδ + βη computed here.
        const auto d =
            analysis::randomDirection(L.layout(), L.theta(), analysis::DirectionNorm::None, 3, 0);
        const auto e =
            analysis::randomDirection(L.layout(), L.theta(), analysis::DirectionNorm::None, 3, 1);
        CS_VERIFY_OK(L.setDirections(d, e));
        for (auto [a, b] : {std::pair{0.0, 0.0}, {0.5, -0.25}, {-1.0, 1.0}}) {
            std::vector<double> theta = L.theta();
            for (std::size_t i = 0; i < theta.size(); ++i)
                theta[i] += a * d[i] + b * e[i];
            auto v = L.evaluate(a, b);
            QVERIFY(v.ok());
            QVERIFY2(std::abs(v->loss - lossAt(theta, nullptr)) < 1e-12,
                     qPrintable(QString("%1 vs %2").arg(v->loss).arg(lossAt(theta, nullptr))));
        }
        Eigen::MatrixXd H;
        lossAt(L.theta(), &H);
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(H);
        const double lmax = eig.eigenvalues().maxCoeff(), lmin = eig.eigenvalues().minCoeff();
        analysis::HessianOptions o;
        o.tolerance = 1e-10;
        o.maxIterations = 3000;
        auto h = analysis::hessianAt(L, o);
        QVERIFY2(h.ok(), h.status().message().c_str());
        qInfo("closed form λ_max %.10g λ_min %.3g; Lanczos %.10g, %.3g (%d products)", lmax, lmin,
              h->lambdaMax, h->lambdaMin, h->iterations);
        QVERIFY(std::abs(h->lambdaMax - lmax) <= 1e-6 * lmax);
        // Convex: λ_min is 0 (adding one number to every logit changes nothing) up to rounding.
        QVERIFY(lmin > -1e-12);
        QVERIFY2(std::abs(h->lambdaMin - lmin) <= 1e-6 * lmax,
                 qPrintable(QString::number(h->lambdaMin)));
        QCOMPARE(h->images, std::int64_t(40));
    }

    // A tiny tanh network in double: the Lanczos extremes equal the eigenvalues of its
    // exact Hessian (central differences of exact gradients, column by column).
    void tinyNetworkHessianMatchesExact() {
        auto spec = parsed(kTinySpec);
        QVERIFY2(spec.ok(), spec.status().message().c_str());
        const std::string path = checkpoint(*spec, "tiny.safetensors", 9);
        auto ckpt = model::loadCheckpoint(path);
        QVERIFY(ckpt.ok());
        const data::ImageDataset set = smallImages(30, 6, 3, 2);
        CpuBackend<double> be(1);
        auto land = analysis::LossLandscape::create(be, *ckpt, set, 30, 30);
        QVERIFY2(land.ok(), land.status().message().c_str());
        auto& L = **land;
        const auto n = std::size_t(L.parameterCount());
        Eigen::MatrixXd H(n, n);
        auto hvp = analysis::finiteDifferenceHvp(L, 1e-5);
        for (std::size_t j = 0; j < n; ++j) {
            std::vector<double> e(n, 0.0);
            e[j] = 1;
            auto col = hvp(e);
            QVERIFY(col.ok());
            for (std::size_t i = 0; i < n; ++i)
                H(Eigen::Index(i), Eigen::Index(j)) = (*col)[i];
        }
        QVERIFY2((H - H.transpose()).norm() < 1e-6 * H.norm(), "the Hessian is not symmetric");
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig((H + H.transpose()) / 2);
        const double lmax = eig.eigenvalues().maxCoeff(), lmin = eig.eigenvalues().minCoeff();
        analysis::HessianOptions o;
        o.tolerance = 1e-10;
        o.maxIterations = 5000;
        auto h = analysis::hessianAt(L, o);
        QVERIFY2(h.ok(), h.status().message().c_str());
        qInfo("exact λ_max %.8g λ_min %.8g; Lanczos %.8g %.8g (%d products)", lmax, lmin,
              h->lambdaMax, h->lambdaMin, h->iterations);
        QVERIFY(std::abs(h->lambdaMax - lmax) <= 1e-4 * std::abs(lmax));
        QVERIFY(std::abs(h->lambdaMin - lmin) <= 1e-4 * std::abs(lmax));
    }

    // Snapshots θ_t = θ_f + a_t·u + b_t·v (u, v orthonormal on the weights): the PCA's plane is
    // span(u, v), its directions unit and orthogonal, and the path reconstructs each θ_t − θ_f.
    void pcaRecoversAKnownPlane() {
        CpuBackend<double> be(1);
        auto spec = model::preset("lenet5-bn");
        QVERIFY(spec.ok());
        auto p = planned(be, *spec, 2);
        QVERIFY(p.ok());
        const auto n = p->theta.size();
        Rng rng(5);
        std::vector<double> u(n, 0.0), v(n, 0.0);
        for (const Slice& s : p->layout)
            if (s.multiDimensional())
                for (std::int64_t i = s.offset; i < s.offset + s.numel; ++i) {
                    u[std::size_t(i)] = rng.normal();
                    v[std::size_t(i)] = rng.normal();
                }
        auto scale = [](std::vector<double>& x, double f) {
            for (double& e : x)
                e *= f;
        };
        scale(u, 1 / analysis::norm2(u));
        const double uv = analysis::dot(u, v);
        for (std::size_t i = 0; i < n; ++i)
            v[i] -= uv * u[i];
        scale(v, 1 / analysis::norm2(v));
        std::vector<std::vector<double>> snaps;
        std::vector<std::pair<double, double>> ab;
        for (int t = 0; t < 12; ++t) { // a curved path towards the end, more spread along u
            const double a = 3.0 * (12 - t) / 12 + 0.2 * rng.normal(), b = std::sin(t * 0.7);
            std::vector<double> th = p->theta;
            for (std::size_t i = 0; i < n; ++i)
                th[i] += a * u[i] + b * v[i];
            for (const Slice& s : p->layout) // 1-D tensors move too: the PCA ignores them
                if (!s.multiDimensional())
                    th[std::size_t(s.offset)] += 5.0 * t;
            snaps.push_back(std::move(th));
            ab.push_back({a, b});
        }
        auto plane = analysis::pcaPlane(snaps, p->theta, p->layout);
        QVERIFY2(plane.ok(), plane.status().message().c_str());
        const auto& d1 = plane->d1;
        const auto& d2 = plane->d2;
        QVERIFY(std::abs(analysis::norm2(d1) - 1) < 1e-9 &&
                std::abs(analysis::norm2(d2) - 1) < 1e-9);
        QVERIFY(std::abs(analysis::dot(d1, d2)) < 1e-9);
        for (const auto* w : {&u, &v}) { // u and v lie in span(d1, d2)
            const double in = std::hypot(analysis::dot(*w, d1), analysis::dot(*w, d2));
            QVERIFY2(std::abs(in - 1) < 1e-9, qPrintable(QString::number(in)));
        }
        QVERIFY(std::abs(plane->explained[0] + plane->explained[1] - 1) < 1e-9);
        QVERIFY(plane->explained[0] >= plane->explained[1]);
        for (std::size_t t = 0; t < snaps.size(); ++t) { // the path reconstructs the snapshots
            const auto [c1, c2] = plane->path[t];
            const double a = c1 * analysis::dot(d1, u) + c2 * analysis::dot(d2, u);
            const double b = c1 * analysis::dot(d1, v) + c2 * analysis::dot(d2, v);
            QVERIFY(std::abs(a - ab[t].first) < 1e-9 && std::abs(b - ab[t].second) < 1e-9);
        }
        // Too few snapshots, or all on one line: a message, not a plane.
        QVERIFY(!analysis::pcaPlane({snaps[0]}, p->theta, p->layout).ok());
        // The ring keeps the whole run when full.
        analysis::Trajectory ring(8, 10);
        for (int s = 0; s <= 200; s += 10)
            if (ring.wants(s))
                ring.add(s, {double(s)});
        QVERIFY(ring.size() <= 8);
        QCOMPARE(ring.steps().front(), std::int64_t(0));
        QVERIFY(ring.steps().back() >= 160);
    }

    // Slices of rows merge into exactly the full grid; a cancelled grid resumes from its CSV.
    void rowsMergeAndCancelledGridsResume() {
        auto spec = model::preset("lenet5");
        QVERIFY(spec.ok());
        const std::string path = checkpoint(*spec, "lenet5.safetensors", 13);
        auto ckpt = model::loadCheckpoint(path);
        QVERIFY(ckpt.ok());
        CpuBackend<float> be;
        auto land = analysis::LossLandscape::create(be, *ckpt, gratings().train, 64);
        QVERIFY(land.ok());
        auto& L = **land;
        CS_VERIFY_OK(L.setDirections(
            analysis::randomDirection(L.layout(), L.theta(), analysis::DirectionNorm::Filter, 2, 0),
            analysis::randomDirection(L.layout(), L.theta(), analysis::DirectionNorm::Filter, 2,
                                      1)));
        auto axis = analysis::parseAxis("-1:1:5");
        QVERIFY(axis.ok());
        auto full = analysis::emptySurface(*axis, *axis);
        CS_VERIFY_OK(analysis::computeRows(L, full, 0, 5, nullptr));
        QCOMPARE(full.rowsDone(), 5);
        auto a = analysis::emptySurface(*axis, *axis), b = a;
        CS_VERIFY_OK(analysis::computeRows(L, a, 0, 2, nullptr));
        CS_VERIFY_OK(analysis::computeRows(L, b, 2, 5, nullptr));
        auto merged = analysis::emptySurface(*axis, *axis);
        CS_VERIFY_OK(analysis::readSurfaceCsv(analysis::surfaceCsv(a), merged, "a"));
        CS_VERIFY_OK(analysis::readSurfaceCsv(analysis::surfaceCsv(b), merged, "b"));
        QCOMPARE(merged.rowsDone(), 5);
        QCOMPARE(analysis::surfaceCsv(merged), analysis::surfaceCsv(full));
        // Cancel after 7 points: rows 0 is kept, the job resumes from the CSV to the same grid.
        auto partial = analysis::emptySurface(*axis, *axis);
        int seen = 0;
        Progress progress([&](double, const std::string&) {});
        std::string saved;
        Status s = analysis::computeRows(L, partial, 0, 5, &progress, [&](int) {
            saved = analysis::surfaceCsv(partial);
            if (++seen == 1)
                progress.cancel();
            return Status{};
        });
        QVERIFY(Progress::isCancellation(s));
        auto resumed = analysis::emptySurface(*axis, *axis);
        CS_VERIFY_OK(analysis::readSurfaceCsv(saved, resumed, "partial"));
        QCOMPARE(resumed.rowsDone(), 1);
        int computed = 0;
        Progress count([&](double, const std::string&) { ++computed; });
        CS_VERIFY_OK(analysis::computeRows(L, resumed, 0, 5, &count));
        QCOMPARE(computed, 4 * 5); // only the missing rows
        QCOMPARE(analysis::surfaceCsv(resumed), analysis::surfaceCsv(full));
        // A point of another grid is refused when merging.
        auto other = analysis::emptySurface(*analysis::parseAxis("-2:2:5"), *axis);
        QVERIFY(!analysis::readSurfaceCsv(analysis::surfaceCsv(full), other, "x").ok());
        // Roughness of a bowl: one minimum at the centre, Laplacian 4 for x² + y².
        auto bowl = analysis::emptySurface(*analysis::parseAxis("-1:1:21"),
                                           *analysis::parseAxis("-1:1:21"));
        for (int r = 0; r < 21; ++r) {
            for (int c = 0; c < 21; ++c) {
                const double x = bowl.alpha.at(c), y = bowl.beta.at(r);
                bowl.loss[std::size_t(r * 21 + c)] = x * x + y * y;
            }
            bowl.done[std::size_t(r)] = true;
        }
        const auto rough = analysis::roughness(bowl, 0.5);
        QCOMPARE(rough.localMinima, 1);
        QVERIFY(std::abs(rough.meanAbsLaplacian - 4) < 1e-9);
        QVERIFY(std::abs(rough.minAlpha) < 1e-12 && std::abs(rough.minBeta) < 1e-12);
        // Its contours are circles: every segment's ends lie at the level's radius.
        const auto segs = analysis::contourSegments(bowl.loss, 21, 21, 0.25);
        QVERIFY(segs.size() > 8);
        for (const auto& g : segs) {
            const double x = -1 + g.x0 * 0.1, y = -1 + g.y0 * 0.1;
            QVERIFY(std::abs(std::hypot(x, y) - 0.5) < 0.02);
        }
    }

    void badInputGetsAMessage() {
        auto spec = model::preset("lenet5");
        QVERIFY(spec.ok());
        auto ckpt = model::loadCheckpoint(checkpoint(*spec, "bad.safetensors", 1));
        QVERIFY(ckpt.ok());
        CpuBackend<float> be;
        auto big = analysis::LossLandscape::create(be, *ckpt, gratings().train, 301);
        QVERIFY(!big.ok());
        QVERIFY2(big.status().message().find("larger than") != std::string::npos,
                 big.status().message().c_str());
        for (const char* grid : {"-1:1:0", "-1:1:1000000", "1:-1:5", "a:1:3", "-1:1"}) {
            auto a = analysis::parseAxis(grid);
            QVERIFY2(!a.ok(), grid);
        }
        auto land = analysis::LossLandscape::create(be, *ckpt, gratings().train, 10);
        QVERIFY(land.ok());
        QVERIFY(!(*land)->setDirections(std::vector<double>(5), {}).ok());
        // Interpolating towards a checkpoint of another network names the missing tensor.
        auto other = model::preset("mlp");
        auto ck2 = model::loadCheckpoint(checkpoint(*other, "mlp.safetensors", 1));
        QVERIFY(ck2.ok());
        Status s = (*land)->setInterpolation(ckpt->file, ck2->file, ck2->path);
        QVERIFY(!s.ok());
        QVERIFY2(s.message().find("no tensor") != std::string::npos, s.message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestLandscape)
#include "tst_landscape.moc"
