// add: y = a + b on both backends against the CPU double reference, in place (y = a), and the
// reference's gradient (identity to both inputs) against finite differences.
#include "op_test.h"
#include "ops/add.h"

using namespace convscope;
using namespace convscope::testing;

namespace {
Result<std::vector<double>> run(Backend& be, const std::vector<double>& a,
                                const std::vector<double>& b, bool inPlace) {
    CS_TRY(be.reset());
    const std::int64_t n = std::int64_t(a.size());
    Tensor ta = be.tensor({n}), tb = be.tensor({n}), ty = be.tensor({n});
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(ta, a));
    CS_TRY(be.writeReal(tb, b));
    const Tensor out = inPlace ? ta : ty;
    CS_TRY(runOnce(be, [&] { return ops::add(be, ta, tb, out); }));
    return be.readReal(out);
}
} // namespace

class TestAdd : public OpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<qint64>("n");
        QTest::addColumn<bool>("inPlace");
        QTest::newRow("1") << qint64(1) << false;
        QTest::newRow("1031, in place") << qint64(1031) << true;
        QTest::newRow("resnet block 64x16x32x32") << qint64(64 * 16 * 32 * 32) << false;
    }
    void compare(Backend& be) override {
        QFETCH(qint64, n);
        QFETCH(bool, inPlace);
        auto a = asFloat(uniform(n, 1)), b = asFloat(uniform(n, 2));
        auto ref = run(m_ref, a, b, inPlace);
        auto got = run(be, a, b, inPlace);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        qInfo("y max relative error %.3g", relError(*got, *ref));
        QVERIFY(relError(*got, *ref) <= 1e-6);
    }

private slots:
    void referenceMatchesFiniteDifferences() {
        auto a = uniform(9, 3), b = uniform(9, 4), r = uniform(9, 5);
        auto loss = [&](const std::vector<double>& av, const std::vector<double>& bv) {
            auto y = run(m_ref, av, bv, false);
            double l = 0;
            for (std::size_t i = 0; i < r.size(); ++i)
                l += r[i] * (*y)[i];
            return l;
        };
        // The backward pass of add hands dy (here r) to both inputs unchanged.
        QVERIFY(relError(numericGradient(a, [&](const auto& v) { return loss(v, b); }), r) < 1e-8);
        QVERIFY(relError(numericGradient(b, [&](const auto& v) { return loss(a, v); }), r) < 1e-8);
    }
};

QTEST_GUILESS_MAIN(TestAdd)
#include "tst_add.moc"
