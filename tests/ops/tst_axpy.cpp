// axpy: y = x + c[0]·a + c[1]·b on both backends against the CPU double reference and against
// the formula; one recorded program replayed with new coefficients written between submits (how
// a loss landscape moves the weights), and in place (y = x). It has no backward pass: nothing
// differentiates through moving the weights, so there is no finite-difference check to make.
#include "op_test.h"
#include "ops/axpy.h"

using namespace convscope;
using namespace convscope::testing;

namespace {
// y for each coefficient pair, from one program recorded once.
Result<std::vector<std::vector<double>>> run(Backend& be, const std::vector<double>& x,
                                             const std::vector<double>& a,
                                             const std::vector<double>& b,
                                             const std::vector<std::pair<double, double>>& coefs,
                                             bool inPlace) {
    CS_TRY(be.reset());
    const std::int64_t n = std::int64_t(x.size());
    Tensor tx = be.tensor({n}), ta = be.tensor({n}), tb = be.tensor({n}), ty = be.tensor({n});
    Tensor tc = be.tensor({2}, DType::Real, Placement::Host);
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(ta, a));
    CS_TRY(be.writeReal(tb, b));
    const Tensor out = inPlace ? tx : ty;
    CS_TRY_ASSIGN(ProgramId prog, be.record([&] { return ops::axpy(be, tx, ta, tb, tc, out); }));
    std::vector<std::vector<double>> ys;
    for (auto [alpha, beta] : coefs) {
        CS_TRY(be.writeReal(tx, x)); // in place, x is overwritten by each point
        const double c[2] = {alpha, beta};
        CS_TRY(be.writeReal(tc, std::span<const double>(c, 2)));
        CS_TRY_ASSIGN(Ticket t, be.submit(prog));
        CS_TRY(be.wait(t));
        CS_TRY_ASSIGN(auto y, be.readReal(out));
        ys.push_back(std::move(y));
    }
    return ys;
}
} // namespace

class TestAxpy : public OpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<qint64>("n");
        QTest::addColumn<bool>("inPlace");
        QTest::newRow("1") << qint64(1) << false;
        QTest::newRow("1031, in place") << qint64(1031) << true;
        QTest::newRow("resnet20's parameters, 272474") << qint64(272474) << false;
    }
    void compare(Backend& be) override {
        QFETCH(qint64, n);
        QFETCH(bool, inPlace);
        const auto x = asFloat(uniform(n, 1)), a = asFloat(uniform(n, 2)),
                   b = asFloat(uniform(n, 3));
        const std::vector<std::pair<double, double>> coefs = {
            {0.0, 0.0}, {-1.0, 0.5}, {0.25, -0.75}, {1.0, 1.0}};
        auto ref = run(m_ref, x, a, b, coefs, inPlace);
        auto got = run(be, x, a, b, coefs, inPlace);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        for (std::size_t k = 0; k < coefs.size(); ++k) {
            std::vector<double> formula(x.size());
            for (std::size_t i = 0; i < x.size(); ++i)
                formula[i] = x[i] + coefs[k].first * a[i] + coefs[k].second * b[i];
            QVERIFY(relError((*ref)[k], formula) <= 1e-14);
            QVERIFY2(
                relError((*got)[k], (*ref)[k]) <= 1e-6,
                qPrintable(QString("point %1: %2").arg(k).arg(relError((*got)[k], (*ref)[k]))));
        }
        // The first pair (0, 0) leaves x as it was: the landscape's centre is θ* exactly.
        QCOMPARE((*got)[0], x);
    }

private slots:
    void rejectsMismatchedTensors() {
        CpuBackend<double> be;
        Tensor x = be.tensor({4}), a = be.tensor({5}), c = be.tensor({1});
        QVERIFY(be.allocate().ok());
        Status s = ops::axpy(be, x, a, x, c, x);
        QVERIFY(!s.ok());
        QVERIFY2(s.message().find("a has 5 elements") != std::string::npos, s.message().c_str());
        s = ops::axpy(be, x, x, x, c, x);
        QVERIFY(!s.ok());
        QVERIFY(s.message().find("coefficients") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestAxpy)
#include "tst_axpy.moc"
