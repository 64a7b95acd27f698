// dropout: the mask is the same on every backend, reproducible from (seed, step), new at each
// step and for each seed; about `rate` of the elements are dropped and the rest scaled by
// 1/(1 − rate); the backward pass uses the forward pass's mask (checked by finite differences).
#include "op_test.h"
#include "ops/dropout.h"

#include <cmath>

using namespace convscope;
using namespace convscope::testing;

namespace {
struct Outputs {
    std::vector<double> y, dx;
};

Result<Outputs> run(Backend& be, const ops::Dropout& d, const std::vector<double>& x,
                    const std::vector<double>& dy, std::int32_t step) {
    CS_TRY(be.reset());
    const std::int64_t n = std::int64_t(x.size());
    Tensor tx = be.tensor({n}), ty = be.tensor({n}), tdy = be.tensor({n}), tdx = be.tensor({n});
    Tensor ts = be.tensor({1}, DType::I32);
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(tx, x));
    CS_TRY(be.writeReal(tdy, dy));
    CS_TRY(be.writeI32(ts, std::vector<std::int32_t>{step}));
    CS_TRY(runOnce(be, [&]() -> Status {
        CS_TRY(ops::dropoutForward(be, d, tx, ts, ty));
        return ops::dropoutBackward(be, d, tdy, ts, tdx);
    }));
    Outputs o;
    CS_TRY_ASSIGN(o.y, be.readReal(ty));
    CS_TRY_ASSIGN(o.dx, be.readReal(tdx));
    return o;
}
} // namespace

class TestDropout : public OpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<double>("rate");
        QTest::addColumn<qint64>("n");
        QTest::newRow("rate 0.5, 1") << 0.5 << qint64(1);
        QTest::newRow("rate 0.5, 1031") << 0.5 << qint64(1031);
        QTest::newRow("rate 0.2, 64x120") << 0.2 << qint64(64 * 120);
        QTest::newRow("rate 0 (keeps all)") << 0.0 << qint64(100);
    }
    void compare(Backend& be) override {
        QFETCH(double, rate);
        QFETCH(qint64, n);
        auto x = asFloat(uniform(n, 1)), dy = asFloat(uniform(n, 2));
        auto ref = run(m_ref, {rate, 7}, x, dy, 3);
        auto got = run(be, {rate, 7}, x, dy, 3);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        // Same mask: every element is either dropped on both backends or kept on both.
        for (std::size_t i = 0; i < x.size(); ++i)
            QCOMPARE(got->y[i] == 0.0, ref->y[i] == 0.0);
        QVERIFY(relError(got->y, ref->y) <= 1e-6 && relError(got->dx, ref->dx) <= 1e-6);
    }

private slots:
    void masksAreReproducibleAndFresh() {
        const std::vector<double> ones(20000, 1.0);
        auto a = run(m_ref, {0.5, 7}, ones, ones, 3), b = run(m_ref, {0.5, 7}, ones, ones, 3);
        auto nextStep = run(m_ref, {0.5, 7}, ones, ones, 4);
        auto otherSeed = run(m_ref, {0.5, 8}, ones, ones, 3);
        QVERIFY(a.ok() && b.ok() && nextStep.ok() && otherSeed.ok());
        QCOMPARE(a->y, b->y);
        QVERIFY(a->y != nextStep->y);
        QVERIFY(a->y != otherSeed->y);
    }

    void dropsTheRateAndScalesTheRest_data() {
        QTest::addColumn<double>("rate");
        QTest::newRow("0.1") << 0.1;
        QTest::newRow("0.5") << 0.5;
        QTest::newRow("0.8") << 0.8;
    }
    void dropsTheRateAndScalesTheRest() {
        QFETCH(double, rate);
        const std::size_t n = 100000;
        auto o =
            run(m_ref, {rate, 11}, std::vector<double>(n, 1.0), std::vector<double>(n, 1.0), 0);
        QVERIFY(o.ok());
        std::size_t dropped = 0;
        for (double v : o->y) {
            if (v == 0.0)
                ++dropped;
            else
                QVERIFY(std::abs(v - 1.0 / (1.0 - rate)) < 1e-12);
        }
        // Binomial standard deviation is at most 0.0016 here; allow 5 of them.
        QVERIFY2(std::abs(double(dropped) / n - rate) < 0.008,
                 qPrintable(QString("dropped fraction %1").arg(double(dropped) / n)));
        QCOMPARE(o->dx, o->y); // dy = 1: the backward mask is the forward mask
    }

    void referenceMatchesFiniteDifferences() {
        auto x = uniform(50, 3), r = uniform(50, 4);
        auto an = run(m_ref, {0.3, 5}, x, r, 2);
        QVERIFY(an.ok());
        auto num = numericGradient(x, [&](const std::vector<double>& v) {
            auto o = run(m_ref, {0.3, 5}, v, r, 2);
            double l = 0;
            for (std::size_t i = 0; i < r.size(); ++i)
                l += r[i] * o->y[i];
            return l;
        });
        QVERIFY(relError(an->dx, num) < 1e-8);
    }

    void badRateIsRejected() {
        auto o = run(m_ref, {1.0, 1}, {1, 2}, {1, 1}, 0);
        QVERIFY(!o.ok());
        QVERIFY(o.status().message().find("rate must be in [0, 1)") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestDropout)
#include "tst_dropout.moc"
