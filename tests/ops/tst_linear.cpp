// linear: forward (plain and fused ReLU) and both backward passes, Vulkan and CPU float against
// the CPU double reference, and the reference against central finite differences.
#include "op_test.h"

#include "ops/linear.h"
#include <cmath>

using namespace convscope;
using namespace convscope::testing;

namespace {

struct Inputs {
    std::vector<double> x, w, b, dy, dxInit;
};
struct Outputs {
    std::vector<double> y, yRelu, dx, dxAccumulated, dw, db;
};

Inputs makeInputs(const ops::LinearShape& s, std::uint64_t seed) {
    return {asFloat(uniform(s.batch * s.in, seed)), asFloat(uniform(s.out * s.in, seed + 1)),
            asFloat(uniform(s.out, seed + 2)), asFloat(uniform(s.batch * s.out, seed + 3)),
            asFloat(uniform(s.batch * s.in, seed + 4))};
}

Result<Outputs> run(Backend& be, const ops::LinearShape& s, const Inputs& in) {
    CS_TRY(be.reset());
    Tensor x = be.tensor({s.batch, s.in}), w = be.tensor({s.out, s.in}), b = be.tensor({s.out});
    Tensor y = be.tensor({s.batch, s.out}), yr = be.tensor({s.batch, s.out});
    Tensor dy = be.tensor({s.batch, s.out}), dx = be.tensor({s.batch, s.in}),
           dxa = be.tensor({s.batch, s.in});
    Tensor dw = be.tensor({s.out, s.in}), db = be.tensor({s.out});
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(x, in.x));
    CS_TRY(be.writeReal(w, in.w));
    CS_TRY(be.writeReal(b, in.b));
    CS_TRY(be.writeReal(dy, in.dy));
    CS_TRY(be.writeReal(dxa, in.dxInit));
    CS_TRY(runOnce(be, [&]() -> Status {
        CS_TRY(ops::linearForward(be, s, x, w, b, y));
        CS_TRY(ops::linearForward(be, s, x, w, b, yr, true));
        CS_TRY(ops::linearBackwardData(be, s, dy, w, dx));
        CS_TRY(ops::linearBackwardData(be, s, dy, w, dxa, true));
        return ops::linearBackwardWeight(be, s, dy, x, dw, db);
    }));
    Outputs o;
    CS_TRY_ASSIGN(o.y, be.readReal(y));
    CS_TRY_ASSIGN(o.yRelu, be.readReal(yr));
    CS_TRY_ASSIGN(o.dx, be.readReal(dx));
    CS_TRY_ASSIGN(o.dxAccumulated, be.readReal(dxa));
    CS_TRY_ASSIGN(o.dw, be.readReal(dw));
    CS_TRY_ASSIGN(o.db, be.readReal(db));
    return o;
}

} // namespace

class TestLinear : public TunedOpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<qint64>("batch");
        QTest::addColumn<qint64>("in");
        QTest::addColumn<qint64>("out");
        QTest::newRow("1x1->1") << qint64(1) << qint64(1) << qint64(1);
        QTest::newRow("batch 1, 13->7") << qint64(1) << qint64(13) << qint64(7);
        QTest::newRow("3, 127->13") << qint64(3) << qint64(127) << qint64(13);
        QTest::newRow("33, 65->31 (tile edges)") << qint64(33) << qint64(65) << qint64(31);
        QTest::newRow("129, 17->5") << qint64(129) << qint64(17) << qint64(5);
        QTest::newRow("mlp fc1 64, 784->256") << qint64(64) << qint64(784) << qint64(256);
        QTest::newRow("mlp fc2 64, 256->10") << qint64(64) << qint64(256) << qint64(10);
    }

    void compare(Backend& be) override {
        const double tolerance = 1e-4;
        QFETCH(qint64, batch);
        QFETCH(qint64, in);
        QFETCH(qint64, out);
        ops::LinearShape s{batch, in, out};
        Inputs inputs = makeInputs(s, std::uint64_t(batch * 1000 + in * 10 + out));
        auto ref = run(m_ref, s, inputs);
        QVERIFY2(ref.ok(), ref.status().message().c_str());
        auto got = run(be, s, inputs);
        QVERIFY2(got.ok(), got.status().message().c_str());
        QString why;
        QVERIFY2(allClose({{"y", got->y, ref->y},
                           {"relu(y)", got->yRelu, ref->yRelu},
                           {"dx", got->dx, ref->dx},
                           {"dx accumulated", got->dxAccumulated, ref->dxAccumulated},
                           {"dW", got->dw, ref->dw},
                           {"db", got->db, ref->db}},
                          tolerance, &why),
                 qPrintable(why));
    }

private slots:
    void referenceMatchesFiniteDifferences_data() {
        QTest::addColumn<qint64>("batch");
        QTest::addColumn<qint64>("in");
        QTest::addColumn<qint64>("out");
        QTest::newRow("1x1->1") << qint64(1) << qint64(1) << qint64(1);
        QTest::newRow("2, 5->3") << qint64(2) << qint64(5) << qint64(3);
        QTest::newRow("3, 7->4") << qint64(3) << qint64(7) << qint64(4);
    }
    void referenceMatchesFiniteDifferences() {
        QFETCH(qint64, batch);
        QFETCH(qint64, in);
        QFETCH(qint64, out);
        ops::LinearShape s{batch, in, out};
        Inputs base = makeInputs(s, 42);
        auto an = run(m_ref, s, base);
        QVERIFY2(an.ok(), an.status().message().c_str());
        // L = Σ dy ⊙ y, so dL/dx, dL/dW, dL/db are the backward outputs for that dy.
        auto along = [&](std::vector<double> Inputs::*field) {
            return numericGradientOf(base, field, base.dy,
                                     [&](const Inputs& in) { return run(m_ref, s, in)->y; });
        };
        const auto numX = along(&Inputs::x), numW = along(&Inputs::w), numB = along(&Inputs::b);
        QVERIFY2(relError(an->dx, numX) < 1e-7, "dx differs from finite differences");
        QVERIFY2(relError(an->dw, numW) < 1e-7, "dW differs from finite differences");
        QVERIFY2(relError(an->db, numB) < 1e-7, "db differs from finite differences");
    }

    // The fused ReLU lets NaN through on both backends, as PyTorch's relu does.
    void fusedReluKeepsNan() {
        CS_REQUIRE_VULKAN(vk);
        ops::LinearShape s{1, 2, 2};
        Inputs in = makeInputs(s, 3);
        in.x[0] = NAN;
        for (Backend* be : {static_cast<Backend*>(vk), static_cast<Backend*>(&m_ref)}) {
            auto o = run(*be, s, in);
            QVERIFY(o.ok());
            QVERIFY(std::isnan(o->yRelu[0]) && std::isnan(o->yRelu[1]));
        }
    }

    void rejectsMismatchedShapes() {
        CS_VERIFY_OK(m_ref.reset());
        Tensor x = m_ref.tensor({2, 3}), w = m_ref.tensor({4, 5}), b = m_ref.tensor({4}),
               y = m_ref.tensor({2, 4});
        CS_VERIFY_OK(m_ref.allocate());
        CS_VERIFY_OK(m_ref.beginProgram());
        Status s = ops::linearForward(m_ref, {2, 3, 4}, x, w, b, y);
        QVERIFY(!s.ok());
        QVERIFY2(s.message().find("W has 20 elements, expected 12") != std::string::npos,
                 s.message().c_str());
        QVERIFY(m_ref.endProgram().ok());
    }
};

QTEST_GUILESS_MAIN(TestLinear)
#include "tst_linear.moc"
