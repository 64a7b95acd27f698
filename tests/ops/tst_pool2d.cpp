// pool2d: max pooling (with argmax) and average pooling including global average pooling,
// forward and backward, Vulkan and CPU float against the CPU double reference on overlapping
// and padded windows; the reference against finite differences; NaN propagates like PyTorch.
#include "op_test.h"
#include "ops/pool2d.h"

#include <cmath>

using namespace convscope;
using namespace convscope::testing;

Q_DECLARE_METATYPE(convscope::ops::Pool2dShape)

namespace {

struct Outputs {
    std::vector<double> y, dx;
    std::vector<std::int32_t> argmax;
};

Result<Outputs> run(Backend& be, bool max, const ops::Pool2dShape& s, const std::vector<double>& xv,
                    const std::vector<double>& dyv) {
    CS_TRY(be.reset());
    Tensor x = be.tensor({s.inputElements()}), dx = be.tensor({s.inputElements()});
    Tensor y = be.tensor({s.outputElements()}), dy = be.tensor({s.outputElements()});
    Tensor arg = be.tensor({s.outputElements()}, DType::I32);
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(x, xv));
    CS_TRY(be.writeReal(dy, dyv));
    CS_TRY(runOnce(be, [&]() -> Status {
        if (max) {
            CS_TRY(ops::maxPool2dForward(be, s, x, y, arg));
            return ops::maxPool2dBackward(be, s, dy, arg, dx);
        }
        CS_TRY(ops::avgPool2dForward(be, s, x, y));
        return ops::avgPool2dBackward(be, s, dy, dx);
    }));
    Outputs o;
    CS_TRY_ASSIGN(o.y, be.readReal(y));
    CS_TRY_ASSIGN(o.dx, be.readReal(dx));
    o.argmax.resize(std::size_t(s.outputElements()));
    if (max)
        CS_TRY(be.readBytes(arg, o.argmax.data(), o.argmax.size() * 4));
    return o;
}

ops::Pool2dShape shape(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                       std::int64_t kh, std::int64_t kw, std::int64_t sh, std::int64_t sw,
                       std::int64_t ph = 0, std::int64_t pw = 0) {
    return {n, c, h, w, kh, kw, sh, sw, ph, pw};
}

} // namespace

class TestPool2d : public OpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<bool>("max");
        QTest::addColumn<ops::Pool2dShape>("s");
        for (bool max : {true, false}) {
            const std::string k = max ? "max " : "avg ";
            QTest::newRow((k + "lenet 2x2/2, 6@28x28").c_str())
                << max << shape(4, 6, 28, 28, 2, 2, 2, 2);
            QTest::newRow((k + "3x3/2 pad 1, 8@15x15").c_str())
                << max << shape(2, 8, 15, 15, 3, 3, 2, 2, 1, 1);
            QTest::newRow((k + "3x3/1 pad 1, batch 1").c_str())
                << max << shape(1, 3, 9, 9, 3, 3, 1, 1, 1, 1);
            QTest::newRow((k + "2x3 stride (1,2), 13x11").c_str())
                << max << shape(3, 2, 13, 11, 2, 3, 1, 2);
            QTest::newRow((k + "global 7x7, 64 channels").c_str())
                << max << ops::Pool2dShape::global(3, 64, 7, 7);
        }
    }

    void compare(Backend& be) override {
        QFETCH(bool, max);
        QFETCH(ops::Pool2dShape, s);
        auto x = asFloat(uniform(s.inputElements(), std::uint64_t(s.inputElements()), -3, 3));
        auto dy = asFloat(uniform(s.outputElements(), 7));
        auto ref = run(m_ref, max, s, x, dy);
        auto got = run(be, max, s, x, dy);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        const double ey = relError(got->y, ref->y), edx = relError(got->dx, ref->dx);
        qInfo("y max relative error %.3g, dx %.3g", ey, edx);
        QVERIFY2(ey <= 1e-4 && edx <= 1e-4, qPrintable(QString("y %1 dx %2").arg(ey).arg(edx)));
        QCOMPARE(got->argmax, ref->argmax);
    }

private slots:
    void referenceMatchesFiniteDifferences_data() {
        QTest::addColumn<bool>("max");
        QTest::addColumn<ops::Pool2dShape>("s");
        QTest::newRow("max 3x3/2 pad 1") << true << shape(2, 2, 7, 6, 3, 3, 2, 2, 1, 1);
        QTest::newRow("avg 3x3/2 pad 1") << false << shape(2, 2, 7, 6, 3, 3, 2, 2, 1, 1);
        QTest::newRow("global avg") << false << ops::Pool2dShape::global(2, 3, 4, 5);
    }
    void referenceMatchesFiniteDifferences() {
        QFETCH(bool, max);
        QFETCH(ops::Pool2dShape, s);
        auto x = uniform(s.inputElements(), 3, -3, 3); // distinct values: no ties
        auto dy = uniform(s.outputElements(), 4);
        auto an = run(m_ref, max, s, x, dy);
        QVERIFY(an.ok());
        auto num = numericGradient(x, [&](const std::vector<double>& v) {
            auto o = run(m_ref, max, s, v, dy);
            double l = 0;
            for (std::size_t i = 0; i < dy.size(); ++i)
                l += dy[i] * o->y[i];
            return l;
        });
        QVERIFY(relError(an->dx, num) < 1e-7);
    }

    void nanWinsTheMaximum() {
        CS_REQUIRE_VULKAN(vk);
        auto s = shape(1, 1, 2, 4, 2, 2, 2, 2);
        // Window 0 holds 1, NaN (index 1), NaN (index 4), 2: the last NaN wins, as in PyTorch.
        std::vector<double> x = {1, NAN, 5, 6, NAN, 2, 7, 8};
        for (Backend* be : {static_cast<Backend*>(vk), static_cast<Backend*>(&m_ref)}) {
            auto o = run(*be, true, s, x, {1, 1});
            QVERIFY(o.ok());
            QVERIFY(std::isnan(o->y[0]));
            QCOMPARE(o->argmax[0], 4);
            QCOMPARE(o->y[1], 8.0);
        }
    }

    void shapeErrorsNameTheProblem() {
        Status big = ops::checkPool2d(shape(1, 1, 3, 3, 5, 5, 1, 1));
        QVERIFY2(big.message().find("pooling window 5x5 larger than its 3x3 input") !=
                     std::string::npos,
                 big.message().c_str());
        Status pad = ops::checkPool2d(shape(1, 1, 8, 8, 2, 2, 2, 2, 2, 2));
        QVERIFY2(pad.message().find("at most half") != std::string::npos, pad.message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestPool2d)
#include "tst_pool2d.moc"
