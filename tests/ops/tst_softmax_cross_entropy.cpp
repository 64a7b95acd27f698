// softmax_cross_entropy: loss, accuracy and dlogits, Vulkan and CPU float against the CPU double
// reference, the reference against finite differences and a hand-computed case, extreme logits
// (±1000) that must stay finite, and ignored rows (label −1).
#include "op_test.h"
#include "ops/softmax_cross_entropy.h"

#include <cmath>

using namespace convscope;
using namespace convscope::testing;

namespace {

struct Outputs {
    std::vector<double> dz, metrics;
};

Result<Outputs> run(Backend& be, std::int64_t M, std::int64_t C, const std::vector<double>& z,
                    const std::vector<std::int32_t>& labels) {
    CS_TRY(be.reset());
    Tensor tz = be.tensor({M, C}), tl = be.tensor({M}, DType::I32), tdz = be.tensor({M, C}),
           tm = be.tensor({3});
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(tz, z));
    CS_TRY(be.writeI32(tl, labels));
    CS_TRY(runOnce(be, [&] { return ops::softmaxCrossEntropy(be, M, C, tz, tl, tdz, tm); }));
    Outputs o;
    CS_TRY_ASSIGN(o.dz, be.readReal(tdz));
    CS_TRY_ASSIGN(o.metrics, be.readReal(tm));
    return o;
}

std::vector<std::int32_t> labelsFor(std::int64_t M, std::int64_t C, std::uint64_t seed,
                                    bool withIgnored) {
    auto u = uniform(M, seed, 0, double(C));
    std::vector<std::int32_t> l(static_cast<std::size_t>(M));
    for (std::size_t i = 0; i < l.size(); ++i)
        l[i] = std::int32_t(u[i]);
    if (withIgnored && M > 2)
        l[1] = l[std::size_t(M) - 1] = -1;
    return l;
}

} // namespace

class TestSoftmaxCrossEntropy : public OpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<qint64>("rows");
        QTest::addColumn<qint64>("classes");
        QTest::addColumn<double>("scale");
        QTest::addColumn<bool>("ignored");
        QTest::newRow("batch 1, 2 classes") << qint64(1) << qint64(2) << 1.0 << false;
        QTest::newRow("13 x 10") << qint64(13) << qint64(10) << 3.0 << false;
        QTest::newRow("64 x 10 with ignored rows") << qint64(64) << qint64(10) << 3.0 << true;
        QTest::newRow("127 x 7, logits ±50") << qint64(127) << qint64(7) << 50.0 << false;
        QTest::newRow("200 x 100, logits ±1000") << qint64(200) << qint64(100) << 1000.0 << true;
    }

    void compare(Backend& be) override {
        QFETCH(qint64, rows);
        QFETCH(qint64, classes);
        QFETCH(double, scale);
        QFETCH(bool, ignored);
        auto z = asFloat(uniform(rows * classes, std::uint64_t(rows), -scale, scale));
        auto labels = labelsFor(rows, classes, std::uint64_t(classes), ignored);
        auto ref = run(m_ref, rows, classes, z, labels);
        auto got = run(be, rows, classes, z, labels);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        for (double v : got->metrics)
            QVERIFY(std::isfinite(v));
        const double eLoss = relError({got->metrics[0]}, {ref->metrics[0]});
        const double eDz = relError(got->dz, ref->dz);
        qInfo("loss max relative error %.3g, dlogits %.3g", eLoss, eDz);
        QVERIFY2(eLoss <= 1e-4, qPrintable(QString("loss error %1").arg(eLoss)));
        QVERIFY2(eDz <= 1e-4, qPrintable(QString("dlogits error %1").arg(eDz)));
        QCOMPARE(got->metrics[2], ref->metrics[2]); // valid rows
        // The same rows are counted correct (accuracy is a float ratio on float backends).
        QCOMPARE(std::lround(got->metrics[1] * got->metrics[2]),
                 std::lround(ref->metrics[1] * ref->metrics[2]));
    }

private slots:

    void referenceMatchesHandComputedValues() {
        // Two rows, three classes: row 0 is right with margin, row 1 is wrong.
        std::vector<double> z = {2, 0, 0, 0, 1, 0};
        auto o = run(m_ref, 2, 3, z, {0, 2});
        QVERIFY(o.ok());
        const double l0 = std::log(std::exp(2.0) + 2.0) - 2.0;
        const double l1 = std::log(std::exp(1.0) + 2.0);
        QVERIFY(std::abs(o->metrics[0] - (l0 + l1) / 2) < 1e-12);
        QCOMPARE(o->metrics[1], 0.5);
        QCOMPARE(o->metrics[2], 2.0);
        const double p = 1.0 / (std::exp(1.0) + 2.0);
        QVERIFY(std::abs(o->dz[5] - (p - 1.0) / 2) < 1e-12);
    }

    void referenceMatchesFiniteDifferences() {
        const std::int64_t M = 5, C = 4;
        auto z = uniform(M * C, 9, -3, 3);
        auto labels = labelsFor(M, C, 10, true);
        auto an = run(m_ref, M, C, z, labels);
        QVERIFY(an.ok());
        auto num = numericGradient(z, [&](const std::vector<double>& v) {
            return run(m_ref, M, C, v, labels)->metrics[0];
        });
        QVERIFY(relError(an->dz, num) < 1e-7);
    }

    void allRowsIgnoredGivesZeroNotNan() {
        auto o = run(m_ref, 3, 2, {1, 2, 3, 4, 5, 6}, {-1, -1, -1});
        QVERIFY(o.ok());
        QCOMPARE(o->metrics[0], 0.0);
        QCOMPARE(o->metrics[2], 0.0);
    }
};

QTEST_GUILESS_MAIN(TestSoftmaxCrossEntropy)
#include "tst_softmax_cross_entropy.moc"
