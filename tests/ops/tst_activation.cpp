// activation: ReLU, leaky ReLU, sigmoid and tanh, forward and backward, Vulkan and CPU float
// against the CPU double reference on inputs up to ±50 (sigmoid and tanh saturate without
// NaN), and the reference against central finite differences (away from the kink at 0).
#include "op_test.h"
#include "ops/activation.h"

#include <cmath>

using namespace convscope;
using namespace convscope::testing;

Q_DECLARE_METATYPE(convscope::ops::Activation)

namespace {

struct Outputs {
    std::vector<double> y, dx;
};

Result<Outputs> run(Backend& be, const ops::Activation& a, const std::vector<double>& xv,
                    const std::vector<double>& dyv) {
    CS_TRY(be.reset());
    const std::int64_t n = std::int64_t(xv.size());
    Tensor x = be.tensor({n}), y = be.tensor({n}), dy = be.tensor({n}), dx = be.tensor({n});
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(x, xv));
    CS_TRY(be.writeReal(dy, dyv));
    CS_TRY(runOnce(be, [&]() -> Status {
        CS_TRY(ops::activationForward(be, a, x, y));
        return ops::activationBackward(be, a, y, dy, dx);
    }));
    Outputs o;
    CS_TRY_ASSIGN(o.y, be.readReal(y));
    CS_TRY_ASSIGN(o.dx, be.readReal(dx));
    return o;
}

// Uniform in ±range with |x| ≥ 0.01, so finite differences never straddle the kink.
std::vector<double> inputs(std::int64_t n, std::uint64_t seed, double range) {
    auto v = asFloat(uniform(n, seed, -range, range));
    for (auto& x : v)
        if (std::abs(x) < 0.01)
            x = 0.5;
    return v;
}

const ops::Activation kKinds[] = {{ops::ActivationKind::Relu, 0.01},
                                  {ops::ActivationKind::LeakyRelu, 0.1},
                                  {ops::ActivationKind::Sigmoid, 0.01},
                                  {ops::ActivationKind::Tanh, 0.01}};

} // namespace

class TestActivation : public OpTest {
    Q_OBJECT

    void cases(BackendKind kind) override {
        QTest::addColumn<ops::Activation>("a");
        QTest::addColumn<qint64>("n");
        QTest::addColumn<double>("range");
        for (const auto& a : kKinds) {
            const std::string k = a.name();
            QTest::newRow((k + ", 1").c_str()) << a << qint64(1) << 3.0;
            QTest::newRow((k + ", 257 in ±3").c_str()) << a << qint64(257) << 3.0;
            QTest::newRow((k + ", 64x256 in ±50").c_str()) << a << qint64(64 * 256) << 50.0;
        }
        if (kind == BackendKind::Vulkan) // more than 65535 workgroups: only Vulkan has a grid
            QTest::newRow("relu, 2^24+3 (2-D grid)") << kKinds[0] << qint64((1 << 24) + 3) << 3.0;
    }

    void compare(Backend& be) override {
        QFETCH(ops::Activation, a);
        QFETCH(qint64, n);
        QFETCH(double, range);
        auto x = inputs(n, std::uint64_t(n), range);
        auto dy = asFloat(uniform(n, std::uint64_t(n) + 1));
        auto ref = run(m_ref, a, x, dy);
        auto got = run(be, a, x, dy);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        for (double v : got->y)
            QVERIFY(std::isfinite(v));
        const double ey = relError(got->y, ref->y), edx = relError(got->dx, ref->dx);
        qInfo("y max relative error %.3g, dx %.3g", ey, edx);
        QVERIFY2(ey <= 1e-4 && edx <= 1e-4, qPrintable(QString("y %1 dx %2").arg(ey).arg(edx)));
    }

private slots:
    void referenceMatchesFiniteDifferences_data() {
        QTest::addColumn<ops::Activation>("a");
        for (const auto& a : kKinds)
            QTest::newRow(a.name().c_str()) << a;
    }
    void referenceMatchesFiniteDifferences() {
        QFETCH(ops::Activation, a);
        auto x = inputs(31, 5, 4);
        auto dy = uniform(31, 6);
        auto an = run(m_ref, a, x, dy);
        QVERIFY(an.ok());
        auto num = numericGradient(x, [&](const std::vector<double>& v) {
            auto o = run(m_ref, a, v, dy);
            double l = 0;
            for (std::size_t i = 0; i < v.size(); ++i)
                l += dy[i] * o->y[i];
            return l;
        });
        QVERIFY(relError(an->dx, num) < 1e-7);
    }

    void saturatesWithoutNan() {
        // sigmoid(±100) and tanh(±100) are exactly 1/0 and ±1, with zero gradient.
        for (auto kind : {ops::ActivationKind::Sigmoid, ops::ActivationKind::Tanh}) {
            auto o = run(m_ref, {kind, 0.01}, {-100, 100}, {1, 1});
            QVERIFY(o.ok());
            QCOMPARE(o->y[1], 1.0);
            QCOMPARE(o->dx[0], 0.0);
            QCOMPARE(o->dx[1], 0.0);
        }
    }

    // A diverging network must look diverged on every backend: NaN goes through, as in PyTorch.
    void nanPropagates() {
        CS_REQUIRE_VULKAN(vk);
        for (const auto& a : kKinds)
            for (Backend* be : {static_cast<Backend*>(vk), static_cast<Backend*>(&m_ref)}) {
                auto o = run(*be, a, {NAN, 1.0}, {1, 1});
                QVERIFY(o.ok());
                QVERIFY2(std::isnan(o->y[0]), qPrintable(QString::fromStdString(a.name())));
            }
    }

    // lavapipe's own tanh loses digits near 0 (1.4e-3 relative at 1e-5); ours may not.
    void tanhIsAccurateNearZero() {
        CS_REQUIRE_VULKAN(vk);
        const std::vector<double> x = {1e-5, -3e-4, 0.01, 0.1, -0.2, 0.249, 0.26, -1.0, 3.0};
        auto o = run(*vk, {ops::ActivationKind::Tanh, 0.01}, asFloat(x),
                     std::vector<double>(x.size(), 1.0));
        QVERIFY(o.ok());
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double want = std::tanh(double(float(x[i])));
            QVERIFY2(
                std::abs(o->y[i] - want) <= 1e-6 * std::abs(want),
                qPrintable(QString("tanh(%1) = %2, want %3").arg(x[i]).arg(o->y[i]).arg(want)));
        }
    }

    void leakySlopeMustBePositive() {
        auto o = run(m_ref, {ops::ActivationKind::LeakyRelu, -0.5}, {1, 2}, {1, 1});
        QVERIFY(!o.ok());
        QVERIFY2(o.status().message().find("slope must be positive") != std::string::npos,
                 o.status().message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestActivation)
#include "tst_activation.moc"
