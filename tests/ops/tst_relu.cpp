// relu: forward and backward, Vulkan and CPU float against the CPU double reference, and the
// reference against central finite differences (inputs kept away from the kink at 0).
#include "op_test.h"
#include "ops/relu.h"

using namespace convscope;
using namespace convscope::testing;

namespace {

struct Outputs {
    std::vector<double> y, dx;
};

Result<Outputs> run(Backend& be, const std::vector<double>& xv, const std::vector<double>& dyv) {
    CS_TRY(be.reset());
    const std::int64_t n = std::int64_t(xv.size());
    Tensor x = be.tensor({n}), y = be.tensor({n}), dy = be.tensor({n}), dx = be.tensor({n});
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(x, xv));
    CS_TRY(be.writeReal(dy, dyv));
    CS_TRY(runOnce(be, [&]() -> Status {
        CS_TRY(ops::reluForward(be, x, y));
        return ops::reluBackward(be, y, dy, dx);
    }));
    Outputs o;
    CS_TRY_ASSIGN(o.y, be.readReal(y));
    CS_TRY_ASSIGN(o.dx, be.readReal(dx));
    return o;
}

// Uniform values in ±50 with |x| ≥ 0.01, so finite differences never straddle the kink.
std::vector<double> inputs(std::int64_t n, std::uint64_t seed) {
    auto v = asFloat(uniform(n, seed, -50, 50));
    for (auto& x : v)
        if (std::abs(x) < 0.01)
            x = 0.5;
    return v;
}

} // namespace

class TestRelu : public OpTest {
    Q_OBJECT

    void cases(BackendKind kind) override {
        QTest::addColumn<qint64>("n");
        QTest::newRow("1") << qint64(1);
        QTest::newRow("13") << qint64(13);
        QTest::newRow("257 (past one workgroup)") << qint64(257);
        QTest::newRow("64x256") << qint64(64 * 256);
        if (kind == BackendKind::Vulkan) // more than 65535 workgroups: only Vulkan has a grid
            QTest::newRow("2^24+3 (2-D grid)") << qint64((1 << 24) + 3);
    }

    void compare(Backend& be) override {
        QFETCH(qint64, n);
        auto x = inputs(n, std::uint64_t(n));
        auto dy = asFloat(uniform(n, std::uint64_t(n) + 1));
        auto ref = run(m_ref, x, dy);
        auto got = run(be, x, dy);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        qInfo("y max relative error %.3g, dx %.3g", relError(got->y, ref->y),
              relError(got->dx, ref->dx));
        QCOMPARE(relError(got->y, ref->y), 0.0);
        QCOMPARE(relError(got->dx, ref->dx), 0.0);
    }

private slots:

    void referenceMatchesFiniteDifferences() {
        auto x = inputs(31, 5);
        auto dy = uniform(31, 6);
        auto an = run(m_ref, x, dy);
        QVERIFY(an.ok());
        auto num = numericGradient(x, [&](const std::vector<double>& v) {
            auto o = run(m_ref, v, dy);
            double l = 0;
            for (std::size_t i = 0; i < v.size(); ++i)
                l += dy[i] * o->y[i];
            return l;
        });
        QVERIFY(relError(an->dx, num) < 1e-8);
        // Both branches are exercised.
        QVERIFY(std::count(an->dx.begin(), an->dx.end(), 0.0) > 0);
        QVERIFY(std::count(an->dx.begin(), an->dx.end(), 0.0) < 31);
    }
};

QTEST_GUILESS_MAIN(TestRelu)
#include "tst_relu.moc"
